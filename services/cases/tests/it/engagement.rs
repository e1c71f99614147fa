//! Engagement: contact attempts (staff and the serving partner; first contact) and readiness,
//! each with its event; precise refusals.

use tonic::Code;
use wf_auth::Role;
use wf_proto::cases::v1::{self as pb, CaseClosureReason};
use wf_proto::common::v1::{ContactChannel, ContactOutcome, Readiness, Site};
use wf_proto::events::v1 as events;
use wf_testkit::both_engines;

use crate::served::{Client, START_MICROS, Served};

/// The partner `harness::referral_routed` routes to.
const SERVING_PARTNER: &str = "org_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d";
const OTHER_PARTNER: &str = "org_0192f1c4d5e67a8b9c0d1e2f3a4b5c6e";
const HOUR: i64 = 3_600_000_000;

fn ts(micros: i64) -> Option<prost_types::Timestamp> {
    Some(wf_proto::time::timestamp_from_micros(micros))
}

fn attempt(case_id: &str, at: i64, outcome: ContactOutcome) -> pb::RecordContactAttemptRequest {
    pb::RecordContactAttemptRequest {
        contact_attempt: Some(pb::ContactAttempt {
            case_id: case_id.to_owned(),
            attempted_at: ts(at),
            channel: ContactChannel::TextMessage as i32,
            engagement_approach: "survivor_mentor".into(),
            outcome: outcome as i32,
            ..Default::default()
        }),
    }
}

async fn record(client: &mut Client, request: pb::RecordContactAttemptRequest) -> Result<String, tonic::Status> {
    Ok(client.record_contact_attempt(request).await?.into_inner().contact_attempt_id)
}

async fn get(client: &mut Client, case_id: &str) -> pb::Case {
    client
        .get_case(pb::GetCaseRequest { case_id: case_id.to_owned(), ..Default::default() })
        .await
        .expect("get")
        .into_inner()
        .case
        .expect("case")
}

