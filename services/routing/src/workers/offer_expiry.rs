//! The offer-expiry worker: expires offers past their deadline (re-routing each referral) and
//! refreshes the directory and the policy in force, every [`INTERVAL`] until shutdown.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::app::directory::DirectoryWriter;
use crate::app::policy::ActivePolicy;
use crate::app::route::Router;

/// How often the worker looks for offers past their deadline.
pub const INTERVAL: Duration = Duration::from_secs(15);

/// Runs until `shutdown`, starting with a pass at once so offers whose deadline passed while
/// routing was stopped are handled first. A pass that fails is retried at the next interval.
pub async fn run(router: Router, writer: DirectoryWriter, policy: ActivePolicy, shutdown: CancellationToken) {
    loop {
        match router.expire_due().await {
            Ok(0) => {}
            Ok(expired) => tracing::info!(expired, "expired offers re-routed"),
            Err(err) => tracing::warn!(error = %err, "offer expiry pass failed; retrying next interval"),
        }
        // Changes made through another instance reach this one.
        let refreshed = match writer.refresh().await {
            Ok(()) => policy.refresh(router.db()).await,
            Err(err) => Err(err),
        };
        if let Err(err) = refreshed {
            tracing::warn!(error = %err, "directory and policy refresh failed; retrying next interval");
        }
        if !wf_server::pause(INTERVAL, router.clock(), &shutdown).await {
            return;
        }
    }
}
