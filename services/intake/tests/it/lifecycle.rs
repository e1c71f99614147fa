//! The staff steps of the referral lifecycle through the API: triage, hold and resume, closure,
//! refusals naming the current status, and the practice purge.

use tonic::Code;
use wf_auth::Role;
use wf_events::Envelope;
use wf_proto::common::v1::TriageTier;
use wf_proto::events::v1 as events;
use wf_proto::intake::v1 as pb;
use wf_proto::intake::v1::{ReferralClosureReason, ReferralStatus};
use wf_testkit::both_engines;

use crate::{Harness, example, fields_of, with_reference};

async fn status_of(harness: &Harness, referral_id: &str) -> pb::GetReferralResponse {
    harness
        .client(Role::CaseManager)
        .await
        .get_referral(pb::GetReferralRequest { referral_id: referral_id.to_owned(), purpose: String::new() })
        .await
        .expect("read")
        .into_inner()
}

fn triage(referral_id: &str, tier: TriageTier, reason: &str) -> pb::TriageReferralRequest {
    pb::TriageReferralRequest {
        referral_id: referral_id.to_owned(),
        triage_tier: tier as i32,
        triage_reason: reason.to_owned(),
    }
}

fn hold(referral_id: &str, on_hold: bool, reason: &str) -> pb::SetReferralHoldRequest {
    pb::SetReferralHoldRequest { referral_id: referral_id.to_owned(), on_hold, reason: reason.to_owned() }
}

fn close(referral_id: &str, reason: ReferralClosureReason, duplicate_of: &str) -> pb::CloseReferralRequest {
    pb::CloseReferralRequest {
        referral_id: referral_id.to_owned(),
        reason: reason as i32,
        duplicate_of_referral_id: duplicate_of.to_owned(),
    }
}

both_engines!(triage_moves_received_to_triaged_with_the_tier_deadline_and_an_event, |engine| async move {
    let harness = Harness::start(engine).await;
    let submitted = harness.client(Role::Hotline).await.submit_referral(example()).await.expect("submit").into_inner();
    let id = submitted.referral_id.clone();
    let mut staff = harness.client(Role::CaseManager).await;

    let refused =
        staff.triage_referral(triage(&id, TriageTier::Unspecified, "Imminent danger")).await.expect_err("bad");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(fields_of(&refused), vec!["triage_tier", "triage_reason"]);
    let missing = staff
        .triage_referral(triage("ref_0193a1b2c3d4e5f60718293a4b5c6d7e", TriageTier::Emergent, "imminent_danger"))
        .await
        .expect_err("no such referral");
    assert_eq!(missing.code(), Code::NotFound);
    let hotline = harness.client(Role::Hotline).await.triage_referral(triage(&id, TriageTier::Emergent, "x")).await;
    assert_eq!(hotline.expect_err("hotlines do not triage").code(), Code::PermissionDenied);

    let triaged = staff.triage_referral(triage(&id, TriageTier::Emergent, "imminent_danger")).await.expect("triage");
    let triaged = triaged.into_inner();
    assert_eq!(triaged.status, ReferralStatus::Triaged as i32);
    // The example was received 2026-03-02T18:45:00Z: emergent contact is due 90 minutes later.
    assert_eq!(triaged.deadline.map(|d| d.seconds), Some(1_772_477_100 + 90 * 60));

    let event: events::ReferralTriaged =
        harness.published("referral.triaged", 1).await[0].payload_as().expect("payload");
    assert_eq!((event.referral_id.as_str(), event.triage_tier), (id.as_str(), TriageTier::Emergent as i32));
    assert_eq!(event.triage_reason, "imminent_danger");
    let read = status_of(&harness, &id).await;
    assert_eq!(read.status, ReferralStatus::Triaged as i32);
    let referral = read.referral.expect("referral");
    assert_eq!(
        (referral.triage_tier, referral.triage_reason.as_str()),
        (TriageTier::Emergent as i32, "imminent_danger")
    );
    assert_eq!(read.history.iter().map(|c| c.status).collect::<Vec<_>>(), vec![1, 2]);

    // Re-triage keeps the status and changes the tier.
    let again = staff.triage_referral(triage(&id, TriageTier::Routine, "routine")).await.expect("re-triage");
    assert_eq!(again.into_inner().status, ReferralStatus::Triaged as i32);
    harness.server.stop().await;
});

