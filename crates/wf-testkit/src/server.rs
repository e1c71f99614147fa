//! A service hosted on port 0 in the test's process, with the in-process bus
//! and its own data folder, reached with real tokens.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use wf_auth::{AuthGate, BearerToken, TokenKind, TokenVerifier};
use wf_config::Config;
use wf_db::Db;
use wf_db::MigrationSet;
use wf_events::{Envelope, EventBus, InProcessBus};
use wf_server::{Component, Server, ServiceContext, SubscriptionDefaults, Topology};
use wf_types::{SharedClock, SystemClock};

use crate::{Engine, TestDatabase, TestTokens};

/// An authenticated channel to a [`TestServer`].
pub type AuthedChannel = InterceptedService<Channel, BearerToken>;

pub struct TestServer {
    pub addr: SocketAddr,
    pub bus: Arc<InProcessBus>,
    pub config: Arc<Config>,
    pub tokens: TestTokens,
    /// The clock every hosted service reads.
    pub clock: SharedClock,
    /// The hosted services' databases, in the order they were given.
    pub dbs: Vec<Db>,
    shutdown: CancellationToken,
    running: tokio::task::JoinHandle<anyhow::Result<()>>,
    _databases: Vec<TestDatabase>,
    _data_dir: Option<tempfile::TempDir>,
}

fn test_config(data_dir: &Path) -> Arc<Config> {
    // Only the data folder comes from outside: no environment layer leaks in.
    Arc::new(Config::from_figment(Config::defaults_only(data_dir)).expect("test configuration"))
}

/// How a [`TestServer`] builds one service from its context.
type BuildFn = Box<dyn FnOnce(ServiceContext) -> BoxFuture<'static, anyhow::Result<Arc<dyn Component>>> + Send>;

/// One service for [`TestServer::start_many`]: its migrations and how it is built.
pub struct TestService {
    migrations: MigrationSet,
    build: BuildFn,
}

impl TestService {
    /// `build` is the service's own `build(ctx)`, e.g.
    /// `TestService::new(wf_intake::migrations(), |ctx| async move { Ok(wf_intake::build(ctx).await? as _) })`.
    pub fn new<F, Fut>(migrations: MigrationSet, build: F) -> Self
    where
        F: FnOnce(ServiceContext) -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<Arc<dyn Component>>> + Send + 'static,
    {
        Self { migrations, build: Box::new(move |ctx| Box::pin(build(ctx))) }
    }
}

impl TestServer {
    /// Builds one component with `build` over `db` (which must carry the
    /// wf-events migrations, for the bus's dead letters) and serves it on the wall clock.
    pub async fn start<F, Fut>(db: Db, data_dir: &Path, build: F) -> Self
    where
        F: FnOnce(ServiceContext) -> Fut,
        Fut: Future<Output = anyhow::Result<Arc<dyn Component>>>,
    {
        Self::start_with_clock(db, data_dir, SystemClock::shared(), build).await
    }

    /// As [`TestServer::start`], with the service reading `clock` (a [`wf_types::TestClock`] the
    /// test moves).
    pub async fn start_with_clock<F, Fut>(db: Db, data_dir: &Path, clock: SharedClock, build: F) -> Self
    where
        F: FnOnce(ServiceContext) -> Fut,
        Fut: Future<Output = anyhow::Result<Arc<dyn Component>>>,
    {
        let config = test_config(data_dir);
        let bus = Arc::new(InProcessBus::new(db.clone()));
        let ctx = ServiceContext::new(db.clone(), bus.clone(), config.clone()).with_clock(clock.clone());
        let component = build(ctx).await.expect("service builds");
        Self::serve(vec![component], bus, config, clock, vec![db], Vec::new(), None).await
    }

    /// Several services in one server, as the all-in-one runs them: each on a database of its own
    /// on `engine` (in `dbs`, in the order given), one in-process bus (its dead letters in a SQLite
    /// file of the server's data folder), one clock, one port.
    pub async fn start_many(engine: Engine, clock: SharedClock, services: Vec<TestService>) -> Self {
        let dir = tempfile::tempdir().expect("data folder");
        let bus_db = Db::connect(&wf_db::sqlite_url_in(dir.path(), "bus.db")).await.expect("bus database");
        let (events_pg, events_sqlite) = wf_events::migrations();
        bus_db.migrate(&MigrationSet::new().with(events_pg, events_sqlite)).await.expect("bus migrations");
        let config = test_config(dir.path());
        let bus = Arc::new(InProcessBus::new(bus_db));
        let mut components = Vec::new();
        let mut dbs = Vec::new();
        let mut databases = Vec::new();
        for service in services {
            let database = TestDatabase::new(engine).await;
            let db = database.migrated(&service.migrations).await;
            let ctx = ServiceContext::new(db.clone(), bus.clone(), config.clone()).with_clock(clock.clone());
            components.push((service.build)(ctx).await.expect("service builds"));
            dbs.push(db);
            databases.push(database);
        }
        Self::serve(components, bus, config, clock, dbs, databases, Some(dir)).await
    }

    async fn serve(
        components: Vec<Arc<dyn Component>>,
        bus: Arc<InProcessBus>,
        config: Arc<Config>,
        clock: SharedClock,
        dbs: Vec<Db>,
        databases: Vec<TestDatabase>,
        data_dir: Option<tempfile::TempDir>,
    ) -> Self {
        let tokens = TestTokens::in_dir(&config.keys_dir());
        let keys = wf_auth::load_or_create_dev_keypair(&config.keys_dir()).expect("keys");
        let verifier = TokenVerifier::new(
            vec![(keys.kid.clone(), keys.public_pem.clone())],
            &config.auth.issuer,
            &config.auth.audience,
            &[TokenKind::User, TokenKind::Partner, TokenKind::Service],
        )
        .expect("verifier");
        let server = Server::bind(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            components,
            bus.clone(),
            AuthGate::new(Arc::new(verifier)),
            Topology::Hosted,
            SubscriptionDefaults::from_config(&config.events),
        )
        .await
        .expect("bind port 0");
        let addr = server.local_addr();
        let shutdown = CancellationToken::new();
        let running = tokio::spawn(server.run(shutdown.clone()));
        Self { addr, bus, config, tokens, clock, dbs, shutdown, running, _databases: databases, _data_dir: data_dir }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A channel whose requests carry `token`.
    pub async fn channel(&self, token: &str) -> AuthedChannel {
        let channel = Channel::from_shared(self.url()).expect("url").connect().await.expect("connect to test server");
        InterceptedService::new(channel, BearerToken::new(token).expect("bearer token"))
    }

    /// Publishes through the bus; returns once the hosted consumer has finished
    /// with it (queues are declared when the server starts, so early publishes retry).
    pub async fn publish(&self, envelope: &Envelope) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            match self.bus.publish(envelope).await {
                Ok(()) => return,
                Err(_) if tokio::time::Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(20)).await,
                Err(err) => panic!("publish: {err}"),
            }
        }
    }

    /// An event collector on this server's bus (see [`crate::Collector`]).
    pub async fn collector(&self, queue: &str, bindings: &[&str]) -> crate::Collector {
        crate::Collector::start(self.bus.clone(), queue, bindings).await
    }

    /// Stops serving and waits until every hosted service's workers have finished.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.running.await.expect("server task").expect("server stops cleanly");
    }
}
