//! `ListCases.incomplete_only` and `Case.missing_fields`: an overdue assessment, a follow-up past
//! its due instant and not recorded (baseline and assessment from the enrollment, the exit and
//! post-exit ones from the exit), or an exit without a living situation, judged at the controlled
//! clock's instant.

use chrono::NaiveDate;
use wf_auth::Role;
use wf_cases::domain::follow_up;
use wf_proto::cases::v1::{self as pb, CaseClosureReason, CaseStage, FollowUpKind, FollowUpStatus};
use wf_proto::common::v1::{LivingSituation, NoYes, Site};
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

/// The missing fields of a case, as `GetCase` reports them.
async fn missing(served: &Served, case_id: &str) -> Vec<String> {
    let request = pb::GetCaseRequest { case_id: case_id.to_owned(), ..Default::default() };
    let case = served.client(Role::Supervisor).await.get_case(request).await.expect("get").into_inner().case;
    case.expect("case").missing_fields
}

/// The id of the case's follow-up of `kind`.
async fn follow_up_of(served: &Served, case_id: &str, kind: FollowUpKind) -> String {
    let request = pb::ListFollowUpsRequest { case_id: case_id.to_owned(), ..Default::default() };
    let listed = served.client(Role::CaseManager).await.list_follow_ups(request).await.expect("list");
    let listed = listed.into_inner().follow_ups;
    listed.into_iter().find(|f| f.kind == kind as i32).expect("scheduled").follow_up_id
}

/// Records the follow-up as completed now.
async fn complete(served: &Served, follow_up_id: String) {
    let request = pb::RecordFollowUpRequest {
        follow_up_id,
        status: FollowUpStatus::Completed as i32,
        outcomes: Some(pb::FollowUpOutcomes { feels_safe: NoYes::Yes as i32, ..Default::default() }),
        completed_at: None,
    };
    served.client(Role::CaseManager).await.record_follow_up(request).await.expect("record");
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

        // At once: the baseline is due at enrollment, the exit follow-up at exit, and one exit has no
        // living situation. Case.missing_fields names exactly what incomplete_only judges.
        assert_eq!(incomplete(&served).await, sorted(vec![&enrolled, &exited_unknown, &exited_known]));
        assert_eq!(missing(&served, &enrolled).await, ["follow_up.baseline"]);
        assert_eq!(missing(&served, &exited_unknown).await, ["follow_up.exit", "exit_living_situation"]);
        assert_eq!(missing(&served, &exited_known).await, ["follow_up.exit"]);
        assert!(missing(&served, &untouched).await.is_empty());
        complete(&served, follow_up_of(&served, &enrolled, FollowUpKind::Baseline).await).await;
        complete(&served, follow_up_of(&served, &exited_unknown, FollowUpKind::Exit).await).await;
        complete(&served, follow_up_of(&served, &exited_known, FollowUpKind::Exit).await).await;
        assert_eq!(incomplete(&served).await, vec![exited_unknown.clone()]);
        assert_eq!(missing(&served, &exited_unknown).await, ["exit_living_situation"]);

        // One microsecond before the assessment falls due (90 days after enrollment): not yet overdue.
        let assessment_due = START_MICROS + 90 * DAY_MICROS;
        served.clock.set_micros(assessment_due - 1);
        assert_eq!(incomplete(&served).await, vec![exited_unknown.clone()]);
        served.clock.set_micros(assessment_due);
        assert_eq!(incomplete(&served).await, sorted(vec![&enrolled, &exited_unknown]));
        assert_eq!(missing(&served, &enrolled).await, ["assessed_at", "follow_up.assessment"]);

        // Recording the assessment (the stage move and its follow-up's answers) completes the case.
        staff
            .transition_stage(pb::TransitionStageRequest {
                case_id: enrolled.clone(),
                to_stage: CaseStage::Assessed as i32,
                reason: "assessed".into(),
                ..Default::default()
            })
            .await
            .expect("assess");
        assert_eq!(missing(&served, &enrolled).await, ["follow_up.assessment"]);
        complete(&served, follow_up_of(&served, &enrolled, FollowUpKind::Assessment).await).await;
        assert_eq!(incomplete(&served).await, vec![exited_unknown.clone()]);

        // Both exits owe a 6-month follow-up on 2026-07-01: once due and not recorded, both are incomplete.
        let six_months_due = follow_up::due_at(NaiveDate::from_ymd_opt(2026, 7, 1).expect("date"));
        served.clock.set_micros(six_months_due - 1);
        assert_eq!(incomplete(&served).await, vec![exited_unknown.clone()]);
        served.clock.set_micros(six_months_due);
        assert_eq!(incomplete(&served).await, sorted(vec![&exited_unknown, &exited_known]));
        assert_eq!(missing(&served, &exited_known).await, ["follow_up.month_6"]);

        // Recording it (even as lost to follow-up) settles the follow-up; the 12-month one is not due yet.
        let six_months = follow_up_of(&served, &exited_known, FollowUpKind::Month6).await;
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
        assert!(missing(&served, &exited_known).await.is_empty());

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
