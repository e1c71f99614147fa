//! Test plumbing shared by every crate's integration tests: each test gets a
//! database of its own ([`TestDatabase`], PostgreSQL or SQLite) and a RabbitMQ
//! exchange and queue prefix of its own ([`TestBroker`]), both removed when the
//! test ends; and development tokens ([`TestTokens`]). The local services are
//! found through `WF_TEST_DATABASE_URL` and `WF_TEST_AMQP_URL` (defaults: the
//! machine's PostgreSQL and RabbitMQ on 127.0.0.1); tests that need them fail,
//! never skip, when they are down.

mod collector;
mod server;

use std::path::Path;
use std::time::Duration;

use wf_auth::{Role, TokenIssuer, TokenKind};
use wf_db::Db;
use wf_events::RabbitConfig;

pub use collector::{Collector, eventually};
pub use server::{AuthedChannel, TestServer, TestService};

pub fn postgres_url() -> String {
    std::env::var("WF_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

pub fn amqp_url() -> String {
    std::env::var("WF_TEST_AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

fn unique_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Which engine a [`TestDatabase`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A database that exists for one test: a fresh PostgreSQL database (dropped on
/// drop) or a SQLite file in a temporary folder (deleted on drop).
pub struct TestDatabase {
    url: String,
    postgres_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub async fn new(engine: Engine) -> Self {
        match engine {
            Engine::Sqlite => Self::sqlite(),
            Engine::Postgres => Self::postgres().await,
        }
    }

    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary folder for SQLite");
        Self { url: wf_db::sqlite_url_in(dir.path(), "test.db"), postgres_name: None, _dir: Some(dir) }
    }

    /// Panics with what to do when PostgreSQL does not answer.
    pub async fn postgres() -> Self {
        let admin_url = postgres_url();
        let admin = Db::connect(&admin_url).await.unwrap_or_else(|err| {
            panic!("PostgreSQL must answer at {} for this test: {err}", wf_db::redact_url(&admin_url))
        });
        let name = format!("t_{}", unique_suffix());
        wf_db::sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(admin.pool())
            .await
            .expect("create test database");
        admin.close().await;
        let base = &admin_url[..admin_url.rfind('/').expect("database url has a path")];
        Self { url: format!("{base}/{name}"), postgres_name: Some(name), _dir: None }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn engine(&self) -> Engine {
        if self.postgres_name.is_some() { Engine::Postgres } else { Engine::Sqlite }
    }

    /// Connects with a small pool (the PostgreSQL server is shared with other suites running at
    /// the same time), riding out a moment of "too many clients".
    pub async fn connect(&self) -> Db {
        let options = wf_db::DbOptions { max_connections: 5, acquire_timeout: Duration::from_secs(30) };
        let mut attempt = 0;
        loop {
            match Db::connect_with(&self.url, options.clone()).await {
                Ok(db) => {
                    // A test written for both engines must really run on the one it names.
                    let expected = if self.engine() == Engine::Postgres {
                        wf_db::Backend::Postgres
                    } else {
                        wf_db::Backend::Sqlite
                    };
                    assert_eq!(db.backend(), expected, "the test database runs on the engine the test names");
                    return db;
                }
                Err(err) if attempt < 20 => {
                    attempt += 1;
                    eprintln!("connecting to the test database failed ({err}), retrying");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(err) => panic!("cannot connect to the test database {}: {err}", wf_db::redact_url(&self.url)),
            }
        }
    }

    /// Connects and applies `migrations`.
    pub async fn migrated(&self, migrations: &wf_db::MigrationSet) -> Db {
        let db = self.connect().await;
        db.migrate(migrations).await.expect("migrations apply");
        db
    }
}

impl TestDatabase {
    /// Removes the database now, reporting a failure that drop passes over in silence (for a suite
    /// that checks its own cleanup). A SQLite file goes with its folder.
    pub async fn remove(mut self) -> Result<(), String> {
        match self.postgres_name.take() {
            Some(name) => drop_postgres_database(&name).await,
            None => Ok(()),
        }
    }
}

async fn drop_postgres_database(name: &str) -> Result<(), String> {
    let admin = Db::connect(&postgres_url()).await.map_err(|err| err.to_string())?;
    let dropped = wf_db::sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(admin.pool())
        .await
        .map_err(|err| format!("drop {name}: {err}"));
    admin.close().await;
    dropped.map(|_| ())
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(name) = self.postgres_name.take() else { return };
        // Drop runs outside any runtime guarantee: use a thread with its own runtime.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(drop_postgres_database(&name)).ok()
        })
        .join();
    }
}

/// Writes one test body for both engines:
/// `both_engines!(stores_a_referral, |engine| async move { … })` defines
/// `stores_a_referral_on_sqlite` and `stores_a_referral_on_postgres`.
#[macro_export]
macro_rules! both_engines {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                ($body)($crate::Engine::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                ($body)($crate::Engine::Postgres).await
            }
        }
    };
}

/// An exchange and queue prefix of one test's own on the local broker; its
/// queues and exchanges are deleted on drop.
pub struct TestBroker {
    pub config: RabbitConfig,
    /// None once removed.
    services: Option<Vec<String>>,
}

impl TestBroker {
    /// `services` are the consuming services whose queues the test may create.
    pub fn new(services: &[&str]) -> Self {
        let prefix = format!("t{}", unique_suffix());
        let mut config = RabbitConfig::new(amqp_url()).with_prefix(format!("{prefix}.events"), prefix);
        config.confirm_timeout = Duration::from_secs(10);
        config.reconnect_backoff =
            wf_events::Backoff { initial: Duration::from_millis(100), max: Duration::from_secs(1) };
        Self { config, services: Some(services.iter().map(|s| (*s).to_owned()).collect()) }
    }

    /// Deletes the queues and exchanges now, reporting a failure that drop passes over in silence.
    pub async fn remove(mut self) -> Result<(), wf_events::BusError> {
        let services = self.services.take().unwrap_or_default();
        let services: Vec<&str> = services.iter().map(String::as_str).collect();
        wf_events::rabbitmq::delete_topology(&self.config, &services).await
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        let Some(services) = self.services.take() else { return };
        let config = self.config.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            let services: Vec<&str> = services.iter().map(String::as_str).collect();
            runtime.block_on(wf_events::rabbitmq::delete_topology(&config, &services)).ok()
        })
        .join();
    }
}

