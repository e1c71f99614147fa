//! Engagement: the youth's readiness (`SetReadiness`) and contact attempts
//! (`RecordContactAttempt`, `ListContactAttempts`). Attempts are codes (channel, approach,
//! outcome) and ids: no notes and no contact details, so their events carry nothing personal.
//! Partners record and read attempts only on cases they serve (hold an accepted offer for); any
//! other case is NOT_FOUND.

use wf_auth::Principal;
use wf_events::Envelope;
use wf_proto::common::v1::{ContactOutcome, Readiness};
use wf_proto::events::v1 as events;
use wf_types::{CaseId, ContactAttemptId, ReferralId};

use super::access::{self, Reader};
use super::{App, CaseError, case_in_scope, case_to_change, methods, referral_for_record};
use crate::SERVICE;
use crate::domain::engagement::{self, CurrentReadiness, ReadinessChange, ReadinessRefused};
use crate::store::engagement::ContactAttemptRecord;
use crate::store::{self, CaseRecord, CaseRef, EngagementFacts};
use crate::timestamp;

/// A readiness as `SetReadiness` asks for it.
#[derive(Debug, Clone, Copy)]
pub struct ReadinessRequest<'a> {
    pub case_id: &'a CaseId,
    /// The case's `updated_at` the caller read (`None`: the case as it is).
    pub expected_updated_at: Option<i64>,
    pub actor: &'a str,
    pub readiness: Readiness,
    pub effective_at: i64,
}

/// `SetReadiness`: the youth's readiness from `effective_at` (unchanged when it already is), recorded
/// at `now` (the caller's one reading of the service clock, which `effective_at` defaults to).
pub async fn set_readiness(app: &App, request: ReadinessRequest<'_>, now: i64) -> Result<CaseRecord, CaseError> {
    let ReadinessRequest { case_id, expected_updated_at, actor, readiness, effective_at } = request;
    let mut tx = app.db.begin().await?;
    let case = case_to_change(app, &mut tx, case_id.as_str(), expected_updated_at).await?;
    let current = Readiness::try_from(case.engagement.readiness)
        .ok()
        .filter(|r| *r != Readiness::Unspecified)
        .zip(case.engagement.readiness_since)
        .map(|(readiness, since)| CurrentReadiness { readiness, since });
    match engagement::check_readiness(case.stage, current, readiness, effective_at) {
        Err(refused @ ReadinessRefused::CaseClosed { .. }) => {
            return Err(CaseError::Precondition(refused.to_string()));
        }
        Err(refused @ ReadinessRefused::BeforeCurrent { .. }) => {
            return Err(CaseError::Invalid { field: "effective_at", message: refused.to_string() });
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
    app.commit(tx, &[Envelope::new(SERVICE, case.case_id.clone(), case.referral_id.clone(), &event)]).await?;
    tracing::debug!(case.id = %case.case_id, readiness = code, "readiness recorded");
    Ok(CaseRecord {
        engagement: EngagementFacts {
            readiness: readiness as i32,
            readiness_since: Some(effective_at),
            ..case.engagement.clone()
        },
        updated_at: now,
        updated_by: actor.to_owned(),
        ..case
    })
}

/// One contact attempt as the request gives it (checked for form).
#[derive(Debug, Clone)]
pub struct NewContactAttempt {
    pub case_id: CaseId,
    /// One of the case's referrals; the case's current one when `None` (`app::referral_for_record`).
    pub referral_id: Option<ReferralId>,
    pub attempted_at: i64,
    /// A `ContactChannel` number.
    pub channel: i32,
    pub engagement_approach: String,
    pub outcome: ContactOutcome,
    /// The organization that made the attempt (empty for staff's own).
    pub organization_id: String,
}

/// `RecordContactAttempt`: stores the attempt (a first contact also on the case) and announces it.
pub async fn record_contact_attempt(
    app: &App,
    principal: &Principal,
    input: NewContactAttempt,
) -> Result<String, CaseError> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let case = case_in_scope(app, &mut tx, principal, input.case_id.as_str(), methods::RECORD_CONTACT_ATTEMPT).await?;
    engagement::check_contact_attempt(case.stage).map_err(CaseError::Precondition)?;
    let referral_id =
        referral_for_record(&mut tx, principal, &case, input.referral_id.as_ref(), "contact_attempt.referral_id")
            .await?;
    let record = ContactAttemptRecord {
        contact_attempt_id: ContactAttemptId::generate().to_string(),
        case_id: case.case_id.clone(),
        referral_id,
        attempted_at: input.attempted_at,
        channel: input.channel,
        engagement_approach: input.engagement_approach,
        outcome: input.outcome as i32,
        attempted_by: principal.subject.clone(),
        organization_id: input.organization_id,
        first_contact: engagement::is_first_contact(
            input.outcome,
            input.attempted_at,
            case.engagement.first_contact_at,
        ),
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
    app.commit(tx, &[Envelope::new(SERVICE, case.case_id.clone(), record.referral_id.clone(), &event)]).await?;
    tracing::info!(
        case.id = %case.case_id,
        contact_attempt.id = %record.contact_attempt_id,
        outcome = input.outcome.as_str_name(),
        first_contact = record.first_contact,
        "contact attempt recorded"
    );
    Ok(record.contact_attempt_id)
}

/// Up to `limit` attempts of a case the caller may read, after `after`; a partner reads only
/// its own attempts on a case it serves (holds an accepted offer for). The read is recorded.
pub async fn list_contact_attempts(
    app: &App,
    reader: Reader<'_>,
    case_id: &CaseId,
    after: Option<&ContactAttemptId>,
    limit: usize,
) -> Result<Vec<ContactAttemptRecord>, CaseError> {
    let principal = reader.principal;
    let mut tx = app.db.begin().await?;
    let case = case_in_scope(app, &mut tx, principal, case_id.as_str(), methods::LIST_CONTACT_ATTEMPTS).await?;
    tx.rollback().await?;
    let organization = principal.partner_id.as_deref();
    let after = after.map(ContactAttemptId::as_str);
    let attempts = store::engagement::list_attempts(&app.db, &case.case_id, organization, after, limit).await?;
    access::read_case(app, reader, &CaseRef::from(&case), access::CONTACT_ATTEMPTS).await?;
    Ok(attempts)
}
