//! Routing's use cases. Each owns its transaction — load, decide (`domain`), store, announce
//! through the outbox — and is called by the API, the event consumers and the workers.

pub mod access;
pub mod directory;
pub mod escalations;
pub mod live;
pub mod offers;
pub mod policy;
pub mod route;
pub mod simulate;
pub mod time_limits;
pub mod triage;

use wf_db::{Backend, DbError, Tx};
use wf_events::{Envelope, EventPayload};

use crate::SERVICE;

/// Writes `event` to the outbox in `tx`, keyed and correlated by `key` (the referral, service or
/// record it is about), for the relay to publish after the commit.
async fn enqueue<P: EventPayload>(tx: &mut Tx, backend: Backend, key: &str, event: &P) -> Result<(), DbError> {
    wf_events::outbox::enqueue(tx, backend, &Envelope::new(SERVICE, key, key, event)).await
}
