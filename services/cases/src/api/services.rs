//! Interventions delivered and service plan goals (see `app::services` for who records where). A
//! partner reads the goals of the current episode of a case it serves without their descriptions
//! (the youth's own wording stays with staff; an earlier episode's plan is history it did not
//! serve), and only its own interventions there, without who recorded them (a staff member's
//! identity is staff's).

use wf_auth::Principal;
use wf_proto::cases::v1::{self as pb, GoalStatus, UnitType};
use wf_server::pagination::{next_page, page_token};
use wf_server::{ApiError, FieldViolation};
use wf_types::{CaseId, GoalId, InterventionId, PartnerId, PartnerServiceId, Purpose, ReferralId};

use super::{CasesApi, PAGES, is_partner, optional, present, required};
use crate::app::access::{self, Reader};
use crate::app::services::{self as app, GoalInput, NewIntervention};
use crate::app::{methods, readable_case};
use crate::domain::services;
use crate::store::services::{GoalRecord, Goals, InterventionRecord};
use crate::store::{self, CaseRef};
use crate::timestamp;

/// Most characters of a goal's description: a sentence or two agreed with the youth.
const MAX_DESCRIPTION_CHARS: usize = 1_000;

pub(super) async fn record_intervention(
    api: &CasesApi,
    principal: &Principal,
    req: &pb::RecordInterventionRequest,
) -> Result<String, ApiError> {
    let input = present(req.intervention.as_ref(), "intervention")?;
    let mut violations = Vec::new();
    let case_id = required::<CaseId>("intervention.case_id", &input.case_id, &mut violations);
    if !services::is_service_type(&input.service_type) {
        violations.push(FieldViolation::new(
            "intervention.service_type",
            format!("is not a service type; allowed: {}", services::SERVICE_TYPES.join(", ")),
        ));
    }
    let delivered_on = services::full_date(input.delivered_on.as_ref())
        .map_err(|why| violations.push(FieldViolation::new("intervention.delivered_on", why)))
        .ok();
    if let Err(why) = services::check_units(input.units) {
        violations.push(FieldViolation::new("intervention.units", why));
    }
    match UnitType::try_from(input.unit_type) {
        Ok(UnitType::Unspecified) | Err(_) => violations.push(FieldViolation::new(
            "intervention.unit_type",
            "is required; allowed: UNIT_TYPE_HOURS, UNIT_TYPE_SESSIONS, UNIT_TYPE_NIGHTS, UNIT_TYPE_ITEMS",
        )),
        Ok(_) => {}
    }
    // Partners record their own services; staff name the provider.
    let provider_id = match (&principal.partner_id, input.provider_id.as_str()) {
        (Some(own), "") => own.clone(),
        (Some(own), named) if named == own => own.clone(),
        (Some(_), _) => {
            violations.push(FieldViolation::new("intervention.provider_id", "a partner records only its own services"));
            String::new()
        }
        (None, named) => {
            if let Err(err) = named.parse::<PartnerId>() {
                violations.push(FieldViolation::new("intervention.provider_id", err.to_string()));
            }
            named.to_owned()
        }
    };
    // These travel in intervention.delivered: ids and codes only, never free text. Whether they name
    // this case's referral and goal, and a service of the provider, is checked against the records.
    let referral_id = optional::<ReferralId>("intervention.referral_id", &input.referral_id, &mut violations);
    let partner_service_id =
        optional::<PartnerServiceId>("intervention.partner_service_id", &input.partner_service_id, &mut violations);
    let goal_id = optional::<GoalId>("intervention.goal_id", &input.goal_id, &mut violations);
    if !input.engagement_approach.is_empty() && !services::is_code(&input.engagement_approach) {
        violations.push(FieldViolation::new(
            "intervention.engagement_approach",
            "must be a code: lowercase letters, digits and '_', starting with a letter, at most 64",
        ));
    }
    let (Some(case_id), Some(delivered_on), true) = (case_id, delivered_on, violations.is_empty()) else {
        return Err(ApiError::InvalidArgument(violations));
    };
    let today = chrono::DateTime::from_timestamp_micros(api.app.now()).map(|at| at.date_naive());
    if today.is_some_and(|today| delivered_on > today) {
        return Err(ApiError::invalid(
            "intervention.delivered_on",
            "is in the future; record a service once it was delivered",
        ));
    }
    let intervention = NewIntervention {
        case_id,
        referral_id,
        service_type: input.service_type.clone(),
        delivered_on,
        units: input.units,
        unit_type: input.unit_type,
        provider_id,
        partner_service_id,
        engagement_approach: input.engagement_approach.clone(),
        goal_id,
    };
    Ok(app::record_intervention(&api.app, principal, intervention).await?)
}

