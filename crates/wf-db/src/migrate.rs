//! Each service keeps `migrations/postgres` and `migrations/sqlite`. Shared
//! tables (the events outbox and inbox) ship their own migrations with low
//! version numbers; service migrations start at 100. A [`MigrationSet`] merges
//! them into one ordered list per backend, so one `_sqlx_migrations` table
//! records both.

use std::borrow::Cow;

use sqlx::migrate::{Migration, Migrator};

use crate::{Backend, Db, DbError};

/// Migrations for both backends, possibly merged from several sources.
#[derive(Debug, Default)]
pub struct MigrationSet {
    postgres: Vec<Migration>,
    sqlite: Vec<Migration>,
}

impl MigrationSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one source's migrations (typically two `sqlx::migrate!` outputs).
    pub fn with(mut self, postgres: &Migrator, sqlite: &Migrator) -> Self {
        self.postgres.extend(postgres.iter().cloned());
        self.sqlite.extend(sqlite.iter().cloned());
        self
    }

    fn migrator_for(&self, backend: Backend) -> Result<Migrator, DbError> {
        let mut migrations = match backend {
            Backend::Postgres => self.postgres.clone(),
            Backend::Sqlite => self.sqlite.clone(),
        };
        migrations.sort_by_key(|m| m.version);
        if let Some(pair) = migrations.windows(2).find(|pair| pair[0].version == pair[1].version) {
            return Err(DbError::Config { message: format!("two migrations share version {}", pair[0].version) });
        }
        Ok(Migrator { migrations: Cow::Owned(migrations), ..Migrator::DEFAULT })
    }

    pub(crate) async fn run(&self, db: &Db) -> Result<(), DbError> {
        let migrator = self.migrator_for(db.backend())?;
        migrator.run(db.pool()).await?;
        tracing::debug!(backend = ?db.backend(), count = migrator.iter().count(), "migrations applied");
        Ok(())
    }
}
