//! `SetReadiness`, `RecordContactAttempt` and `ListContactAttempts` (see `app::engagement`).

use wf_auth::Principal;
use wf_proto::cases::v1 as pb;
use wf_proto::common::v1::{ContactChannel, ContactOutcome, Readiness};
use wf_server::pagination::{next_page, page_token};
use wf_server::{ApiError, FieldViolation};
use wf_types::{CaseId, ContactAttemptId, PartnerId, Purpose, ReferralId};

use super::{CasesApi, PAGES, expected_updated_at, is_partner, optional, past_instant, present, required};
use crate::app::access::Reader;
use crate::app::engagement::{self, NewContactAttempt, ReadinessRequest};
use crate::domain::services::is_code;
use crate::store::CaseRecord;
use crate::store::engagement::ContactAttemptRecord;
use crate::timestamp;

const FUTURE: &str = "is in the future; record it once it has happened";

pub(super) async fn set_readiness(
    api: &CasesApi,
    actor: &str,
    req: &pb::SetReadinessRequest,
) -> Result<CaseRecord, ApiError> {
    let mut violations = Vec::new();
    let case_id = required::<CaseId>("case_id", &req.case_id, &mut violations);
    let readiness = match Readiness::try_from(req.readiness) {
        Ok(Readiness::Unspecified) | Err(_) => {
            violations.push(FieldViolation::new(
                "readiness",
                "is not a readiness state; allowed: READINESS_NOT_YET_READY, READINESS_READY_TO_ENGAGE, \
                     READINESS_ENROLLED, READINESS_DECLINED_SERVICES",
            ));
            None
        }
        Ok(readiness) => Some(readiness),
    };
    let now = api.app.now();
    let effective_at = past_instant(req.effective_at.as_ref(), "effective_at", now, FUTURE, &mut violations);
    let expected_updated_at = expected_updated_at(req.expected_updated_at.as_ref(), &mut violations);
    let (Some(case_id), Some(readiness), true) = (case_id, readiness, violations.is_empty()) else {
        return Err(ApiError::InvalidArgument(violations));
    };
    let request = ReadinessRequest { case_id: &case_id, expected_updated_at, actor, readiness, effective_at };
    Ok(engagement::set_readiness(&api.app, request, now).await?)
}

pub(super) async fn record_contact_attempt(
    api: &CasesApi,
    principal: &Principal,
    req: &pb::RecordContactAttemptRequest,
) -> Result<String, ApiError> {
    let input = present(req.contact_attempt.as_ref(), "contact_attempt")?;
    let mut violations = Vec::new();
    let case_id = required::<CaseId>("contact_attempt.case_id", &input.case_id, &mut violations);
    let referral_id = optional::<ReferralId>("contact_attempt.referral_id", &input.referral_id, &mut violations);
    let now = api.app.now();
    let attempted_at = if input.attempted_at.is_none() {
        violations.push(FieldViolation::new("contact_attempt.attempted_at", "is required"));
        now
    } else {
        past_instant(input.attempted_at.as_ref(), "contact_attempt.attempted_at", now, FUTURE, &mut violations)
    };
    match ContactChannel::try_from(input.channel) {
        Ok(ContactChannel::Unspecified) | Err(_) => violations.push(FieldViolation::new(
            "contact_attempt.channel",
            "is not a channel; allowed: CONTACT_CHANNEL_PHONE_CALL … CONTACT_CHANNEL_OTHER",
        )),
        Ok(_) => {}
    }
    let outcome = match ContactOutcome::try_from(input.outcome) {
        Ok(ContactOutcome::Unspecified) | Err(_) => {
            violations.push(FieldViolation::new(
                "contact_attempt.outcome",
                "is not an outcome; allowed: CONTACT_OUTCOME_REACHED, CONTACT_OUTCOME_NOT_REACHED, \
                     CONTACT_OUTCOME_UNSAFE_TO_CONTACT, CONTACT_OUTCOME_DECLINED",
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
    let attempt = NewContactAttempt {
        case_id,
        referral_id,
        attempted_at,
        channel: input.channel,
        engagement_approach: input.engagement_approach.clone(),
        outcome,
        organization_id,
    };
    Ok(engagement::record_contact_attempt(&api.app, principal, attempt).await?)
}

pub(super) async fn list_contact_attempts(
    api: &CasesApi,
    principal: &Principal,
    req: &pb::ListContactAttemptsRequest,
) -> Result<pb::ListContactAttemptsResponse, ApiError> {
    let mut violations = Vec::new();
    let case_id = required::<CaseId>("case_id", &req.case_id, &mut violations);
    let purpose = Purpose::optional(&req.purpose, "purpose", &mut violations);
    let limit = PAGES.size(req.page_size, &mut violations);
    let after = page_token::<ContactAttemptId>(&req.page_token, &mut violations);
    let (Some(case_id), true) = (case_id, violations.is_empty()) else {
        return Err(ApiError::InvalidArgument(violations));
    };
    let reader = Reader::new(principal, purpose);
    let mut rows = engagement::list_contact_attempts(&api.app, reader, &case_id, after.as_ref(), limit + 1).await?;
    let next_page_token = next_page(&mut rows, limit, |row| row.contact_attempt_id.clone());
    let mut contact_attempts: Vec<pb::ContactAttempt> = rows.iter().map(to_proto).collect();
    if is_partner(principal) {
        // Staff may record an attempt under the partner's organization: who made it is theirs.
        contact_attempts.iter_mut().for_each(|attempt| attempt.attempted_by.clear());
    }
    Ok(pb::ListContactAttemptsResponse { contact_attempts, next_page_token })
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
