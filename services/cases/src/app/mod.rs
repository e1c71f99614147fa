//! The cases use cases. Each owns its transaction — load, decide (`domain`), store, announce
//! through the outbox — and is called by the API handlers (`api`), the event consumers
//! (`events`) and the follow-up worker (`workers`). Pieces more than one of them needs (an
//! assignment, a reopening, a recidivism event) live here once.

pub mod access;
pub mod assignment;
pub mod engagement;
pub mod follow_ups;
pub mod lifecycle;
pub mod merge;
pub mod notes;
pub mod offers;
pub mod recidivism;
pub mod referrals;
pub mod returning;
pub mod roster;
pub mod sealing;
pub mod services;

use std::sync::Arc;

use wf_auth::{Principal, Role};
use wf_db::{Db, DbError, Tx};
use wf_events::{Envelope, RelayHandle, outbox};
use wf_server::{ApiError, Refusals};
use wf_types::{FieldViolation, SharedClock};

use crate::store::{self, CaseRecord};
use sealing::NoteKeys;

/// What every use case works with: the database, the relay to wake after a commit, the
/// service's clock, and the key ring note text is sealed with. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub(crate) db: Db,
    pub(crate) relay: RelayHandle,
    pub(crate) clock: SharedClock,
    /// `None` until [`App::with_note_keys`]: then notes can be neither written nor read (fail
    /// closed; never a note in the clear).
    pub(crate) note_keys: Option<Arc<NoteKeys>>,
    /// Where a NOT_FOUND for a case outside a partner's scope is put on the record
    /// ([`App::with_refusals`]); `None`: only logged.
    pub(crate) refusals: Option<Refusals>,
}

impl App {
    pub fn new(db: Db, relay: RelayHandle, clock: SharedClock) -> Self {
        Self { db, relay, clock, note_keys: None, refusals: None }
    }

    /// The key ring case-note text is sealed with: `sealing::note_keys(&config)` (the field
    /// key ring intake's vault uses, from `field_key_file` or the data folder's development ring).
    pub fn with_note_keys(mut self, keys: Arc<NoteKeys>) -> Self {
        self.note_keys = Some(keys);
        self
    }

