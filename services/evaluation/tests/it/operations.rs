//! Operations analyses through RunAnalysis and the operations report, from routing, intake and
//! case events as they arrive on the evaluation queue.

use chrono::{DateTime, Duration, Utc};
use wf_events::Envelope;
use wf_proto::common::v1 as common;
use wf_proto::common::v1::ReportFormat;
use wf_proto::evaluation::v1 as pb;
use wf_proto::events::v1 as events;
use wf_proto::routing::v1::DeclineReason;
use wf_testkit::{Engine, both_engines};

use crate::harness::{Served, analysis, assert_tables, envelope, generate, ts};

struct Referral {
    id: String,
    received: DateTime<Utc>,
    practice: bool,
}

fn receive(out: &mut Vec<Envelope>, id: String, tier: common::TriageTier, practice: bool) -> Referral {
    let received = Utc::now() - Duration::days(10);
    let payload = events::ReferralReceived {
        referral_id: id.clone(),
        youth_id: id.replace("ref_", "yth_"),
        received_at: ts(received),
        triage_tier: tier as i32,
        site: common::Site::SouthLosAngeles as i32,
        age_years: 16,
        practice,
        ..Default::default()
    };
    out.push(envelope("intake", &id, &payload, received));
    Referral { id, received, practice }
}

fn offer(out: &mut Vec<Envelope>, r: &Referral, offer: &str, partner: &str, offered_hours: i64) -> String {
    let offer_id = format!("off_{offer}_{}", r.id);
    let at = r.received + Duration::hours(offered_hours);
    let payload = events::OfferMade {
        offer_id: offer_id.clone(),
        referral_id: r.id.clone(),
        partner_id: partner.into(),
        offered_at: ts(at),
        practice: r.practice,
        ..Default::default()
    };
    out.push(envelope("routing", &offer_id, &payload, at));
    offer_id
}

fn accept(out: &mut Vec<Envelope>, r: &Referral, offer_id: &str, partner: &str, offered: i64, accepted: i64) {
    let at = r.received + Duration::hours(accepted);
    let payload = events::OfferAccepted {
        offer_id: offer_id.into(),
        referral_id: r.id.clone(),
        partner_id: partner.into(),
        accepted_at: ts(at),
        offered_at: ts(r.received + Duration::hours(offered)),
        practice: r.practice,
        ..Default::default()
    };
    out.push(envelope("routing", offer_id, &payload, at));
}

fn decline(out: &mut Vec<Envelope>, r: &Referral, offer_id: &str, partner: &str, hours: i64) {
    let at = r.received + Duration::hours(hours);
    let payload = events::OfferDeclined {
        offer_id: offer_id.into(),
        referral_id: r.id.clone(),
        partner_id: partner.into(),
        reason: DeclineReason::NoCapacity as i32,
        declined_at: ts(at),
        practice: r.practice,
        ..Default::default()
    };
    out.push(envelope("routing", offer_id, &payload, at));
}

/// 12 routine referrals re-triaged to emergent after 1 hour and accepted by org_a 60 minutes later
/// (met); 12 urgent ones whose offer to org_b expired, accepted by org_a at 30 hours (missed); 15
/// routine ones accepted by org_a at 2 hours, 3 of them first declined by org_b (met); 12
/// practice referrals declined by org_c (never counted).
fn operations_cohort() -> Vec<Envelope> {
    let mut out = Vec::new();
    for i in 0..12 {
        let r = receive(&mut out, format!("ref_e{i:03}"), common::TriageTier::Routine, false);
        let at = r.received + Duration::hours(1);
        let triaged = events::ReferralTriaged {
            referral_id: r.id.clone(),
            triage_tier: common::TriageTier::Emergent as i32,
            triaged_at: ts(at),
            ..Default::default()
        };
        out.push(envelope("intake", &r.id, &triaged, at));
        let o = offer(&mut out, &r, "a", "org_a", 1);
        accept(&mut out, &r, &o, "org_a", 1, 2);
    }
    for i in 0..12 {
        let r = receive(&mut out, format!("ref_u{i:03}"), common::TriageTier::Urgent, false);
        let expired = offer(&mut out, &r, "b", "org_b", 0);
        let at = r.received + Duration::hours(24);
        let payload = events::OfferExpired {
            offer_id: expired.clone(),
            referral_id: r.id.clone(),
            partner_id: "org_b".into(),
            deadline: ts(at),
            ..Default::default()
        };
        out.push(envelope("routing", &expired, &payload, at));
        let o = offer(&mut out, &r, "a", "org_a", 24);
        accept(&mut out, &r, &o, "org_a", 24, 30);
    }
    for i in 0..15 {
        let r = receive(&mut out, format!("ref_r{i:03}"), common::TriageTier::Routine, false);
        if i < 3 {
            let declined = offer(&mut out, &r, "b", "org_b", 0);
            decline(&mut out, &r, &declined, "org_b", 1);
        }
        let o = offer(&mut out, &r, "a", "org_a", 1);
        accept(&mut out, &r, &o, "org_a", 1, 2);
    }
    for i in 0..12 {
        let r = receive(&mut out, format!("ref_p{i:03}"), common::TriageTier::Routine, true);
        let o = offer(&mut out, &r, "c", "org_c", 0);
        decline(&mut out, &r, &o, "org_c", 1);
    }
    out
}

