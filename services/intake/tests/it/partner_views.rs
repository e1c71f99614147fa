//! What partners read of a referral beyond its status (a hostile review of the partner views): the
//! submitting partner reads the referral as it submitted it, never what staff made of it since; the
//! receiving partner only the coded facts an offer carries, and only the case's current episode; a
//! resubmission never tells which youth a referral was linked to.

use std::borrow::Cow;

use wf_auth::Role;
use wf_proto::common::v1::{InformationCategory as Cat, ScreeningResult, ScreeningTool, Site, TriageTier};
use wf_proto::intake::v1 as pb;
use wf_testkit::{TestDatabase, both_engines};

use crate::flow::{self, ts};
use crate::{Harness, example, with_reference};

const SUBMITTER: &str = "org_0193a1b2c3d4e5f60718293a4b5c6d71";
const RECEIVING: &str = "org_0193a1b2c3d4e5f60718293a4b5c6d72";
const OFFER: &str = "off_0193a1b2c3d4e5f60718293a4b5c6d73";
const AGAIN: &str = "off_0193a1b2c3d4e5f60718293a4b5c6d74";
const OWN_SCREENER: &str = "usr_0193a1b2c3d4e5f60718293a4b5c6d75";
const STAFF_SCREENER: &str = "usr_0193a1b2c3d4e5f60718293a4b5c6d76";
const CAST: &str = "org_0193a1b2c3d4e5f60718293a4b5c6d77";

fn get(id: &str) -> pb::GetReferralRequest {
    pb::GetReferralRequest { referral_id: id.to_owned(), purpose: String::new() }
}

/// The example under `reference`, naming no organization (a partner's token supplies its own).
fn own(reference: &str) -> pb::SubmitReferralRequest {
    let mut request = with_reference(reference);
    request.referral.as_mut().expect("referral").referring_organization_id.clear();
    request
}

/// (screener id, screener organization id) of each screening.
fn screeners(screenings: &[pb::Screening]) -> Vec<(&str, &str)> {
    screenings.iter().map(|s| (s.screener_id.as_str(), s.screener_organization_id.as_str())).collect()
}

