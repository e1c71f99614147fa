//! The `CaseService` gRPC API: authorize, parse, call the use case in `app` (or read `store`),
//! map to proto. Every answer naming a case carries what lives beside its row (`store::details`):
//! all its referrals, its missing fields, its engagement approach.
//!
//! A partner reads what it needs to serve a case it serves — open, and it holds an accepted offer
//! for a referral of its current episode (`app::case_in_scope`; any other case is NOT_FOUND, as an
//! unknown id): the case (`GetCase`, and `ListCases` lists only those), the current episode's plan
//! goals without the youth's own wording (`ListGoals`, to name the goal an intervention serves),
//! and its own interventions and contact attempts, without who recorded them. Notes, follow-ups,
//! recidivism events and the roster are staff's.

mod assign;
mod engagement;
mod follow_ups;
mod lifecycle;
mod notes;
mod recidivism;
mod roster;
mod services;

use std::collections::HashMap;
use std::str::FromStr;

use tonic::{Request, Response, Status};
use wf_auth::{Operation, Principal, Role};
use wf_proto::cases::v1::{self as pb, case_service_server::CaseService};
use wf_proto::common::v1 as common;
use wf_server::pagination::{PageLimits, next_page, page_token};
use wf_server::{ApiError, FieldViolation};
use wf_types::{CaseId, CaseManagerId, IdError, Purpose, ReferralId, YouthId};

use crate::app::access::{self, Reader};
use crate::app::{self, App, methods};
use crate::domain::completeness::{self, CompletenessFacts};
use crate::domain::{Site, engagement as engagement_rules};
use crate::store::details::CaseDetails;
use crate::store::{self, CaseFilter, CaseRecord, CaseRef};
use crate::timestamp;

/// Page sizes of every list: 0 asks for the default; anything above the maximum is capped to it.
pub const PAGES: PageLimits = PageLimits::new(50, 500);

/// The gRPC service; cheap to clone.
#[derive(Clone)]
pub struct CasesApi {
    app: App,
}

impl CasesApi {
    pub fn new(app: App) -> Self {
        Self { app }
    }

    /// The answer for one case: its row and what lives beside it.
    async fn answer(&self, case: &CaseRecord) -> Result<pb::Case, ApiError> {
        Ok(self.answers(std::slice::from_ref(case)).await?.remove(0))
    }

    /// The answers for `cases`, in their order.
    async fn answers(&self, cases: &[CaseRecord]) -> Result<Vec<pb::Case>, ApiError> {
        let ids: Vec<&str> = cases.iter().map(|case| case.case_id.as_str()).collect();
        let mut details: HashMap<String, CaseDetails> = store::details::of_cases(self.app.db(), &ids).await?;
        let now = self.app.now();
        Ok(cases
            .iter()
            .map(|case| case_to_proto(case, &details.remove(&case.case_id).unwrap_or_default(), now))
            .collect())
    }

    /// The answers for `cases` as `principal` reads them: a partner gets its view of each
    /// ([`partner_view`]), staff the whole case.
    async fn answers_for(&self, principal: &Principal, cases: &[CaseRecord]) -> Result<Vec<pb::Case>, ApiError> {
        let answers = self.answers(cases).await?;
        if !is_partner(principal) {
            return Ok(answers);
        }
        let ids: Vec<&str> = cases.iter().map(|case| case.case_id.as_str()).collect();
        let partner_id = principal.partner_id.as_deref().unwrap_or_default();
        let mut own = store::offers::accepted_in_current_episode(self.app.db(), &ids, partner_id).await?;
        Ok(answers
            .into_iter()
            .map(|case| {
                let referrals = own.remove(&case.case_id).unwrap_or_default();
                partner_view(case, referrals)
            })
            .collect())
    }
}

