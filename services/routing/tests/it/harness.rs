//! A routing service built over a test database of its own (wf-testkit), an in-process bus,
//! and a collector bound to every event. Tests call the handler, the router and the API in
//! process; `hosted.rs` serves routing on a port instead.

use std::sync::Arc;

use wf_db::Db;
use wf_events::{Envelope, EventBus, EventPayload, InProcessBus, Relay};
use wf_routing::{Routing, RoutingEventHandler};
use wf_server::ServiceContext;
use wf_testkit::{Collector, Engine, TestDatabase};
use wf_types::{SharedClock, SystemClock};

pub struct Harness {
    /// The test's own database; a second harness over it is the same routing restarted.
    pub database: Arc<TestDatabase>,
    pub db: Db,
    pub routing: Arc<Routing>,
    pub relay: Relay,
    pub handler: Arc<RoutingEventHandler>,
    collector: Collector,
    _data_dir: tempfile::TempDir,
}

impl Harness {
    pub async fn start(engine: Engine) -> Self {
        Self::start_with_clock(engine, SystemClock::shared()).await
    }

    pub async fn start_with_clock(engine: Engine, clock: SharedClock) -> Self {
        Self::start_on(Arc::new(TestDatabase::new(engine).await), clock).await
    }

    /// Routing over an existing test database (as after a restart).
    pub async fn start_on(database: Arc<TestDatabase>, clock: SharedClock) -> Self {
        let db = database.migrated(&wf_routing::migrations()).await;
        let data_dir = tempfile::tempdir().expect("configuration folder");
        let config = wf_config::Config::from_figment(wf_config::Config::figment(None, Some(data_dir.path()))).unwrap();
        let bus: Arc<dyn EventBus> = Arc::new(InProcessBus::new(db.clone()));
        let collector = Collector::start(bus.clone(), "test-collector", &["#"]).await;
        let ctx = ServiceContext::new(db.clone(), bus, Arc::new(config)).with_clock(clock);
        let routing = wf_routing::build(ctx).await.unwrap();
        let relay = routing.relay();
        // Publish the start-up `routing_policy.loaded`, so each test sees only its own events.
        relay.round().await.unwrap();
        let handler = routing.event_handler(relay.handle());
        Self { database, db, routing, relay, handler, collector, _data_dir: data_dir }
    }

    /// `referral.*` envelopes the collector received so far.
    pub fn published(&self) -> Vec<Envelope> {
        self.published_all().into_iter().filter(|e| e.event_type.starts_with("referral.")).collect()
    }

    /// Every envelope the collector received so far.
    pub fn published_all(&self) -> Vec<Envelope> {
        self.collector.events()
    }

    /// Relays what the outbox holds, then the payloads of every `event_type` event received.
    pub async fn relayed<P: EventPayload>(&self, event_type: &str) -> Vec<P> {
        self.relay.round().await.unwrap();
        self.collector.of_type(event_type).iter().map(|e| e.payload_as().unwrap()).collect()
    }

    pub async fn finish(self) {
        self.collector.finish().await;
        self.db.close().await;
    }
}
