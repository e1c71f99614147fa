//! The time-limit worker: escalates each referral whose time limit passed by the service clock
//! without its first contact (emergent) or an accepted offer (urgent, routine), every
//! [`INTERVAL`] until shutdown (the work itself is `Router::escalate_missed_limits`).

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::app::route::Router;

/// How often the worker looks for limits that fell due.
pub const INTERVAL: Duration = Duration::from_secs(15);

/// Runs until `shutdown`, starting with a pass at once so limits that passed while routing was
/// stopped are escalated first. A pass under way when shutdown comes is finished; a pass that
/// fails is retried at the next interval.
pub async fn run(router: Router, shutdown: CancellationToken) {
    loop {
        match router.escalate_missed_limits().await {
            Ok(0) => {}
            Ok(escalated) => tracing::info!(escalated, "missed time limits escalated"),
            Err(err) => tracing::warn!(error = %err, "time limit pass failed; retrying next interval"),
        }
        if !wf_server::pause(INTERVAL, router.clock(), &shutdown).await {
            return;
        }
    }
}
