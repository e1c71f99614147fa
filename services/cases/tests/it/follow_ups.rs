//! Acceptance 3: follow-ups at 6, 12 and 24 months after exit are announced due and overdue at the
//! right instants of a controlled clock, once each, also across a restart. (The exit follow-up an
//! exit also schedules is recorded at once here and left out of the counts: `exit.rs` has it.)

use std::time::Duration;

use chrono::NaiveDate;
use tonic::Code;
use wf_auth::Role;
use wf_cases::domain::follow_up;
use wf_cases::{App, SweepReport};
use wf_events::{Envelope, RelayHandle};
use wf_proto::cases::v1::{self as pb, CaseClosureReason, FollowUpKind, FollowUpStatus};
use wf_proto::common::v1::{Date, NoYes, Site};
use wf_proto::events::v1 as events;
use wf_testkit::{both_engines, eventually};

use crate::served::Served;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A sweep of our own at the shared clock: what the service's worker would find right now.
async fn sweep_now(served: &Served) -> SweepReport {
    let app = App::new(served.db.clone(), RelayHandle::default(), served.clock.shared());
    wf_cases::app::follow_ups::sweep(&app).await.expect("sweep")
}

/// Announcements made of the post-exit follow-ups (the exit follow-up left out).
async fn announced(db: &wf_db::Db, column: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM follow_ups WHERE {column} = 1 AND kind <> {}", FollowUpKind::Exit as i32);
    let (count,): (i64,) = wf_db::sqlx::query_as(&sql).fetch_one(db.pool()).await.expect("count");
    count
}

/// Announcements made of every follow-up.
async fn announced_all(db: &wf_db::Db, column: &str) -> i64 {
    let (count,): (i64,) = wf_db::sqlx::query_as(&format!("SELECT COUNT(*) FROM follow_ups WHERE {column} = 1"))
        .fetch_one(db.pool())
        .await
        .expect("count");
    count
}

/// Whether `event` is a `follow_up.due` (or `.overdue`) of a post-exit follow-up.
fn post_exit(event: &Envelope, event_type: &str) -> bool {
    if event.event_type != event_type {
        return false;
    }
    let kind = if event_type == "follow_up.due" {
        event.payload_as::<events::FollowUpDue>().map(|p| p.kind)
    } else {
        event.payload_as::<events::FollowUpOverdue>().map(|p| p.kind)
    };
    kind.is_ok_and(|kind| kind != FollowUpKind::Exit as i32)
}

/// (kind, due date) of each announcement, in kind order: delivery order is not promised.
fn kinds(events: &[Envelope], overdue: bool) -> Vec<(i32, Option<Date>)> {
    let mut kinds: Vec<(i32, Option<Date>)> = events
        .iter()
        .map(|e| {
            if overdue {
                let p: events::FollowUpOverdue = e.payload_as().unwrap();
                (p.kind, p.due_on)
            } else {
                let p: events::FollowUpDue = e.payload_as().unwrap();
                (p.kind, p.due_on)
            }
        })
        .collect();
    kinds.sort_by_key(|(kind, _)| *kind);
    kinds
}

