//! Integration tests of the audit service. Every test body runs on SQLite (a temporary file) and
//! on PostgreSQL (a fresh database per test), except those that only PostgreSQL can exercise.

mod common;

mod api;
mod checkpoints;
mod disclosure;
mod log;
mod tamper;