both_engines!(a_hold_survives_routing_events_and_resumes_where_the_referral_would_be, |engine| async move {
    let harness = Harness::start(engine).await;
    let submitted = harness.client(Role::Hotline).await.submit_referral(example()).await.expect("submit").into_inner();
    let id = submitted.referral_id.clone();
    let mut staff = harness.client(Role::CaseManager).await;

    let no_reason = staff.set_referral_hold(hold(&id, true, "")).await.expect_err("a hold needs a reason");
    assert_eq!(fields_of(&no_reason), vec!["reason"]);
    let not_held = staff.set_referral_hold(hold(&id, false, "")).await.expect_err("not on hold");
    assert_eq!(not_held.code(), Code::FailedPrecondition);
    assert!(
        not_held.message().contains("is RECEIVED; allowed from RECEIVED: triage, put on hold or close"),
        "{}",
        not_held.message()
    );

    let held = staff.set_referral_hold(hold(&id, true, "youth_missing")).await.expect("hold").into_inner();
    assert_eq!(held.status, ReferralStatus::OnHold as i32);
    let twice = staff.set_referral_hold(hold(&id, true, "youth_missing")).await.expect_err("already on hold");
    assert_eq!(twice.code(), Code::FailedPrecondition);
    assert!(twice.message().contains("is ON_HOLD; allowed from ON_HOLD: resume"), "{}", twice.message());
    let triage_held = staff.triage_referral(triage(&id, TriageTier::Urgent, "routine")).await.expect_err("held");
    assert_eq!(triage_held.code(), Code::FailedPrecondition);

    // Routing decides while the referral is on hold: it stays on hold and resumes as routed.
    let routed = Envelope::new(
        "routing",
        id.as_str(),
        id.as_str(),
        &events::ReferralRouted { referral_id: id.clone(), partner_id: "org_x".into(), ..Default::default() },
    );
    harness.server.publish(&routed).await;
    assert_eq!(status_of(&harness, &id).await.status, ReferralStatus::OnHold as i32);
    let resumed = staff.set_referral_hold(hold(&id, false, "")).await.expect("resume").into_inner();
    assert_eq!(resumed.status, ReferralStatus::Routed as i32);

    let changes = harness.published("referral.hold_changed", 2).await;
    let payloads: Vec<events::ReferralHoldChanged> = changes.iter().map(|e| e.payload_as().expect("payload")).collect();
    assert_eq!(
        payloads.iter().map(|p| (p.on_hold, p.reason.as_str())).collect::<Vec<_>>(),
        vec![(true, "youth_missing"), (false, "resumed")]
    );
    harness.server.stop().await;
});

both_engines!(closing_is_final_and_a_duplicate_names_its_original, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut hotline = harness.client(Role::Hotline).await;
    let first = hotline.submit_referral(example()).await.expect("submit").into_inner();
    let second = hotline.submit_referral(with_reference("HL-CLOSE-2")).await.expect("submit").into_inner();
    let mut staff = harness.client(Role::CaseManager).await;

    let bad = staff
        .close_referral(close(&second.referral_id, ReferralClosureReason::Duplicate, ""))
        .await
        .expect_err("duplicate of what");
    assert_eq!(fields_of(&bad), vec!["duplicate_of_referral_id"]);
    let purged = staff
        .close_referral(close(&second.referral_id, ReferralClosureReason::PracticePurged, "ref_x"))
        .await
        .expect_err("reserved reason");
    assert_eq!(fields_of(&purged), vec!["reason", "duplicate_of_referral_id"]);
    let unknown = staff
        .close_referral(close(
            &second.referral_id,
            ReferralClosureReason::Duplicate,
            "ref_0193a1b2c3d4e5f60718293a4b5c6d7e",
        ))
        .await
        .expect_err("unknown original");
    assert_eq!(fields_of(&unknown), vec!["duplicate_of_referral_id"]);

    let closed = staff
        .close_referral(close(&second.referral_id, ReferralClosureReason::Duplicate, &first.referral_id))
        .await
        .expect("close")
        .into_inner();
    assert_eq!(closed.status, ReferralStatus::Closed as i32);
    let read = status_of(&harness, &second.referral_id).await;
    assert_eq!(read.status, ReferralStatus::Closed as i32);
    assert_eq!(read.closure_reason, ReferralClosureReason::Duplicate as i32);
    assert_eq!(read.history.last().map(|c| c.detail.as_str()), Some("duplicate"));
    let event: events::ReferralClosed = harness.published("referral.closed", 1).await[0].payload_as().expect("payload");
    assert_eq!(event.duplicate_of_referral_id, first.referral_id);

    for refused in [
        staff.close_referral(close(&second.referral_id, ReferralClosureReason::Missing, "")).await.expect_err("closed"),
        staff.triage_referral(triage(&second.referral_id, TriageTier::Urgent, "routine")).await.expect_err("closed"),
        staff.set_referral_hold(hold(&second.referral_id, true, "youth_missing")).await.expect_err("closed"),
    ] {
        assert_eq!(refused.code(), Code::FailedPrecondition);
        assert!(refused.message().contains("is CLOSED; allowed from CLOSED: nothing"), "{}", refused.message());
    }
    // A late routing event does not reopen it.
    let routed = Envelope::new(
        "routing",
        second.referral_id.as_str(),
        second.referral_id.as_str(),
        &events::ReferralRouted { referral_id: second.referral_id.clone(), ..Default::default() },
    );
    harness.server.publish(&routed).await;
    assert_eq!(status_of(&harness, &second.referral_id).await.status, ReferralStatus::Closed as i32);
    harness.server.stop().await;
});

