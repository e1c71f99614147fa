//! The audit service's use cases, between its entry points (the API, the consumer, the
//! checkpoint worker, the command line) and the pure [`crate::domain`]: appending an entry in one
//! transaction, verifying the stored log, making signed checkpoints, building proofs and
//! exports, and producing disclosure reports (which are logged in turn). Time comes from the
//! service's clock, passed in by the caller.

pub mod append;
pub mod checkpoints;
pub mod disclosure;
pub mod export;
pub mod proofs;
pub mod records;
pub mod verify;