both_engines!(a_submitting_partner_reads_and_lists_its_referral_as_it_submitted_it, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut partner = harness.partner(SUBMITTER).await;
    let mut staff = harness.client(Role::Supervisor).await;
    // The example's screening names another organization's screener; a second names the partner's own.
    let mut request = own("PV-1");
    let referral = request.referral.as_mut().expect("referral");
    let mut mine = referral.screenings[0].clone();
    (mine.screener_id, mine.screener_organization_id) = (OWN_SCREENER.into(), SUBMITTER.into());
    referral.screenings.push(mine);
    let id = partner.submit_referral(request).await.expect("submit").into_inner().referral_id;

    // Staff re-triage it, correct it and record a screening of their own.
    staff
        .triage_referral(pb::TriageReferralRequest {
            referral_id: id.clone(),
            triage_tier: TriageTier::Emergent as i32,
            triage_reason: "imminent_danger".into(),
        })
        .await
        .expect("triage");
    let corrected = pb::Referral {
        needs: vec!["crisis_intervention".into()],
        site: Site::SanFernandoValley as i32,
        trafficking_status: wf_proto::common::v1::TraffickingStatus::Actual as i32,
        ..Default::default()
    };
    staff
        .update_referral(pb::UpdateReferralRequest {
            referral_id: id.clone(),
            referral: Some(corrected),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["needs".into(), "site".into(), "trafficking_status".into()],
            }),
            reason: "correction".into(),
        })
        .await
        .expect("update");
    staff
        .record_screening(pb::RecordScreeningRequest {
            referral_id: id.clone(),
            screening: Some(pb::Screening {
                tool: ScreeningTool::VeraTvitShort as i32,
                tool_version: "TVIT short 2014".into(),
                screened_at: Some(prost_types::Timestamp { seconds: 1_772_500_000, nanos: 0 }),
                screener_id: STAFF_SCREENER.into(),
                screener_organization_id: CAST.into(),
                result: ScreeningResult::ClearConcern as i32,
                score: 9,
                ..Default::default()
            }),
        })
        .await
        .expect("screening");
    let current = flow::read(&harness, &id).await.referral.expect("referral");
    assert_eq!((current.triage_tier, current.screenings.len()), (TriageTier::Emergent as i32, 3), "staff: now");

    // The partner reads what it submitted: none of that.
    let read = partner.get_referral(get(&id)).await.expect("own").into_inner().referral.expect("referral");
    assert_eq!(read.triage_tier, TriageTier::Urgent as i32, "not the staff re-triage");
    assert_eq!(read.triage_reason, "no_safe_place_tonight");
    assert_eq!(read.needs, ["emergency_shelter", "mental_health", "victim_advocacy", "education"]);
    assert_eq!(read.site, Site::SouthLosAngeles as i32);
    assert_eq!(read.trafficking_status, wf_proto::common::v1::TraffickingStatus::Possible as i32);
    assert_eq!(
        screeners(&read.screenings),
        [("", ""), (OWN_SCREENER, SUBMITTER)],
        "its two screenings, another organization's screener cleared, no screening staff recorded"
    );
    let listed = partner
        .list_screenings(pb::ListScreeningsRequest { referral_id: id.clone(), ..Default::default() })
        .await
        .expect("screenings")
        .into_inner();
    assert_eq!(screeners(&listed.screenings), [("", ""), (OWN_SCREENER, SUBMITTER)]);

    // Its list shows and filters by what it submitted too.
    let list = |tier: TriageTier, site: Site| pb::ListReferralsRequest {
        triage_tier: tier as i32,
        site: site as i32,
        ..Default::default()
    };
    let summary = partner.list_referrals(pb::ListReferralsRequest::default()).await.expect("list").into_inner();
    let summary = summary.referrals.into_iter().find(|s| s.referral_id == id).expect("listed");
    assert_eq!((summary.triage_tier, summary.site), (TriageTier::Urgent as i32, Site::SouthLosAngeles as i32));
    assert_eq!(summary.needs, read.needs);
    let urgent = partner.list_referrals(list(TriageTier::Urgent, Site::SouthLosAngeles)).await.expect("list");
    assert_eq!(urgent.into_inner().referrals.len(), 1);
    for (tier, site) in [(TriageTier::Emergent, Site::Unspecified), (TriageTier::Unspecified, Site::SanFernandoValley)]
    {
        let found = partner.list_referrals(list(tier, site)).await.expect("list").into_inner();
        assert!(found.referrals.is_empty(), "a filter tells nothing the view does not: {tier:?} {site:?}");
    }
    harness.server.stop().await;
});

both_engines!(the_receiving_partner_reads_only_the_offers_coded_facts, |engine| async move {
    let harness = Harness::start(engine).await;
    let id =
        harness.client(Role::Hotline).await.submit_referral(example()).await.expect("submit").into_inner().referral_id;
    flow::publish(
        &harness,
        &[
            &flow::routed(&id, RECEIVING),
            &flow::offer_made(&id, OFFER, RECEIVING, 60),
            &flow::offer_accepted(&id, OFFER, RECEIVING, 8),
        ],
    )
    .await;
    let mut receiving = harness.partner(RECEIVING).await;
    let read = receiving.get_referral(get(&id)).await.expect("it serves the youth").into_inner();
    assert_eq!(
        read.referral.expect("referral"),
        pb::Referral {
            needs: vec![
                "emergency_shelter".into(),
                "mental_health".into(),
                "victim_advocacy".into(),
                "education".into()
            ],
            preferred_language: "es".into(),
            triage_tier: TriageTier::Urgent as i32,
            site: Site::SouthLosAngeles as i32,
            practice: false,
            ..Default::default()
        },
        "the offer's coded facts and nothing else: no screenings, history, income, arrests, source"
    );
    assert!(read.is_minor, "minor or not, as the offer says");
    let access = harness.people_accesses(1).await.pop().expect("access");
    assert_eq!(access.fields, ["referral.offer_facts"], "the audit names what was returned");

    // The rest only under a release naming it.
    crate::receiving::release_to(&harness, &id, RECEIVING, &[Cat::Screening, Cat::History]).await;
    let released = receiving
        .get_released_details(pb::GetReleasedDetailsRequest {
            referral_id: id.clone(),
            purpose: "service_referral".into(),
        })
        .await
        .expect("released")
        .into_inner()
        .referral
        .expect("released coded facts");
    assert_eq!(released.screenings.len(), 1);
    assert!(released.income.is_some());
    harness.server.stop().await;
});

