//! The audit service: an append-only, hash-chained log of every event on the bus, including
//! every access to personal data (`record.accessed`), with queries for auditors and chain
//! verification.
//!
//! - [`events`] — the consumer; one entry per event, deduplicated by event id.
//! - [`domain::chain`] — the canonical entry encoding, the hash chain and tamper detection.
//! - [`store`] — the SQL; the tables refuse UPDATE and DELETE by trigger.
//! - [`api`] — `wayfinder.audit.v1.AuditService`.
//! - [`verify()`] — the whole-log check, also for the command line.
//! - [`checkpoints`] — signed checkpoints over an RFC 6962 Merkle root ([`domain::merkle`]),
//!   every N entries or T seconds, stored and copied to a JSON-lines file.
//! - [`keys`] — the checkpoint signing key (configured, or a development key).
//! - [`export`] — a range with its checkpoint as JSON, verified offline with the public key alone.
//! - [`domain::disclosure`] — the per-youth disclosure report (CSV, HTML).

pub mod api;
pub mod checkpoint_store;
pub mod checkpoints;
pub mod domain;
pub mod events;
pub mod export;
pub mod keys;
pub mod store;
mod verify;

use std::sync::Arc;

use domain::checkpoint::CheckpointSigner;
use tokio_util::sync::CancellationToken;
use tonic::service::RoutesBuilder;
use wf_auth::AuthInterceptor;
use wf_db::{Db, MigrationSet};
use wf_events::{Relay, Subscription};
use wf_proto::audit::v1::audit_service_server::AuditServiceServer;
use wf_server::{Component, ServiceContext, Workers};

pub use checkpoints::{CheckpointPolicy, Checkpointer};
pub use domain::chain::{ChainProblem, TamperKind, VerifyReport};
pub use events::{Appended, AuditEvents, append};
pub use verify::{BATCH_SIZE, VerifyOptions, verify, verify_range, verify_with};

/// Short service name: its queue, its database schema, its relay's producer name.
pub const SERVICE_NAME: &str = "audit";

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
    Ok(Arc::new(Audit { ctx, signer, policy }))
}

/// The audit service as a [`Component`].
pub struct Audit {
    ctx: ServiceContext,
    signer: Arc<CheckpointSigner>,
    policy: CheckpointPolicy,
}

impl Audit {
    pub fn db(&self) -> &Db {
        &self.ctx.db
    }

    /// The checkpoint maker this service runs.
    pub fn checkpointer(&self) -> Checkpointer {
        Checkpointer::new(self.ctx.db.clone(), self.signer.clone(), self.policy.clone())
    }

    /// The event handler the consumer runs; exposed so tests can deliver events directly.
    pub fn handler(&self) -> AuditEvents {
        AuditEvents::new(self.ctx.db.clone())
    }
}

#[async_trait::async_trait]
impl Component for Audit {
    fn name(&self) -> &'static str {
        SERVICE_NAME
    }

    fn grpc_service_names(&self) -> Vec<&'static str> {
        vec!["wayfinder.audit.v1.AuditService"]
    }

    fn mount(&self, routes: &mut RoutesBuilder, auth: AuthInterceptor) {
        routes.add_service(AuditServiceServer::with_interceptor(
            api::AuditApi::new(self.ctx.db.clone(), self.signer.verifier()),
            auth,
        ));
    }

    fn subscriptions(&self) -> Vec<Subscription> {
        vec![self.ctx.subscription(SERVICE_NAME)]
    }

    async fn run(self: Arc<Self>, shutdown: CancellationToken) -> anyhow::Result<()> {
        // Audit publishes nothing yet; its relay keeps the shape every service shares and is idle.
        let relay = Relay::new(SERVICE_NAME, self.ctx.db.clone(), self.ctx.bus.clone(), self.ctx.relay_options());
        // A child token: the checkpointer stops with the workers without stopping anything else.
        let stop = shutdown.child_token();
        let checkpointer = tokio::spawn(self.checkpointer().run(stop.clone()));
        let workers = Workers::new(relay, self.ctx.bus.clone())
            .consume(self.ctx.subscription(SERVICE_NAME), Arc::new(self.handler()))
            .run(shutdown)
            .await;
        stop.cancel();
        checkpointer.await??;
        workers
    }
}
