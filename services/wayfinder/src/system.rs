//! Assembling services into a running process.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use wf_auth::{AuthGate, TokenKind, TokenVerifier};
use wf_config::Config;
use wf_db::Db;
use wf_events::{EventBus, InProcessBus, RabbitBus, RabbitConfig};
use wf_server::{Component, Server, ServiceContext, SubscriptionDefaults, Topology};

use crate::data_dir::DataDirAccess;

pub use wf_client::Endpoints;

/// A bound, not yet running, process.
pub struct System {
    server: Server,
    pub config: Arc<Config>,
    pub services: Vec<String>,
}

impl System {
    pub fn port(&self) -> u16 {
        self.server.port()
    }

    pub fn grpc_url(&self) -> String {
        format!("http://{}", self.server.local_addr())
    }

    /// Runs until `shutdown`; removes the endpoints file on the way out.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let endpoints_file = self.config.endpoints_file();
        let endpoints = Endpoints {
            grpc: self.grpc_url(),
            pid: std::process::id(),
            services: self.services.clone(),
            mode: if self.config.is_embedded() { "embedded" } else { "distributed" }.into(),
        };
        std::fs::write(&endpoints_file, serde_json::to_vec_pretty(&endpoints)?)
            .with_context(|| format!("writing {}", endpoints_file.display()))?;
        let result = self.server.run(shutdown).await;
        let _ = std::fs::remove_file(&endpoints_file);
        result
    }
}

/// Normalises service names ("all" = every service) and refuses unknown ones.
pub fn resolve_services(names: &[String]) -> anyhow::Result<Vec<&'static str>> {
    if names.is_empty() || names.iter().any(|n| n == "all") {
        return Ok(wf_config::SERVICES.to_vec());
    }
    names
        .iter()
        .map(|name| {
            wf_config::SERVICES.iter().copied().find(|s| s == name).ok_or_else(|| {
                anyhow::anyhow!("unknown service `{name}`; allowed: {}, all", wf_config::SERVICES.join(", "))
            })
        })
        .collect()
}

/// The verifier for incoming tokens: the configured public key, or the development key in the data folder.
pub fn token_verifier(config: &Config) -> anyhow::Result<TokenVerifier> {
    let (kid, public_pem) = match &config.auth.jwt_public_key_file {
        Some(path) => {
            let pem =
                std::fs::read(path).with_context(|| format!("reading auth.jwt_public_key_file {}", path.display()))?;
            (wf_auth::key_id_for(&pem)?, pem)
        }
        None => {
            let keys = wf_auth::load_or_create_dev_keypair(&config.keys_dir())?;
            (keys.kid.clone(), keys.public_pem.clone())
        }
    };
    Ok(TokenVerifier::new(
        vec![(kid, public_pem)],
        &config.auth.issuer,
        &config.auth.audience,
        &[TokenKind::User, TokenKind::Partner, TokenKind::Service],
    )?)
}

async fn open_bus(config: &Config) -> anyhow::Result<Arc<dyn EventBus>> {
    match &config.amqp_url {
        Some(url) => {
            let rabbit = RabbitConfig::new(url.expose().clone())
                .with_prefix(config.events.exchange.clone(), config.events.queue_prefix.clone());
            Ok(Arc::new(RabbitBus::connect(rabbit).await?))
        }
        None => {
            let db = Db::connect(&wf_db::sqlite_url_in(&config.data_dir, "bus.db")).await?;
            let (events_pg, events_sqlite) = wf_events::migrations();
            db.migrate(&wf_db::MigrationSet::new().with(events_pg, events_sqlite)).await?;
            Ok(Arc::new(InProcessBus::new(db)))
        }
    }
}

/// Opens `service`'s database (creating its PostgreSQL schema when needed).
pub async fn open_service_db(config: &Config, service: &str) -> anyhow::Result<Db> {
    if let Some(url) = &config.database_url {
        let admin = Db::connect(url.expose()).await?;
        sqlx_create_schema(&admin, service).await?;
        admin.close().await;
    }
    Ok(Db::connect(&config.database_url_for(service)).await?)
}

async fn sqlx_create_schema(db: &Db, schema: &str) -> anyhow::Result<()> {
    // The name comes from the fixed service list, never from input.
    wf_db::sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"")).execute(db.pool()).await?;
    Ok(())
}

/// Applies every migration of `services` (the `wayfinder migrate` command).
pub async fn migrate(config: &Config, services: &[&'static str]) -> anyhow::Result<()> {
    for service in services {
        let db = open_service_db(config, service).await?;
        db.migrate(&migrations_of(service)).await.with_context(|| format!("migrating {service}"))?;
        db.close().await;
        tracing::info!(service, "migrated");
    }
    Ok(())
}

fn migrations_of(service: &str) -> wf_db::MigrationSet {
    match service {
        "intake" => wf_intake::migrations(),
        "routing" => wf_routing::migrations(),
        "cases" => wf_cases::migrations(),
        "evaluation" => wf_evaluation::migrations(),
        _ => wf_audit::migrations(),
    }
}

async fn build_component(service: &str, ctx: ServiceContext) -> anyhow::Result<Arc<dyn Component>> {
    Ok(match service {
        "intake" => wf_intake::build(ctx).await?,
        "routing" => wf_routing::build(ctx).await?,
        "cases" => wf_cases::build(ctx).await?,
        "evaluation" => wf_evaluation::build(ctx).await?,
        _ => wf_audit::build(ctx).await?,
    })
}

/// Builds `services` into one process and binds its gRPC port, over a private data folder.
pub async fn build(config: Config, services: &[&'static str]) -> anyhow::Result<System> {
    build_with(config, services, DataDirAccess::Private).await
}

/// [`build`], with the data folder held to `access` (see [`crate::data_dir::prepare`]).
pub async fn build_with(config: Config, services: &[&'static str], access: DataDirAccess) -> anyhow::Result<System> {
    crate::data_dir::prepare(&config.data_dir, access)?;
    let config = Arc::new(config);
    let verifier = Arc::new(token_verifier(&config)?);
    let bus = open_bus(&config).await?;
    let mut components = Vec::new();
    for service in services {
        let db = open_service_db(&config, service).await?;
        let ctx = ServiceContext::new(db, bus.clone(), config.clone());
        components.push(build_component(service, ctx).await.with_context(|| format!("starting {service}"))?);
    }
    let topology = if config.amqp_url.is_some() { Topology::Full } else { Topology::Hosted };
    let server = Server::bind(
        config.grpc_addr,
        components,
        bus,
        AuthGate::new(verifier),
        topology,
        SubscriptionDefaults::from_config(&config.events),
    )
    .await
    .with_context(|| format!("binding gRPC address {}", config.grpc_addr))?;
    Ok(System { server, config, services: services.iter().map(|s| (*s).to_owned()).collect() })
}

/// The data folder a client command should look in.
pub fn data_dir_or_default(data_dir: Option<PathBuf>) -> PathBuf {
    data_dir.unwrap_or_else(|| PathBuf::from("./data"))
}
