//! Screenings recorded after intake: validation with the submission's rules, the coded event, the
//! referral record, listing by referral and by youth, scoping.

use tonic::Code;
use wf_auth::Role;
use wf_proto::common::v1::{ScreeningResult, ScreeningTool};
use wf_proto::events::v1 as events;
use wf_proto::intake::v1 as pb;
use wf_testkit::both_engines;

use crate::{Harness, example, fields_of};

fn vera_screening() -> pb::Screening {
    pb::Screening {
        tool: ScreeningTool::VeraTvitShort as i32,
        tool_version: "TVIT short 2014".into(),
        screened_at: Some(prost_types::Timestamp { seconds: 1_772_500_000, nanos: 0 }),
        screener_id: "usr_0193a1b2c3d4e5f60718293a4b5c6d99".into(),
        screener_organization_id: "org_0193a1b2c3d4e5f60718293a4b5c6d7e".into(),
        result: ScreeningResult::PossibleConcern as i32,
        score: 4,
        ..Default::default()
    }
}

both_engines!(a_recorded_screening_joins_the_referral_record_and_is_announced_coded, |engine| async move {
    let harness = Harness::start(engine).await;
    let submitted = harness.client(Role::Hotline).await.submit_referral(example()).await.expect("submit").into_inner();
    let mut staff = harness.client(Role::CaseManager).await;
    let recorded = staff
        .record_screening(pb::RecordScreeningRequest {
            referral_id: submitted.referral_id.clone(),
            screening: Some(vera_screening()),
        })
        .await
        .expect("record")
        .into_inner();
    assert!(recorded.screening_id.starts_with("scr_"), "{}", recorded.screening_id);

    let announced = harness.published("screening.recorded", 1).await;
    let event: events::ScreeningRecorded = announced[0].payload_as().expect("payload");
    assert_eq!(event.screening_id, recorded.screening_id);
    assert_eq!(
        (event.referral_id.as_str(), event.youth_id.as_str()),
        (submitted.referral_id.as_str(), submitted.youth_id.as_str())
    );
    assert_eq!(
        (event.tool, event.result, event.score),
        (ScreeningTool::VeraTvitShort as i32, ScreeningResult::PossibleConcern as i32, 4)
    );
    let bytes = announced[0].encode();
    assert!(!bytes.windows(8).any(|w| w == b"usr_0193"), "the screener's user id stays in intake");

    // Both the submitted screening (given an intake id) and the recorded one, oldest first.
    let listed = staff
        .list_screenings(pb::ListScreeningsRequest { referral_id: submitted.referral_id.clone(), ..Default::default() })
        .await
        .expect("list")
        .into_inner();
    let ids: Vec<&str> = listed.screenings.iter().map(|s| s.screening_id.as_str()).collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert_ne!(ids[0], "scr_01JQ8Z0000SCREEN00000001", "intake sets screening ids");
    assert_eq!(ids[1], recorded.screening_id);
    assert_eq!(listed.screenings[1].tool_version, "TVIT short 2014");
    let by_youth = staff
        .list_screenings(pb::ListScreeningsRequest {
            youth_id: submitted.youth_id.clone(),
            page_size: 1,
            ..Default::default()
        })
        .await
        .expect("list by youth")
        .into_inner();
    assert_eq!(by_youth.screenings.len(), 1);
    assert_eq!(by_youth.next_page_token, ids[0]);

    let read = staff
        .get_referral(pb::GetReferralRequest { referral_id: submitted.referral_id.clone(), purpose: String::new() })
        .await
        .expect("read")
        .into_inner();
    let screenings = read.referral.expect("referral").screenings;
    assert_eq!(screenings.iter().map(|s| s.screening_id.as_str()).collect::<Vec<_>>(), ids);
    harness.server.stop().await;
});

both_engines!(screenings_are_validated_like_submissions_and_scoped, |engine| async move {
    let harness = Harness::start(engine).await;
    let partner = "org_0193a1b2c3d4e5f60718293a4b5c6d01";
    let submitted = harness.client(Role::Hotline).await.submit_referral(example()).await.expect("submit").into_inner();
    let mut staff = harness.client(Role::CaseManager).await;

    let mut bad = vera_screening();
    bad.tool = 0;
    bad.result = 99;
    bad.score = -1;
    bad.screened_at = None;
    bad.screener_id = "Jane Screener".into();
    let refused = staff
        .record_screening(pb::RecordScreeningRequest {
            referral_id: submitted.referral_id.clone(),
            screening: Some(bad),
        })
        .await
        .expect_err("invalid");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        fields_of(&refused),
        vec!["screening.tool", "screening.screener_id", "screening.result", "screening.score", "screening.screened_at"]
    );
    assert!(!refused.message().contains("Jane"), "never echoes a name: {}", refused.message());
    let unknown = staff
        .record_screening(pb::RecordScreeningRequest {
            referral_id: "ref_0193a1b2c3d4e5f60718293a4b5c6d7e".into(),
            screening: Some(vera_screening()),
        })
        .await
        .expect_err("no such referral");
    assert_eq!(unknown.code(), Code::NotFound);
    let hotline = harness
        .client(Role::Hotline)
        .await
        .record_screening(pb::RecordScreeningRequest {
            referral_id: submitted.referral_id.clone(),
            screening: Some(vera_screening()),
        })
        .await
        .expect_err("hotlines do not record screenings");
    assert_eq!(hotline.code(), Code::PermissionDenied);
    let (count,): (i64,) =
        wf_db::sqlx::query_as("SELECT COUNT(*) FROM event_outbox WHERE event_type = 'screening.recorded'")
            .fetch_one(harness.db.pool())
            .await
            .expect("count");
    assert_eq!(count, 0, "nothing recorded on a refusal");

    // A partner sees screenings of its own referrals only; another's referral is not found.
    let mut other = harness.partner(partner).await;
    let hidden = other
        .list_screenings(pb::ListScreeningsRequest { referral_id: submitted.referral_id.clone(), ..Default::default() })
        .await
        .expect_err("not theirs");
    assert_eq!(hidden.code(), Code::NotFound);
    let by_youth = other
        .list_screenings(pb::ListScreeningsRequest { youth_id: submitted.youth_id.clone(), ..Default::default() })
        .await
        .expect("list")
        .into_inner();
    assert!(by_youth.screenings.is_empty());
    let neither = staff.list_screenings(pb::ListScreeningsRequest::default()).await.expect_err("no filter");
    assert_eq!(fields_of(&neither), vec!["referral_id"]);
    harness.server.stop().await;
});
