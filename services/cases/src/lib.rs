//! The cases service: the case-manager roster and assignment, and the case record.
//!
//! A routed referral (`referral.routed`, after its facts arrived in `referral.received`) joins the
//! youth's open case (a youth has one), or reopens a returning youth's closed one, or opens a case
//! and assigns it (earlier case manager first, then the least loaded eligible one), announcing
//! `case.assigned`; when nobody eligible has room the case waits in the supervisors' queue. `CaseService` keeps the case record: lifecycle,
//! reassignment, plan goals, interventions, follow-ups (with a clock-driven worker), recidivism
//! events and notes. Handlers (`api`), consumers (`events`) and the follow-up worker (`workers`)
//! call the use cases in `app`, which own the transactions; `domain` holds the rules and `store`
//! the SQL. Time comes only from the context's clock. See README.md.

pub mod api;
pub mod app;
pub mod domain;
pub mod events;
pub mod store;
pub mod workers;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use wf_db::{Db, MigrationSet};
use wf_events::{EventBus, Relay, Subscription};
use wf_proto::cases::v1::case_service_server::{CaseServiceServer, SERVICE_NAME};
use wf_server::{Component, ServiceContext, Workers};
use wf_types::SharedClock;

pub use api::CasesApi;
pub use app::App;
pub use app::follow_ups::SweepReport;
pub use domain::Roster;
pub use events::{CaseEvents, MatchOutcome, RoutedOutcome};

pub(crate) use wf_proto::time::timestamp_from_micros as timestamp;

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

/// What tests vary besides the clock (which comes from the [`ServiceContext`]).
#[derive(Debug, Clone)]
pub struct Options {
    /// How often the follow-up worker looks for due and overdue follow-ups.
    pub follow_up_interval: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self { follow_up_interval: workers::follow_ups::INTERVAL }
    }
}

/// Migrates (when configured), loads the roster and wires the service on the context's clock.
pub async fn build(ctx: ServiceContext) -> anyhow::Result<Arc<Cases>> {
    build_with(ctx, Options::default()).await
}

/// [`build`] with given options (tests pass a short follow-up interval).
pub async fn build_with(ctx: ServiceContext, options: Options) -> anyhow::Result<Arc<Cases>> {
    ctx.migrate_if_configured(&migrations()).await?;
    let roster = load_roster(ctx.config.roster_file.as_deref())?;
    // The database holds the roster from here on (edits through the API persist there); the
    // file adds its entries and refreshes those nobody edited through the API.
    let seeded = store::roster::seed(&ctx.db, &roster, ctx.clock.now_micros())
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
    let refusals = ctx.refusals(SERVICE);
    let note_keys = Arc::new(app::sealing::note_keys(&ctx.config)?);
    app::sealing::seal_plaintext_notes(&ctx.db, &note_keys.current(), 500)
        .await
        .context("sealing case notes stored in the clear")?;
    let app = App::new(ctx.db.clone(), relay.handle(), ctx.clock.clone())
        .with_note_keys(note_keys)
        .with_refusals(refusals.clone());
    Ok(Arc::new(Cases {
        refusals,
        api: CasesApi::new(app.clone()),
        handler: Arc::new(CaseEvents::new(app.clone())),
        app,
        follow_up_interval: options.follow_up_interval,
        subscription: ctx.subscription(SERVICE),
        bus: ctx.bus,
        relay: Mutex::new(Some(relay)),
    }))
}

/// The cases service as a [`Component`].
pub struct Cases {
    app: App,
    refusals: wf_server::Refusals,
    bus: Arc<dyn EventBus>,
    api: CasesApi,
    handler: Arc<CaseEvents>,
    follow_up_interval: Duration,
    subscription: Subscription,
    /// Taken by the first `run`; the relay's handle stays with the use cases.
    relay: Mutex<Option<Relay>>,
}

impl Cases {
    pub fn db(&self) -> &Db {
        self.app.db()
    }

    pub fn clock(&self) -> &SharedClock {
        &self.app.clock
    }

    /// The use cases, as the API, the consumers and the worker call them.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// The roster as stored now (the file's entries plus edits through the API).
    pub async fn roster(&self) -> Result<Roster, wf_db::DbError> {
        store::roster::load(self.app.db()).await
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

    fn mount(&self, routes: &mut wf_server::Mount<'_>) {
        routes.add(CaseServiceServer::new(self.api.clone()));
    }

    fn refusals(&self) -> wf_server::Refusals {
        self.refusals.clone()
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![self.subscription.clone()]
    }

    /// Consumes, relays and sweeps follow-ups until `shutdown`, and returns once the consumer,
    /// the relay and the follow-up worker have all finished.
    async fn run(self: Arc<Self>, shutdown: CancellationToken) -> anyhow::Result<()> {
        let Some(relay) = self.relay.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take() else {
            anyhow::bail!("cases workers are already running");
        };
        let follow_ups =
            tokio::spawn(workers::follow_ups::run(self.app.clone(), self.follow_up_interval, shutdown.clone()));
        let consumed = Workers::new(relay, self.bus.clone())
            .consume(self.subscription.clone(), self.handler.clone())
            .run(shutdown)
            .await;
        follow_ups.await.context("follow-up worker")?;
        consumed
    }
}
