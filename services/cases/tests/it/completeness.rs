//! `ListCases.incomplete_only`: an overdue assessment, a follow-up past its due instant and not
//! recorded, or an exit without a living situation, judged at the controlled clock's instant.

use chrono::NaiveDate;
use wf_auth::Role;
use wf_cases::domain::follow_up;
use wf_proto::cases::v1::{self as pb, CaseClosureReason, CaseStage, FollowUpStatus};
use wf_proto::common::v1::{LivingSituation, Site};
use wf_testkit::both_engines;

use crate::served::{START_MICROS, Served};

const DAY_MICROS: i64 = 86_400_000_000;

async fn incomplete(served: &Served) -> Vec<String> {
    let mut ids: Vec<String> = served
        .client(Role::Supervisor)
        .await
        .list_cases(pb::ListCasesRequest { incomplete_only: true, ..Default::default() })
        .await
        .expect("list incomplete")
        .into_inner()
        .cases
        .into_iter()
        .map(|case| case.case_id)
        .collect();
    ids.sort();
    ids
}

fn sorted(mut ids: Vec<&String>) -> Vec<String> {
    ids.sort();
    ids.into_iter().cloned().collect()
}

both_engines!(
    incomplete_cases_are_overdue_assessments_unrecorded_follow_ups_and_exits_without_living_situation,
    |engine| async move {
        let served = Served::start(engine).await;
        let mut staff = served.client(Role::CaseManager).await;
        let untouched = served.open_case(Site::SouthLosAngeles).await;
        let enrolled = served.open_case(Site::SouthLosAngeles).await;
        let exited_unknown = served.open_case(Site::SouthLosAngeles).await;
        let exited_known = served.open_case(Site::SanFernandoValley).await;

        staff
            .transition_stage(pb::TransitionStageRequest {
                case_id: enrolled.clone(),
                to_stage: CaseStage::Enrolled as i32,
                reason: "enrolled".into(),
                ..Default::default()
            })
            .await
            .expect("enroll");
        staff
            .close_case(pb::CloseCaseRequest {
                case_id: exited_unknown.clone(),
                reason: CaseClosureReason::DeclinedServices as i32,
                ..Default::default()
            })
            .await
            .expect("close without a living situation");
        staff
            .close_case(pb::CloseCaseRequest {
                case_id: exited_known.clone(),
                reason: CaseClosureReason::DeclinedServices as i32,
                exit_living_situation: LivingSituation::EmergencyShelter as i32,
                ..Default::default()
            })
            .await
            .expect("close with a living situation");

        // At once only the exit without a living situation is missing a required field.
        assert_eq!(incomplete(&served).await, vec![exited_unknown.clone()]);

        // One microsecond before the assessment falls due (90 days after enrollment): not yet overdue.
        let assessment_due = START_MICROS + 90 * DAY_MICROS;
        served.clock.set_micros(assessment_due - 1);
        assert_eq!(incomplete(&served).await, vec![exited_unknown.clone()]);
        served.clock.set_micros(assessment_due);
        assert_eq!(incomplete(&served).await, sorted(vec![&enrolled, &exited_unknown]));

        // Recording the assessment completes the case.
        staff
            .transition_stage(pb::TransitionStageRequest {
                case_id: enrolled.clone(),
                to_stage: CaseStage::Assessed as i32,
                reason: "assessed".into(),
                ..Default::default()
            })
            .await
            .expect("assess");
        assert_eq!(incomplete(&served).await, vec![exited_unknown.clone()]);

        // Both exits owe a 6-month follow-up on 2026-07-01: once due and not recorded, both are incomplete.
        let six_months_due = follow_up::due_at(NaiveDate::from_ymd_opt(2026, 7, 1).expect("date"));
        served.clock.set_micros(six_months_due - 1);
        assert_eq!(incomplete(&served).await, vec![exited_unknown.clone()]);
        served.clock.set_micros(six_months_due);
        assert_eq!(incomplete(&served).await, sorted(vec![&exited_unknown, &exited_known]));

        // Recording it (even as lost to follow-up) settles the follow-up; the 12-month one is not due yet.
        let six_months = staff
            .list_follow_ups(pb::ListFollowUpsRequest { case_id: exited_known.clone(), ..Default::default() })
            .await
            .expect("follow-ups")
            .into_inner()
            .follow_ups[0]
            .follow_up_id
            .clone();
        staff
            .record_follow_up(pb::RecordFollowUpRequest {
                follow_up_id: six_months,
                status: FollowUpStatus::LostToFollowUp as i32,
                outcomes: None,
                completed_at: None,
            })
            .await
            .expect("record");
        assert_eq!(incomplete(&served).await, vec![exited_unknown.clone()]);

        // The filter combines with the others; the untouched case was never incomplete.
        let at_site = served
            .client(Role::Supervisor)
            .await
            .list_cases(pb::ListCasesRequest {
                incomplete_only: true,
                site: Site::SanFernandoValley as i32,
                ..Default::default()
            })
            .await
            .expect("list")
            .into_inner();
        assert!(at_site.cases.is_empty());
        assert!(!incomplete(&served).await.contains(&untouched));
        served.server.stop().await;
    }
);
