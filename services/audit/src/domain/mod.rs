//! Pure logic of the audit log: the hash chain, what an entry records, and query validation.

pub mod chain;
pub mod checkpoint;
pub mod disclosure;
pub mod entry;
pub mod merkle;
pub mod query;
