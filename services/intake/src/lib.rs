//! The intake service: the front door and the only holder of personal data.
//! It validates and stores referrals (personal fields sealed with a versioned
//! key), is idempotent on (submitter, external reference), emits
//! `referral.received` with coded fields only, keeps each referral's status
//! from the events of routing and cases, and emits an access event for every
//! read of personal data.
//!
//! Handlers (`api`, with the hotline webhook in `api::webhook`), the status consumer (`events`) and
//! the returning-youth and mandated-report workers (`workers`) call the use cases in `app`, which own
//! the transactions; `domain` holds the rules and `store` the SQL. Time comes only from the context's
//! clock.

pub mod api;
pub mod app;
pub mod domain;
pub mod events;
mod store;
pub mod workers;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use wf_db::MigrationSet;
use wf_events::{Relay, Subscription};
use wf_server::{Component, ServiceContext, Workers};

pub use api::{IntakeApi, webhook};
pub use app::{App, mandated, vault};
pub use domain::{consent as consent_rules, matching};

/// The service name: its queue, its outbox producer, its inbox consumer.
pub const SERVICE: &str = "intake";

/// What tests vary besides the clock (which comes from the [`ServiceContext`]).
#[derive(Debug, Clone)]
pub struct Options {
    /// How often the returning-youth worker looks for new referrals.
    pub matching_interval: Duration,
    /// How often the mandated-report worker looks for passed deadlines.
    pub mandated_report_interval: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            matching_interval: workers::matching::INTERVAL,
            mandated_report_interval: workers::mandated_reports::INTERVAL,
        }
    }
}

pub fn migrations() -> MigrationSet {
    static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");
    static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
    let (events_pg, events_sqlite) = wf_events::migrations();
    MigrationSet::new().with(events_pg, events_sqlite).with(&POSTGRES, &SQLITE)
}

pub struct Intake {
    ctx: ServiceContext,
    refusals: wf_server::Refusals,
    app: App,
    options: Options,
    /// The returning-youth identity key, loaded at build time.
    hasher: Arc<wf_crypto::IdentityHasher>,
    relay: std::sync::Mutex<Option<Relay>>,
    /// Bound at build time so the address is known before `run` (port 0 in tests).
    webhook_listener: std::sync::Mutex<Option<std::net::TcpListener>>,
    webhook_addr: std::net::SocketAddr,
    webhook_secrets: Arc<wf_crypto::SharedSecrets>,
}

impl Intake {
    /// Where the hotline webhook listens (`POST /v1/hotline/referrals`).
    pub fn webhook_addr(&self) -> std::net::SocketAddr {
        self.webhook_addr
    }

    /// The use cases, as the API, the webhook and the workers call them.
    pub fn app(&self) -> &App {
        &self.app
    }
}

/// Webhook secrets from `webhook_secrets_file`, or the generated development secret.
fn webhook_secrets(config: &wf_config::Config) -> anyhow::Result<wf_crypto::SharedSecrets> {
    match &config.webhook_secrets_file {
        Some(path) => {
            wf_crypto::SharedSecrets::load(path).map_err(|err| anyhow::anyhow!("webhook_secrets_file: {err}"))
        }
        None => Ok(wf_crypto::SharedSecrets::load_or_create_dev(&config.keys_dir())?),
    }
}

/// Builds intake with its field keys from `field_key_file` (production mounts it; the
/// JSON key ring or one base64 key) or, embedded, from the development key ring in the
/// data folder (created on first use). The identity key comes from `identity_key_file`, else the
/// data folder (created on first use).
pub async fn build(ctx: ServiceContext) -> anyhow::Result<Arc<Intake>> {
    build_with(ctx, Options::default()).await
}

