//! The background half of a service: its outbox relay and its consumers, run
//! together and stopped together; and [`pause`], the wait of every timer worker.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use wf_events::{EventBus, EventHandler, Relay, Subscription};
use wf_types::SharedClock;

/// How often a worker on a manual clock looks whether the clock was moved.
const MANUAL_CLOCK_POLL: Duration = Duration::from_millis(25);

/// A timer worker's wait between passes: `interval` of real time, or less when `clock` is a manual
/// (test) clock that is moved meanwhile, so a test moving time sees deadlines fire at once. `false` when
/// `shutdown` came first (the worker stops).
pub async fn pause(interval: Duration, clock: &SharedClock, shutdown: &CancellationToken) -> bool {
    let until = tokio::time::Instant::now() + interval;
    let seen = clock.now_micros();
    loop {
        let step = if clock.is_manual() { MANUAL_CLOCK_POLL.min(interval) } else { interval };
        let wake = (tokio::time::Instant::now() + step).min(until);
        tokio::select! {
            () = shutdown.cancelled() => return false,
            () = tokio::time::sleep_until(wake) => {}
        }
        if tokio::time::Instant::now() >= until || clock.now_micros() != seen {
            return true;
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use wf_types::{SystemClock, TestClock};

    #[tokio::test(start_paused = true)]
    async fn a_worker_on_the_wall_clock_waits_its_interval_and_stops_at_shutdown() {
        let clock = SystemClock::shared();
        let stop = CancellationToken::new();
        let started = tokio::time::Instant::now();
        assert!(pause(Duration::from_secs(15), &clock, &stop).await);
        assert_eq!(started.elapsed(), Duration::from_secs(15));
        stop.cancel();
        assert!(!pause(Duration::from_secs(15), &clock, &stop).await);
    }

    #[tokio::test(start_paused = true)]
    async fn a_worker_on_a_test_clock_wakes_when_the_clock_is_moved() {
        let clock = TestClock::starting_now();
        let shared = clock.shared();
        let stop = CancellationToken::new();
        let started = tokio::time::Instant::now();
        let mover = clock.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            mover.advance(chrono::Duration::minutes(91));
        });
        assert!(pause(Duration::from_secs(60), &shared, &stop).await);
        assert!(started.elapsed() < Duration::from_secs(1), "woke after {:?}", started.elapsed());
        // unmoved, it waits the whole interval
        let started = tokio::time::Instant::now();
        assert!(pause(Duration::from_secs(60), &shared, &stop).await);
        assert_eq!(started.elapsed(), Duration::from_secs(60));
    }
}