both_engines!(follow_ups_are_due_and_overdue_on_time_once_across_restarts, |engine| async move {
    let served = Served::start(engine).await;
    let case_id = served.open_case(Site::SouthLosAngeles).await;
    let mut staff = served.client(Role::CaseManager).await;
    // Exit on 2026-01-01 (the clock's start).
    staff
        .close_case(pb::CloseCaseRequest {
            case_id: case_id.clone(),
            reason: CaseClosureReason::DeclinedServices as i32,
            ..Default::default()
        })
        .await
        .expect("close");
    let listed = staff
        .list_follow_ups(pb::ListFollowUpsRequest { case_id: case_id.clone(), ..Default::default() })
        .await
        .expect("list")
        .into_inner()
        .follow_ups;
    let due: Vec<(i32, Option<Date>)> = listed.iter().map(|f| (f.kind, f.due_on)).collect();
    let d = |year, month, day| Some(Date { year, month, day });
    assert_eq!(
        due,
        [
            (FollowUpKind::Exit as i32, d(2026, 1, 1)),
            (FollowUpKind::Month6 as i32, d(2026, 7, 1)),
            (FollowUpKind::Month12 as i32, d(2027, 1, 1)),
            (FollowUpKind::Month24 as i32, d(2028, 1, 1))
        ]
    );
    assert!(listed[1..].iter().all(|f| f.status == FollowUpStatus::Scheduled as i32));
    // The exit interview is recorded at once (its window opened 30 days before the exit).
    let exit = pb::RecordFollowUpRequest {
        follow_up_id: listed[0].follow_up_id.clone(),
        status: FollowUpStatus::Refused as i32,
        ..Default::default()
    };
    staff.record_follow_up(exit).await.expect("the exit follow-up");
    let six_months = listed[1].follow_up_id.clone();
    let twelve_months = listed[2].follow_up_id.clone();

    // One microsecond before the 6-month due date: nothing is owed, whoever sweeps.
    let due_at = follow_up::due_at(date(2026, 7, 1));
    served.clock.set_micros(due_at - 1);
    assert_eq!(sweep_now(&served).await, SweepReport::default());
    assert_eq!(announced(&served.db, "due_announced").await, 0);

    // At the due instant the service's own worker announces it.
    served.clock.set_micros(due_at);
    let due_events = served.published(1, |e| post_exit(e, "follow_up.due")).await;
    assert_eq!(kinds(&due_events, false), [(FollowUpKind::Month6 as i32, d(2026, 7, 1))]);
    let payload: events::FollowUpDue = due_events[0].payload_as().unwrap();
    assert_eq!(payload.follow_up_id, six_months);
    assert!(payload.case_manager_id.starts_with("cm_"));
    assert_eq!(sweep_now(&served).await, SweepReport::default(), "announced once");
    assert_eq!(announced(&served.db, "overdue_announced").await, 0, "not overdue before its window closes");

    // Stopped, and back just before the window closes: nothing owed; then at its close, the overdue
    // announcement is made and the due one is not repeated.
    let served = served.restart_at(follow_up::overdue_at(date(2026, 7, 1)) - 1).await;
    assert_eq!(sweep_now(&served).await, SweepReport::default());
    assert_eq!(announced(&served.db, "overdue_announced").await, 0);
    served.clock.set_micros(follow_up::overdue_at(date(2026, 7, 1)));
    let overdue = served.published(1, |e| post_exit(e, "follow_up.overdue")).await;
    assert_eq!(kinds(&overdue, true), [(FollowUpKind::Month6 as i32, d(2026, 7, 1))]);
    let mut staff = served.client(Role::CaseManager).await;
    let six = staff
        .list_follow_ups(pb::ListFollowUpsRequest {
            case_id: case_id.clone(),
            statuses: vec![FollowUpStatus::Overdue as i32],
            ..Default::default()
        })
        .await
        .expect("overdue list")
        .into_inner()
        .follow_ups;
    assert_eq!(six.len(), 1);
    assert_eq!(six[0].follow_up_id, six_months);

    // The youth could not be reached: recorded as such, with no answers.
    let with_answers = pb::RecordFollowUpRequest {
        follow_up_id: six_months.clone(),
        status: FollowUpStatus::LostToFollowUp as i32,
        outcomes: Some(pb::FollowUpOutcomes { arrested_since_last_contact: NoYes::No as i32, ..Default::default() }),
        completed_at: None,
    };
    let status = staff.record_follow_up(with_answers).await.expect_err("no answers for an unreached youth");
    assert_eq!(status.code(), Code::InvalidArgument);
    let lost = pb::RecordFollowUpRequest {
        follow_up_id: six_months.clone(),
        status: FollowUpStatus::LostToFollowUp as i32,
        outcomes: None,
        completed_at: None,
    };
    let recorded = staff.record_follow_up(lost.clone()).await.expect("lost to follow-up").into_inner();
    let recorded = recorded.follow_up.expect("follow-up");
    assert_eq!(recorded.status, FollowUpStatus::LostToFollowUp as i32);
    assert!(recorded.outcomes.is_none(), "never read as 'no recidivism'");
    let again = staff.record_follow_up(lost).await.expect_err("recorded once");
    assert_eq!(again.code(), Code::FailedPrecondition);

    // Down for two years: on the way back every owed announcement is made once, due before overdue.
    let served = served.restart_at(follow_up::overdue_at(date(2028, 1, 1))).await;
    let due_events = served.published(3, |e| post_exit(e, "follow_up.due")).await;
    let overdue = served.published(3, |e| post_exit(e, "follow_up.overdue")).await;
    assert_eq!(due_events.len(), 3);
    assert_eq!(overdue.len(), 3);
    assert_eq!(
        kinds(&overdue, true),
        [
            (FollowUpKind::Month6 as i32, d(2026, 7, 1)),
            (FollowUpKind::Month12 as i32, d(2027, 1, 1)),
            (FollowUpKind::Month24 as i32, d(2028, 1, 1))
        ]
    );
    assert_eq!(sweep_now(&served).await, SweepReport::default());

    // A completed follow-up carries its answers.
    let mut staff = served.client(Role::CaseManager).await;
    let outcomes = pb::FollowUpOutcomes {
        feels_safe: NoYes::Yes as i32,
        arrested_since_last_contact: NoYes::No as i32,
        returned_to_trafficker: NoYes::Yes as i32,
        ..Default::default()
    };
    let response = staff
        .record_follow_up(pb::RecordFollowUpRequest {
            follow_up_id: twelve_months,
            status: FollowUpStatus::Completed as i32,
            outcomes: Some(outcomes.clone()),
            completed_at: None,
        })
        .await
        .expect("completed")
        .into_inner();
    let completed = response.follow_up.expect("follow-up");
    assert_eq!(completed.outcomes, Some(outcomes));
    // The one "yes" is a recidivism event with the follow-up as its evidence; "no" is not.
    assert_eq!(response.recidivism_event_ids.len(), 1);
    let derived = served.published(1, |e| e.event_type == "recidivism.recorded").await;
    let derived: events::RecidivismRecorded = derived[0].payload_as().expect("payload");
    assert_eq!(derived.kind, wf_proto::common::v1::RecidivismKind::ReturnToTrafficker as i32);
    assert_eq!(derived.evidence_id, completed.follow_up_id);
    let recorded = served.published(3, |e| e.event_type == "follow_up.recorded").await;
    assert_eq!(recorded.len(), 3, "the exit, 6 and 12-month follow-ups");
    let due_total: usize = served.published(3, |e| post_exit(e, "follow_up.due")).await.len();
    assert_eq!(due_total, 3, "each follow-up announced due exactly once over both restarts");
    served.server.stop().await;
});