type ApiResult<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl CaseService for CasesApi {
    async fn get_case(&self, request: Request<pb::GetCaseRequest>) -> ApiResult<pb::GetCaseResponse> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::ReadCase)?;
        let req = request.get_ref();
        let mut violations = Vec::new();
        let case_id = required::<CaseId>("case_id", &req.case_id, &mut violations);
        let purpose = Purpose::optional(&req.purpose, "purpose", &mut violations);
        let Some(case_id) = case_id.filter(|_| violations.is_empty()) else {
            return Err(ApiError::InvalidArgument(violations).into());
        };
        // A partner reads a case it serves; any other is NOT_FOUND, as an unknown id.
        let case = app::readable_case(&self.app, principal, case_id.as_str(), methods::GET_CASE)
            .await
            .map_err(ApiError::from)?;
        access::read_case(&self.app, Reader::new(principal, purpose), &CaseRef::from(&case), access::CASE)
            .await
            .map_err(ApiError::from)?;
        let case = self.answers_for(principal, std::slice::from_ref(&case)).await?.remove(0);
        Ok(Response::new(pb::GetCaseResponse { case: Some(case) }))
    }

    async fn list_cases(&self, request: Request<pb::ListCasesRequest>) -> ApiResult<pb::ListCasesResponse> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::ReadCase)?;
        let req = request.get_ref();
        let (mut filter, after, page_size, purpose) =
            list_cases_query(req, self.app.now(), is_partner(principal)).map_err(ApiError::InvalidArgument)?;
        // A partner lists only the cases it serves (an organization-less partner none).
        if principal.role == Role::Partner {
            filter.served_by = Some(principal.partner_id.clone().unwrap_or_default());
        }
        let mut cases = store::list_cases(self.app.db(), &filter, after.as_ref().map(CaseId::as_str), page_size + 1)
            .await
            .map_err(ApiError::from)?;
        let next_page_token = next_page(&mut cases, page_size, |case| case.case_id.clone());
        // Each case listed is a read of that youth's case record.
        let listed: Vec<CaseRef> = cases.iter().map(CaseRef::from).collect();
        access::read_loaded(&self.app, Reader::new(principal, purpose), &listed, access::CASE)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(pb::ListCasesResponse { cases: self.answers_for(principal, &cases).await?, next_page_token }))
    }

    async fn list_case_managers(
        &self,
        request: Request<pb::ListCaseManagersRequest>,
    ) -> ApiResult<pb::ListCaseManagersResponse> {
        let principal = wf_auth::principal(&request)?;
        // Whoever keeps the roster reads it too (the program manager reads no cases); staff names
        // are never a partner's.
        if !roster::manages_roster(principal) {
            principal.authorize(Operation::ManageCases)?;
        }
        Ok(Response::new(roster::list(self, request.get_ref()).await?))
    }

    async fn upsert_case_manager(
        &self,
        request: Request<pb::UpsertCaseManagerRequest>,
    ) -> ApiResult<pb::UpsertCaseManagerResponse> {
        let principal = wf_auth::principal(&request)?;
        roster::may_manage_roster(principal)?;
        roster::may_grant_supervision(self, principal, request.get_ref()).await?;
        let case_manager = roster::upsert(self, &principal.subject, request.get_ref()).await?;
        Ok(Response::new(pb::UpsertCaseManagerResponse { case_manager: Some(case_manager) }))
    }

    async fn set_on_call(&self, request: Request<pb::SetOnCallRequest>) -> ApiResult<pb::SetOnCallResponse> {
        let principal = wf_auth::principal(&request)?;
        roster::may_manage_roster(principal)?;
        let case_manager = roster::set_on_call(self, &principal.subject, request.get_ref()).await?;
        Ok(Response::new(pb::SetOnCallResponse { case_manager: Some(case_manager) }))
    }

    async fn reassign_case(&self, request: Request<pb::ReassignCaseRequest>) -> ApiResult<pb::ReassignCaseResponse> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::AssignCases)?;
        let case = assign::reassign_case(self, &principal.subject, request.get_ref()).await?;
        Ok(Response::new(pb::ReassignCaseResponse { case: Some(self.answer(&case).await?) }))
    }

    async fn claim_case(&self, request: Request<pb::ClaimCaseRequest>) -> ApiResult<pb::ClaimCaseResponse> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::ManageCases)?;
        let case = assign::claim_case(self, &principal.subject, request.get_ref()).await?;
        Ok(Response::new(pb::ClaimCaseResponse { case: Some(self.answer(&case).await?) }))
    }

    async fn transition_stage(
        &self,
        request: Request<pb::TransitionStageRequest>,
    ) -> ApiResult<pb::TransitionStageResponse> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::ManageCases)?;
        let case = lifecycle::transition_stage(self, &principal.subject, request.get_ref()).await?;
        Ok(Response::new(pb::TransitionStageResponse { case: Some(self.answer(&case).await?) }))
    }

    async fn set_readiness(&self, request: Request<pb::SetReadinessRequest>) -> ApiResult<pb::SetReadinessResponse> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::ManageCases)?;
        let case = engagement::set_readiness(self, &principal.subject, request.get_ref()).await?;
        Ok(Response::new(pb::SetReadinessResponse { case: Some(self.answer(&case).await?) }))
    }

    async fn close_case(&self, request: Request<pb::CloseCaseRequest>) -> ApiResult<pb::CloseCaseResponse> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::ManageCases)?;
        let case = lifecycle::close_case(self, &principal.subject, request.get_ref()).await?;
        Ok(Response::new(pb::CloseCaseResponse { case: Some(self.answer(&case).await?) }))
    }

    async fn reopen_case(&self, request: Request<pb::ReopenCaseRequest>) -> ApiResult<pb::ReopenCaseResponse> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::ManageCases)?;
        let case = lifecycle::reopen_case(self, &principal.subject, request.get_ref()).await?;
        Ok(Response::new(pb::ReopenCaseResponse { case: Some(self.answer(&case).await?) }))
    }

    async fn list_stage_changes(
        &self,
        request: Request<pb::ListStageChangesRequest>,
    ) -> ApiResult<pb::ListStageChangesResponse> {
        let principal = wf_auth::principal(&request)?;
        // A case's history is staff's, never a partner's.
        principal.authorize(Operation::ManageCases)?;
        Ok(Response::new(lifecycle::list_stage_changes(self, principal, request.get_ref()).await?))
    }

    async fn record_contact_attempt(
        &self,
        request: Request<pb::RecordContactAttemptRequest>,
    ) -> ApiResult<pb::RecordContactAttemptResponse> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::RecordIntervention)?;
        let contact_attempt_id = engagement::record_contact_attempt(self, principal, request.get_ref()).await?;
        Ok(Response::new(pb::RecordContactAttemptResponse { contact_attempt_id }))
    }

    async fn list_contact_attempts(
        &self,
        request: Request<pb::ListContactAttemptsRequest>,
    ) -> ApiResult<pb::ListContactAttemptsResponse> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::RecordIntervention)?;
        Ok(Response::new(engagement::list_contact_attempts(self, principal, request.get_ref()).await?))
    }

    async fn upsert_goal(&self, request: Request<pb::UpsertGoalRequest>) -> ApiResult<pb::UpsertGoalResponse> {
        wf_auth::principal(&request)?.authorize(Operation::ManageCases)?;
        let goal = services::upsert_goal(self, request.get_ref()).await?;
        Ok(Response::new(pb::UpsertGoalResponse { goal: Some(goal) }))
    }

    async fn list_goals(&self, request: Request<pb::ListGoalsRequest>) -> ApiResult<pb::ListGoalsResponse> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::ReadCase)?;
        Ok(Response::new(services::list_goals(self, principal, request.get_ref()).await?))
    }

    async fn record_intervention(
        &self,
        request: Request<pb::RecordInterventionRequest>,
    ) -> ApiResult<pb::RecordInterventionResponse> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::RecordIntervention)?;
        let intervention_id = services::record_intervention(self, principal, request.get_ref()).await?;
        Ok(Response::new(pb::RecordInterventionResponse { intervention_id }))
    }

    async fn list_interventions(
        &self,
        request: Request<pb::ListInterventionsRequest>,
    ) -> ApiResult<pb::ListInterventionsResponse> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::ReadCase)?;
        Ok(Response::new(services::list_interventions(self, principal, request.get_ref()).await?))
    }

    async fn withdraw_intervention(
        &self,
        request: Request<pb::WithdrawInterventionRequest>,
    ) -> ApiResult<pb::WithdrawInterventionResponse> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::RecordIntervention)?;
        Ok(Response::new(services::withdraw_intervention(self, principal, request.get_ref()).await?))
    }

    async fn list_follow_ups(
        &self,
        request: Request<pb::ListFollowUpsRequest>,
    ) -> ApiResult<pb::ListFollowUpsResponse> {
        let principal = wf_auth::principal(&request)?;
        // Outcome answers are the evaluation's and staff's, never a partner's.
        principal.authorize(Operation::ManageCases)?;
        Ok(Response::new(follow_ups::list_follow_ups(self, principal, request.get_ref()).await?))
    }

    async fn record_follow_up(
        &self,
        request: Request<pb::RecordFollowUpRequest>,
    ) -> ApiResult<pb::RecordFollowUpResponse> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::ManageCases)?;
        Ok(Response::new(follow_ups::record_follow_up(self, &principal.subject, request.get_ref()).await?))
    }

    async fn record_recidivism_event(
        &self,
        request: Request<pb::RecordRecidivismEventRequest>,
    ) -> ApiResult<pb::RecordRecidivismEventResponse> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::ManageCases)?;
        let recidivism_event_id = recidivism::record(self, &principal.subject, request.get_ref()).await?;
        Ok(Response::new(pb::RecordRecidivismEventResponse { recidivism_event_id }))
    }

    async fn list_recidivism_events(
        &self,
        request: Request<pb::ListRecidivismEventsRequest>,
    ) -> ApiResult<pb::ListRecidivismEventsResponse> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::ManageCases)?;
        Ok(Response::new(recidivism::list(self, principal, request.get_ref()).await?))
    }

    async fn add_case_note(&self, request: Request<pb::AddCaseNoteRequest>) -> ApiResult<pb::AddCaseNoteResponse> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::ManageCases)?;
        let note_id = notes::add(self, principal, request.get_ref()).await?;
        Ok(Response::new(pb::AddCaseNoteResponse { note_id }))
    }

    async fn list_case_notes(
        &self,
        request: Request<pb::ListCaseNotesRequest>,
    ) -> ApiResult<pb::ListCaseNotesResponse> {
        let principal = wf_auth::principal(&request)?;
        // Notes are staff's: a partner reads the case it serves, never its notes.
        principal.authorize(Operation::ReadCaseNotes)?;
        Ok(Response::new(notes::list(self, principal, request.get_ref()).await?))
    }
}

