//! Integration tests of the audit service. Every test body runs on SQLite and on PostgreSQL
//! (each a fresh database from wf-testkit), except those that only PostgreSQL can exercise.

mod common;

mod api;
mod checkpoints;
mod disclosure;
mod log;
mod tamper;
mod workers;
mod youth;
