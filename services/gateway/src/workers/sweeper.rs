//! Deletes sessions past their idle or absolute limit (a request on one would delete it too; this
//! keeps the table small and leaves no ended session behind), and sign-in counters that no longer
//! throttle or lock anything, and OpenID Connect sign-ins that can no longer come back.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use wf_db::{Db, DbError};
use wf_types::SharedClock;

use crate::app::Sessions;
use crate::domain::throttle::{PER_ACCOUNT, PER_ADDRESS};
use crate::store;

pub const INTERVAL: Duration = Duration::from_secs(60);

/// One pass: (sessions ended, counters and pending sign-ins forgotten).
pub async fn sweep(sessions: &Sessions, db: &Db, clock: &SharedClock) -> Result<(u64, u64), DbError> {
    let ended = sessions.sweep().await?;
    let now = clock.now_micros();
    let window = PER_ACCOUNT.window_secs.max(PER_ADDRESS.window_secs) * 1_000_000;
    let mut conn = db.pool().acquire().await?;
    let mut forgotten = 0;
    for (scope, key, attempts) in store::attempts::started_before(&mut conn, now - window).await? {
        if scope.limits().forgettable(&attempts, now) {
            store::attempts::delete(&mut conn, scope, &key).await?;
            forgotten += 1;
        }
    }
    let stale_sign_ins = now - crate::domain::oidc::PENDING_SECONDS * 1_000_000;
    forgotten += store::oidc::sweep(&mut conn, stale_sign_ins).await?;
    Ok((ended, forgotten))
}

/// Runs until `shutdown`, a pass every `interval` (sooner when a test moves the clock).
pub async fn run(sessions: Sessions, db: Db, clock: SharedClock, interval: Duration, shutdown: CancellationToken) {
    while wf_server::pause(interval, &clock, &shutdown).await {
        match sweep(&sessions, &db, &clock).await {
            Ok((0, 0)) => {}
            Ok((sessions_ended, counters_forgotten)) => {
                tracing::debug!(sessions_ended, counters_forgotten, "gateway sweep");
            }
            Err(err) => tracing::warn!(error = %err, "gateway sweep failed; next pass retries"),
        }
    }
}
