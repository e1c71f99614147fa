//! The audit service: an append-only, hash-chained log of every event on the bus, including
//! every access to personal data (`record.accessed`), with queries for auditors and chain
//! verification.
//!
//! - [`events`] — the consumer; one entry per event, deduplicated by event id.
//! - [`app`] — the use cases: [`append()`] (one transaction), [`verify()`] (the whole-log check,
//!   also for the command line), the [`Checkpointer`] (signed checkpoints over an RFC 6962 Merkle
//!   root, every N entries or T seconds), Merkle proofs, exports and disclosure reports.
//! - [`workers`] — the checkpoint timer, joined by [`Audit`]'s `run`.
//! - [`domain`] — pure: the canonical entry encoding and hash chain ([`domain::chain`]),
//!   checkpoints and the Merkle tree, the offline export format ([`domain::export`], verified with
//!   the public key alone), disclosure reports, query validation.
//! - [`store`] — the SQL (the tables refuse UPDATE and DELETE by trigger), the JSON-lines copy of
//!   every checkpoint, and the checkpoint signing key ([`keys`]: configured, or a development key).
//! - [`api`] — `wayfinder.audit.v1.AuditService`.

pub mod api;
pub mod app;
pub mod domain;
pub mod events;
pub mod store;
pub mod workers;

use std::sync::Arc;

use anyhow::Context;
use domain::checkpoint::CheckpointSigner;
use tokio_util::sync::CancellationToken;
use wf_db::{Db, MigrationSet};
use wf_events::{Relay, Subscription};
use wf_proto::audit::v1::audit_service_server::AuditServiceServer;
use wf_server::{Component, ServiceContext, Workers};

pub use app::append::{Appended, append};
pub use app::checkpoints::{CheckpointPolicy, Checkpointer};
pub use app::verify::{BATCH_SIZE, VerifyOptions, verify, verify_range, verify_with};
pub use domain::chain::{ChainProblem, TamperKind, VerifyReport};
pub use domain::export;
pub use domain::export::CheckpointJson;
pub use events::AuditEvents;
pub use store::checkpoint_file::read_checkpoint_file;
pub use store::keys;

/// Short service name: its queue, its database schema, its relay's producer name.
pub const SERVICE: &str = "audit";

/// The shared outbox/inbox tables plus the audit log (versions 100 and up).
pub fn migrations() -> MigrationSet {
    static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");
    static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
    let (events_postgres, events_sqlite) = wf_events::migrations();
    MigrationSet::new().with(events_postgres, events_sqlite).with(&POSTGRES, &SQLITE)
}

/// Builds the service over `ctx`, migrating its database when the configuration asks for it.
pub async fn build(ctx: ServiceContext) -> anyhow::Result<Arc<Audit>> {
    let audit = &ctx.config.audit;
    let policy = CheckpointPolicy {
        every_entries: audit.checkpoint_every_entries,
        every: std::time::Duration::from_secs(audit.checkpoint_every_seconds),
        file: Some(
            audit
                .checkpoint_file
                .clone()
                .unwrap_or_else(|| ctx.config.data_dir.join(CheckpointPolicy::DEFAULT_FILE_NAME)),
        ),
    };
    build_with(ctx, policy).await
}

/// [`build`] with an explicit checkpoint policy (tests make checkpoints often).
pub async fn build_with(ctx: ServiceContext, policy: CheckpointPolicy) -> anyhow::Result<Arc<Audit>> {
    ctx.migrate_if_configured(&migrations()).await?;
    let signer = Arc::new(keys::signer_from_config(&ctx.config)?);
    Ok(Arc::new(Audit { refusals: ctx.refusals(SERVICE), ctx, signer, policy }))
}

/// The audit service as a [`Component`].
pub struct Audit {
    ctx: ServiceContext,
    refusals: wf_server::Refusals,
    signer: Arc<CheckpointSigner>,
    policy: CheckpointPolicy,
}

impl Audit {
    pub fn db(&self) -> &Db {
        &self.ctx.db
    }

    /// The checkpoint maker this service runs.
    pub fn checkpointer(&self) -> Checkpointer {
        Checkpointer::new(self.ctx.db.clone(), self.signer.clone(), self.policy.clone(), self.ctx.clock.clone())
    }

    /// The event handler the consumer runs; exposed so tests can deliver events directly.
    pub fn handler(&self) -> AuditEvents {
        AuditEvents::new(self.ctx.db.clone(), self.ctx.clock.clone())
    }
}

#[async_trait::async_trait]
impl Component for Audit {
    fn name(&self) -> &'static str {
        SERVICE
    }

    fn grpc_service_names(&self) -> Vec<&'static str> {
        vec![wf_proto::audit::v1::audit_service_server::SERVICE_NAME]
    }

    fn mount(&self, routes: &mut wf_server::Mount<'_>) {
        routes.add(AuditServiceServer::new(api::AuditApi::new(
            self.ctx.db.clone(),
            self.signer.verifier(),
            self.ctx.clock.clone(),
        )));
    }

    fn refusals(&self) -> wf_server::Refusals {
        self.refusals.clone()
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![self.ctx.subscription(SERVICE)]
    }

    async fn run(self: Arc<Self>, shutdown: CancellationToken) -> anyhow::Result<()> {
        // Audit publishes nothing yet; its relay keeps the shape every service shares and is idle.
        let relay = Relay::new(SERVICE, self.ctx.db.clone(), self.ctx.bus.clone(), self.ctx.relay_options());
        // A child token: the checkpoint worker also stops when the consumers fail, without
        // stopping anything else; it is joined before `run` returns.
        let stop = shutdown.child_token();
        let checkpoints = tokio::spawn(workers::checkpoints::run(self.checkpointer(), stop.clone()));
        let consumers = Workers::new(relay, self.ctx.bus.clone())
            .consume(self.ctx.subscription(SERVICE), Arc::new(self.handler()))
            .run(shutdown)
            .await;
        stop.cancel();
        checkpoints.await.context("audit checkpoint worker")?;
        consumers
    }
}
