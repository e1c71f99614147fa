//! The returning-youth worker: every interval, stores keyed hashes for the referrals not yet
//! processed and records their possible matches (the work itself is `app::matching::Matcher`).

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::app::matching::Matcher;

/// How often the worker looks for new referrals in service.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// Matches at once and then every `interval` until `shutdown`; a batch under way when shutdown
/// comes is finished first. A failed batch is logged and retried next tick.
pub async fn run(matcher: Matcher, interval: Duration, shutdown: CancellationToken) {
    loop {
        if let Err(err) = matcher.process_pending().await {
            tracing::warn!(error = %err, "returning-youth matching failed; will retry");
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}
