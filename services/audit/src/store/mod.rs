//! Everything the audit service keeps: every SQL statement ([`entries`] for the log and its head,
//! [`checkpoints`] for signed checkpoints), and the two files beside the database — the
//! JSON-lines copy of every checkpoint ([`checkpoint_file`]) and the checkpoint signing key
//! ([`keys`]). They are here rather than in `domain/` because they are I/O, and rather than in
//! `app/` because they are where state lives, not what a use case does with it.
//!
//! Sequences are `u64` in Rust and `BIGINT` in the database (the log never nears 2^63).

pub mod checkpoint_file;
pub mod checkpoints;
pub mod entries;
pub mod keys;

fn to_db(sequence: u64) -> i64 {
    i64::try_from(sequence).unwrap_or(i64::MAX)
}

fn from_db(sequence: i64) -> u64 {
    u64::try_from(sequence).unwrap_or(0)
}
