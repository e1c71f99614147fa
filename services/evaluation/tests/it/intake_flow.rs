//! Intake and evaluation on one in-process bus: a referral submitted through intake reaches the
//! analytic data set with its baseline codes (carried by `referral.received`), under a random
//! study id; its practice twin does not.

use std::time::Duration;

use wf_auth::Role;
use wf_proto::intake::v1 as intake;
use wf_proto::intake::v1::intake_service_client::IntakeServiceClient;
use wf_testkit::{Engine, TestServer, TestService, both_engines, eventually};
use wf_types::SystemClock;

use crate::harness::evaluation;

fn example_referral() -> intake::SubmitReferralRequest {
    let json = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/referral.json"))
        .expect("examples/referral.json");
    wf_proto::json::from_json(&json).expect("example parses")
}

both_engines!(baseline_codes_travel_from_intake_to_the_data_set, |engine: Engine| async move {
    let intake_service =
        TestService::new(wf_intake::migrations(), |ctx| async move { Ok(wf_intake::build(ctx).await? as _) });
    let server = TestServer::start_many(engine, SystemClock::shared(), vec![intake_service, evaluation()]).await;
    let evaluation_db = &server.dbs[1];

    let mut hotline = IntakeServiceClient::new(server.channel(&server.tokens.user(Role::Hotline)).await);
    let mut practice = example_referral();
    if let Some(referral) = practice.referral.as_mut() {
        referral.practice = true;
        referral.external_reference = format!("{}-practice", referral.external_reference);
    }
    // Submitted first: the in-process bus has handed it to the evaluation before the real one.
    hotline.submit_referral(practice).await.expect("submit practice");
    let real = hotline.submit_referral(example_referral()).await.expect("submit").into_inner();

    // Wait for the real referral to be stored.
    let stored = eventually(Duration::from_secs(20), || async {
        !wf_evaluation::store::events(evaluation_db).await.expect("events").is_empty()
    })
    .await;
    assert!(stored, "the referral never reached the evaluation");
    let events = wf_evaluation::store::events(evaluation_db).await.expect("events");
    let ids = wf_evaluation::store::study_ids(evaluation_db).await.expect("study ids");
    let rows = wf_evaluation::domain::dataset::build(&events, &ids, server.clock.now_micros()).rows;
    assert_eq!(rows.len(), 1, "only the non-practice referral is in the data set");
    // The practice referral went first; give any straggler time, then: it was never stored.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(wf_evaluation::store::events(evaluation_db).await.expect("events").len(), 1);
    let row = &rows[0];
    assert!(row.study_id.starts_with("stu_"));
    assert!(!row.study_id.contains(&real.referral_id[4..]));
    assert_eq!(row.prior_participation, "child_welfare_case_plan");
    assert_eq!(row.participation, "mandated");
    assert_eq!(row.age_first_exploited, Some(14));
    assert_eq!(row.former_ward_child_welfare, "yes");
    assert_eq!(row.former_ward_juvenile_justice, "no");
    assert_eq!(row.any_income, "yes");
    assert_eq!(row.employed, "yes");
    assert_eq!(row.living_situation, "with_friends_temporary");
    assert_eq!(row.last_grade_completed, "grades_9_11");
    assert_eq!(row.school_status, "attending_irregularly");
    assert_eq!(row.ever_arrested, "yes");
    assert_eq!((row.arrests, row.prostitution_arrests), (1, 1));
    assert_eq!(row.system_involvement, vec!["child_welfare".to_owned()]);

    server.stop().await;
});
