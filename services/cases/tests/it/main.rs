//! Integration tests of the cases service, each run on SQLite and on PostgreSQL.

mod api;
mod flow;
mod harness;
mod roster_file;
