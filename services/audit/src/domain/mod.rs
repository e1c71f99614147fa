//! Pure logic of the audit log: the hash chain, what an entry records, signed checkpoints and
//! their Merkle tree, the offline export format, disclosure reports, and query validation.
//! Plain data in, plain data out: no database, network or clock (instants are passed in).

pub mod chain;
pub mod changes;
pub mod checkpoint;
pub mod disclosure;
pub mod entry;
pub mod export;
pub mod merkle;
pub mod query;
pub mod records;
