//! Interventions delivered (`RecordIntervention`) and service plan goals (`UpsertGoal`). Case
//! managers and supervisors record on any case; a partner records only on a case it serves (holds
//! an accepted offer for, see `app::offers`), and any other case is NOT_FOUND, as if it did not
//! exist. What an intervention names is checked against what cases holds: its referral is one of
//! the case's (for a partner, one of the current episode's it accepted an offer for), its goal one
//! of the case's plan goals, and its service not one the offers accepted for it show to be another
//! organization's (for a partner, one an offer it accepted named). Its recorder may withdraw an
//! intervention right after recording it (`WithdrawIntervention`, an undo).

use chrono::NaiveDate;
use wf_auth::{Principal, Role};
use wf_events::Envelope;
use wf_proto::cases::v1::GoalStatus;
use wf_proto::events::v1 as events;
use wf_types::{CaseId, FieldViolation, GoalId, InterventionId, PartnerServiceId, ReferralId};

use super::{App, CaseError, case_in, case_in_scope, methods, referral_for_record};
use crate::SERVICE;
use crate::domain::{lifecycle, services, stage_code};
use crate::store;
use crate::store::services::{GoalRecord, InterventionRecord};

/// One service delivered, as the request gives it (checked for form).
#[derive(Debug, Clone)]
pub struct NewIntervention {
    pub case_id: CaseId,
    /// One of the case's referrals; the case's current one when `None`.
    pub referral_id: Option<ReferralId>,
    pub service_type: String,
    pub delivered_on: NaiveDate,
    pub units: f64,
    /// A `UnitType` number.
    pub unit_type: i32,
    pub provider_id: String,
    pub partner_service_id: Option<PartnerServiceId>,
    pub engagement_approach: String,
    pub goal_id: Option<GoalId>,
}

/// `RecordIntervention`: stores the service delivered and announces `intervention.delivered`.
pub async fn record_intervention(
    app: &App,
    principal: &Principal,
    input: NewIntervention,
) -> Result<String, CaseError> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let case = case_in_scope(app, &mut tx, principal, input.case_id.as_str(), methods::RECORD_INTERVENTION).await?;
    let referral_id =
        referral_for_record(&mut tx, principal, &case, input.referral_id.as_ref(), "intervention.referral_id").await?;
    let mut violations = Vec::new();
    if let Some(goal_id) = &input.goal_id {
        // A partner names a goal of the plan it reads: the current episode's.
        let ours = if principal.role == Role::Partner {
            store::services::is_current_goal(&mut tx, &case.case_id, goal_id.as_str()).await?
        } else {
            store::services::goal_in(&mut tx, goal_id.as_str()).await?.is_some_and(|g| g.case_id == case.case_id)
        };
        if !ours {
            violations.push(FieldViolation::new("intervention.goal_id", "is not a goal of this case's service plan"));
        }
    }
    if let Some(service) = &input.partner_service_id
        && let Some(own) = principal.partner_id.as_deref().filter(|_| principal.role == Role::Partner)
    {
        // A partner names only a service an offer it accepted named: one answer whether the
        // service is another organization's or one cases has not seen (no ownership oracle).
        if !store::offers::accepted_for_service(&mut tx, service.as_str(), own).await? {
            violations.push(FieldViolation::new(
                "intervention.partner_service_id",
                "is not a service of your organization that cases knows of (one an offer your organization \
                 accepted named)",
            ));
        }
    } else if let Some(service) = &input.partner_service_id {
        let organizations = store::offers::organizations_of_service(&mut tx, service.as_str()).await?;
        if !organizations.is_empty() && !organizations.contains(&input.provider_id) {
            violations.push(FieldViolation::new(
                "intervention.partner_service_id",
                "is a service of another organization than intervention.provider_id (the offers accepted for it say \
                 whose it is)",
            ));
        }
    }
    if !violations.is_empty() {
        return Err(CaseError::Violations(violations));
    }
    let record = InterventionRecord {
        intervention_id: InterventionId::generate().to_string(),
        case_id: case.case_id.clone(),
        referral_id,
        service_type: input.service_type,
        delivered_on: input.delivered_on.to_string(),
        units: input.units,
        unit_type: input.unit_type,
        provider_id: input.provider_id,
        partner_service_id: input.partner_service_id.map(String::from).unwrap_or_default(),
        engagement_approach: input.engagement_approach,
        recorded_by: principal.subject.clone(),
        recorded_at: now,
        goal_id: input.goal_id.map(String::from).unwrap_or_default(),
        practice: case.practice,
        withdrawn_at: None,
    };
    store::services::insert_intervention(&mut tx, &record).await?;
    let event = events::InterventionDelivered {
        intervention_id: record.intervention_id.clone(),
        case_id: record.case_id.clone(),
        referral_id: record.referral_id.clone(),
        service_type: record.service_type.clone(),
        delivered_on: Some(services::to_proto_date(input.delivered_on)),
        units: record.units,
        unit_type: record.unit_type,
        provider_id: record.provider_id.clone(),
        partner_service_id: record.partner_service_id.clone(),
        engagement_approach: record.engagement_approach.clone(),
        practice: record.practice,
    };
    app.commit(tx, &[Envelope::new(SERVICE, case.case_id.clone(), record.referral_id.clone(), &event)]).await?;
    tracing::debug!(intervention.id = %record.intervention_id, case.id = %record.case_id, service_type = %record.service_type, "intervention recorded");
    Ok(record.intervention_id)
}

