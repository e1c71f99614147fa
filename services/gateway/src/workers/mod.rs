//! The gateway's timer loop: [`sweeper`] deletes ended sessions and forgotten sign-in counters.

pub mod sweeper;
