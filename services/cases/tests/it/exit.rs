//! Issue 13, findings 4 and 5: the follow-ups the proto promises "at enrollment and exit" are
//! scheduled — the baseline and the assessment when the case is enrolled, the exit follow-up with
//! the 6/12/24-month ones when it closes (none after a death) — each with its window; recording one
//! before its window opens is FAILED_PRECONDITION saying when it opens; `Case.engagement_approach`
//! is the approach in use.

use tonic::Code;
use wf_auth::Role;
use wf_proto::cases::v1::{self as pb, CaseClosureReason, CaseStage, FollowUpKind, FollowUpStatus};
use wf_proto::common::v1::{ContactChannel, ContactOutcome, Date, DateRange, NoYes};
use wf_testkit::both_engines;
use wf_types::YouthId;

use crate::returns::{DAY, received_at};
use crate::served::{Client, START_MICROS, Served, case_of};

fn date(year: i32, month: i32, day: i32) -> Option<Date> {
    Some(Date { year, month, day })
}

fn window(start: Option<Date>, end: Option<Date>) -> Option<DateRange> {
    Some(DateRange { start, end })
}

async fn follow_ups(client: &mut Client, case_id: &str) -> Vec<pb::FollowUp> {
    let request = pb::ListFollowUpsRequest { case_id: case_id.to_owned(), ..Default::default() };
    client.list_follow_ups(request).await.expect("list").into_inner().follow_ups
}

fn completed(follow_up_id: &str, at: Option<i64>) -> pb::RecordFollowUpRequest {
    pb::RecordFollowUpRequest {
        follow_up_id: follow_up_id.to_owned(),
        status: FollowUpStatus::Completed as i32,
        outcomes: Some(pb::FollowUpOutcomes { feels_safe: NoYes::Yes as i32, ..Default::default() }),
        completed_at: at.map(wf_proto::time::timestamp_from_micros),
    }
}

both_engines!(enrollment_and_exit_schedule_their_follow_ups_each_in_its_window, |engine| async move {
    let served = Served::start(engine).await;
    let mut staff = served.client(Role::CaseManager).await;
    let case_id = served.open_case(wf_proto::common::v1::Site::SouthLosAngeles).await;
    assert!(follow_ups(&mut staff, &case_id).await.is_empty(), "nothing before enrollment");

    // Enrolled on 2026-01-10: the baseline is due that day, the assessment 90 days later.
    served.clock.advance_days(9);
    let enroll = pb::TransitionStageRequest {
        case_id: case_id.clone(),
        to_stage: CaseStage::Enrolled as i32,
        reason: "enrolled".into(),
        ..Default::default()
    };
    staff.transition_stage(enroll).await.expect("enroll");
    let scheduled = follow_ups(&mut staff, &case_id).await;
    let seen: Vec<(i32, Option<Date>, Option<DateRange>)> =
        scheduled.iter().map(|f| (f.kind, f.due_on, f.window)).collect();
    assert_eq!(
        seen,
        [
            (FollowUpKind::Baseline as i32, date(2026, 1, 10), window(date(2026, 1, 10), date(2026, 2, 9))),
            (FollowUpKind::Assessment as i32, date(2026, 4, 10), window(date(2026, 1, 10), date(2026, 4, 11))),
        ]
    );
    staff.record_follow_up(completed(&scheduled[0].follow_up_id, None)).await.expect("the baseline at enrollment");

    // The exit on 2026-03-01 schedules the exit follow-up and the post-exit ones; the assessment
    // not recorded stays as it is.
    served.clock.set_micros(START_MICROS + 59 * DAY);
    let close = pb::CloseCaseRequest {
        case_id: case_id.clone(),
        reason: CaseClosureReason::GoalsMet as i32,
        ..Default::default()
    };
    staff.close_case(close).await.expect("close");
    let scheduled = follow_ups(&mut staff, &case_id).await;
    let seen: Vec<(i32, Option<Date>, Option<DateRange>)> =
        scheduled[2..].iter().map(|f| (f.kind, f.due_on, f.window)).collect();
    assert_eq!(
        seen,
        [
            (FollowUpKind::Exit as i32, date(2026, 3, 1), window(date(2026, 1, 30), date(2026, 3, 31))),
            (FollowUpKind::Month6 as i32, date(2026, 9, 1), window(date(2026, 9, 1), date(2026, 10, 1))),
            (FollowUpKind::Month12 as i32, date(2027, 3, 1), window(date(2027, 3, 1), date(2027, 3, 31))),
            (FollowUpKind::Month24 as i32, date(2028, 3, 1), window(date(2028, 3, 1), date(2028, 3, 31))),
        ]
    );
    // The exit interview done in the last week of services counts for the exit follow-up.
    let exit_interview = START_MICROS + 53 * DAY;
    staff.record_follow_up(completed(&scheduled[2].follow_up_id, Some(exit_interview))).await.expect("exit");

    // No follow-ups after a death.
    let other = served.open_case(wf_proto::common::v1::Site::SouthLosAngeles).await;
    let close = pb::CloseCaseRequest {
        case_id: other.clone(),
        reason: CaseClosureReason::Deceased as i32,
        ..Default::default()
    };
    staff.close_case(close).await.expect("close");
    assert!(follow_ups(&mut staff, &other).await.is_empty());
    served.server.stop().await;
});