both_engines!(stopping_the_service_waits_for_the_follow_up_worker, |engine| async move {
    // Enough cases that one sweep takes a while: twenty exits, eighty follow-ups (the exit one and
    // the 6, 12 and 24-month ones).
    let served = Served::start(engine).await;
    let mut staff = served.client(Role::CaseManager).await;
    for _ in 0..20 {
        let case_id = served.open_case(Site::SouthLosAngeles).await;
        let close = pb::CloseCaseRequest { case_id, reason: CaseClosureReason::GoalsMet as i32, ..Default::default() };
        staff.close_case(close).await.expect("close");
    }
    // Past every window: one sweep owes 80 due and 80 overdue announcements. The service is
    // stopped as soon as the worker has made the first.
    served.clock.set_micros(follow_up::overdue_at(date(2028, 1, 1)));
    let sweeping =
        // (the exit follow-ups' windows opened at once: those were announced before the clock moved)
        eventually(Duration::from_secs(30), || async { announced(&served.db, "due_announced").await > 0 }).await;
    assert!(sweeping, "the worker sweeps");
    let stopped = served.stop().await;

    // The worker finished its sweep before stop returned, and nothing runs after it: a detached
    // worker would still be announcing.
    let claimed = async || {
        announced_all(&stopped.db, "due_announced").await + announced_all(&stopped.db, "overdue_announced").await
    };
    let at_stop = claimed().await;
    assert_eq!(at_stop, 160, "the sweep under way was finished before the service stopped");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(claimed().await, at_stop, "no sweep after the service stopped");
});