both_engines!(purging_practice_referrals_deletes_them_and_everything_intake_held, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut hotline = harness.client(Role::Hotline).await;
    let practice = |reference: &str| {
        let mut request = with_reference(reference);
        request.referral.as_mut().expect("referral").practice = true;
        request
    };
    let old_practice = hotline.submit_referral(practice("PR-OLD")).await.expect("submit").into_inner();
    // Received now, after the cutoff below (the example was received in March 2026, before it).
    let mut newer = practice("PR-NEW");
    newer.referral.as_mut().expect("referral").received_at = None;
    let new_practice = hotline.submit_referral(newer).await.expect("submit").into_inner();
    let real = hotline.submit_referral(with_reference("PR-REAL")).await.expect("submit").into_inner();
    let mut staff = harness.client(Role::CaseManager).await;
    staff
        .record_screening(pb::RecordScreeningRequest {
            referral_id: old_practice.referral_id.clone(),
            screening: example().referral.and_then(|r| r.screenings.into_iter().next()),
        })
        .await
        .expect("screening");

    let missing =
        staff.purge_practice_referrals(pb::PurgePracticeReferralsRequest::default()).await.expect_err("cutoff");
    assert_eq!(fields_of(&missing), vec!["received_before"]);
    let cutoff = Some(prost_types::Timestamp { seconds: 1_775_000_000, nanos: 0 }); // 2026-04-01
    let counted = staff
        .purge_practice_referrals(pb::PurgePracticeReferralsRequest { received_before: cutoff, dry_run: true })
        .await
        .expect("dry run")
        .into_inner();
    assert_eq!(counted.purged, 1);
    status_of(&harness, &old_practice.referral_id).await; // still there after a dry run

    let purged = staff
        .purge_practice_referrals(pb::PurgePracticeReferralsRequest { received_before: cutoff, dry_run: false })
        .await
        .expect("purge")
        .into_inner();
    assert_eq!(purged.purged, 1);
    let gone = staff
        .get_referral(pb::GetReferralRequest { referral_id: old_practice.referral_id.clone(), purpose: String::new() })
        .await
        .expect_err("purged");
    assert_eq!(gone.code(), Code::NotFound);
    for table in ["screening", "referral_status_change", "referral_match_key", "referral_match_state"] {
        let (count,): (i64,) = wf_db::sqlx::query_as(&format!("SELECT COUNT(*) FROM {table} WHERE referral_id = $1"))
            .bind(&old_practice.referral_id)
            .fetch_one(harness.db.pool())
            .await
            .expect("count");
        assert_eq!(count, 0, "{table} still holds the purged referral");
    }
    status_of(&harness, &new_practice.referral_id).await;
    status_of(&harness, &real.referral_id).await;
    let event: events::ReferralPurged = harness.published("referral.purged", 1).await[0].payload_as().expect("payload");
    assert_eq!(event.referral_id, old_practice.referral_id);
    harness.server.stop().await;
});
