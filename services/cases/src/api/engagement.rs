//! `SetReadiness`, `RecordContactAttempt` and `ListContactAttempts`. Attempts are codes (channel,
//! approach, outcome) and ids: no notes and no contact details, so their events carry nothing
//! personal. Partners record and read attempts only on cases they serve; any other case answers
//! NOT_FOUND, as for interventions.

use wf_auth::Principal;
use wf_events::{Envelope, outbox};
use wf_proto::cases::v1 as pb;
use wf_proto::common::v1::{ContactChannel, ContactOutcome, Readiness};
use wf_proto::events::v1 as events;
use wf_server::{ApiError, FieldViolation};
use wf_types::{CaseId, PartnerId, ReferralId};

use super::services::case_in_scope;
use super::{CasesApi, page_size, page_token_text};
use crate::SERVICE;
use crate::domain::engagement::{self, CurrentReadiness, ReadinessChange, ReadinessRefused};
use crate::domain::services::is_code;
use crate::events::timestamp;
use crate::store::engagement::ContactAttemptRecord;
use crate::store::{self, CaseRecord, EngagementFacts};

pub(super) async fn set_readiness(
    api: &CasesApi,
    actor: &str,
    req: &pb::SetReadinessRequest,
) -> Result<CaseRecord, ApiError> {
    let mut violations = Vec::new();
    let case_id = req
        .case_id
        .parse::<CaseId>()
        .map_err(|err| violations.push(FieldViolation::new("case_id", err.to_string())))
        .ok();
    let readiness = match Readiness::try_from(req.readiness) {
        Ok(Readiness::Unspecified) | Err(_) => {
            violations.push(FieldViolation::new(
                "readiness",
                format!(
                    "{} is not a readiness state; allowed: READINESS_NOT_YET_READY, READINESS_READY_TO_ENGAGE, \
                     READINESS_ENROLLED, READINESS_DECLINED_SERVICES",
                    req.readiness
                ),
            ));
            None
        }
        Ok(readiness) => Some(readiness),
    };
    let now = api.clock.now_micros();
    let effective_at = past_instant(req.effective_at.as_ref(), "effective_at", now, &mut violations);
    let (Some(case_id), Some(readiness), true) = (case_id, readiness, violations.is_empty()) else {
        return Err(ApiError::InvalidArgument(violations));
    };
    let mut tx = api.db.begin().await?;
    let case = store::get_case_in(&mut tx, case_id.as_str()).await?.ok_or_else(|| ApiError::NotFound("case".into()))?;
    let current = Readiness::try_from(case.engagement.readiness)
        .ok()
        .filter(|r| *r != Readiness::Unspecified)
        .zip(case.engagement.readiness_since)
        .map(|(readiness, since)| CurrentReadiness { readiness, since });
    match engagement::check_readiness(case.stage, current, readiness, effective_at) {
        Err(refused @ ReadinessRefused::CaseClosed { .. }) => {
            return Err(ApiError::FailedPrecondition(refused.to_string()));
        }
        Err(refused @ ReadinessRefused::BeforeCurrent { .. }) => {
            return Err(ApiError::InvalidArgument(vec![FieldViolation::new("effective_at", refused.to_string())]));
        }
        Ok(ReadinessChange::Unchanged) => {
            tx.rollback().await?;
            return Ok(case);
        }
        Ok(ReadinessChange::Changed) => {}
    }
    let code = engagement::readiness_code(readiness).unwrap_or("unspecified");
    store::engagement::set_readiness(&mut tx, &case.case_id, code, effective_at, actor, now).await?;
    let event = events::ReadinessChanged {
        case_id: case.case_id.clone(),
        referral_id: case.referral_id.clone(),
        readiness: readiness as i32,
        effective_at: Some(timestamp(effective_at)),
        practice: case.practice,
    };
    outbox::enqueue(
        &mut tx,
        api.db.backend(),
        &Envelope::new(SERVICE, case.case_id.clone(), case.referral_id.clone(), &event),
    )
    .await?;
    tx.commit().await?;
    api.relay.wake();
    tracing::info!(case.id = %case.case_id, readiness = code, "readiness recorded");
    Ok(CaseRecord {
        engagement: EngagementFacts {
            readiness: readiness as i32,
            readiness_since: Some(effective_at),
            ..case.engagement.clone()
        },
        updated_at: now,
        ..case
    })
}

