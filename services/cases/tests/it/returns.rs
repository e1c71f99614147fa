//! Issue 13, finding 1: a youth referred again 14 days or more after the exit is a return — counted
//! from the case's exit (`exited_at`) to the new referral's `received_at`, not from when the
//! closure was recorded or the routing arrived — and a return is a re-exploitation recidivism
//! event dated when the referral was received. Both ways in: the new referral reopens the closed
//! case, or staff confirm it is the youth of a case it opened on its own.

use wf_auth::Role;
use wf_events::Envelope;
use wf_proto::cases::v1::{self as pb, CaseClosureReason, CaseStage};
use wf_proto::common::v1::{Date, LivingSituation, RecidivismEvidence, RecidivismKind, Site, TriageTier};
use wf_proto::events::v1 as events;
use wf_testkit::both_engines;
use wf_types::{Clock, PossibleMatchId, ReferralId, YouthId};

use crate::harness::referral_routed;
use crate::served::{START_MICROS, Served, case_of, recidivism_of};

pub const DAY: i64 = 86_400_000_000;

/// `referral.received` for `youth`, received at `received_at`, naming `approach`.
pub fn received_at(referral_id: &ReferralId, youth: &YouthId, received_at: i64, approach: &str) -> Envelope {
    let payload = events::ReferralReceived {
        referral_id: referral_id.to_string(),
        youth_id: youth.to_string(),
        site: Site::SouthLosAngeles as i32,
        triage_tier: TriageTier::Routine as i32,
        received_at: Some(wf_proto::time::timestamp_from_micros(received_at)),
        engagement_approach: approach.to_owned(),
        ..Default::default()
    };
    Envelope::new("intake", referral_id.to_string(), referral_id.to_string(), &payload)
}

/// A referral of `youth` received at `at`, published and routed; returns its id.
pub async fn refer_at(served: &Served, youth: &YouthId, at: i64) -> ReferralId {
    let referral_id = ReferralId::generate();
    served.server.publish(&received_at(&referral_id, youth, at, "")).await;
    served.server.publish(&referral_routed(&referral_id, Site::SouthLosAngeles, false)).await;
    referral_id
}

/// Closes the case now with its exit dated `exited_at`.
pub async fn close_exited_at(served: &Served, case_id: &str, exited_at: i64) -> pb::Case {
    let request = pb::CloseCaseRequest {
        case_id: case_id.to_owned(),
        reason: CaseClosureReason::GoalsMet as i32,
        exit_living_situation: LivingSituation::EmergencyShelter as i32,
        exited_at: Some(wf_proto::time::timestamp_from_micros(exited_at)),
        expected_updated_at: None,
    };
    let closed = served.client(Role::Supervisor).await.close_case(request).await.expect("close");
    closed.into_inner().case.expect("case")
}

fn date_of(micros: i64) -> Date {
    wf_cases::domain::services::to_proto_date(wf_cases::domain::follow_up::date_of(micros))
}

