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

use crate::data_dir::{DataDirAccess, RunLock};

pub use wf_client::Endpoints;

/// A bound, not yet running, process.
pub struct System {
    server: Server,
    pub config: Arc<Config>,
    pub services: Vec<String>,
    /// Where intake's hotline webhook listens, when this process hosts intake.
    webhook_addr: Option<std::net::SocketAddr>,
    /// The staff web application, when this process hosts the gateway.
    gateway: Option<Arc<wf_gateway::Gateway>>,
    /// Embedded: this process owns the data folder until it has stopped.
    _lock: Option<RunLock>,
}

impl System {
    pub fn port(&self) -> u16 {
        self.server.port()
    }

    pub fn grpc_url(&self) -> String {
        format!("http://{}", self.server.local_addr())
    }

    /// The hotline webhook's URL (`POST`), when this process hosts intake.
    pub fn webhook_url(&self) -> Option<String> {
        self.webhook_addr.map(|addr| format!("http://{addr}{}", wf_intake::webhook::PATH))
    }

    /// The staff web application's address, when this process hosts the gateway.
    pub fn web_url(&self) -> Option<String> {
        self.gateway.as_ref().map(|gateway| gateway.public_origin().to_owned())
    }

    /// The gateway this process hosts, if it does (local accounts, the demo's sign-ins).
    pub fn gateway(&self) -> Option<&Arc<wf_gateway::Gateway>> {
        self.gateway.as_ref()
    }

    /// What `endpoints.json` records while this process runs.
    pub fn endpoints(&self) -> Endpoints {
        Endpoints {
            grpc: self.grpc_url(),
            webhook: self.webhook_url(),
            web: self.web_url(),
            pid: std::process::id(),
            services: self.services.clone(),
            mode: if self.config.is_embedded() { "embedded" } else { "distributed" }.into(),
        }
    }

    /// Runs until `shutdown`; removes the endpoints file on the way out (and then releases the
    /// data folder).
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let endpoints_file = self.config.endpoints_file();
        std::fs::write(&endpoints_file, serde_json::to_vec_pretty(&self.endpoints())?)
            .with_context(|| format!("writing {}", endpoints_file.display()))?;
        let Self { server, _lock: lock, .. } = self;
        let result = server.run(shutdown).await;
        let _ = std::fs::remove_file(&endpoints_file);
        drop(lock);
        result
    }
}

/// What a process can run: every service, and the gateway (the staff web application, which
/// calls them over gRPC).
pub const COMPONENTS: [&str; 6] = ["intake", "routing", "cases", "audit", "evaluation", "gateway"];

