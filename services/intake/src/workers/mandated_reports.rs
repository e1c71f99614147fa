//! The mandated-report worker: every interval, announces `mandated_report.overdue` for each 36-hour
//! deadline passed by the service's clock (the check itself is `app::mandated::check_overdue`).

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use wf_db::Db;
use wf_events::RelayHandle;
use wf_types::SharedClock;

use crate::app::mandated::check_overdue;

/// How often the worker checks in service.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// Checks at once and then every `interval` until `shutdown`, at the instant `clock` reads; a check
/// under way when shutdown comes is finished first. A failed check is logged and retried next tick.
pub async fn run(db: Db, relay: RelayHandle, clock: SharedClock, interval: Duration, shutdown: CancellationToken) {
    loop {
        match check_overdue(&db, clock.now()).await {
            Ok(0) => {}
            Ok(_) => relay.wake(),
            Err(err) => tracing::warn!(error = %err, "mandated report check failed; will retry"),
        }
        if !wf_server::pause(interval, &clock, &shutdown).await {
            return;
        }
    }
}