both_engines!(contact_attempts_record_the_first_contact_and_stay_with_the_serving_partner, |engine| async move {
    let served = Served::start(engine).await;
    let case_id = served.open_case(Site::SouthLosAngeles).await;
    let mut staff = served.client(Role::CaseManager).await;
    let now = START_MICROS;

    let first =
        record(&mut staff, attempt(&case_id, now - 3 * HOUR, ContactOutcome::NotReached)).await.expect("not reached");
    assert!(first.starts_with("ca_"));
    record(&mut staff, attempt(&case_id, now - 2 * HOUR, ContactOutcome::Reached)).await.expect("reached");
    record(&mut staff, attempt(&case_id, now - HOUR, ContactOutcome::Reached)).await.expect("reached again");
    assert_eq!(get(&mut staff, &case_id).await.first_contact_at, ts(now - 2 * HOUR));
    // A back-dated attempt that reached the youth earlier becomes the first contact.
    record(&mut staff, attempt(&case_id, now - 5 * HOUR, ContactOutcome::Reached)).await.expect("back-dated");
    assert_eq!(get(&mut staff, &case_id).await.first_contact_at, ts(now - 5 * HOUR));
    let recorded = served.published(4, |e| e.event_type == "contact_attempt.recorded").await;
    let flags: Vec<bool> = recorded
        .iter()
        .map(|e| e.payload_as::<events::ContactAttemptRecorded>().expect("payload").first_contact)
        .collect();
    assert_eq!(flags, [false, true, false, true]);
    let payload: events::ContactAttemptRecorded = recorded[0].payload_as().expect("payload");
    assert_eq!(
        (payload.outcome, payload.channel, payload.engagement_approach.as_str()),
        (ContactOutcome::NotReached as i32, ContactChannel::TextMessage as i32, "survivor_mentor")
    );

    // The serving partner records its own attempts; another partner does not see the case.
    let mut partner = served.partner(SERVING_PARTNER).await;
    record(&mut partner, attempt(&case_id, now, ContactOutcome::UnsafeToContact)).await.expect("serving partner");
    let mut other = served.partner(OTHER_PARTNER).await;
    let status = record(&mut other, attempt(&case_id, now, ContactOutcome::Reached)).await.expect_err("other partner");
    assert_eq!(status.code(), Code::NotFound);
    let status = other
        .list_contact_attempts(pb::ListContactAttemptsRequest { case_id: case_id.clone(), ..Default::default() })
        .await
        .expect_err("other partner");
    assert_eq!(status.code(), Code::NotFound);
    let mut claimed = attempt(&case_id, now, ContactOutcome::Reached);
    if let Some(attempt) = claimed.contact_attempt.as_mut() {
        attempt.organization_id = OTHER_PARTNER.into();
    }
    let status = record(&mut partner, claimed).await.expect_err("someone else's attempt");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(format!("{status:?}").contains("contact_attempt.organization_id"));

    // The serving partner lists only its own attempt, never staff's four.
    let own = partner
        .list_contact_attempts(pb::ListContactAttemptsRequest { case_id: case_id.clone(), ..Default::default() })
        .await
        .expect("serving partner lists")
        .into_inner();
    assert_eq!(own.contact_attempts.len(), 1);
    assert_eq!(own.contact_attempts[0].organization_id, SERVING_PARTNER);

    // Listed in recording order, in pages.
    let page = staff
        .list_contact_attempts(pb::ListContactAttemptsRequest {
            case_id: case_id.clone(),
            page_size: 3,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(page.contact_attempts.len(), 3);
    assert_eq!(page.contact_attempts[0].contact_attempt_id, first);
    assert_eq!(page.contact_attempts[0].attempted_by, "test-case_manager");
    let rest = staff
        .list_contact_attempts(pb::ListContactAttemptsRequest {
            case_id: case_id.clone(),
            page_size: 3,
            page_token: page.next_page_token,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(rest.contact_attempts.len(), 2);
    assert_eq!(rest.contact_attempts[1].organization_id, SERVING_PARTNER);
    assert!(rest.next_page_token.is_empty());

    // Every problem named.
    let bad = pb::RecordContactAttemptRequest {
        contact_attempt: Some(pb::ContactAttempt {
            case_id: case_id.clone(),
            attempted_at: None,
            channel: 0,
            outcome: 42,
            engagement_approach: "Street Outreach".into(),
            referral_id: "ref_nope".into(),
            ..Default::default()
        }),
    };
    let status = record(&mut staff, bad).await.expect_err("invalid");
    assert_eq!(status.code(), Code::InvalidArgument);
    for field in ["attempted_at", "channel", "outcome", "engagement_approach", "referral_id"] {
        assert!(format!("{status:?}").contains(&format!("contact_attempt.{field}")), "{field}: {status:?}");
    }
    let status = record(&mut staff, attempt(&case_id, now + HOUR, ContactOutcome::Reached)).await.expect_err("future");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(format!("{status:?}").contains("is in the future"), "{status:?}");

    // A closed case takes no attempts.
    let close = pb::CloseCaseRequest {
        case_id: case_id.clone(),
        reason: CaseClosureReason::Unreachable as i32,
        ..Default::default()
    };
    staff.close_case(close).await.expect("close");
    let status = record(&mut staff, attempt(&case_id, now, ContactOutcome::NotReached)).await.expect_err("closed");
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(status.message(), "case is in stage closed; reopen it (ReopenCase) before recording contact attempts");
    served.server.stop().await;
});

both_engines!(readiness_is_recorded_in_order_with_the_date_it_began, |engine| async move {
    let served = Served::start(engine).await;
    let case_id = served.open_case(Site::SouthLosAngeles).await;
    let mut staff = served.client(Role::CaseManager).await;
    let now = START_MICROS;
    let set = |readiness: Readiness, at: i64| pb::SetReadinessRequest {
        case_id: case_id.clone(),
        readiness: readiness as i32,
        effective_at: ts(at),
        expected_updated_at: None,
    };

    let case = staff
        .set_readiness(set(Readiness::NotYetReady, now - 24 * HOUR))
        .await
        .expect("set")
        .into_inner()
        .case
        .expect("case");
    assert_eq!((case.readiness, case.readiness_since), (Readiness::NotYetReady as i32, ts(now - 24 * HOUR)));
    // The same state again changes nothing and announces nothing.
    staff.set_readiness(set(Readiness::NotYetReady, now)).await.expect("repeat");
    let status = staff.set_readiness(set(Readiness::ReadyToEngage, now - 48 * HOUR)).await.expect_err("before");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(format!("{status:?}").contains("effective_at"), "{status:?}");
    staff.set_readiness(set(Readiness::ReadyToEngage, now)).await.expect("ready");
    let read = get(&mut staff, &case_id).await;
    assert_eq!((read.readiness, read.readiness_since), (Readiness::ReadyToEngage as i32, ts(now)));
    let history = wf_cases::store::engagement::readiness_history(&served.db, &case_id).await.expect("history");
    assert_eq!(history, [("not_yet_ready".to_owned(), now - 24 * HOUR), ("ready_to_engage".to_owned(), now)]);

    let changed = served.published(2, |e| e.event_type == "case.readiness_changed").await;
    let states: Vec<i32> =
        changed.iter().map(|e| e.payload_as::<events::ReadinessChanged>().expect("payload").readiness).collect();
    assert_eq!(states, [Readiness::NotYetReady as i32, Readiness::ReadyToEngage as i32]);

    for (bad, field) in [
        (pb::SetReadinessRequest { readiness: 0, ..set(Readiness::Enrolled, now) }, "readiness"),
        (pb::SetReadinessRequest { case_id: "case_x".into(), ..set(Readiness::Enrolled, now) }, "case_id"),
        (set(Readiness::Enrolled, now + HOUR), "effective_at"),
    ] {
        let status = staff.set_readiness(bad).await.expect_err(field);
        assert_eq!(status.code(), Code::InvalidArgument, "{field}");
        assert!(format!("{status:?}").contains(field), "{field}: {status:?}");
    }
    let close = pb::CloseCaseRequest {
        case_id: case_id.clone(),
        reason: CaseClosureReason::DeclinedServices as i32,
        ..Default::default()
    };
    staff.close_case(close).await.expect("close");
    let status = staff.set_readiness(set(Readiness::DeclinedServices, now)).await.expect_err("closed");
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(status.message(), "case is in stage closed; reopen it (ReopenCase) before recording readiness");
    let status = served
        .partner(SERVING_PARTNER)
        .await
        .set_readiness(set(Readiness::Enrolled, now))
        .await
        .expect_err("partners do not set readiness");
    assert_eq!(status.code(), Code::PermissionDenied);
    served.server.stop().await;
});
