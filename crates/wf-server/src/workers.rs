//! The background half of a service: its outbox relay and its consumers, run
//! together and stopped together.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use wf_events::{EventBus, EventHandler, Relay, Subscription};

/// A relay plus the consumers of one service.
pub struct Workers {
    relay: Relay,
    consumers: Vec<(Subscription, Arc<dyn EventHandler>)>,
    bus: Arc<dyn EventBus>,
}

impl Workers {
    pub fn new(relay: Relay, bus: Arc<dyn EventBus>) -> Self {
        Self { relay, consumers: Vec::new(), bus }
    }

    pub fn consume(mut self, subscription: Subscription, handler: Arc<dyn EventHandler>) -> Self {
        self.consumers.push((subscription, handler));
        self
    }

    /// Runs until `shutdown`: consumers finish in-flight messages, the relay its batch.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut tasks = tokio::task::JoinSet::new();
        for (subscription, handler) in self.consumers {
            let bus = self.bus.clone();
            let stop = shutdown.clone();
            tasks.spawn(async move {
                let service = subscription.service.clone();
                bus.consume(subscription, handler, stop)
                    .await
                    .map_err(|err| anyhow::anyhow!("consumer {service}: {err}"))
            });
        }
        let relay_stop = shutdown.clone();
        tasks.spawn(async move {
            self.relay.run(relay_stop).await;
            Ok(())
        });
        let mut first_error = None;
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(Ok(())) => {}
                Ok(Err(err)) => {
                    tracing::error!(error = %err, "worker failed");
                    first_error.get_or_insert(err);
                }
                Err(join_err) => {
                    first_error.get_or_insert(anyhow::anyhow!("worker panicked: {join_err}"));
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}
