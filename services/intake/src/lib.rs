//! The intake service: the front door and the only holder of personal data.
//! It validates and stores referrals (personal fields sealed with a versioned
//! key), is idempotent on (submitter, external reference), emits
//! `referral.received` with coded fields only, keeps each referral's status
//! from the events of routing and cases, and emits an access event for every
//! read of personal data.

mod api;
pub mod domain;
mod events;
mod store;

use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tonic::service::RoutesBuilder;
use wf_auth::AuthInterceptor;
use wf_crypto::KeyRing;
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
    keys: Arc<KeyRing>,
    relay: std::sync::Mutex<Option<Relay>>,
    relay_handle: RelayHandle,
}

/// Builds intake with its field key from `field_key_file` (production mounts it)
/// or, embedded, from the development key ring in the data folder (created on first use).
pub async fn build(ctx: ServiceContext) -> anyhow::Result<Arc<Intake>> {
    ctx.migrate_if_configured(&migrations()).await?;
    let keys = match &ctx.config.field_key_file {
        Some(path) => {
            let key = std::fs::read_to_string(path)
                .map_err(|err| anyhow::anyhow!("reading field_key_file {}: {err}", path.display()))?;
            KeyRing::from_config(&[(1, key.trim().to_owned())], 1)
                .map_err(|err| anyhow::anyhow!("field_key_file {}: {err}", path.display()))?
        }
        None => KeyRing::load_or_create_dev(&ctx.config.keys_dir())?,
    };
    let relay = Relay::new(SERVICE, ctx.db.clone(), ctx.bus.clone(), ctx.relay_options());
    let relay_handle = relay.handle();
    Ok(Arc::new(Intake { ctx, keys: Arc::new(keys), relay: std::sync::Mutex::new(Some(relay)), relay_handle }))
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
        let handler = Arc::new(events::StatusUpdater::new(self.ctx.db.clone()));
        Workers::new(relay, self.ctx.bus.clone()).consume(self.ctx.subscription(SERVICE), handler).run(shutdown).await
    }
}
