//! Database errors by meaning. Mapping uses the driver's error kind and
//! SQLSTATE / SQLite extended codes, never message text.

use sqlx::error::ErrorKind;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unique constraint {constraint} violated")]
    UniqueViolation { constraint: String },
    #[error("foreign key constraint {constraint} violated")]
    ForeignKeyViolation { constraint: String },
    #[error("check constraint {constraint} violated")]
    CheckViolation { constraint: String },
    /// Serialization failure or deadlock: the whole transaction may be retried.
    #[error("transaction conflict, retry")]
    Conflict,
    /// The database could not be reached or the pool timed out.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database configuration: {message}")]
    Config { message: String },
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Other(sqlx::Error),
}

impl DbError {
    /// Whether retrying the same work later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, DbError::Conflict | DbError::Unavailable(_))
    }
}

/// PostgreSQL SQLSTATEs and SQLite extended codes that mean "retry".
const RETRYABLE_CODES: &[&str] = &[
    "40001", // serialization_failure
    "40P01", // deadlock_detected
    "55P03", // lock_not_available
    "57P01", // admin_shutdown
    "5",     // SQLITE_BUSY
    "6",     // SQLITE_LOCKED
    "517",   // SQLITE_BUSY_SNAPSHOT
];

impl From<sqlx::Error> for DbError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db_err) => {
                let constraint = db_err.constraint().unwrap_or("unnamed").to_owned();
                match db_err.kind() {
                    ErrorKind::UniqueViolation => DbError::UniqueViolation { constraint },
                    ErrorKind::ForeignKeyViolation => DbError::ForeignKeyViolation { constraint },
                    ErrorKind::CheckViolation => DbError::CheckViolation { constraint },
                    _ => match db_err.code() {
                        Some(code) if RETRYABLE_CODES.contains(&code.as_ref()) => DbError::Conflict,
                        Some(code) if code.starts_with("08") => DbError::Unavailable(format!("sqlstate {code}")),
                        _ => DbError::Other(err),
                    },
                }
            }
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
                DbError::Unavailable(err.to_string())
            }
            _ => DbError::Other(err),
        }
    }
}