pub(super) async fn record_contact_attempt(
    api: &CasesApi,
    principal: &Principal,
    req: &pb::RecordContactAttemptRequest,
) -> Result<String, ApiError> {
    let input = req
        .contact_attempt
        .as_ref()
        .ok_or_else(|| ApiError::InvalidArgument(vec![FieldViolation::new("contact_attempt", "is required")]))?;
    let mut violations = Vec::new();
    let case_id = input
        .case_id
        .parse::<CaseId>()
        .map_err(|err| violations.push(FieldViolation::new("contact_attempt.case_id", err.to_string())))
        .ok();
    if !input.referral_id.is_empty()
        && let Err(err) = input.referral_id.parse::<ReferralId>()
    {
        violations.push(FieldViolation::new("contact_attempt.referral_id", err.to_string()));
    }
    let now = api.clock.now_micros();
    let attempted_at = if input.attempted_at.is_none() {
        violations.push(FieldViolation::new("contact_attempt.attempted_at", "is required"));
        now
    } else {
        past_instant(input.attempted_at.as_ref(), "contact_attempt.attempted_at", now, &mut violations)
    };
    match ContactChannel::try_from(input.channel) {
        Ok(ContactChannel::Unspecified) | Err(_) => violations.push(FieldViolation::new(
            "contact_attempt.channel",
            format!("{} is not a channel; allowed: CONTACT_CHANNEL_PHONE_CALL … CONTACT_CHANNEL_OTHER", input.channel),
        )),
        Ok(_) => {}
    }
    let outcome = match ContactOutcome::try_from(input.outcome) {
        Ok(ContactOutcome::Unspecified) | Err(_) => {
            violations.push(FieldViolation::new(
                "contact_attempt.outcome",
                format!(
                    "{} is not an outcome; allowed: CONTACT_OUTCOME_REACHED, CONTACT_OUTCOME_NOT_REACHED, \
                     CONTACT_OUTCOME_UNSAFE_TO_CONTACT, CONTACT_OUTCOME_DECLINED",
                    input.outcome
                ),
            ));
            ContactOutcome::Unspecified
        }
        Ok(outcome) => outcome,
    };
    if !input.engagement_approach.is_empty() && !is_code(&input.engagement_approach) {
        violations.push(FieldViolation::new(
            "contact_attempt.engagement_approach",
            "must be a code: lowercase letters, digits and '_', starting with a letter, at most 64",
        ));
    }
    if !input.contact_attempt_id.is_empty() {
        violations.push(FieldViolation::new(
            "contact_attempt.contact_attempt_id",
            "is assigned by the service; leave it empty",
        ));
    }
    // Partners record their own attempts; staff may name the organization that made one.
    let organization_id = match (&principal.partner_id, input.organization_id.as_str()) {
        (Some(own), "") => own.clone(),
        (Some(own), named) if named == own => own.clone(),
        (Some(_), _) => {
            violations.push(FieldViolation::new(
                "contact_attempt.organization_id",
                "a partner records only its own attempts",
            ));
            String::new()
        }
        (None, "") => String::new(),
        (None, named) => {
            if let Err(err) = named.parse::<PartnerId>() {
                violations.push(FieldViolation::new("contact_attempt.organization_id", err.to_string()));
            }
            named.to_owned()
        }
    };
    let (Some(case_id), true) = (case_id, violations.is_empty()) else {
        return Err(ApiError::InvalidArgument(violations));
    };

    let mut tx = api.db.begin().await?;
    let case = case_in_scope(&mut tx, principal, case_id.as_str()).await?;
    engagement::check_contact_attempt(case.stage).map_err(ApiError::FailedPrecondition)?;
    let referral_id = if input.referral_id.is_empty() {
        case.referral_id.clone()
    } else if store::engagement::referral_belongs_to(&mut tx, &case.case_id, &input.referral_id).await? {
        input.referral_id.clone()
    } else {
        return Err(ApiError::InvalidArgument(vec![FieldViolation::new(
            "contact_attempt.referral_id",
            "is not one of the case's referrals",
        )]));
    };
    let record = ContactAttemptRecord {
        contact_attempt_id: format!("ca_{}", uuid::Uuid::now_v7().simple()),
        case_id: case.case_id.clone(),
        referral_id,
        attempted_at,
        channel: input.channel,
        engagement_approach: input.engagement_approach.clone(),
        outcome: outcome as i32,
        attempted_by: principal.subject.clone(),
        organization_id,
        first_contact: engagement::is_first_contact(outcome, attempted_at, case.engagement.first_contact_at),
        recorded_at: now,
        practice: case.practice,
    };
    store::engagement::insert_attempt(&mut tx, &record).await?;
    let event = events::ContactAttemptRecorded {
        contact_attempt_id: record.contact_attempt_id.clone(),
        case_id: record.case_id.clone(),
        referral_id: record.referral_id.clone(),
        attempted_at: Some(timestamp(record.attempted_at)),
        channel: record.channel,
        engagement_approach: record.engagement_approach.clone(),
        outcome: record.outcome,
        organization_id: record.organization_id.clone(),
        first_contact: record.first_contact,
        practice: record.practice,
    };
    outbox::enqueue(
        &mut tx,
        api.db.backend(),
        &Envelope::new(SERVICE, case.case_id.clone(), record.referral_id.clone(), &event),
    )
    .await?;
    tx.commit().await?;
    api.relay.wake();
    tracing::info!(
        case.id = %case.case_id,
        contact_attempt.id = %record.contact_attempt_id,
        outcome = outcome.as_str_name(),
        first_contact = record.first_contact,
        "contact attempt recorded"
    );
    Ok(record.contact_attempt_id)
}

