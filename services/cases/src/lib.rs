//! The cases service: the case-manager roster and assignment, and the case record.
//!
//! A routed referral (`referral.routed`, after its facts arrived in `referral.received`) opens a
//! case — or reopens a returning youth's closed one — and assigns it (earlier case manager first,
//! then the least loaded eligible one), announcing `case.assigned`; when nobody eligible has room
//! the case waits in the supervisors' queue. `CaseService` keeps the case record: lifecycle,
//! reassignment, plan goals, interventions, follow-ups (with a clock-driven worker), recidivism
//! events and notes. See README.md.

pub mod api;
pub mod clock;
pub mod domain;
pub mod events;
pub mod follow_ups;
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

/// What production fixes and tests vary.
#[derive(Debug, Clone)]
pub struct Options {
    pub clock: Arc<dyn clock::Clock>,
    /// How often the follow-up worker looks for due and overdue follow-ups.
    pub follow_up_interval: std::time::Duration,
}

impl Default for Options {
    fn default() -> Self {
        // Follow-ups fall due by the day: a minute's delay is of no consequence.
        Self { clock: Arc::new(clock::SystemClock), follow_up_interval: std::time::Duration::from_secs(60) }
    }
}

/// Migrates (when configured), loads the roster and wires the service on the system clock.
pub async fn build(ctx: ServiceContext) -> anyhow::Result<Arc<Cases>> {
    build_with(ctx, Options::default()).await
}

/// [`build`] with given options (tests pass a [`clock::TestClock`] and a short interval).
pub async fn build_with(ctx: ServiceContext, options: Options) -> anyhow::Result<Arc<Cases>> {
    let Options { clock, follow_up_interval } = options;
    ctx.migrate_if_configured(&migrations()).await?;
    let roster = load_roster(ctx.config.roster_file.as_deref())?;
    // The database holds the roster from here on (edits through the API persist there); the
    // file adds its entries and refreshes those nobody edited through the API.
    let seeded = store::roster::seed(&ctx.db, &roster, clock.now_micros())
        .await
        .context("writing the roster file's entries to the database")?;
    tracing::info!(
        case_managers = roster.case_managers().len(),
        supervisors = roster.supervisors().len(),
        demo = ctx.config.roster_file.is_none(),
        written = seeded.written,
        kept_api_edits = seeded.kept_api_edits,
        "roster loaded"
    );
    let relay = Relay::new(SERVICE, ctx.db.clone(), ctx.bus.clone(), ctx.relay_options());
    let handler = Arc::new(CaseEvents::new(ctx.db.clone(), relay.handle(), clock.clone()));
    let follow_ups = follow_ups::FollowUpWorker::new(ctx.db.clone(), clock.clone(), relay.handle(), follow_up_interval);
    Ok(Arc::new(Cases {
        follow_ups,
        api: CasesApi::new(ctx.db.clone(), relay.handle(), clock.clone()),
        subscription: ctx.subscription(SERVICE),
        db: ctx.db,
        bus: ctx.bus,
        clock,
        handler,
        relay: Mutex::new(Some(relay)),
    }))
}

/// The cases service as a [`Component`].
pub struct Cases {
    db: Db,
    bus: Arc<dyn EventBus>,
    clock: Arc<dyn clock::Clock>,
    follow_ups: follow_ups::FollowUpWorker,
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

    pub fn clock(&self) -> &Arc<dyn clock::Clock> {
        &self.clock
    }

    /// The roster as stored now (the file's entries plus edits through the API).
    pub async fn roster(&self) -> Result<Roster, wf_db::DbError> {
        store::roster::load(&self.db).await
    }

    /// The gRPC service, for callers that mount it themselves or call it in process.
    pub fn api(&self) -> CasesApi {
        self.api.clone()
    }

    /// The follow-up worker (its `sweep` is what `run` repeats).
    pub fn follow_up_worker(&self) -> &follow_ups::FollowUpWorker {
        &self.follow_ups
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
        let workers = Workers::new(relay, self.bus.clone())
            .consume(self.subscription.clone(), self.handler.clone())
            .run(shutdown.clone());
        let (outcome, ()) = tokio::join!(workers, self.follow_ups.clone().run(shutdown));
        outcome
    }
}