/// Normalises component names ("all" = every service and the gateway) and refuses unknown ones.
pub fn resolve_services(names: &[String]) -> anyhow::Result<Vec<&'static str>> {
    if names.is_empty() || names.iter().any(|n| n == "all") {
        return Ok(COMPONENTS.to_vec());
    }
    names
        .iter()
        .map(|name| {
            COMPONENTS
                .iter()
                .copied()
                .find(|s| s == name)
                .ok_or_else(|| anyhow::anyhow!("unknown service `{name}`; allowed: {}, all", COMPONENTS.join(", ")))
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

/// Opens the database of `service` that a running system (or `wayfinder migrate`) made, for a
/// command that reads or changes what is stored there. Embedded, a data folder that does not exist
/// or holds no such database is an error naming the folder and how to create it, rather than
/// SQLite's "unable to open database file" (or an empty database made on the spot).
pub async fn open_existing_service_db(config: &Config, service: &str) -> anyhow::Result<Db> {
    require_service_db(config, service)?;
    open_service_db(config, service).await
}

/// Embedded: the data folder and `service`'s database in it exist (see [`open_existing_service_db`]).
pub fn require_service_db(config: &Config, service: &str) -> anyhow::Result<()> {
    if config.database_url.is_none() {
        let dir = config.data_dir.display();
        if !config.data_dir.is_dir() {
            anyhow::bail!(
                "the data folder {dir} does not exist: start the system once with `wayfinder up --data-dir {dir}` \
                 (or create its databases with `wayfinder migrate --data-dir {dir}`), or name a PostgreSQL \
                 database with --database-url"
            );
        }
        let file = config.data_dir.join(format!("{service}.db"));
        if !file.is_file() {
            anyhow::bail!(
                "the data folder {dir} holds no {service} database ({}): start the system once with \
                 `wayfinder up --data-dir {dir}` (or `wayfinder migrate --data-dir {dir}`), or pass the \
                 --data-dir that holds it",
                file.display()
            );
        }
    }
    Ok(())
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
        "gateway" => wf_gateway::migrations(),
        _ => wf_audit::migrations(),
    }
}

/// A built component, with what the process needs of the two that listen beside the gRPC port.
enum Built {
    Service(Arc<dyn Component>),
    /// Intake, and where its hotline webhook listens.
    Intake(Arc<dyn Component>, std::net::SocketAddr),
    Gateway(Arc<wf_gateway::Gateway>),
}

async fn build_component(service: &str, ctx: ServiceContext) -> anyhow::Result<Built> {
    Ok(match service {
        "intake" => {
            let intake = wf_intake::build(ctx).await?;
            let webhook = intake.webhook_addr();
            Built::Intake(intake, webhook)
        }
        "routing" => Built::Service(wf_routing::build(ctx).await?),
        "cases" => Built::Service(wf_cases::build(ctx).await?),
        "evaluation" => Built::Service(wf_evaluation::build(ctx).await?),
        "gateway" => Built::Gateway(wf_gateway::build(ctx).await?),
        _ => Built::Service(wf_audit::build(ctx).await?),
    })
}

/// Builds `services` into one process and binds its gRPC port, over a private data folder.
pub async fn build(config: Config, services: &[&'static str]) -> anyhow::Result<System> {
    build_with(config, services, DataDirAccess::Private).await
}

/// [`build`], with the data folder held to `access` (see [`crate::data_dir::prepare`]).
/// An embedded system owns its data folder (SQLite files, the in-process bus): a second one on
/// the same folder is refused before it opens anything, naming the one that runs.
pub async fn build_with(config: Config, services: &[&'static str], access: DataDirAccess) -> anyhow::Result<System> {
    crate::data_dir::prepare(&config.data_dir, access)?;
    let lock = if config.is_embedded() { Some(crate::data_dir::lock_for_running(&config.data_dir)?) } else { None };
    let config = Arc::new(config);
    let verifier = Arc::new(token_verifier(&config)?);
    let bus = open_bus(&config).await?;
    let mut components: Vec<Arc<dyn Component>> = Vec::new();
    let (mut webhook_addr, mut gateway) = (None, None);
    for service in services {
        let db = open_service_db(&config, service).await?;
        let ctx = ServiceContext::new(db, bus.clone(), config.clone());
        match build_component(service, ctx).await.with_context(|| format!("starting {service}"))? {
            Built::Service(component) => components.push(component),
            Built::Intake(component, webhook) => {
                components.push(component);
                webhook_addr = Some(webhook);
            }
            Built::Gateway(built) => {
                components.push(built.clone());
                gateway = Some(built);
            }
        }
    }
    // The gateway alone needs to be told where the services are; beside them it uses this process.
    let hosts_services = services.iter().any(|service| *service != "gateway");
    if gateway.is_some() && !hosts_services {
        check_gateway_upstreams(&config)?;
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
    .map_err(|err| {
        let addr = config.grpc_addr;
        let hint = if err.kind() == std::io::ErrorKind::AddrInUse {
            " (another program listens there; choose a free address with --grpc-addr, port 0 picks one)"
        } else {
            ""
        };
        anyhow::Error::new(err).context(format!("cannot listen on the gRPC address {addr} (grpc_addr){hint}"))
    })?;
    if let Some(gateway) = &gateway
        && config.gateway.upstream_url.is_none()
    {
        gateway.set_upstream(&format!("http://{}", server.local_addr()))?;
    }
    let services = services.iter().map(|s| (*s).to_owned()).collect();
    Ok(System { server, config, services, webhook_addr, gateway, _lock: lock })
}

/// The gateway without the services in its process must have an address for each of them: its own
/// (`gateway.upstreams.<service>`) or the shared `gateway.upstream_url`.
fn check_gateway_upstreams(config: &Config) -> anyhow::Result<()> {
    let missing = config.gateway.services_without_upstream();
    if missing.is_empty() {
        return Ok(());
    }
    let keys: Vec<String> = missing
        .iter()
        .map(|service| {
            format!("gateway.upstreams.{service} (WAYFINDER_GATEWAY__UPSTREAMS__{})", service.to_uppercase())
        })
        .collect();
    anyhow::bail!(
        "the gateway runs here without the services and has no address for {}: set gateway.upstream_url \
         (WAYFINDER_GATEWAY__UPSTREAM_URL) to the services' gRPC address, e.g. http://127.0.0.1:50051, or each \
         service's own: {}",
        missing.join(", "),
        keys.join(", ")
    )
}

/// The data folder a client command should look in.
pub fn data_dir_or_default(data_dir: Option<PathBuf>) -> PathBuf {
    data_dir.unwrap_or_else(|| PathBuf::from("./data"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A configuration over a new data folder, with `settings` (key, value) on top.
    fn config_in(dir: &std::path::Path, settings: &[(&str, &str)]) -> Config {
        let mut figment = Config::defaults_only(dir).merge(("grpc_addr", "127.0.0.1:0"));
        for (key, value) in settings {
            figment = figment.merge((*key, *value));
        }
        Config::from_figment(figment).expect("test configuration")
    }

    const EVERY_SERVICE_APART: [(&str, &str); 5] = [
        ("gateway.upstreams.intake", "http://intake:50051"),
        ("gateway.upstreams.routing", "http://routing:50051"),
        ("gateway.upstreams.cases", "http://cases:50051"),
        ("gateway.upstreams.audit", "http://audit:50051"),
        ("gateway.upstreams.evaluation", "http://evaluation:50051"),
    ];

    #[tokio::test]
    async fn the_gateway_alone_starts_with_an_address_for_every_service() {
        let dir = tempfile::tempdir().expect("temp dir");
        let system = build(config_in(&dir.path().join("apart"), &EVERY_SERVICE_APART), &["gateway"]).await;
        assert!(system.is_ok(), "{:?}", system.err());
        drop(system);

        let shared = [("gateway.upstream_url", "http://services:50051")];
        let system = build(config_in(&dir.path().join("shared"), &shared), &["gateway"]).await;
        assert!(system.is_ok(), "{:?}", system.err());
        drop(system);

        // Some of their own, the rest at the shared address.
        let mixed = [("gateway.upstream_url", "http://services:50051"), EVERY_SERVICE_APART[0]];
        let system = build(config_in(&dir.path().join("mixed"), &mixed), &["gateway"]).await;
        assert!(system.is_ok(), "{:?}", system.err());
    }

    #[tokio::test]
    async fn the_gateway_alone_is_refused_naming_each_service_it_has_no_address_for() {
        let dir = tempfile::tempdir().expect("temp dir");
        let err = build(config_in(&dir.path().join("none"), &[]), &["gateway"]).await.err().expect("refused");
        let said = format!("{err:#}");
        assert!(said.contains("no address for intake, routing, cases, audit, evaluation"), "{said}");
        assert!(said.contains("gateway.upstream_url (WAYFINDER_GATEWAY__UPSTREAM_URL)"), "{said}");

        let some = &EVERY_SERVICE_APART[..3];
        let err = build(config_in(&dir.path().join("some"), some), &["gateway"]).await.err().expect("refused");
        let said = format!("{err:#}");
        assert!(said.contains("no address for audit, evaluation:"), "{said}");
        assert!(said.contains("gateway.upstreams.audit (WAYFINDER_GATEWAY__UPSTREAMS__AUDIT)"), "{said}");
        assert!(!said.contains("gateway.upstreams.intake"), "{said}");
    }
}