/// Waits (bounded) until the background matcher has processed `referral_id`.
async fn matched(harness: &Harness, referral_id: &str) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (count,): (i64,) =
            wf_db::sqlx::query_as("SELECT COUNT(*) FROM referral_match_state WHERE referral_id = $1")
                .bind(referral_id)
                .fetch_one(harness.db.pool())
                .await
                .expect("count");
        if count == 1 {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{referral_id} never matched");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

both_engines!(a_resubmission_never_tells_which_youth_a_referral_was_linked_to, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut partner = harness.partner(SUBMITTER).await;
    let mut staff = harness.client(Role::CaseManager).await;
    // The same youth, twice: a possible match, which staff confirm.
    let first = partner.submit_referral(own("PV-3A")).await.expect("first").into_inner();
    let second = partner.submit_referral(own("PV-3B")).await.expect("second").into_inner();
    assert_ne!(first.youth_id, second.youth_id);
    for id in [&first.referral_id, &second.referral_id] {
        matched(&harness, id).await;
    }
    let proposed = staff
        .list_possible_matches(pb::ListPossibleMatchesRequest {
            status: pb::PossibleMatchStatus::Pending as i32,
            referral_id: second.referral_id.clone(),
            ..Default::default()
        })
        .await
        .expect("matches")
        .into_inner()
        .matches;
    assert_eq!(proposed.len(), 1, "{proposed:?}");
    staff
        .confirm_possible_match(pb::ConfirmPossibleMatchRequest {
            possible_match_id: proposed[0].possible_match_id.clone(),
        })
        .await
        .expect("confirm");
    assert_eq!(flow::read(&harness, &second.referral_id).await.youth_id, first.youth_id, "linked");

    let again = partner.submit_referral(own("PV-3B")).await.expect("resubmit").into_inner();
    assert!(again.duplicate);
    assert_eq!(again.youth_id, second.youth_id, "the youth id the first submission answered, not the linked one");

    // Nor does listing screenings by a youth id it was answered with tell.
    let by_youth = |youth_id: &str| pb::ListScreeningsRequest { youth_id: youth_id.to_owned(), ..Default::default() };
    let of_first = partner.list_screenings(by_youth(&first.youth_id)).await.expect("list").into_inner();
    assert_eq!(of_first.screenings.len(), 1, "only the first referral's screening");
    let of_second = partner.list_screenings(by_youth(&second.youth_id)).await.expect("list").into_inner();
    assert_eq!(of_second.screenings.len(), 1, "the second referral's, under the id it was answered with");
    harness.server.stop().await;
});

both_engines!(the_receiving_partner_reads_only_the_current_episodes_history_and_match, |engine| async move {
    let harness = Harness::start(engine).await;
    let id =
        harness.client(Role::Hotline).await.submit_referral(example()).await.expect("submit").into_inner().referral_id;
    let goals_met = wf_proto::cases::v1::CaseClosureReason::GoalsMet;
    // An earlier episode: accepted at minute 8, the case assigned, closed; then reopened and accepted again.
    flow::publish(
        &harness,
        &[
            &flow::routed(&id, RECEIVING),
            &flow::offer_made(&id, OFFER, RECEIVING, 60),
            &flow::offer_accepted(&id, OFFER, RECEIVING, 8),
            &flow::case_assigned(&id),
            &flow::case_closed(&id, &[], goals_met, 90),
            &flow::case_reopened(&id, 140),
        ],
    )
    .await;
    let mut receiving = harness.partner(RECEIVING).await;
    receiving.get_referral(get(&id)).await.expect_err("accepted in an earlier episode only");
    flow::publish(&harness, &[&flow::offer_accepted(&id, AGAIN, RECEIVING, 150)]).await;

    let read = receiving.get_referral(get(&id)).await.expect("accepted in this episode").into_inner();
    let history: Vec<Option<prost_types::Timestamp>> = read.history.iter().map(|c| c.at).collect();
    assert_eq!(history, [ts(150)], "only what intake recorded since the reopening");
    assert!(read.history.iter().all(|c| c.event_id.is_empty() && c.detail.is_empty()));
    assert_eq!(read.matched_at, ts(150), "the current episode's match, not the first ever");
    let staff = flow::read(&harness, &id).await;
    assert_eq!((staff.history.len(), staff.matched_at), (8, ts(8)), "staff keep every episode");
    harness.server.stop().await;
});