    /// The service's refusal recorder (`ctx.refusals(SERVICE)`, the one `Component::refusals`
    /// returns): a partner answered NOT_FOUND for a case that exists is an `access.refused` entry.
    pub fn with_refusals(mut self, refusals: Refusals) -> Self {
        self.refusals = Some(refusals);
        self
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Now on the service's clock, in microseconds.
    pub fn now(&self) -> i64 {
        self.clock.now_micros()
    }

    /// Queues `events` in `tx`'s outbox, commits, and wakes the relay to publish them.
    pub(crate) async fn commit(&self, mut tx: Tx, events: &[Envelope]) -> Result<(), DbError> {
        for event in events {
            outbox::enqueue(&mut tx, self.db.backend(), event).await?;
        }
        tx.commit().await?;
        self.relay.wake();
        Ok(())
    }
}

/// Why a use case refused, worded for the caller.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// The record does not exist, or is outside the caller's scope (its existence does not leak).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A request field that breaks a rule only the stored records show.
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    /// Request fields that break the rules, each named (checked against the stored records).
    #[error("invalid request")]
    Violations(Vec<FieldViolation>),
    /// The record is not in a state that allows the step.
    #[error("{0}")]
    Precondition(String),
    /// The case changed after the `updated_at` the caller read (`domain::concurrency`).
    #[error("{0}")]
    Changed(String),
    /// The caller's role may not do this to this record.
    #[error("{0}")]
    Forbidden(String),
    /// The service cannot do it (e.g. note keys missing or a sealed value that does not open);
    /// the caller is told only "internal error".
    #[error("internal error")]
    Internal(anyhow::Error),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<CaseError> for ApiError {
    fn from(err: CaseError) -> Self {
        match err {
            CaseError::NotFound(what) => ApiError::NotFound(what.into()),
            CaseError::Invalid { field, message } => ApiError::invalid(field, message),
            CaseError::Violations(violations) => ApiError::InvalidArgument(violations),
            CaseError::Precondition(message) => ApiError::FailedPrecondition(message),
            CaseError::Changed(message) => ApiError::Aborted(message),
            CaseError::Forbidden(message) => ApiError::PermissionDenied(message),
            CaseError::Internal(err) => ApiError::Internal(err),
            CaseError::Db(err) => err.into(),
        }
    }
}

impl From<wf_db::sqlx::Error> for CaseError {
    fn from(err: wf_db::sqlx::Error) -> Self {
        CaseError::Db(err.into())
    }
}

/// The case, read in `tx`; NOT_FOUND when there is none.
pub(crate) async fn case_in(tx: &mut Tx, case_id: &str) -> Result<CaseRecord, CaseError> {
    store::get_case_in(tx, case_id).await?.ok_or(CaseError::NotFound("case"))
}

/// The case a change request names, locked for the rest of `tx` (`store::lock_case_in`), as the
/// caller read it: NOT_FOUND when there is none, ABORTED when it changed after `expected_updated_at`
/// (microseconds; `None`: the caller acts on the case as it is).
pub(crate) async fn case_to_change(
    app: &App,
    tx: &mut Tx,
    case_id: &str,
    expected_updated_at: Option<i64>,
) -> Result<CaseRecord, CaseError> {
    let case = store::lock_case_in(tx, app.db.backend(), case_id).await?.ok_or(CaseError::NotFound("case"))?;
    crate::domain::concurrency::check_unchanged(expected_updated_at, case.updated_at, &case.updated_by)
        .map_err(|changed| CaseError::Changed(changed.to_string()))?;
    Ok(case)
}

/// The case, if the caller may act on it or read it: staff on any case, a partner only while the
/// case is open and it holds an accepted offer for a referral of the case's current episode
/// (`app::offers`, `store::offers::holds_accepted`). Being routed to, an offer still pending,
/// declined, expired or withdrawn, or accepted for an earlier episode, gives a partner nothing,
/// and nor does any offer once the case is closed. A case outside a
/// partner's scope is NOT_FOUND exactly as an unknown id is, never PERMISSION_DENIED (no
/// existence leak).
/// `operation` is the RPC's method path, for the refusal's record.
pub(crate) async fn case_in_scope(
    app: &App,
    tx: &mut Tx,
    principal: &Principal,
    case_id: &str,
    operation: &'static str,
) -> Result<CaseRecord, CaseError> {
    let case = case_in(tx, case_id).await?;
    if principal.role == Role::Partner {
        let serves = match principal.partner_id.as_deref() {
            Some(partner_id) => store::offers::holds_accepted(tx, &case.case_id, partner_id).await?,
            None => false,
        };
        if !serves {
            // The case exists but this partner holds no accepted offer for it: on the record.
            match &app.refusals {
                Some(refusals) => refusals.out_of_scope(principal, operation, &case.case_id),
                // only an app built without `with_refusals` (tests calling the use cases directly)
                None => {
                    tracing::warn!(operation, case.id = %case.case_id, "case outside the partner's scope (refusal recorder not wired)")
                }
            }
            return Err(CaseError::NotFound("case"));
        }
    }
    Ok(case)
}

/// [`case_in_scope`] for a read: its own transaction, nothing written.
pub(crate) async fn readable_case(
    app: &App,
    principal: &Principal,
    case_id: &str,
    operation: &'static str,
) -> Result<CaseRecord, CaseError> {
    let mut tx = app.db.begin().await?;
    let case = case_in_scope(app, &mut tx, principal, case_id, operation).await;
    tx.rollback().await?;
    case
}

/// The referral a record on `case` names (an intervention, a contact attempt): the one the caller
/// gave when it is one of the case's referrals — for a partner one of the current episode's it
/// accepted an offer for — (else INVALID_ARGUMENT naming `field`), or, when
/// none is given, the case's current referral — for a partner the latest referral of the case's
/// current episode it accepted an offer for, for staff the latest referral of the current episode.
pub(crate) async fn referral_for_record(
    tx: &mut Tx,
    principal: &Principal,
    case: &CaseRecord,
    given: Option<&wf_types::ReferralId>,
    field: &'static str,
) -> Result<String, CaseError> {
    if let Some(given) = given {
        if principal.role == Role::Partner {
            // Only a referral it serves: the same answer whether the referral is another
            // partner's, an earlier episode's, another case's or unknown.
            let accepted = match principal.partner_id.as_deref() {
                Some(partner_id) => {
                    store::offers::accepted_referral_of(tx, &case.case_id, partner_id, given.as_str()).await?
                }
                None => false,
            };
            if accepted {
                return Ok(given.to_string());
            }
            return Err(CaseError::Invalid {
                field,
                message: "is not a referral of the case's current episode your organization accepted an offer for \
                          (Case.referral_ids)"
                    .into(),
            });
        }
        if store::continuity::is_referral_of(tx, &case.case_id, given.as_str()).await? {
            return Ok(given.to_string());
        }
        return Err(CaseError::Invalid {
            field,
            message: "is not one of the case's referrals (Case.referral_ids)".into(),
        });
    }
    if principal.role == Role::Partner
        && let Some(partner_id) = principal.partner_id.as_deref()
        && let Some(accepted) = store::offers::latest_accepted_referral(tx, &case.case_id, partner_id).await?
    {
        return Ok(accepted);
    }
    let current = store::continuity::current_episode_referrals(tx, &case.case_id).await?;
    Ok(current.last().cloned().unwrap_or_else(|| case.referral_id.clone()))
}

/// The method paths of the RPCs that reach [`case_in_scope`] (a refusal names its operation).
pub(crate) mod methods {
    pub const RECORD_INTERVENTION: &str = "/wayfinder.cases.v1.CaseService/RecordIntervention";
    pub const RECORD_CONTACT_ATTEMPT: &str = "/wayfinder.cases.v1.CaseService/RecordContactAttempt";
    pub const LIST_CONTACT_ATTEMPTS: &str = "/wayfinder.cases.v1.CaseService/ListContactAttempts";
    pub const GET_CASE: &str = "/wayfinder.cases.v1.CaseService/GetCase";
    pub const LIST_GOALS: &str = "/wayfinder.cases.v1.CaseService/ListGoals";
    pub const LIST_INTERVENTIONS: &str = "/wayfinder.cases.v1.CaseService/ListInterventions";
    pub const WITHDRAW_INTERVENTION: &str = "/wayfinder.cases.v1.CaseService/WithdrawIntervention";
    pub const LIST_STAGE_CHANGES: &str = "/wayfinder.cases.v1.CaseService/ListStageChanges";
}

/// The message of a concurrent stage change that won.
const CHANGED_CONCURRENTLY: &str = "the case changed stage while this request was handled; read it again and retry";

#[cfg(test)]
mod tests {
    use super::methods;

    /// A refusal names a method the service really serves (the authorization table has its row).
    #[test]
    fn refusals_name_real_methods() {
        for method in [
            methods::RECORD_INTERVENTION,
            methods::RECORD_CONTACT_ATTEMPT,
            methods::LIST_CONTACT_ATTEMPTS,
            methods::GET_CASE,
            methods::LIST_GOALS,
            methods::LIST_INTERVENTIONS,
            methods::WITHDRAW_INTERVENTION,
            methods::LIST_STAGE_CHANGES,
        ] {
            assert!(wf_auth::rpc::rule(method).is_some(), "{method}");
            assert!(method.starts_with(&format!("/{}/", wf_proto::cases::v1::case_service_server::SERVICE_NAME)));
        }
    }
}