both_engines!(a_return_is_counted_from_the_exit_not_from_when_the_closure_was_recorded, |engine| async move {
    let served = Served::start(engine).await;
    let mut supervisor = served.client(Role::Supervisor).await;
    let youth = YouthId::generate();
    let first = refer_at(&served, &youth, START_MICROS).await;
    let case = case_of(&mut supervisor, &first).await;

    // A year and a half on, staff record the closure, the exit dated back to the first month; the
    // youth was referred again 300 days after that exit and the referral is routed only now.
    let exited_at = START_MICROS + 30 * DAY;
    served.clock.set_micros(START_MICROS + 540 * DAY);
    close_exited_at(&served, &case.case_id, exited_at).await;
    let again = refer_at(&served, &youth, exited_at + 300 * DAY).await;

    let reopened = served.published(1, |e| e.event_type == "case.reopened").await;
    let reopened: events::CaseReopened = reopened[0].payload_as().expect("payload");
    assert_eq!(
        (reopened.case_id.as_str(), reopened.referral_id.as_str()),
        (case.case_id.as_str(), again.as_str()),
        "the closed case took the referral"
    );
    assert_eq!((reopened.reason.as_str(), reopened.days_since_closure), ("youth_returned", 300), "a return");
    let recidivism = recidivism_of(&mut supervisor, &youth).await;
    assert_eq!(recidivism.len(), 1, "{recidivism:?}");
    assert_eq!(
        (recidivism[0].kind, recidivism[0].evidence, recidivism[0].evidence_id.as_str()),
        (RecidivismKind::ReExploitation as i32, RecidivismEvidence::NewReferral as i32, again.as_str())
    );
    assert_eq!(recidivism[0].occurred_on, Some(date_of(exited_at + 300 * DAY)), "when the referral was received");
    let now = case_of(&mut supervisor, &again).await;
    assert_eq!((now.case_id.as_str(), now.stage), (case.case_id.as_str(), CaseStage::Engagement as i32));

    // Back 10 days after an exit is a transfer, even when routed long after: no recidivism.
    let other = YouthId::generate();
    let first = refer_at(&served, &other, served.clock.now_micros()).await;
    let transferred = case_of(&mut supervisor, &first).await;
    let exited_at = served.clock.now_micros() - 60 * DAY;
    close_exited_at(&served, &transferred.case_id, exited_at).await;
    refer_at(&served, &other, exited_at + 10 * DAY).await;
    let reopened = served.published(2, |e| e.event_type == "case.reopened").await;
    let reopened: events::CaseReopened = reopened[1].payload_as().expect("payload");
    assert_eq!((reopened.reason.as_str(), reopened.days_since_closure), ("transfer", 10));
    assert!(recidivism_of(&mut supervisor, &other).await.is_empty(), "a transfer is not re-exploitation");
    served.server.stop().await;
});

both_engines!(a_confirmed_return_is_counted_from_the_exit_and_is_recidivism, |engine| async move {
    let served = Served::start(engine).await;
    let mut supervisor = served.client(Role::Supervisor).await;
    let youth = YouthId::generate();
    let first = refer_at(&served, &youth, START_MICROS).await;
    let earlier = case_of(&mut supervisor, &first).await;
    let exited_at = START_MICROS + 10 * DAY;

    // Nine months after the exit the youth is referred under a provisional id and gets a case of
    // their own; the earlier closure is recorded after that, dated back; then staff confirm the match.
    let provisional = YouthId::generate();
    let received = exited_at + 274 * DAY;
    served.clock.set_micros(received + DAY);
    let second = refer_at(&served, &provisional, received).await;
    let own = case_of(&mut supervisor, &second).await;
    assert_ne!(own.case_id, earlier.case_id);
    served.clock.set_micros(received + 90 * DAY);
    close_exited_at(&served, &earlier.case_id, exited_at).await;
    let confirmation = events::PossibleMatchConfirmed {
        possible_match_id: PossibleMatchId::generate().to_string(),
        referral_id: second.to_string(),
        youth_id: youth.to_string(),
        previous_youth_id: provisional.to_string(),
        decided_by: "test-supervisor".into(),
        practice: false,
    };
    served.server.publish(&Envelope::new("intake", second.to_string(), second.to_string(), &confirmation)).await;

    let linked = served.published(1, |e| e.event_type == "case.linked").await;
    let linked: events::CaseLinked = linked[0].payload_as().expect("payload");
    assert_eq!(
        (linked.earlier_case_id.as_str(), linked.relation.as_str(), linked.days_since_closure),
        (earlier.case_id.as_str(), "return", 274)
    );
    let recidivism = recidivism_of(&mut supervisor, &youth).await;
    assert_eq!(recidivism.len(), 1, "{recidivism:?}");
    assert_eq!(
        (recidivism[0].case_id.as_str(), recidivism[0].evidence_id.as_str()),
        (earlier.case_id.as_str(), second.as_str())
    );
    assert_eq!(recidivism[0].occurred_on, Some(date_of(received)));
    served.server.stop().await;
});