pub(super) async fn list_contact_attempts(
    api: &CasesApi,
    principal: &Principal,
    req: &pb::ListContactAttemptsRequest,
) -> Result<pb::ListContactAttemptsResponse, ApiError> {
    let mut violations = Vec::new();
    let case_id = req
        .case_id
        .parse::<CaseId>()
        .map_err(|err| violations.push(FieldViolation::new("case_id", err.to_string())))
        .ok();
    let limit = page_size(req.page_size, &mut violations);
    let after = page_token_text(&req.page_token, "ca_", &mut violations);
    let (Some(case_id), true) = (case_id, violations.is_empty()) else {
        return Err(ApiError::InvalidArgument(violations));
    };
    let mut tx = api.db.begin().await?;
    let case = case_in_scope(&mut tx, principal, case_id.as_str()).await?;
    tx.rollback().await?;
    // A partner reads only its own attempts on a case it serves.
    let organization = principal.partner_id.as_deref();
    let mut rows =
        store::engagement::list_attempts(&api.db, &case.case_id, organization, after.as_deref(), limit + 1).await?;
    let next_page_token = super::next_page(&mut rows, limit, |row| row.contact_attempt_id.clone());
    Ok(pb::ListContactAttemptsResponse { contact_attempts: rows.iter().map(to_proto).collect(), next_page_token })
}

fn to_proto(row: &ContactAttemptRecord) -> pb::ContactAttempt {
    pb::ContactAttempt {
        contact_attempt_id: row.contact_attempt_id.clone(),
        case_id: row.case_id.clone(),
        referral_id: row.referral_id.clone(),
        attempted_at: Some(timestamp(row.attempted_at)),
        channel: row.channel,
        engagement_approach: row.engagement_approach.clone(),
        outcome: row.outcome,
        attempted_by: row.attempted_by.clone(),
        organization_id: row.organization_id.clone(),
    }
}

/// An instant from the request, or `now`; never in the future (it records what happened).
fn past_instant(
    value: Option<&prost_types::Timestamp>,
    field: &str,
    now: i64,
    violations: &mut Vec<FieldViolation>,
) -> i64 {
    let Some(value) = value else { return now };
    match wf_proto::time::datetime(value).map(|at| at.timestamp_micros()) {
        Some(at) if at <= now => at,
        Some(_) => {
            violations.push(FieldViolation::new(field, "is in the future; record it once it has happened"));
            now
        }
        None => {
            violations.push(FieldViolation::new(field, "is not a valid timestamp"));
            now
        }
    }
}
