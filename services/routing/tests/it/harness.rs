//! A routing service over a fresh database (a temporary SQLite file or a new
//! PostgreSQL database), an in-process bus, and a collector bound to every event.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;
use wf_db::Db;
use wf_events::{Envelope, EventBus, EventHandler, HandleError, InProcessBus, Relay, Subscription};
use wf_routing::{Routing, RoutingEventHandler};
use wf_server::ServiceContext;

/// Maintenance database used to create and drop the per-test databases.
fn postgres_admin_url() -> String {
    std::env::var("WF_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Runs `body` against a fresh SQLite file, then removes it, even when `body` panics.
pub async fn on_sqlite<F, Fut>(body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let dir = std::env::temp_dir().join(format!("wf-routing-it-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let outcome = tokio::spawn(body(wf_db::sqlite_url_in(&dir, "routing.db"))).await;
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(err) = outcome {
        std::panic::resume_unwind(err.into_panic());
    }
}

/// Runs `body` against a new PostgreSQL database, then drops it, even when `body` panics.
pub async fn on_postgres<F, Fut>(body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let admin_url = postgres_admin_url();
    let admin = Db::connect(&admin_url).await.expect("PostgreSQL must be running for the integration tests");
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(admin.pool()).await.unwrap();
    let (base, _) = admin_url.rsplit_once('/').unwrap();
    let outcome = tokio::spawn(body(format!("{base}/{name}"))).await;
    sqlx::query(&format!("DROP DATABASE \"{name}\" WITH (FORCE)")).execute(admin.pool()).await.unwrap();
    admin.close().await;
    if let Err(err) = outcome {
        std::panic::resume_unwind(err.into_panic());
    }
}

/// Writes each test once and runs it on both backends.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { crate::harness::on_sqlite(super::$name).await; })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { crate::harness::on_postgres(super::$name).await; })*
        }
    };
}

/// Collects every envelope published to its binding.
#[derive(Default)]
struct Collector(Mutex<Vec<Envelope>>);

#[async_trait::async_trait]
impl EventHandler for Collector {
    async fn handle(&self, envelope: Envelope) -> Result<(), HandleError> {
        self.0.lock().unwrap().push(envelope);
        Ok(())
    }
}

pub struct Harness {
    pub db: Db,
    pub routing: Arc<Routing>,
    pub relay: Relay,
    pub handler: Arc<RoutingEventHandler>,
    collector: Arc<Collector>,
    stop: CancellationToken,
    consumer: tokio::task::JoinHandle<()>,
    data_dir: PathBuf,
}

impl Harness {
    pub async fn start(url: &str) -> Self {
        Self::start_with_clock(url, Arc::new(wf_routing::SystemClock)).await
    }

    pub async fn start_with_clock(url: &str, clock: Arc<dyn wf_routing::Clock>) -> Self {
        let db = Db::connect(url).await.unwrap();
        db.migrate(&wf_routing::migrations()).await.unwrap();
        let data_dir = std::env::temp_dir().join(format!("wf-routing-cfg-{}", uuid::Uuid::new_v4().simple()));
        let config = wf_config::Config::from_figment(wf_config::Config::figment(None, Some(&data_dir))).unwrap();
        let bus = InProcessBus::new(db.clone());
        let subscription = Subscription::new("test-collector", &["#"]);
        bus.declare(&subscription).await.unwrap();
        let collector = Arc::new(Collector::default());
        let stop = CancellationToken::new();
        let consumer = {
            let (bus, collector, stop) = (bus.clone(), collector.clone(), stop.clone());
            tokio::spawn(async move { bus.consume(subscription, collector, stop).await.unwrap() })
        };
        let bus: Arc<dyn EventBus> = Arc::new(bus);
        let ctx = ServiceContext::new(db.clone(), bus, Arc::new(config));
        let routing = wf_routing::build_with_clock(ctx, clock).await.unwrap();
        let relay = routing.relay();
        // Publish the start-up `routing_policy.loaded`, so each test sees only its own events.
        relay.round().await.unwrap();
        let handler = routing.event_handler(relay.handle());
        Self { db, routing, relay, handler, collector, stop, consumer, data_dir }
    }

    /// `referral.*` envelopes the collector received so far.
    pub fn published(&self) -> Vec<Envelope> {
        self.published_all().into_iter().filter(|e| e.event_type.starts_with("referral.")).collect()
    }

    /// Every envelope the collector received so far.
    pub fn published_all(&self) -> Vec<Envelope> {
        self.collector.0.lock().unwrap().clone()
    }

    pub async fn finish(self) {
        self.stop.cancel();
        self.consumer.await.unwrap();
        self.db.close().await;
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}