/// A required id field; a malformed one is a violation named `field`.
fn required<Id: FromStr<Err = IdError>>(field: &str, value: &str, violations: &mut Vec<FieldViolation>) -> Option<Id> {
    value.parse().map_err(|err: IdError| violations.push(FieldViolation::new(field, err.to_string()))).ok()
}

/// An id field that may be empty (`None`); a malformed one is a violation named `field`.
fn optional<Id: FromStr<Err = IdError>>(field: &str, value: &str, violations: &mut Vec<FieldViolation>) -> Option<Id> {
    if value.is_empty() { None } else { required(field, value, violations) }
}

/// A required message field of a request.
fn present<'a, T>(value: Option<&'a T>, field: &str) -> Result<&'a T, ApiError> {
    value.ok_or_else(|| ApiError::invalid(field, "is required"))
}

/// An instant from the request, or `now` when absent; never in the future (it records what
/// happened: `future` says so).
fn past_instant(
    value: Option<&prost_types::Timestamp>,
    field: &str,
    now: i64,
    future: &str,
    violations: &mut Vec<FieldViolation>,
) -> i64 {
    let Some(value) = value else { return now };
    match wf_proto::time::datetime(value).map(|at| at.timestamp_micros()) {
        Some(at) if at <= now => at,
        Some(_) => {
            violations.push(FieldViolation::new(field, future));
            now
        }
        None => {
            violations.push(FieldViolation::new(field, "is not a valid timestamp"));
            now
        }
    }
}