pub(super) async fn list_interventions(
    api: &CasesApi,
    principal: &Principal,
    req: &pb::ListInterventionsRequest,
) -> Result<pb::ListInterventionsResponse, ApiError> {
    let mut violations = Vec::new();
    let case_id = required::<CaseId>("case_id", &req.case_id, &mut violations);
    let purpose = Purpose::optional(&req.purpose, "purpose", &mut violations);
    if !req.provider_id.is_empty() && req.provider_id.parse::<PartnerId>().is_err() {
        violations.push(FieldViolation::new("provider_id", "must be an organization id (org_…)"));
    }
    if !req.service_type.is_empty() && !services::is_service_type(&req.service_type) {
        violations.push(FieldViolation::new("service_type", "is not a service type code"));
    }
    let mut bound = |date: Option<&wf_proto::common::v1::Date>, field: &str| {
        date.and_then(|date| {
            services::full_date(Some(date))
                .map_err(|why| violations.push(FieldViolation::new(field, why)))
                .ok()
                .map(|date| date.to_string())
        })
    };
    let delivered = match &req.delivered {
        None => (None, None),
        Some(range) => (bound(range.start.as_ref(), "delivered.start"), bound(range.end.as_ref(), "delivered.end")),
    };
    let limit = PAGES.size(req.page_size, &mut violations);
    let after = page_token::<InterventionId>(&req.page_token, &mut violations);
    // A partner reads its own interventions only.
    let provider = match (&principal.partner_id, req.provider_id.as_str()) {
        (Some(own), "") if is_partner(principal) => Some(own.clone()),
        (Some(own), named) if is_partner(principal) && named == own => Some(own.clone()),
        (_, _) if is_partner(principal) => {
            violations.push(FieldViolation::new("provider_id", "a partner reads only its own interventions"));
            None
        }
        (_, "") => None,
        (_, named) => Some(named.to_owned()),
    };
    let Some(case_id) = case_id.filter(|_| violations.is_empty()) else {
        return Err(ApiError::InvalidArgument(violations));
    };
    let case = case_for(api, principal, &case_id, methods::LIST_INTERVENTIONS).await?;
    let non_empty = |value: &str| (!value.is_empty()).then(|| value.to_owned());
    let mut rows = store::services::list_interventions(
        api.app.db(),
        case_id.as_str(),
        provider.as_deref(),
        non_empty(&req.service_type).as_deref(),
        delivered,
        after.as_ref().map(InterventionId::as_str),
        limit + 1,
    )
    .await?;
    let next_page_token = next_page(&mut rows, limit, |row| row.intervention_id.clone());
    access::read_case(&api.app, Reader::new(principal, purpose), &case, access::INTERVENTIONS).await?;
    let mut interventions: Vec<pb::Intervention> = rows.iter().map(intervention_to_proto).collect();
    if is_partner(principal) {
        // Staff may record a service under the partner's organization: who recorded it is theirs.
        interventions.iter_mut().for_each(|intervention| intervention.recorded_by.clear());
    }
    Ok(pb::ListInterventionsResponse { interventions, next_page_token })
}

pub(super) async fn withdraw_intervention(
    api: &CasesApi,
    principal: &Principal,
    req: &pb::WithdrawInterventionRequest,
) -> Result<pb::WithdrawInterventionResponse, ApiError> {
    let mut violations = Vec::new();
    let intervention_id = required::<InterventionId>("intervention_id", &req.intervention_id, &mut violations);
    let Some(intervention_id) = intervention_id.filter(|_| violations.is_empty()) else {
        return Err(ApiError::InvalidArgument(violations));
    };
    let record = app::withdraw_intervention(&api.app, principal, &intervention_id).await?;
    let mut intervention = intervention_to_proto(&record);
    if is_partner(principal) {
        intervention.recorded_by.clear();
    }
    Ok(pb::WithdrawInterventionResponse { intervention: Some(intervention) })
}

fn intervention_to_proto(row: &InterventionRecord) -> pb::Intervention {
    pb::Intervention {
        intervention_id: row.intervention_id.clone(),
        case_id: row.case_id.clone(),
        referral_id: row.referral_id.clone(),
        service_type: row.service_type.clone(),
        delivered_on: chrono::NaiveDate::parse_from_str(&row.delivered_on, "%Y-%m-%d")
            .ok()
            .map(services::to_proto_date),
        units: row.units,
        unit_type: row.unit_type,
        provider_id: row.provider_id.clone(),
        partner_service_id: row.partner_service_id.clone(),
        engagement_approach: row.engagement_approach.clone(),
        recorded_by: row.recorded_by.clone(),
        recorded_at: Some(timestamp(row.recorded_at)),
        goal_id: row.goal_id.clone(),
        practice: row.practice,
    }
}

