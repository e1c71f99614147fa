//! The intake service: the front door and the only holder of personal data.
//! It validates and stores referrals (personal fields sealed with a versioned
//! key), is idempotent on (submitter, external reference), emits
//! `referral.received` with coded fields only, keeps each referral's status
//! from the events of routing and cases, and emits an access event for every
//! read of personal data.

mod api;
pub mod consent_rules;
pub mod domain;
mod events;
pub mod mandated;
pub mod matching;
mod store;
mod submit;
pub mod vault;
pub mod webhook;

use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tonic::service::RoutesBuilder;
use wf_auth::AuthInterceptor;
use wf_db::MigrationSet;
use wf_events::{Relay, RelayHandle, Subscription};
use wf_server::{Component, ServiceContext, Workers};

pub const SERVICE: &str = "intake";

pub fn migrations() -> MigrationSet {
    static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");
    static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
    let (events_pg, events_sqlite) = wf_events::migrations();
    MigrationSet::new().with(events_pg, events_sqlite).with(&POSTGRES, &SQLITE)
}

pub struct Intake {
    ctx: ServiceContext,
    keys: Arc<vault::LiveKeys>,
    relay: std::sync::Mutex<Option<Relay>>,
    relay_handle: RelayHandle,
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
/// data folder (created on first use).
pub async fn build(ctx: ServiceContext) -> anyhow::Result<Arc<Intake>> {
    ctx.migrate_if_configured(&migrations()).await?;
    let keys = vault::LiveKeys::load(&ctx.config)?;
    let relay = Relay::new(SERVICE, ctx.db.clone(), ctx.bus.clone(), ctx.relay_options());
    let relay_handle = relay.handle();
    let webhook_secrets = Arc::new(webhook_secrets(&ctx.config)?);
    let wanted = ctx.config.webhook_addr();
    let listener = std::net::TcpListener::bind(wanted)
        .map_err(|err| anyhow::anyhow!("binding the hotline webhook address {wanted} (webhook_addr): {err}"))?;
    listener.set_nonblocking(true)?;
    let webhook_addr = listener.local_addr()?;
    Ok(Arc::new(Intake {
        ctx,
        keys: Arc::new(keys),
        relay: std::sync::Mutex::new(Some(relay)),
        relay_handle,
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

    fn mount(&self, routes: &mut RoutesBuilder, auth: AuthInterceptor) {
        let api = api::IntakeApi::new(self.ctx.db.clone(), self.keys.clone(), self.relay_handle.clone());
        routes
            .add_service(wf_proto::intake::v1::intake_service_server::IntakeServiceServer::with_interceptor(api, auth));
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![self.ctx.subscription(SERVICE)]
    }

    async fn run(self: Arc<Self>, shutdown: CancellationToken) -> anyhow::Result<()> {
        let relay = self
            .relay
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
            .ok_or_else(|| anyhow::anyhow!("intake workers are already running"))?;
        api::spawn_background(&self.ctx, self.keys.clone(), self.relay_handle.clone(), shutdown.clone())?;
        let webhook = self.serve_webhook(shutdown.clone())?;
        let handler = Arc::new(events::StatusUpdater::new(self.ctx.db.clone()));
        let workers =
            Workers::new(relay, self.ctx.bus.clone()).consume(self.ctx.subscription(SERVICE), handler).run(shutdown);
        let (workers, webhook) = tokio::join!(workers, webhook);
        workers?;
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
        let state = Arc::new(webhook::WebhookState {
            db: self.ctx.db.clone(),
            keys: self.keys.clone(),
            relay: self.relay_handle.clone(),
            secrets: self.webhook_secrets.clone(),
        });
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
