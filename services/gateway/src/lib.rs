//! The gateway: the staff web application in front of the services. Server-rendered pages (askama),
//! htmx 2 bundled with the binary, local accounts with argon2id passwords and optional TOTP,
//! server-side sessions in its own database, and every call to the services made with a short-lived
//! token minted for the signed-in person, so each service applies its authorization table again.
//!
//! - [`api`] — the routes, the session guard (Origin and CSRF checks on every state change), the
//!   security headers, the layout and the pages: sign-in, acknowledgment, account, home; and the
//!   JSON API under `/api/v1` with its OpenAPI document (`api::v1`).
//! - [`app`] — accounts (what `wayfinder accounts …` calls: [`Accounts`]), sessions, sign-in with
//!   throttling, and [`Upstream`] (the services as the person).
//! - [`domain`] — pure rules: password policy, TOTP, session limits, throttle, request checks.
//! - [`store`] — the SQL. [`workers`] — the sweeper.
//!
//! Embedding it (the all-in-one does): [`build`] binds the HTTP listener ([`Gateway::http_addr`]);
//! without `gateway.upstream_url`, call [`Gateway::set_upstream`] with the services' gRPC URL once
//! known; host it in a `wf_server::Server` like any component (it mounts no gRPC service). Alone, it
//! reaches each service at `gateway.upstreams.<service>` when set, else at `gateway.upstream_url`.

pub mod api;
pub mod app;
pub mod domain;
pub mod store;
pub mod workers;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use wf_auth::TokenIssuer;
use wf_db::MigrationSet;
use wf_events::Subscription;
use wf_server::{Component, ServiceContext};

pub use app::upstream::UpstreamService;
pub use app::{AccountError, AccountInfo, Accounts, App, NewAccount, SignedIn, TotpEnrolment, Upstream};

/// The service name: its database (schema or SQLite file) and its refusal records.
pub const SERVICE: &str = "gateway";

/// The shared outbox/inbox tables plus accounts, sessions and sign-in counters (version 100 on).
pub fn migrations() -> MigrationSet {
    static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");
    static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
    let (events_pg, events_sqlite) = wf_events::migrations();
    MigrationSet::new().with(events_pg, events_sqlite).with(&POSTGRES, &SQLITE)
}

/// The key upstream tokens are signed with: `gateway.signing_key_file`, or the development key pair
/// in the data folder (the key `wayfinder token` uses, which the services verify with by default).
pub fn token_issuer(config: &wf_config::Config) -> anyhow::Result<TokenIssuer> {
    let (issuer, audience) = (&config.auth.issuer, &config.auth.audience);
    match &config.gateway.signing_key_file {
        Some(path) => {
            let pem = zeroize::Zeroizing::new(
                std::fs::read(path).with_context(|| format!("gateway.signing_key_file {}", path.display()))?,
            );
            // The key id is derived from the public key, as the services derive it from theirs.
            let probe = TokenIssuer::from_pem(&pem, "probe", issuer, audience)
                .with_context(|| format!("gateway.signing_key_file {}", path.display()))?;
            let kid = wf_auth::key_id_for(probe.public_key_pem())?;
            Ok(TokenIssuer::from_pem(&pem, &kid, issuer, audience)?)
        }
        None => {
            let keys = wf_auth::load_or_create_dev_keypair(&config.keys_dir())?;
            Ok(TokenIssuer::from_pem(&keys.private_pem, &keys.kid, issuer, audience)?)
        }
    }
}

/// The verifier of the JSON API's bearer tokens: the key the services verify with
/// (`auth.jwt_public_key_file`, or the development key in the data folder), their issuer and
/// audience, and only the kinds a person or a partner's client holds (a service token is refused).
pub fn bearer_verifier(config: &wf_config::Config) -> anyhow::Result<wf_auth::TokenVerifier> {
    let (kid, public_pem) = match &config.auth.jwt_public_key_file {
        Some(path) => {
            let pem = std::fs::read(path).with_context(|| format!("auth.jwt_public_key_file {}", path.display()))?;
            (wf_auth::key_id_for(&pem)?, pem)
        }
        None => {
            let keys = wf_auth::load_or_create_dev_keypair(&config.keys_dir())?;
            (keys.kid.clone(), keys.public_pem.clone())
        }
    };
    let kinds = [wf_auth::TokenKind::User, wf_auth::TokenKind::Partner];
    Ok(wf_auth::TokenVerifier::new(vec![(kid, public_pem)], &config.auth.issuer, &config.auth.audience, &kinds)?)
}

