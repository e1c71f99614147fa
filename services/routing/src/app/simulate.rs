//! A policy simulation over the stored decisions: the facts of first decisions replayed (with
//! today's open capacity) under the policy in force and a candidate ([`crate::domain::simulate`]).

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use crate::domain::simulate::{render, simulate};
use crate::domain::{Directory, Policy};
use crate::store::{capacity, decisions};

/// Replays the first decisions stored since `since` (with today's open capacity from the
/// database) and renders the report.
pub async fn report_from_store(
    db: &wf_db::Db,
    directory: &Directory,
    baseline: &Policy,
    candidate: &Policy,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
    scope: &str,
) -> Result<String, wf_db::DbError> {
    let (facts, without_facts) = decisions::first_decision_facts_since(db, wf_db::to_micros(since)).await?;
    let capacity = capacity::open_places(db.pool()).await?;
    let directory = directory.with_open_capacity(&capacity);
    let simulation = simulate(&directory, baseline, candidate, &facts, now);
    let mut report = render(&simulation, &directory, scope);
    if without_facts > 0 {
        let _ = writeln!(report, "\n{without_facts} decisions stored before facts were kept could not be replayed.");
    }
    Ok(report)
}
