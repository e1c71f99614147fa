//! A service hosted on port 0 in the test's process, with the in-process bus
//! and its own data folder, reached with real tokens.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use wf_auth::{AuthInterceptor, BearerToken, TokenKind, TokenVerifier};
use wf_config::Config;
use wf_db::Db;
use wf_events::{Envelope, EventBus, InProcessBus};
use wf_server::{Component, Server, ServiceContext, SubscriptionDefaults, Topology};

use crate::TestTokens;

/// An authenticated channel to a [`TestServer`].
pub type AuthedChannel = InterceptedService<Channel, BearerToken>;

pub struct TestServer {
    pub addr: SocketAddr,
    pub bus: Arc<InProcessBus>,
    pub config: Arc<Config>,
    pub tokens: TestTokens,
    shutdown: CancellationToken,
    running: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl TestServer {
    /// Builds one component with `build` over `db` (which must carry the
    /// wf-events migrations, for the bus's dead letters) and serves it.
    pub async fn start<F, Fut>(db: Db, data_dir: &Path, build: F) -> Self
    where
        F: FnOnce(ServiceContext) -> Fut,
        Fut: Future<Output = anyhow::Result<Arc<dyn Component>>>,
    {
        // Only the data folder comes from outside: no environment layer leaks in.
        let config = Arc::new(Config::from_figment(Config::defaults_only(data_dir)).expect("test configuration"));
        let bus = Arc::new(InProcessBus::new(db.clone()));
        let ctx = ServiceContext { db, bus: bus.clone(), config: config.clone() };
        let component = build(ctx).await.expect("service builds");
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
            vec![component],
            bus.clone(),
            AuthInterceptor::new(Arc::new(verifier)),
            Topology::Hosted,
            SubscriptionDefaults::from_config(&config.events),
        )
        .await
        .expect("bind port 0");
        let addr = server.local_addr();
        let shutdown = CancellationToken::new();
        let running = tokio::spawn(server.run(shutdown.clone()));
        Self { addr, bus, config, tokens, shutdown, running }
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

    pub async fn stop(self) {
        self.shutdown.cancel();
        self.running.await.expect("server task").expect("server stops cleanly");
    }
}