/// Intake's migrations before version `before`, with the shared event tables'.
async fn migrations_before(before: i64) -> wf_db::MigrationSet {
    use wf_db::sqlx::migrate::Migrator;
    let partial = |folder: &'static str| async move {
        let path = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations")).join(folder);
        let all = Migrator::new(path).await.expect("migrations folder");
        let kept: Vec<_> = all.iter().filter(|m| m.version < before).cloned().collect();
        Migrator { migrations: Cow::Owned(kept), ..Migrator::DEFAULT }
    };
    let (events_postgres, events_sqlite) = wf_events::migrations();
    wf_db::MigrationSet::new()
        .with(events_postgres, events_sqlite)
        .with(&partial("postgres").await, &partial("sqlite").await)
}

/// (id, submitted coded, youth id, triage tier, site, received at, minor) as 0170 backfilled them.
type SubmittedColumns = (String, Vec<u8>, String, i32, i32, i64, i32);

both_engines!(migration_0170_keeps_what_earlier_submissions_were_answered_with, |engine| async move {
    let database = TestDatabase::new(engine).await;
    let db = database.migrated(&migrations_before(170).await).await;
    let insert = |id: &'static str, youth: &'static str, coded: &'static [u8]| {
        let db = db.clone();
        async move {
            wf_db::sqlx::query(
                "INSERT INTO referral (id, youth_id, dedupe_key, submitted_by, submitted_by_partner, source, \
                 triage_tier, site, practice, is_minor, outside_program, status, coded, received_at, created_at) \
                 VALUES ($1, $2, $1, 'client-of-partner', $3, 6, 1, 2, 0, 1, 0, 1, $4, 100, 200)",
            )
            .bind(id)
            .bind(youth)
            .bind(SUBMITTER)
            .bind(coded)
            .execute(db.pool())
            .await
            .expect("referral");
        }
    };
    insert("ref_a", "yth_a", b"coded-a").await;
    insert("ref_b", "yth_a", b"coded-b").await;
    let screening = |id: &'static str, recorded_by: &'static str, created_at: i64| {
        let db = db.clone();
        async move {
            wf_db::sqlx::query(
                "INSERT INTO screening (id, referral_id, tool, result, screened_at, screener_organization_id, \
                 recorded_by, practice, coded, created_at) VALUES ($1, 'ref_a', 1, 1, NULL, '', $2, 0, $3, $4)",
            )
            .bind(id)
            .bind(recorded_by)
            .bind(b"s".as_slice())
            .bind(created_at)
            .execute(db.pool())
            .await
            .expect("screening");
        }
    };
    screening("scr_submitted", "client-of-partner", 200).await;
    screening("scr_later", "test-case_manager", 300).await;
    // ref_b was confirmed to be the youth of ref_a: its own first youth id is gone.
    wf_db::sqlx::query(
        "INSERT INTO possible_match (id, referral_id, candidate_youth_id, candidate_referral_id, matched_on, score, \
         status, practice, found_at) VALUES ('pm_1', 'ref_b', 'yth_a', 'ref_a', 'exact', 1.0, 2, 0, 300)",
    )
    .execute(db.pool())
    .await
    .expect("match");

    db.migrate(&wf_intake::migrations()).await.expect("0170 applies");
    let referrals: Vec<SubmittedColumns> = wf_db::sqlx::query_as(
        "SELECT id, submitted_coded, submitted_youth_id, submitted_triage_tier, submitted_site, \
         submitted_received_at, submitted_is_minor FROM referral ORDER BY id",
    )
    .fetch_all(db.pool())
    .await
    .expect("referrals");
    assert_eq!(
        referrals,
        [
            ("ref_a".into(), b"coded-a".to_vec(), "yth_a".into(), 1, 2, 100, 1),
            ("ref_b".into(), b"coded-b".to_vec(), String::new(), 1, 2, 100, 1),
        ],
        "the record as it was stands in; a linked referral answers no youth id rather than the linked one"
    );
    let screenings: Vec<(String, i32)> =
        wf_db::sqlx::query_as("SELECT id, submitted_with_referral FROM screening ORDER BY id")
            .fetch_all(db.pool())
            .await
            .expect("screenings");
    assert_eq!(screenings, [("scr_later".into(), 0), ("scr_submitted".into(), 1)]);
    db.close().await;
});