/// A change request's `expected_updated_at` (the `Case.updated_at` its caller read), in
/// microseconds; `None` when absent (the change applies to the case as it is).
fn expected_updated_at(value: Option<&prost_types::Timestamp>, violations: &mut Vec<FieldViolation>) -> Option<i64> {
    let value = value?;
    match wf_proto::time::datetime(value) {
        Some(at) => Some(at.timestamp_micros()),
        None => {
            violations.push(FieldViolation::new(
                "expected_updated_at",
                "is not a valid timestamp; send the case's updated_at as it was read",
            ));
            None
        }
    }
}

type CasesQuery = (CaseFilter, Option<CaseId>, usize, Option<Purpose>);

/// The store query of a `ListCases` request (and the read's purpose), or every problem with it.
/// `now` is the instant `incomplete_only` judges overdue assessments and follow-ups at. A partner
/// (`partner`) filters only by what its view of a case shows: never by youth or case manager ids,
/// missing fields (`incomplete_only`) or the supervisors' queue (`awaiting_assignment`), and by
/// `referral_id` only among the referrals it serves (`CaseFilter::referral_id`).
fn list_cases_query(req: &pb::ListCasesRequest, now: i64, partner: bool) -> Result<CasesQuery, Vec<FieldViolation>> {
    let mut violations = Vec::new();
    if partner && !req.youth_id.is_empty() {
        violations.push(FieldViolation::new("youth_id", "is not a filter partners may use (they never see youth ids)"));
    }
    if partner && !req.case_manager_id.is_empty() {
        violations.push(FieldViolation::new(
            "case_manager_id",
            "is not a filter partners may use (they never see who serves the youth)",
        ));
    }
    if partner && req.incomplete_only {
        violations.push(FieldViolation::new(
            "incomplete_only",
            "is not a filter partners may use (a case's missing fields are staff's)",
        ));
    }
    if partner && req.awaiting_assignment {
        violations.push(FieldViolation::new(
            "awaiting_assignment",
            "is not a filter partners may use (the supervisors' queue is staff's)",
        ));
    }
    let case_manager_id = optional::<CaseManagerId>("case_manager_id", &req.case_manager_id, &mut violations);
    let youth_id = optional::<YouthId>("youth_id", &req.youth_id, &mut violations);
    let referral_id = optional::<ReferralId>("referral_id", &req.referral_id, &mut violations);
    let site = optional_site(req.site, "site", &mut violations);
    let mut stages = Vec::with_capacity(req.stages.len());
    for (index, value) in req.stages.iter().enumerate() {
        match pb::CaseStage::try_from(*value) {
            Ok(pb::CaseStage::Unspecified) | Err(_) => violations.push(FieldViolation::new(
                format!("stages[{index}]"),
                "is not a case stage; allowed: CASE_STAGE_ENGAGEMENT … CASE_STAGE_POST_EXIT_FOLLOW_UP",
            )),
            Ok(stage) => stages.push(stage),
        }
    }
    let page_size = PAGES.size(req.page_size, &mut violations);
    let after = page_token::<CaseId>(&req.page_token, &mut violations);
    let purpose = Purpose::optional(&req.purpose, "purpose", &mut violations);
    if !violations.is_empty() {
        return Err(violations);
    }
    let filter = CaseFilter {
        case_manager_id: case_manager_id.map(String::from),
        site,
        stages,
        youth_id: youth_id.map(String::from),
        referral_id: referral_id.map(String::from),
        include_practice: req.include_practice,
        awaiting_assignment: req.awaiting_assignment,
        incomplete_at: req.incomplete_only.then_some(now),
        served_by: None,
    };
    Ok((filter, after, page_size, purpose))
}