/// Messages ready in `queue` on the broker of `config` (a passive declare: unacknowledged ones are not
/// counted). Panics when the queue does not exist.
pub async fn ready_count(config: &RabbitConfig, queue: &str) -> u32 {
    use lapin::options::QueueDeclareOptions;
    let connection = lapin::Connection::connect(&config.url, lapin::ConnectionProperties::default())
        .await
        .expect("connect to RabbitMQ");
    let channel = connection.create_channel().await.expect("channel");
    let count = channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions { passive: true, ..Default::default() },
            lapin::types::FieldTable::default(),
        )
        .await
        .unwrap_or_else(|err| panic!("passive declare of {queue}: {err}"))
        .message_count();
    let _ = connection.close(200, "OK".into()).await;
    count
}

/// Mints tokens from a development key pair in `dir`.
pub struct TestTokens {
    issuer: TokenIssuer,
}

impl TestTokens {
    pub fn in_dir(dir: &Path) -> Self {
        let keys = wf_auth::load_or_create_dev_keypair(dir).expect("development keys");
        Self { issuer: TokenIssuer::from_pem(&keys.private_pem, &keys.kid, "wayfinder", "wayfinder").expect("issuer") }
    }

    pub fn user(&self, role: Role) -> String {
        self.issuer
            .issue(TokenKind::User, &format!("test-{role}"), role, None, Duration::from_secs(600))
            .expect("token")
    }

    pub fn partner(&self, partner_id: &str) -> String {
        self.issuer
            .issue(TokenKind::Partner, "test-partner", Role::Partner, Some(partner_id), Duration::from_secs(600))
            .expect("token")
    }

    /// A token of `kind` for a named `subject` in `role` (a user the test names, or a service).
    pub fn token(&self, kind: TokenKind, subject: &str, role: Role) -> String {
        self.issuer.issue(kind, subject, role, None, Duration::from_secs(600)).expect("token")
    }
}
