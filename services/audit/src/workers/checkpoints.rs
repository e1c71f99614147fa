//! The checkpoint worker: asks the [`Checkpointer`] for every checkpoint that is due, at most a
//! second apart (so the entry-count trigger is prompt), until shutdown. A pass that has begun is
//! finished before the worker returns, so a stopped service never leaves a checkpoint stored but
//! not yet copied to the checkpoint file.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::app::checkpoints::Checkpointer;

/// Runs until `shutdown`. A pass that fails is logged and tried again at the next pause.
pub async fn run(checkpointer: Checkpointer, shutdown: CancellationToken) {
    let pause = checkpointer.policy().every.min(Duration::from_secs(1)).max(Duration::from_millis(50));
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
        }
        if let Err(err) = checkpointer.tick().await {
            tracing::error!(error = %format!("{err:#}"), "audit checkpoint failed");
        }
    }
}