fn optional_site(value: i32, field: &str, violations: &mut Vec<FieldViolation>) -> Option<Site> {
    match common::Site::try_from(value) {
        Ok(site) => Site::from_proto(site),
        Err(_) => {
            violations.push(FieldViolation::new(
                field,
                "is not a site; allowed: SITE_SOUTH_LOS_ANGELES, SITE_SAN_FERNANDO_VALLEY, SITE_COUNTYWIDE",
            ));
            None
        }
    }
}

/// The proto of a case, with what lives beside its row, its missing fields judged at `now`.
fn case_to_proto(case: &CaseRecord, details: &CaseDetails, now: i64) -> pb::Case {
    let completeness = CompletenessFacts {
        enrolled_at: case.lifecycle.enrolled_at,
        assessment_due: case.lifecycle.assessment_due,
        assessed_at: case.lifecycle.assessed_at,
        exited_at: case.lifecycle.exited_at,
        exit_living_situation: case.lifecycle.exit_living_situation,
    };
    pb::Case {
        case_id: case.case_id.clone(),
        referral_id: case.referral_id.clone(),
        youth_id: case.youth_id.clone().unwrap_or_default(),
        // Empty while the case awaits assignment.
        case_manager_id: case.case_manager_id.clone().unwrap_or_default(),
        site: case.site.to_proto() as i32,
        stage: case.stage as i32,
        assigned_at: case.assigned_at.map(timestamp),
        referral_ids: details.referral_ids.clone(),
        practice: case.practice,
        updated_at: Some(timestamp(case.updated_at)),
        updated_by: case.updated_by.clone(),
        enrolled_at: case.lifecycle.enrolled_at.map(timestamp),
        assessment_due: case.lifecycle.assessment_due.map(timestamp),
        assessed_at: case.lifecycle.assessed_at.map(timestamp),
        exited_at: case.lifecycle.exited_at.map(timestamp),
        closed_at: case.lifecycle.closed_at.map(timestamp),
        closure_reason: case.lifecycle.closure_reason,
        exit_living_situation: case.lifecycle.exit_living_situation,
        reopen_count: case.lifecycle.reopen_count,
        readiness: case.engagement.readiness,
        readiness_since: case.engagement.readiness_since.map(timestamp),
        first_contact_at: case.engagement.first_contact_at.map(timestamp),
        engagement_approach: engagement_rules::approach_in_use(
            details.latest_attempt_approach.as_deref(),
            &details.referral_approach,
        ),
        missing_fields: completeness::missing_fields(&completeness, &details.open_follow_ups, now),
        merged_into_case_id: case.merged_into.clone().unwrap_or_default(),
    }
}