// The pilot's finding: a 6-month follow-up was accepted on the day of exit.
both_engines!(a_follow_up_recorded_before_its_window_opens_is_refused_saying_when_it_opens, |engine| async move {
    let served = Served::start(engine).await;
    let mut staff = served.client(Role::CaseManager).await;
    let case_id = served.open_case(wf_proto::common::v1::Site::SouthLosAngeles).await;
    let close = pb::CloseCaseRequest {
        case_id: case_id.clone(),
        reason: CaseClosureReason::GoalsMet as i32,
        ..Default::default()
    };
    staff.close_case(close).await.expect("close on 2026-01-01");
    let six_months = follow_ups(&mut staff, &case_id)
        .await
        .into_iter()
        .find(|f| f.kind == FollowUpKind::Month6 as i32)
        .expect("scheduled");
    for status in [FollowUpStatus::Completed, FollowUpStatus::LostToFollowUp, FollowUpStatus::Refused] {
        let mut request = completed(&six_months.follow_up_id, None);
        request.status = status as i32;
        if status != FollowUpStatus::Completed {
            request.outcomes = None;
        }
        let refused = staff.record_follow_up(request).await.expect_err("the day of exit");
        assert_eq!(refused.code(), Code::FailedPrecondition, "{status:?}");
        assert!(refused.message().contains("window opens on 2026-07-01"), "{}", refused.message());
    }
    // Back-dating into the time before the window is refused too, once the window has opened.
    served.clock.set_micros(START_MICROS + 200 * DAY);
    let early = staff
        .record_follow_up(completed(&six_months.follow_up_id, Some(START_MICROS + 150 * DAY)))
        .await
        .expect_err("completed before the window");
    assert_eq!(early.code(), Code::FailedPrecondition);
    let recorded = staff.record_follow_up(completed(&six_months.follow_up_id, None)).await.expect("in the window");
    assert_eq!(recorded.into_inner().follow_up.expect("follow-up").status, FollowUpStatus::Completed as i32);
    served.server.stop().await;
});

both_engines!(the_engagement_approach_in_use_is_the_latest_attempt_s_else_the_referral_s, |engine| async move {
    let served = Served::start(engine).await;
    let mut staff = served.client(Role::CaseManager).await;
    let referral_id = wf_types::ReferralId::generate();
    let youth = YouthId::generate();
    served.server.publish(&received_at(&referral_id, &youth, START_MICROS, "survivor_mentor")).await;
    let routed = crate::harness::referral_routed(&referral_id, wf_proto::common::v1::Site::SouthLosAngeles, false);
    served.server.publish(&routed).await;
    assert_eq!(case_of(&mut staff, &referral_id).await.engagement_approach, "survivor_mentor", "the referral's");
    let case_id = case_of(&mut staff, &referral_id).await.case_id;
    let attempt = |approach: &str, at: i64| pb::RecordContactAttemptRequest {
        contact_attempt: Some(pb::ContactAttempt {
            case_id: case_id.clone(),
            attempted_at: Some(wf_proto::time::timestamp_from_micros(at)),
            channel: ContactChannel::InPerson as i32,
            engagement_approach: approach.to_owned(),
            outcome: ContactOutcome::NotReached as i32,
            ..Default::default()
        }),
    };
    served.clock.advance_days(3);
    staff.record_contact_attempt(attempt("street_outreach", START_MICROS + 2 * DAY)).await.expect("attempt");
    // Back-dated, an older attempt with another approach does not replace the latest one; one
    // naming none is not counted.
    staff.record_contact_attempt(attempt("drop_in_center", START_MICROS + DAY)).await.expect("older attempt");
    staff.record_contact_attempt(attempt("", START_MICROS + 3 * DAY)).await.expect("no approach");
    let request = pb::GetCaseRequest { case_id: case_id.clone(), ..Default::default() };
    let case = staff.get_case(request).await.expect("get").into_inner().case.expect("case");
    assert_eq!(case.engagement_approach, "street_outreach");
    served.server.stop().await;
});
