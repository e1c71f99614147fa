//! The cases use cases. Each owns its transaction — load, decide (`domain`), store, announce
//! through the outbox — and is called by the API handlers (`api`), the event consumers
//! (`events`) and the follow-up worker (`workers`). Pieces more than one of them needs (an
//! assignment, a reopening, a recidivism event) live here once.

pub mod assignment;
pub mod engagement;
pub mod follow_ups;
pub mod lifecycle;
pub mod notes;
pub mod recidivism;
pub mod referrals;
pub mod returning;
pub mod roster;
pub mod services;

use wf_auth::{Principal, Role};
use wf_db::{Db, DbError, Tx};
use wf_events::{Envelope, RelayHandle, outbox};
use wf_server::ApiError;
use wf_types::{FieldViolation, SharedClock};

use crate::store::{self, CaseRecord};

/// What every use case works with: the database, the relay to wake after a commit, and the
/// service's clock. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub(crate) db: Db,
    pub(crate) relay: RelayHandle,
    pub(crate) clock: SharedClock,
}

impl App {
    pub fn new(db: Db, relay: RelayHandle, clock: SharedClock) -> Self {
        Self { db, relay, clock }
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
    /// The caller's role may not do this to this record.
    #[error("{0}")]
    Forbidden(String),
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
            CaseError::Forbidden(message) => ApiError::PermissionDenied(message),
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

/// The case, if the caller may act on it: staff on any case, a partner only on a case it serves.
/// A case outside a partner's scope is NOT_FOUND, never PERMISSION_DENIED (no existence leak).
pub(crate) async fn case_in_scope(tx: &mut Tx, principal: &Principal, case_id: &str) -> Result<CaseRecord, CaseError> {
    let case = case_in(tx, case_id).await?;
    if principal.role == Role::Partner {
        let serves = store::services::partner_of(tx, case_id).await?;
        if serves.is_none() || serves != principal.partner_id {
            return Err(CaseError::NotFound("case"));
        }
    }
    Ok(case)
}

/// The message of a concurrent stage change that won.
const CHANGED_CONCURRENTLY: &str = "the case changed stage while this request was handled; read it again and retry";