/// A case as the partner serving it reads it: what it needs to serve — the case id, the site, the
/// stage and readiness, the current episode's enrollment and assessment dates — and, of its
/// referrals, only `own` (those of the current episode it accepted an offer for, oldest first;
/// `referral_id` the latest of them). Never the youth id nor who serves the youth (case manager),
/// nor the case's history before this partner's referral (earlier episodes' and merged cases'
/// referrals, when it was first assigned and first reached, reopenings, closure and exit), the
/// evaluation's missing fields (follow-up outcome data is staff's) or the engagement approach.
fn partner_view(case: pb::Case, own: Vec<String>) -> pb::Case {
    pb::Case {
        case_id: case.case_id,
        referral_id: own.last().cloned().unwrap_or_default(),
        referral_ids: own,
        site: case.site,
        stage: case.stage,
        readiness: case.readiness,
        enrolled_at: case.enrolled_at,
        assessment_due: case.assessment_due,
        assessed_at: case.assessed_at,
        practice: case.practice,
        ..pb::Case::default()
    }
}

/// Whether `principal` reads as a partner (scoped to the cases it serves).
fn is_partner(principal: &Principal) -> bool {
    principal.role == Role::Partner
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Option<prost_types::Timestamp> {
        Some(prost_types::Timestamp { seconds, nanos: 0 })
    }

    /// Every field set, as staff read it.
    fn whole_case() -> pb::Case {
        pb::Case {
            case_id: "case_1".into(),
            referral_id: "ref_opened".into(),
            youth_id: "yth_1".into(),
            case_manager_id: "cm_1".into(),
            site: common::Site::SouthLosAngeles as i32,
            stage: pb::CaseStage::Enrolled as i32,
            assigned_at: at(1),
            enrolled_at: at(2),
            assessment_due: at(3),
            assessed_at: at(4),
            exited_at: at(5),
            closed_at: at(6),
            closure_reason: pb::CaseClosureReason::GoalsMet as i32,
            readiness: common::Readiness::ReadyToEngage as i32,
            readiness_since: at(7),
            engagement_approach: "survivor_mentor".into(),
            reopen_count: 2,
            referral_ids: vec!["ref_opened".into(), "ref_other_partner".into(), "ref_ours".into()],
            exit_living_situation: 3,
            practice: true,
            missing_fields: vec!["follow_up.month_6".into()],
            updated_at: at(8),
            first_contact_at: at(9),
            merged_into_case_id: "case_2".into(),
            updated_by: "usr_1".into(),
        }
    }

    #[test]
    fn a_partner_sees_what_it_needs_to_serve_and_nothing_about_who_serves_or_the_history() {
        let view = partner_view(whole_case(), vec!["ref_ours".into()]);
        let expected = pb::Case {
            case_id: "case_1".into(),
            referral_id: "ref_ours".into(),
            referral_ids: vec!["ref_ours".into()],
            site: common::Site::SouthLosAngeles as i32,
            stage: pb::CaseStage::Enrolled as i32,
            readiness: common::Readiness::ReadyToEngage as i32,
            enrolled_at: at(2),
            assessment_due: at(3),
            assessed_at: at(4),
            practice: true,
            ..pb::Case::default()
        };
        assert_eq!(view, expected);
    }

    #[test]
    fn a_partner_with_two_accepted_referrals_is_named_the_latest() {
        let view = partner_view(whole_case(), vec!["ref_a".into(), "ref_b".into()]);
        assert_eq!((view.referral_id.as_str(), view.referral_ids.len()), ("ref_b", 2));
        assert_eq!(partner_view(whole_case(), Vec::new()).referral_id, "");
    }

    #[test]
    fn partners_may_not_filter_cases_by_what_their_view_does_not_show() {
        let request = pb::ListCasesRequest {
            youth_id: wf_types::YouthId::generate().to_string(),
            case_manager_id: "cm_000000000000000000000000000000a1".into(),
            incomplete_only: true,
            awaiting_assignment: true,
            ..Default::default()
        };
        let fields = |result: Result<CasesQuery, Vec<FieldViolation>>| -> Vec<String> {
            result.err().unwrap_or_default().into_iter().map(|v| v.field).collect()
        };
        assert_eq!(
            fields(list_cases_query(&request, 0, true)),
            ["youth_id", "case_manager_id", "incomplete_only", "awaiting_assignment"]
        );
        assert!(list_cases_query(&request, 0, false).is_ok(), "staff filter by all of them");
    }
}
