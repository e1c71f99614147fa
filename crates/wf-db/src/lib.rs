//! Storage plumbing shared by every service: one `Db` handle over PostgreSQL or
//! SQLite (chosen by the URL), migrations per backend, transactions owned by the
//! caller, and database errors mapped by SQLSTATE/extended code rather than text.
//!
//! SQL is written once with `$1, $2 …` placeholders: PostgreSQL reads them
//! natively and SQLite treats them as numbered parameters. Where the dialects
//! differ, code branches on [`Db::backend`].

mod error;
mod migrate;
mod time;

use std::str::FromStr;
use std::sync::Once;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub use error::DbError;
pub use migrate::MigrationSet;
pub use sqlx;
pub use time::{from_micros, now_micros, to_micros};

/// A transaction; repository functions take `&mut Tx` and the caller commits.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Which database engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// A connection pool plus what it points at.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    url: String,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("backend", &self.backend).field("url", &redact_url(&self.url)).finish()
    }
}

/// Options for [`Db::connect_with`].
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// Pool size for PostgreSQL. SQLite always uses one connection: a single
    /// writer avoids `SQLITE_BUSY` upgrades, and the embedded load is small.
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self { max_connections: 10, acquire_timeout: Duration::from_secs(10) }
    }
}

static INSTALL_DRIVERS: Once = Once::new();

impl Db {
    /// Connects to `postgres://…` or `sqlite:path` (the file is created if absent).
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        Self::connect_with(url, DbOptions::default()).await
    }

    pub async fn connect_with(url: &str, options: DbOptions) -> Result<Self, DbError> {
        INSTALL_DRIVERS.call_once(sqlx::any::install_default_drivers);
        let backend = backend_of(url)?;
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_owned(),
        };
        if backend == Backend::Sqlite
            && let Some(path) = sqlite_file_to_create(&url)
        {
            create_private_file(&path);
        }
        let connect_options = AnyConnectOptions::from_str(&url).map_err(|source| DbError::Config {
            message: format!("invalid database url {}: {source}", redact_url(&url)),
        })?;
        let pool_options = AnyPoolOptions::new().acquire_timeout(options.acquire_timeout);
        let pool = match backend {
            Backend::Postgres => pool_options.max_connections(options.max_connections),
            Backend::Sqlite => pool_options.max_connections(1).after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                    )
                    .await?;
                    Ok(())
                })
            }),
        }
        .connect_with(connect_options)
        .await
        .map_err(DbError::from)?;
        Ok(Self { pool, backend, url })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The URL this pool was opened with (holds credentials: never log it; see [`Db::display_url`]).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL with any password removed, safe for logs.
    pub fn display_url(&self) -> String {
        redact_url(&self.url)
    }

    pub async fn begin(&self) -> Result<Tx, DbError> {
        Ok(self.pool.begin().await?)
    }

    /// Applies every migration of `set` for this backend (idempotent).
    pub async fn migrate(&self, set: &MigrationSet) -> Result<(), DbError> {
        set.run(self).await
    }

    /// A cheap round trip, for health checks.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn backend_of(url: &str) -> Result<Backend, DbError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else {
        Err(DbError::Config {
            message: format!("unsupported database url {}: expected postgres://… or sqlite:…", redact_url(url)),
        })
    }
}

/// Removes the password from a URL so it can be logged.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("redacted"));
            parsed.to_string()
        }
        Ok(_) => url.to_owned(),
        Err(_) => "<unparseable url>".to_owned(),
    }
}

/// The database file a `sqlite:` URL names when SQLite may create it (`mode=rwc`); `None` for an
/// in-memory database, a read-only or read-write (must exist) open, or a percent-encoded path
/// (left to SQLite as given).
fn sqlite_file_to_create(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let creates = query.split('&').any(|pair| pair == "mode=rwc");
    if !creates || path.is_empty() || path == ":memory:" || path.contains('%') {
        return None;
    }
    Some(std::path::PathBuf::from(path))
}

/// Creates `path` empty and readable by its owner alone (0600) unless it exists, before SQLite
/// opens it: SQLite creates a database with 0644 (less the umask), and gives the `-wal` and `-shm`
/// files it makes later the database file's permissions, so a database created here keeps all
/// three private. An existing file is left as it is (its owner chose); a failure here is left
/// for SQLite to report when it opens the file.
fn create_private_file(path: &std::path::Path) {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(err) => tracing::debug!(error = %err, "cannot create the SQLite file ahead of SQLite"),
    }
}

/// The SQLite URL of a file inside `dir`.
pub fn sqlite_url_in(dir: &std::path::Path, file_name: &str) -> String {
    format!("sqlite:{}", dir.join(file_name).display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        let shown = redact_url("postgres://wf:hunter2@127.0.0.1:5432/wf");
        assert!(!shown.contains("hunter2"));
        assert!(shown.contains("127.0.0.1"));
    }

    #[test]
    fn unknown_schemes_are_refused_with_the_allowed_ones() {
        let err = backend_of("mysql://x").unwrap_err();
        assert!(err.to_string().contains("expected postgres://… or sqlite:…"), "{err}");
    }

    #[tokio::test]
    async fn sqlite_file_is_created_and_answers() {
        let dir = std::env::temp_dir().join(format!("wf-db-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = Db::connect(&sqlite_url_in(&dir, "t.db")).await.unwrap();
        db.ping().await.unwrap();
        assert_eq!(db.backend(), Backend::Sqlite);
        assert!(dir.join("t.db").exists());
        db.close().await;
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn only_files_sqlite_may_create_are_created_ahead() {
        let file = |url: &str| sqlite_file_to_create(url).map(|p| p.display().to_string());
        assert_eq!(file("sqlite:./data/intake.db?mode=rwc").as_deref(), Some("./data/intake.db"));
        assert_eq!(file("sqlite:///tmp/x.db?cache=shared&mode=rwc").as_deref(), Some("/tmp/x.db"));
        assert_eq!(file("sqlite:./data/intake.db?mode=ro"), None);
        assert_eq!(file("sqlite:./data/intake.db?mode=rw"), None);
        assert_eq!(file("sqlite::memory:?mode=rwc"), None);
        assert_eq!(file("sqlite:./a%20b.db?mode=rwc"), None);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_new_sqlite_database_and_its_wal_and_shm_are_private_to_the_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("wf-db-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = Db::connect(&sqlite_url_in(&dir, "private.db")).await.unwrap();
        sqlx::query("CREATE TABLE t (x INTEGER)").execute(db.pool()).await.unwrap();
        sqlx::query("INSERT INTO t (x) VALUES (1)").execute(db.pool()).await.unwrap();
        for name in ["private.db", "private.db-wal", "private.db-shm"] {
            let mode = std::fs::metadata(dir.join(name)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{name} is {mode:o}, not 0600");
        }
        db.close().await;
        std::fs::remove_dir_all(dir).unwrap();
    }
}
