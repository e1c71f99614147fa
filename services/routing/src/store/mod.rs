//! Every SQL statement of routing, one module per table group. Writers take the caller's
//! transaction; readers take the pool, or any executor where both a handler and a use case
//! read the same rows. Enums are stored as lower snake_case codes, instants as microseconds.

pub mod capacity;
pub mod decisions;
pub mod directory;
pub mod escalations;
pub mod offers;
pub mod policies;
pub mod time_limits;
pub mod triage;

use wf_db::DbError;

/// A stored value routing cannot read back; `column` is `table.column`.
fn corrupt(column: &str, value: impl std::fmt::Display) -> DbError {
    DbError::Other(sqlx::Error::Decode(format!("{column} holds unexpected value {value}").into()))
}
