//! Integration tests of the evaluation service, each on SQLite and on PostgreSQL: the service on
//! port 0 with the in-process bus, events published as producers would, RPCs with real tokens.

mod api;
mod groupings;
mod harness;
mod hmis;
mod intake_flow;
mod operations;
mod privacy;
