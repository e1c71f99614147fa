//! Every SQL statement of the gateway: [`accounts`], [`sessions`] and the sign-in [`attempts`]
//! counters. Functions take a transaction or a connection; the caller in `app/` commits.

pub mod accounts;
pub mod attempts;
pub mod sessions;

use wf_db::DbError;

/// A stored value the code cannot read back: the database was changed outside the gateway.
pub(crate) fn corrupt(column: &str, value: &str) -> DbError {
    DbError::Config { message: format!("gateway database: {column} holds {} unreadable characters", value.len()) }
}