/// [`build`] with given options (tests pass short worker intervals).
pub async fn build_with(ctx: ServiceContext, options: Options) -> anyhow::Result<Arc<Intake>> {
    ctx.migrate_if_configured(&migrations()).await?;
    let keys = vault::live_keys(&ctx.config)?;
    let hasher = vault::load_identity_key(&ctx.config)?;
    let relay = Relay::new(SERVICE, ctx.db.clone(), ctx.bus.clone(), ctx.relay_options());
    let refusals = ctx.refusals(SERVICE);
    let app =
        App::new(ctx.db.clone(), Arc::new(keys), relay.handle(), ctx.clock.clone()).with_refusals(refusals.clone());
    let webhook_secrets = Arc::new(webhook_secrets(&ctx.config)?);
    let wanted = ctx.config.webhook_addr();
    let listener = std::net::TcpListener::bind(wanted)
        .map_err(|err| anyhow::anyhow!("binding the hotline webhook address {wanted} (webhook_addr): {err}"))?;
    listener.set_nonblocking(true)?;
    let webhook_addr = listener.local_addr()?;
    Ok(Arc::new(Intake {
        refusals,
        ctx,
        app,
        options,
        hasher: Arc::new(hasher),
        relay: std::sync::Mutex::new(Some(relay)),
        webhook_listener: std::sync::Mutex::new(Some(listener)),
        webhook_addr,
        webhook_secrets,
    }))
}

#[async_trait::async_trait]
impl Component for Intake {
    fn name(&self) -> &'static str {
        SERVICE
    }

    fn grpc_service_names(&self) -> Vec<&'static str> {
        vec!["wayfinder.intake.v1.IntakeService"]
    }

    fn mount(&self, routes: &mut wf_server::Mount<'_>) {
        let api = IntakeApi::new(self.app.clone());
        routes.add(wf_proto::intake::v1::intake_service_server::IntakeServiceServer::new(api));
    }

    fn refusals(&self) -> wf_server::Refusals {
        self.refusals.clone()
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![self.ctx.subscription(SERVICE)]
    }

    /// Consumes, relays, serves the webhook and runs the matching and mandated-report workers until
    /// `shutdown`, and returns once all of them have finished.
    async fn run(self: Arc<Self>, shutdown: CancellationToken) -> anyhow::Result<()> {
        let relay = self
            .relay
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
            .ok_or_else(|| anyhow::anyhow!("intake workers are already running"))?;
        let webhook = self.serve_webhook(shutdown.clone())?;
        let matcher = app::matching::Matcher {
            db: self.app.db.clone(),
            keys: self.app.keys.clone(),
            hasher: self.hasher.clone(),
            relay: self.app.relay.clone(),
            clock: self.app.clock.clone(),
            threshold: matching::DEFAULT_THRESHOLD,
        };
        let matching = tokio::spawn(workers::matching::run(matcher, self.options.matching_interval, shutdown.clone()));
        let mandated_reports = tokio::spawn(workers::mandated_reports::run(
            self.app.db.clone(),
            self.app.relay.clone(),
            self.app.clock.clone(),
            self.options.mandated_report_interval,
            shutdown.clone(),
        ));
        let handler = Arc::new(events::StatusUpdater::new(self.ctx.db.clone()));
        let consumed =
            Workers::new(relay, self.ctx.bus.clone()).consume(self.ctx.subscription(SERVICE), handler).run(shutdown);
        let (consumed, webhook) = tokio::join!(consumed, webhook);
        matching.await.context("returning-youth matching worker")?;
        mandated_reports.await.context("mandated-report worker")?;
        consumed?;
        webhook
    }
}

impl Intake {
    /// The hotline webhook server, stopping (gracefully) with `shutdown`.
    fn serve_webhook(
        &self,
        shutdown: CancellationToken,
    ) -> anyhow::Result<impl std::future::Future<Output = anyhow::Result<()>> + use<>> {
        let listener = self
            .webhook_listener
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
            .ok_or_else(|| anyhow::anyhow!("the intake webhook is already running"))?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let state = Arc::new(webhook::WebhookState { app: self.app.clone(), secrets: self.webhook_secrets.clone() });
        let key_ids: Vec<String> = self.webhook_secrets.key_ids().map(str::to_owned).collect();
        tracing::info!(addr = %self.webhook_addr, key_ids = ?key_ids, "hotline webhook listening");
        Ok(async move {
            axum::serve(listener, webhook::router(state))
                .with_graceful_shutdown(async move { shutdown.cancelled().await })
                .await
                .map_err(|err| anyhow::anyhow!("hotline webhook server: {err}"))
        })
    }
}
