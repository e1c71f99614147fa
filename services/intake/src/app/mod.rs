//! Intake's use cases. Each owns its transaction — load, decide (`domain`), store, announce through
//! the outbox — and is called by the gRPC handlers (`api`), the hotline webhook (`api::webhook`) and
//! the workers (`workers`). `submit` is the one submission path both doors share; `vault` seals and
//! opens personal details; `matching` finds returning youth; `mandated` the overdue check.

pub mod consent;
pub mod lifecycle;
pub mod mandated;
pub mod matches;
pub mod matching;
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
use wf_types::SharedClock;

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
}

impl App {
    pub fn new(db: Db, keys: Arc<LiveKeys>, relay: RelayHandle, clock: SharedClock) -> Self {
        Self { db, keys, relay, clock }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }
}

/// Partners see only referrals they submitted; everything else is "not found".
fn visible_to(principal: &Principal, stored: &store::StoredReferral) -> bool {
    visible_to_partner(principal, stored.submitted_by_partner.as_deref())
}

/// [`visible_to`] from the submitting partner alone.
fn visible_to_partner(principal: &Principal, submitted_by_partner: Option<&str>) -> bool {
    match principal.role {
        Role::Partner => principal.partner_id.is_some() && submitted_by_partner == principal.partner_id.as_deref(),
        _ => true,
    }
}
