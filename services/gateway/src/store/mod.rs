//! Every SQL statement of the gateway: [`accounts`], [`sessions`], the sign-in [`attempts`]
//! counters and the [`oidc`] sign-ins waiting for the provider. Functions take a transaction or a connection; the caller in `app/` commits.

pub mod accounts;
pub mod attempts;
pub mod oidc;
pub mod sessions;

use wf_db::DbError;

/// A stored value the code cannot read back: the database was changed outside the gateway.
pub(crate) fn corrupt(column: &str, value: &str) -> DbError {
    DbError::Config { message: format!("gateway database: {column} holds {} unreadable characters", value.len()) }
}