fn row<'a>(table: &'a pb::Table, label: &str) -> &'a pb::Row {
    table.rows.iter().find(|r| r.cells[0].value == label).unwrap_or_else(|| panic!("{label} not in {table:?}"))
}

fn values(row: &pb::Row) -> Vec<&str> {
    row.cells.iter().skip(1).map(|c| if c.suppressed { "suppressed" } else { c.value.as_str() }).collect()
}

both_engines!(deadline_compliance_and_partner_responsiveness_from_routing_events, |engine: Engine| async move {
    let served = Served::start(engine).await;
    served.publish_all(&operations_cohort()).await;
    let mut client = served.manager().await;

    let deadlines = client.run_analysis(analysis(pb::AnalysisKind::DeadlineCompliance)).await.unwrap().into_inner();
    let table = deadlines.tables.iter().find(|t| t.name == "deadline_compliance").expect("compliance table");
    // met, missed, pending, total, met_percent
    assert_eq!(values(row(table, "emergent")), ["12", "0", "0", "12", "100.0"]);
    assert_eq!(values(row(table, "urgent")), ["0", "12", "0", "12", "0.0"]);
    assert_eq!(values(row(table, "routine")), ["15", "0", "0", "15", "100.0"]);
    assert_eq!(values(row(table, "total")), ["27", "12", "0", "39", "69.2"]);

    let partners = client.run_analysis(analysis(pb::AnalysisKind::PartnerResponsiveness)).await.unwrap().into_inner();
    let outcomes = partners.tables.iter().find(|t| t.name == "partner_offer_outcomes").expect("outcomes table");
    assert!(outcomes.rows.iter().all(|r| r.cells[0].value != "org_c"), "practice offers counted: {outcomes:?}");
    // accepted, declined, expired, withdrawn, open, total; org_b's 3 declines are suppressed.
    assert_eq!(values(row(outcomes, "org_a")), ["39", "0", "0", "0", "0", "39"]);
    assert!(row(outcomes, "org_b").cells[2].suppressed);
    let times = partners.tables.iter().find(|t| t.name == "partner_time_to_accept").expect("time table");
    assert_eq!(values(row(times, "org_a")), ["1.0"]);
    for table in deadlines.tables.iter().chain(&partners.tables).filter(|t| t.name != "partner_time_to_accept") {
        for row in &table.rows {
            for cell in row.cells.iter().skip(1) {
                let percent =
                    table.columns.last().is_some_and(|c| c.ends_with("percent")) && cell == row.cells.last().unwrap();
                if !cell.suppressed && !percent {
                    assert!(cell.number == 0.0 || cell.number >= 11.0, "{}: {row:?}", table.name);
                }
            }
        }
    }

    let report = generate(&mut client, pb::ReportKind::Operations, ReportFormat::Json).await;
    assert_tables(
        &report,
        &["deadline_compliance", "partner_offer_outcomes", "partner_decline_reasons", "enrollment_by_site"],
    );
});
