//! The follow-up worker: every interval, announces `follow_up.due` when a follow-up's due date
//! arrives and `follow_up.overdue` when its window closes unrecorded, by the service's clock
//! (the sweep itself is `app::follow_ups::sweep`).

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::app::follow_ups::{SweepReport, sweep};

/// How often the worker sweeps in service. Follow-ups fall due by the day: a minute's delay is
/// of no consequence.
pub const INTERVAL: Duration = Duration::from_secs(60);

/// Sweeps at once and then every `interval` until `shutdown`; a sweep under way when shutdown
/// comes is finished first. A failed sweep is logged and retried next tick.
pub async fn run(app: App, interval: Duration, shutdown: CancellationToken) {
    loop {
        match sweep(&app).await {
            Ok(report) if report != SweepReport::default() => {
                tracing::debug!(due = report.due, overdue = report.overdue, "follow-ups announced");
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "follow-up sweep failed; retrying next tick"),
        }
        if !wf_server::pause(interval, &app.clock, &shutdown).await {
            return;
        }
    }
}
