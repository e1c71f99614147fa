//! The all-in-one binary's library: [`system`] assembles any subset of the
//! services into one process (embedded by default: SQLite files and the
//! in-process bus; PostgreSQL and RabbitMQ when configured), and [`cli`] is the
//! command line (its client side is the `wf-client` crate). [`data_dir`] keeps the data folder
//! private to the account that runs the system.

pub mod cli;
pub mod data_dir;
pub mod demo;
pub mod system;