pub(super) async fn upsert_goal(api: &CasesApi, req: &pb::UpsertGoalRequest) -> Result<pb::ServicePlanGoal, ApiError> {
    let input = present(req.goal.as_ref(), "goal")?;
    let mut violations = Vec::new();
    let case_id = required::<CaseId>("goal.case_id", &input.case_id, &mut violations);
    if !services::is_outcome_domain(&input.domain) {
        violations.push(FieldViolation::new(
            "goal.domain",
            format!("is not an outcome domain; allowed: {}", services::OUTCOME_DOMAINS.join(", ")),
        ));
    }
    for (index, code) in input.planned_service_types.iter().enumerate() {
        if !services::is_service_type(code) {
            violations.push(FieldViolation::new(
                format!("goal.planned_service_types[{index}]"),
                "is not a service type code",
            ));
        }
    }
    let status = match GoalStatus::try_from(input.status) {
        Ok(GoalStatus::Unspecified) => GoalStatus::Open,
        Ok(status) => status,
        Err(_) => {
            violations.push(FieldViolation::new(
                "goal.status",
                "is not a goal status; allowed: GOAL_STATUS_OPEN … (see GoalStatus)",
            ));
            GoalStatus::Open
        }
    };
    let target_date = match &input.target_date {
        None => None,
        Some(date) => services::full_date(Some(date))
            .map_err(|why| violations.push(FieldViolation::new("goal.target_date", why)))
            .ok(),
    };
    if input.description.chars().count() > MAX_DESCRIPTION_CHARS {
        violations.push(FieldViolation::new(
            "goal.description",
            format!("is longer than {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    let goal_id = match input.goal_id.as_str() {
        "" => None,
        value => value
            .parse::<GoalId>()
            .map_err(|_| {
                violations.push(FieldViolation::new("goal.goal_id", "must be empty (new goal) or a goal id (goal_…)"))
            })
            .ok(),
    };
    let Some(case_id) = case_id.filter(|_| violations.is_empty()) else {
        return Err(ApiError::InvalidArgument(violations));
    };
    let goal = GoalInput {
        case_id,
        goal_id,
        domain: input.domain.clone(),
        planned_service_types: input.planned_service_types.clone(),
        status,
        target_date,
        description: input.description.clone(),
    };
    Ok(goal_to_proto(&app::upsert_goal(&api.app, goal).await?))
}

pub(super) async fn list_goals(
    api: &CasesApi,
    principal: &Principal,
    req: &pb::ListGoalsRequest,
) -> Result<pb::ListGoalsResponse, ApiError> {
    let mut violations = Vec::new();
    let case_id = required::<CaseId>("case_id", &req.case_id, &mut violations);
    let purpose = Purpose::optional(&req.purpose, "purpose", &mut violations);
    let limit = PAGES.size(req.page_size, &mut violations);
    let after = page_token::<GoalId>(&req.page_token, &mut violations);
    let Some(case_id) = case_id.filter(|_| violations.is_empty()) else {
        return Err(ApiError::InvalidArgument(violations));
    };
    let case = case_for(api, principal, &case_id, methods::LIST_GOALS).await?;
    let after = after.as_ref().map(GoalId::as_str);
    // A partner reads the plan of the episode it serves, never an earlier episode's.
    let which = if is_partner(principal) { Goals::CurrentEpisode } else { Goals::All };
    let mut rows = store::services::list_goals(api.app.db(), case_id.as_str(), which, after, limit + 1).await?;
    let next_page_token = next_page(&mut rows, limit, |goal| goal.goal_id.clone());
    access::read_case(&api.app, Reader::new(principal, purpose), &case, access::GOALS).await?;
    let mut goals: Vec<pb::ServicePlanGoal> = rows.iter().map(goal_to_proto).collect();
    if is_partner(principal) {
        // The goal wording agreed with the youth stays with staff.
        goals.iter_mut().for_each(|goal| goal.description.clear());
    }
    Ok(pb::ListGoalsResponse { goals, next_page_token })
}

fn goal_to_proto(goal: &GoalRecord) -> pb::ServicePlanGoal {
    pb::ServicePlanGoal {
        goal_id: goal.goal_id.clone(),
        case_id: goal.case_id.clone(),
        domain: goal.domain.clone(),
        planned_service_types: goal.planned_service_types.clone(),
        status: goal.status,
        target_date: goal
            .target_date
            .as_deref()
            .and_then(|date| chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok())
            .map(services::to_proto_date),
        created_at: Some(timestamp(goal.created_at)),
        updated_at: Some(timestamp(goal.updated_at)),
        description: goal.description.clone(),
    }
}

/// The case a read names: for a partner only one it serves (`app::case_in_scope`); NOT_FOUND unless
/// it exists (a list of nothing would hide a wrong id) or, for a partner, outside its scope.
async fn case_for(
    api: &CasesApi,
    principal: &Principal,
    case_id: &CaseId,
    operation: &'static str,
) -> Result<CaseRef, ApiError> {
    Ok(CaseRef::from(&readable_case(&api.app, principal, case_id.as_str(), operation).await?))
}
