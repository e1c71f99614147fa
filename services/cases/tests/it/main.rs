//! Integration tests of the cases service, each run on SQLite and on PostgreSQL.

mod access;
mod api;
mod completeness;
mod continuity;
mod engagement;
mod flow;
mod follow_ups;
mod harness;
mod lifecycle;
mod notes;
mod reopen;
mod returning;
mod roster;
mod roster_file;
mod served;
mod services;
