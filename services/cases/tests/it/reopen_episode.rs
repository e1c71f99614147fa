//! Hostile review, a reopening without a new referral: `case.reopened` names every referral of the
//! episode current after it (`episode_referral_ids`, the one that opened or last reopened it first)
//! and says whether that episode is new (`new_episode`): `ReopenCase` naming none carries the last
//! episode on, a returning youth's new referral starts one of its own. A reopened case nobody can take
//! goes to the supervisors' queue with every referral of that episode named
//! (`case.awaiting_assignment`'s `linked_referral_ids`), so intake clears each one's owner.

use wf_auth::Role;
use wf_proto::cases::v1 as pb;
use wf_proto::common::v1::Site;
use wf_proto::events::v1 as events;
use wf_testkit::both_engines;
use wf_types::{Clock, YouthId};

use crate::harness::roster;
use crate::returns::refer_at;
use crate::served::{Client, START_MICROS, Served, case_of, close};

const A: &str = "cm_0000000000000000000000000000000a";

async fn reopen(client: &mut Client, case_id: &str) -> pb::Case {
    let request =
        pb::ReopenCaseRequest { case_id: case_id.to_owned(), reason: "staff_reopened".into(), ..Default::default() };
    client.reopen_case(request).await.expect("reopen").into_inner().case.expect("case")
}

/// (referral_id, episode_referral_ids, new_episode, case_manager_id) of each `case.reopened`, in
/// the order written.
async fn reopenings(served: &Served, count: usize) -> Vec<(String, Vec<String>, bool, String)> {
    let reopened = served.published(count, |e| e.event_type == "case.reopened").await;
    reopened
        .iter()
        .map(|e| {
            let payload: events::CaseReopened = e.payload_as().expect("payload");
            (payload.referral_id, payload.episode_referral_ids, payload.new_episode, payload.case_manager_id)
        })
        .collect()
}

both_engines!(a_reopening_names_every_referral_of_the_episode_it_leaves_current, |engine| async move {
    let served = Served::start(engine).await;
    let mut supervisor = served.client(Role::Supervisor).await;
    let youth = YouthId::generate();
    let first = refer_at(&served, &youth, START_MICROS).await;
    served.clock.advance_days(2);
    let joined = refer_at(&served, &youth, served.clock.now_micros()).await;
    let case = case_of(&mut supervisor, &first).await;
    assert_eq!(case_of(&mut supervisor, &joined).await.case_id, case.case_id, "joined the open case");

    // ReopenCase naming no referral: the episode carries on, both of its referrals with it.
    close(&mut supervisor, &case.case_id).await;
    let owner = reopen(&mut supervisor, &case.case_id).await.case_manager_id;
    let carried_on = (first.to_string(), vec![first.to_string(), joined.to_string()], false, owner);
    assert_eq!(reopenings(&served, 1).await, std::slice::from_ref(&carried_on));

    // A month after the next exit the youth is referred again: a new episode, that referral alone.
    close(&mut supervisor, &case.case_id).await;
    served.clock.advance_days(30);
    let returning = refer_at(&served, &youth, served.clock.now_micros()).await;
    let reopened = case_of(&mut supervisor, &returning).await;
    assert_eq!((reopened.case_id.as_str(), reopened.reopen_count), (case.case_id.as_str(), 2));
    let new_episode = (returning.to_string(), vec![returning.to_string()], true, reopened.case_manager_id);
    assert_eq!(reopenings(&served, 2).await, [carried_on, new_episode.clone()]);

    // Closed again and reopened with no referral: the returning referral's episode carries on.
    close(&mut supervisor, &case.case_id).await;
    let owner = reopen(&mut supervisor, &case.case_id).await.case_manager_id;
    let latest = reopenings(&served, 3).await.pop().expect("third");
    assert_eq!(
        latest,
        (returning.to_string(), vec![returning.to_string()], false, owner),
        "never an earlier episode's"
    );
    served.server.stop().await;
});

both_engines!(a_reopened_case_nobody_can_take_queues_every_referral_of_its_episode, |engine| async move {
    let served = Served::start_with_roster(engine, &roster(&[(A, "south_los_angeles", 1)])).await;
    let mut supervisor = served.client(Role::Supervisor).await;
    let youth = YouthId::generate();
    let first = refer_at(&served, &youth, START_MICROS).await;
    let joined = refer_at(&served, &youth, START_MICROS).await;
    let case = case_of(&mut supervisor, &first).await;
    assert_eq!(case.case_manager_id, A);
    close(&mut supervisor, &case.case_id).await;
    // A's one place goes to another case: nobody can take the reopened one.
    served.open_case(Site::SouthLosAngeles).await;
    assert_eq!(reopen(&mut supervisor, &case.case_id).await.case_manager_id, "", "awaiting assignment");

    let (referral_id, episode, new_episode, owner) = reopenings(&served, 1).await.pop().expect("reopened");
    assert_eq!(
        (referral_id, episode, new_episode, owner),
        (first.to_string(), vec![first.to_string(), joined.to_string()], false, String::new())
    );
    let queued = served.published(1, |e| e.event_type == "case.awaiting_assignment").await;
    let queued: events::CaseAwaitingAssignment = queued[0].payload_as().expect("payload");
    assert_eq!(
        (queued.case_id, queued.referral_id, queued.linked_referral_ids, queued.reason),
        (case.case_id.clone(), first.to_string(), vec![joined.to_string()], "all_at_capacity".to_owned())
    );
    served.server.stop().await;
});