/// `WithdrawIntervention`: its recorder undoes an intervention within
/// [`services::UNDO_WINDOW_MINUTES`] of recording it; the row stays (withdrawn, unlisted) and
/// `intervention.withdrawn` is announced. An intervention on a case outside a partner's scope, or of
/// another organization, is NOT_FOUND, as an unknown id.
pub async fn withdraw_intervention(
    app: &App,
    principal: &Principal,
    intervention_id: &InterventionId,
) -> Result<InterventionRecord, CaseError> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let record = store::services::lock_intervention_in(&mut tx, app.db.backend(), intervention_id.as_str())
        .await?
        .ok_or(CaseError::NotFound("intervention"))?;
    let case = case_in_scope(app, &mut tx, principal, &record.case_id, methods::WITHDRAW_INTERVENTION).await.map_err(
        |err| match err {
            CaseError::NotFound(_) => CaseError::NotFound("intervention"),
            other => other,
        },
    )?;
    if principal.role == Role::Partner && principal.partner_id.as_deref() != Some(record.provider_id.as_str()) {
        return Err(CaseError::NotFound("intervention"));
    }
    services::check_withdrawal(&record.recorded_by, record.recorded_at, record.withdrawn_at, &principal.subject, now)
        .map_err(|refused| CaseError::Precondition(refused.to_string()))?;
    if !store::services::withdraw_intervention(&mut tx, &record.intervention_id, now, &principal.subject).await? {
        return Err(CaseError::Precondition(services::WithdrawRefused::AlreadyWithdrawn.to_string()));
    }
    let event = events::InterventionWithdrawn {
        intervention_id: record.intervention_id.clone(),
        case_id: record.case_id.clone(),
        referral_id: record.referral_id.clone(),
        service_type: record.service_type.clone(),
        withdrawn_at: Some(crate::timestamp(now)),
        practice: record.practice,
        withdrawn_by: principal.subject.clone(),
    };
    app.commit(tx, &[Envelope::new(SERVICE, case.case_id.clone(), record.referral_id.clone(), &event)]).await?;
    tracing::info!(intervention.id = %record.intervention_id, case.id = %record.case_id, "intervention withdrawn");
    Ok(record)
}

/// A plan goal as the request gives it (checked for form).
#[derive(Debug, Clone)]
pub struct GoalInput {
    pub case_id: CaseId,
    /// The goal to change; a new goal when `None`.
    pub goal_id: Option<GoalId>,
    pub domain: String,
    pub planned_service_types: Vec<String>,
    pub status: GoalStatus,
    pub target_date: Option<NaiveDate>,
    pub description: String,
}

/// `UpsertGoal`: adds a goal to an open case's plan, or changes one of its goals.
pub async fn upsert_goal(app: &App, input: GoalInput) -> Result<GoalRecord, CaseError> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let case = case_in(&mut tx, input.case_id.as_str()).await?;
    if lifecycle::is_closed(case.stage) {
        return Err(CaseError::Precondition(format!(
            "case is in stage {}; plan goals change only on an open case",
            stage_code(case.stage)
        )));
    }
    let (goal_id, created_at) = match input.goal_id {
        None => (GoalId::generate(), now),
        Some(goal_id) => match store::services::goal_in(&mut tx, goal_id.as_str()).await? {
            Some(goal) if goal.case_id == case.case_id => (goal_id, goal.created_at),
            _ => return Err(CaseError::NotFound("goal")),
        },
    };
    let goal = GoalRecord {
        goal_id: goal_id.to_string(),
        case_id: case.case_id.clone(),
        domain: input.domain,
        planned_service_types: input.planned_service_types,
        status: input.status as i32,
        target_date: input.target_date.map(|date| date.to_string()),
        description: input.description,
        created_at,
        updated_at: now,
    };
    store::services::upsert_goal(&mut tx, &goal).await?;
    // The description stays out of the event: it is the youth's own wording.
    let event = events::ServicePlanGoalChanged {
        goal_id: goal.goal_id.clone(),
        case_id: goal.case_id.clone(),
        domain: goal.domain.clone(),
        status: goal.status,
        planned_service_types: goal.planned_service_types.clone(),
        practice: case.practice,
    };
    app.commit(tx, &[Envelope::new(SERVICE, case.case_id.clone(), case.referral_id, &event)]).await?;
    Ok(goal)
}
