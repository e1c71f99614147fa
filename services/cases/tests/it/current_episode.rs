//! Hostile review F2b, F2c: case events name the referral the case now serves. A stage change and a
//! closure name the current episode's referrals (never an earlier episode's: that referral's
//! submitter would keep getting status rows, and the new referral none), and a referral joining an
//! open case is announced as of the join, never back-dated to the case's own assignment (which would
//! tell whoever submitted it that the youth already had a case, and since when).

use wf_auth::Role;
use wf_events::Envelope;
use wf_proto::cases::v1::{self as pb, CaseStage};
use wf_proto::events::v1 as events;
use wf_testkit::both_engines;
use wf_types::YouthId;

use crate::harness::offer_accepted;
use crate::returns::{DAY, close_exited_at, refer_at};
use crate::served::{START_MICROS, Served, case_of};

const OTHER: &str = "org_0192f1c4d5e67a8b9c0d1e2f3a4b5c6e";

fn now(served: &Served) -> i64 {
    served.clock.shared().now_micros()
}

async fn enroll(served: &Served, case_id: &str) {
    let request = pb::TransitionStageRequest {
        case_id: case_id.to_owned(),
        to_stage: CaseStage::Enrolled as i32,
        ..Default::default()
    };
    served.client(Role::Supervisor).await.transition_stage(request).await.expect("enrolled");
}

fn named(envelope: &Envelope) -> (String, String) {
    let referral = match envelope.event_type.as_str() {
        "case.stage_changed" => envelope.payload_as::<events::CaseStageChanged>().expect("payload").referral_id,
        _ => envelope.payload_as::<events::CaseClosed>().expect("payload").referral_id,
    };
    (referral, envelope.correlation_id.clone())
}

both_engines!(stage_changes_and_closures_name_the_current_episodes_referrals, |engine| async move {
    let served = Served::start(engine).await;
    let mut supervisor = served.client(Role::Supervisor).await;
    let youth = YouthId::generate();
    let first = refer_at(&served, &youth, START_MICROS).await;
    served.server.publish(&offer_accepted(&first, OTHER)).await;
    let case_id = case_of(&mut supervisor, &first).await.case_id;
    enroll(&served, &case_id).await;
    close_exited_at(&served, &case_id, now(&served)).await;

    // The youth returns a month later, and is referred again while the case is open.
    served.clock.advance_days(30);
    let returning = refer_at(&served, &youth, now(&served)).await;
    served.clock.advance_days(1);
    let joined = refer_at(&served, &youth, now(&served)).await;
    let case = case_of(&mut supervisor, &joined).await;
    assert_eq!((case.case_id.as_str(), case.reopen_count), (case_id.as_str(), 1));
    enroll(&served, &case_id).await;
    close_exited_at(&served, &case_id, now(&served)).await;

    let changed = served.published(2, |e| e.event_type == "case.stage_changed").await;
    let enrolled: Vec<(String, String)> = changed
        .iter()
        .filter(|e| e.payload_as::<events::CaseStageChanged>().unwrap().to_stage == CaseStage::Enrolled as i32)
        .map(named)
        .collect();
    assert_eq!(
        enrolled,
        [(first.to_string(), first.to_string()), (returning.to_string(), returning.to_string())],
        "each enrollment names its own episode's referral"
    );
    let closed = served.published(2, |e| e.event_type == "case.closed").await;
    let closures: Vec<(String, Vec<String>, String)> = closed
        .iter()
        .map(|e| {
            let payload: events::CaseClosed = e.payload_as().unwrap();
            (payload.referral_id, payload.linked_referral_ids, e.correlation_id.clone())
        })
        .collect();
    assert_eq!(
        closures,
        [
            (first.to_string(), vec![], first.to_string()),
            (returning.to_string(), vec![joined.to_string()], returning.to_string()),
        ],
        "a closure names only the current episode's referrals"
    );
    assert_eq!(named(&closed[1]).0, returning.to_string());
});

both_engines!(a_referral_joining_an_open_case_is_announced_as_of_the_join, |engine| async move {
    let served = Served::start(engine).await;
    let mut supervisor = served.client(Role::Supervisor).await;
    let youth = YouthId::generate();
    let first = refer_at(&served, &youth, START_MICROS).await;
    let case = case_of(&mut supervisor, &first).await;
    let assigned_at = wf_proto::time::datetime(case.assigned_at.as_ref().unwrap()).unwrap().timestamp_micros();

    served.clock.advance_days(5);
    let received_at = now(&served);
    let joining = refer_at(&served, &youth, received_at).await;
    assert_eq!(case_of(&mut supervisor, &joining).await.case_id, case.case_id, "joined the open case");
    let assigned = served.published(2, |e| e.event_type == "case.assigned").await;
    let announced: events::CaseAssigned = assigned[1].payload_as().expect("payload");
    assert_eq!((announced.referral_id.as_str(), announced.reason.as_str()), (joining.as_str(), "joined_open_case"));
    let at = wf_proto::time::datetime(announced.assigned_at.as_ref().unwrap()).unwrap().timestamp_micros();
    assert!(at >= received_at, "never before the joining referral was received ({at} < {received_at})");
    assert!(at > assigned_at + 4 * DAY, "not the case's own assignment ({at}, case assigned {assigned_at})");
});
