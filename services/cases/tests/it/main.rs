//! Integration tests of the cases service, each run on SQLite and on PostgreSQL.

mod access;
mod api;
mod case_referrals;
mod claim;
mod completeness;
mod concurrency;
mod continuity;
mod current_episode;
mod engagement;
mod exit;
mod flow;
mod follow_ups;
mod harness;
mod hostile_partner;
mod lifecycle;
mod notes;
mod one_open_case;
mod partner_reads;
mod reopen;
mod reopen_episode;
mod returning;
mod returns;
mod roster;
mod roster_file;
mod served;
mod services;
