//! The all-in-one binary's library: [`system`] assembles any subset of the
//! services into one process (embedded by default: SQLite files and the
//! in-process bus; PostgreSQL and RabbitMQ when configured), [`client`] finds
//! and authenticates to a running system, and [`cli`] is the command line.

pub mod cli;
pub mod client;
pub mod system;