/// Builds the gateway over `ctx`: migrates its database when configured, loads the signing key and
/// the field keys, and binds its HTTP listener (`gateway_addr`; port 0 in tests).
pub async fn build(ctx: ServiceContext) -> anyhow::Result<Arc<Gateway>> {
    ctx.migrate_if_configured(&migrations()).await?;
    let config = ctx.config.clone();
    let issuer = token_issuer(&config)?;
    let keys = wf_crypto::LiveKeys::open(config.field_key_file.as_deref(), &config.keys_dir())
        .context("field keys (gateway TOTP secrets)")?;
    let wanted = config.gateway_addr();
    let listener = std::net::TcpListener::bind(wanted)
        .map_err(|err| anyhow::anyhow!("binding the gateway address {wanted} (gateway_addr): {err}"))?;
    listener.set_nonblocking(true)?;
    let http_addr = listener.local_addr()?;
    let public_origin = config.gateway.public_origin.clone().unwrap_or_else(|| format!("http://{http_addr}"));
    let upstream = Upstream::new(issuer);
    upstream.set_bearer_verifier(bearer_verifier(&config)?);
    if let Some(url) = &config.gateway.upstream_url {
        upstream.set_url(url)?;
    }
    for service in UpstreamService::ALL {
        if let Some(url) = config.gateway.upstreams.get(service.name()) {
            upstream.set_service_url(service, url)?;
        }
    }
    let accounts = Accounts::new(ctx.db.clone(), ctx.clock.clone(), Arc::new(keys));
    let mut app = App::new(ctx.db.clone(), ctx.clock.clone(), accounts, upstream, &public_origin)
        .with_proxies(config.gateway.proxies());
    if let Some(oidc) = &config.gateway.oidc {
        let provider = app::Oidc::new(oidc, &public_origin, ctx.db.clone(), ctx.clock.clone()).await?;
        app = app.with_oidc(provider);
    }
    Ok(Arc::new(Gateway { refusals: ctx.refusals(SERVICE), ctx, app, listener: Mutex::new(Some(listener)), http_addr }))
}

/// The gateway as a [`Component`].
pub struct Gateway {
    ctx: ServiceContext,
    refusals: wf_server::Refusals,
    app: App,
    /// Bound at build time so the address is known before `run` (port 0 in tests).
    listener: Mutex<Option<std::net::TcpListener>>,
    http_addr: SocketAddr,
}

impl Gateway {
    /// Where the web application listens.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// The origin pages must come from (`gateway.public_origin`, or `http://<http_addr>`).
    pub fn public_origin(&self) -> &str {
        &self.app.public_origin
    }

    /// Points the gateway at the services' gRPC URL (`http://127.0.0.1:50051`), for when the
    /// configuration has no `gateway.upstream_url` (the all-in-one knows it once its server is bound).
    /// A service with its own `gateway.upstreams.<service>` is still reached there.
    pub fn set_upstream(&self, grpc_url: &str) -> anyhow::Result<()> {
        self.app.upstream.set_url(grpc_url)
    }

    /// Local accounts (`wayfinder accounts …`, demo data).
    pub fn accounts(&self) -> &Accounts {
        &self.app.accounts
    }

    /// The use cases and shared handles, as handlers see them.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// The routes, without a listener (tests drive it with `tower::ServiceExt::oneshot`).
    pub fn router(&self) -> axum::Router {
        api::router(self.app.clone())
    }
}

#[async_trait::async_trait]
impl Component for Gateway {
    fn name(&self) -> &'static str {
        SERVICE
    }

    fn grpc_service_names(&self) -> Vec<&'static str> {
        Vec::new()
    }

    fn mount(&self, _routes: &mut wf_server::Mount<'_>) {}

    fn refusals(&self) -> wf_server::Refusals {
        self.refusals.clone()
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        Vec::new()
    }

    /// Serves the web application and runs the sweeper until `shutdown`; in-flight requests finish.
    async fn run(self: Arc<Self>, shutdown: CancellationToken) -> anyhow::Result<()> {
        let listener = self
            .listener
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
            .ok_or_else(|| anyhow::anyhow!("the gateway is already running"))?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let sweeper = tokio::spawn(workers::sweeper::run(
            self.app.sessions.clone(),
            self.ctx.db.clone(),
            self.ctx.clock.clone(),
            workers::sweeper::INTERVAL,
            shutdown.clone(),
        ));
        tracing::info!(addr = %self.http_addr, origin = %self.app.public_origin, "gateway listening");
        let stop = shutdown.clone();
        let served = axum::serve(listener, self.router().into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await
            .map_err(|err| anyhow::anyhow!("gateway server: {err}"));
        shutdown.cancel();
        sweeper.await.context("gateway sweeper")?;
        served
    }
}
