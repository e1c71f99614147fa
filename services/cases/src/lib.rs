//! The cases service: the case-manager roster and assignment, and the case record.
//!
//! Step 1 opens one case per routed referral (`referral.routed`) and assigns it to the least
//! loaded eligible case manager, announcing `case.assigned`; when nobody eligible has room the
//! case waits, unassigned, in the supervisors' queue. `CaseService` answers `GetCase`,
//! `ListCases` and `ListCaseManagers`; the rest of the case record arrives in later steps.

pub mod api;
pub mod domain;
pub mod events;
pub mod store;

use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use tonic::service::RoutesBuilder;
use wf_auth::AuthInterceptor;
use wf_db::{Db, MigrationSet};
use wf_events::{EventBus, Relay, Subscription};
use wf_proto::cases::v1::case_service_server::{CaseServiceServer, SERVICE_NAME};
use wf_server::{Component, ServiceContext, Workers};

pub use api::CasesApi;
pub use domain::Roster;
pub use events::CaseEvents;

/// The service name: its queue, its outbox producer, its inbox consumer.
pub const SERVICE: &str = "cases";

/// The roster used when `roster_file` is not configured.
pub const DEMO_ROSTER: &str = include_str!("../demo/roster.toml");

/// The wf-events tables plus the service's own (versions from 100).
pub fn migrations() -> MigrationSet {
    static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");
    static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
    let (events_postgres, events_sqlite) = wf_events::migrations();
    MigrationSet::new().with(events_postgres, events_sqlite).with(&POSTGRES, &SQLITE)
}

/// Reads and validates the roster at `path`, or the embedded demo roster.
pub fn load_roster(path: Option<&Path>) -> anyhow::Result<Roster> {
    match path {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("cannot read roster file {}", path.display()))?;
            Roster::from_toml(&text).with_context(|| format!("roster file {}", path.display()))
        }
        None => Roster::from_toml(DEMO_ROSTER).context("embedded demo roster"),
    }
}

/// Migrates (when configured), loads the roster and wires the service.
pub async fn build(ctx: ServiceContext) -> anyhow::Result<Arc<Cases>> {
    ctx.migrate_if_configured(&migrations()).await?;
    let roster = Arc::new(load_roster(ctx.config.roster_file.as_deref())?);
    tracing::info!(
        case_managers = roster.case_managers().len(),
        supervisors = roster.supervisors().len(),
        demo = ctx.config.roster_file.is_none(),
        "roster loaded"
    );
    let relay = Relay::new(SERVICE, ctx.db.clone(), ctx.bus.clone(), ctx.relay_options());
    let handler = Arc::new(CaseEvents::new(ctx.db.clone(), roster.clone(), relay.handle()));
    Ok(Arc::new(Cases {
        api: CasesApi::new(ctx.db.clone(), roster.clone()),
        subscription: ctx.subscription(SERVICE),
        db: ctx.db,
        bus: ctx.bus,
        roster,
        handler,
        relay: Mutex::new(Some(relay)),
    }))
}

/// The cases service as a [`Component`].
pub struct Cases {
    db: Db,
    bus: Arc<dyn EventBus>,
    roster: Arc<Roster>,
    api: CasesApi,
    handler: Arc<CaseEvents>,
    subscription: Subscription,
    /// Taken by the first `run`; the relay's handle stays with the handler.
    relay: Mutex<Option<Relay>>,
}

impl Cases {
    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn roster(&self) -> &Roster {
        &self.roster
    }

    /// The gRPC service, for callers that mount it themselves or call it in process.
    pub fn api(&self) -> CasesApi {
        self.api.clone()
    }

    /// The consumer of the cases subscription.
    pub fn event_handler(&self) -> Arc<CaseEvents> {
        self.handler.clone()
    }
}

#[async_trait::async_trait]
impl Component for Cases {
    fn name(&self) -> &'static str {
        SERVICE
    }

    fn grpc_service_names(&self) -> Vec<&'static str> {
        vec![SERVICE_NAME]
    }

    fn mount(&self, routes: &mut RoutesBuilder, auth: AuthInterceptor) {
        routes.add_service(CaseServiceServer::with_interceptor(self.api.clone(), auth));
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![self.subscription.clone()]
    }

    async fn run(self: Arc<Self>, shutdown: CancellationToken) -> anyhow::Result<()> {
        let relay = self
            .relay
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
            .context("cases workers are already running")?;
        Workers::new(relay, self.bus.clone())
            .consume(self.subscription.clone(), self.handler.clone())
            .run(shutdown)
            .await
    }
}
