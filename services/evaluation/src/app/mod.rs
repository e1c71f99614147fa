//! The evaluation's use cases, between the API (and the consumer) and the pure domain: which data
//! set a request sees, computing analyses and reports over it off the async workers, storing
//! reports, rebuilding the program data set, seeding the synthetic cohort, and storing consumed
//! events. Each takes the instant it acts at from its caller (the service's clock).

pub mod analyses;
pub mod dataset;
pub mod ingest;
pub mod reports;
