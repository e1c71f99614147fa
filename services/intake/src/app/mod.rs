//! Intake's use cases. Each owns its transaction — load, decide (`domain`), store, announce through
//! the outbox — and is called by the gRPC handlers (`api`), the hotline webhook (`api::webhook`) and
//! the workers (`workers`). `submit` is the one submission path both doors share; `vault` seals and
//! opens personal details; `matching` finds returning youth; `mandated` the overdue check;
//! `progress` follows each referral through the events of routing and cases.

pub mod consent;
pub mod lifecycle;
pub mod mandated;
pub mod matches;
pub mod matching;
pub mod progress;
pub mod referrals;
pub mod screenings;
pub mod submit;
pub mod update;
pub mod vault;

use std::sync::Arc;

use wf_auth::{Principal, Role};
use wf_db::Db;
use wf_events::RelayHandle;
use wf_server::pagination::PageLimits;
use wf_server::{ApiError, Refusals};
use wf_types::SharedClock;

use crate::domain::Origin;
use crate::store;
use vault::LiveKeys;

/// Every list of intake: 50 by default, at most 500 (a larger size is refused, not capped).
const PAGE_LIMITS: PageLimits = PageLimits::new(50, 500);

/// What every use case works with: the database, the field keys, the relay to wake after a commit,
/// and the service's clock (the only source of "now"). Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub(crate) db: Db,
    pub(crate) keys: Arc<LiveKeys>,
    pub(crate) relay: RelayHandle,
    pub(crate) clock: SharedClock,
    /// Where out-of-scope NOT_FOUND answers are recorded (`access.refused`), once the service sets it.
    pub(crate) refusals: Option<Refusals>,
}

impl App {
    pub fn new(db: Db, keys: Arc<LiveKeys>, relay: RelayHandle, clock: SharedClock) -> Self {
        Self { db, keys, relay, clock, refusals: None }
    }

    /// The same app recording out-of-scope answers with `refusals` (the recorder the service's
    /// `Component::refusals` returns, so its writer runs).
    pub fn with_refusals(mut self, refusals: Refusals) -> Self {
        self.refusals = Some(refusals);
        self
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }
}

/// The organization a caller acts as, from its credentials alone: a partner's `partner_id`, and a
/// hotline client's when its token carries one. Staff and services have none (they may act on an
/// organization's behalf, and are recorded as themselves).
pub(crate) fn own_organization(principal: &Principal) -> Option<&str> {
    match principal.role {
        Role::Partner | Role::Hotline => principal.partner_id.as_deref().filter(|id| !id.is_empty()),
        _ => None,
    }
}

/// The caller as an [`Origin`]: its subject and its own organization.
pub(crate) fn origin_of(principal: &Principal) -> Origin<'_> {
    Origin { subject: &principal.subject, organization: own_organization(principal) }
}

impl store::StoredReferral {
    /// Who submitted it.
    pub(crate) fn origin(&self) -> Origin<'_> {
        Origin { subject: &self.submitted_by, organization: self.submitted_by_partner.as_deref() }
    }
}

impl store::lifecycle::LockedReferral {
    /// Who submitted it.
    pub(crate) fn origin(&self) -> Origin<'_> {
        Origin { subject: &self.submitted_by, organization: self.submitted_by_partner.as_deref() }
    }
}

/// The record scope of every intake read and step: partners and hotlines only what they submitted
/// (a partner with no organization nothing); staff and services every referral (their role decides
/// what they may do with it). Out of scope answers exactly like an unknown id ([`not_found`]).
pub(crate) fn in_scope(principal: &Principal, submitted: Origin<'_>) -> bool {
    match principal.role {
        Role::Partner => own_organization(principal).is_some() && origin_of(principal).submitted(submitted),
        Role::Hotline => origin_of(principal).submitted(submitted),
        _ => true,
    }
}

/// The longest id a NOT_FOUND answer repeats; anything longer (or not shaped like an id) is left out.
const MAX_ECHOED_ID_LEN: usize = 64;

/// NOT_FOUND for `kind` (e.g. "referral") and the id asked for: one shape whether the record does not
/// exist or lies outside the caller's scope, so the answer never tells them apart. The id is repeated
/// only when it looks like an id (short, letters, digits, `_` and `-`), never a value of any size.
pub(crate) fn not_found(kind: &str, id: &str) -> ApiError {
    let id_like = !id.is_empty()
        && id.len() <= MAX_ECHOED_ID_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if id_like { ApiError::NotFound(format!("{kind} {id}")) } else { ApiError::NotFound(kind.to_owned()) }
}

/// The distinct values of `items`, in first-seen order.
pub(crate) fn distinct<'a>(items: impl Iterator<Item = &'a str>) -> impl Iterator<Item = &'a str> {
    let mut seen = std::collections::HashSet::new();
    items.filter(move |item| seen.insert(*item))
}

/// The gRPC method path of an intake RPC, as refusals name it.
pub(crate) fn method(name: &str) -> String {
    format!("/wayfinder.intake.v1.IntakeService/{name}")
}

impl App {
    /// Records that `principal` was answered NOT_FOUND for `record_id`, which exists but is outside its
    /// scope (an `access.refused` entry, rate-limited per caller). A no-op until the service hands the
    /// app its recorder ([`App::with_refusals`]).
    pub(crate) fn out_of_scope(&self, principal: &Principal, rpc: &str, record_id: &str) {
        match &self.refusals {
            Some(refusals) => refusals.out_of_scope(principal, &method(rpc), record_id),
            // only an app built without `with_refusals` (tests calling the use cases directly)
            None => tracing::debug!(rpc, "out-of-scope read answered not found (no refusal recorder)"),
        }
    }
}
