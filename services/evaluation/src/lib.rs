//! The evaluation service: a de-identified analytic data set fed by events, the baseline and
//! outcome analyses, and reports with disclosure control.
//!
//! - [`api`] — `wayfinder.evaluation.v1.EvaluationService` (program manager and evaluators):
//!   authorize, check the request, call [`app`], map to protobuf.
//! - [`app`] — the use cases: select the data set a scope sees and compute over it off the async
//!   workers, generate and store reports, rebuild the program data set, seed the synthetic cohort,
//!   store a consumed event.
//! - [`events`] — the consumer: coded events stored for folding, random study ids assigned.
//! - [`domain`] — pure: [`domain::dataset`] (one row per youth under a random study id, practice
//!   excluded), [`domain::outcome`] (time to first recidivism within 12 months, censored at last
//!   contact), [`domain::analysis`] (survival, competing risks, intervention bundles, landmark,
//!   retention, baseline, completeness, deadlines, partner responsiveness, the HMIS aggregate; each
//!   split by the scope's grouping; every count through `wf_stats::disclosure`),
//!   [`domain::catalog`] (which analyses each kind runs, and the groupings each kind takes);
//!   [`domain::report`] renders published tables and charts (HTML with inline SVG, CSV, JSON;
//!   re-exported as [`report`] for the command line).
//! - [`store`] — every SQL statement; no RPC returns the youth id → study id map.
//!
//! Time is read only from the service's clock (`ServiceContext::clock`).

pub mod api;
pub mod app;
pub mod domain;
pub mod events;
pub mod store;

use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use wf_db::{Db, MigrationSet};
use wf_events::{Relay, Subscription};
use wf_proto::evaluation::v1::evaluation_service_server::{EvaluationServiceServer, SERVICE_NAME};
use wf_server::{Component, ServiceContext, Workers};

pub use api::EvaluationApi;
pub use domain::report;
pub use events::EvaluationEvents;

/// The service name: its queue, its database schema, its inbox consumer.
pub const SERVICE: &str = "evaluation";

/// The wf-events tables plus the service's own (versions from 100).
pub fn migrations() -> MigrationSet {
    static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");
    static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
    let (events_postgres, events_sqlite) = wf_events::migrations();
    MigrationSet::new().with(events_postgres, events_sqlite).with(&POSTGRES, &SQLITE)
}

/// Migrates (when configured) and wires the service.
pub async fn build(ctx: ServiceContext) -> anyhow::Result<Arc<Evaluation>> {
    ctx.migrate_if_configured(&migrations()).await?;
    Ok(Arc::new(Evaluation { subscription: ctx.subscription(SERVICE), refusals: ctx.refusals(SERVICE), ctx }))
}

/// The evaluation service as a [`Component`].
pub struct Evaluation {
    ctx: ServiceContext,
    refusals: wf_server::Refusals,
    subscription: Subscription,
}

impl Evaluation {
    pub fn db(&self) -> &Db {
        &self.ctx.db
    }

    pub fn api(&self) -> EvaluationApi {
        EvaluationApi::new(self.ctx.db.clone(), self.ctx.clock.clone())
    }

    /// The consumer of the evaluation subscription (tests deliver events to it directly).
    pub fn handler(&self) -> EvaluationEvents {
        EvaluationEvents::new(self.ctx.db.clone(), self.ctx.clock.clone())
    }
}

#[async_trait::async_trait]
impl Component for Evaluation {
    fn name(&self) -> &'static str {
        SERVICE
    }

    fn grpc_service_names(&self) -> Vec<&'static str> {
        vec![SERVICE_NAME]
    }

    fn mount(&self, routes: &mut wf_server::Mount<'_>) {
        routes.add(EvaluationServiceServer::new(self.api()));
    }

    fn refusals(&self) -> wf_server::Refusals {
        self.refusals.clone()
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![self.subscription.clone()]
    }

    async fn run(self: Arc<Self>, shutdown: CancellationToken) -> anyhow::Result<()> {
        // Evaluation publishes nothing; its relay keeps the shape every service shares and is idle.
        let relay = Relay::new(SERVICE, self.ctx.db.clone(), self.ctx.bus.clone(), self.ctx.relay_options());
        Workers::new(relay, self.ctx.bus.clone())
            .consume(self.subscription.clone(), Arc::new(self.handler()))
            .run(shutdown)
            .await
    }
}
