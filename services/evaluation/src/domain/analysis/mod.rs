//! The analyses. Each takes the rows in scope and returns tables (and charts) whose every count
//! passed disclosure control: counts go through [`crate::domain::table::count_table`] or
//! [`crate::domain::table::frequency_table`], survival through `wf_stats::disclosure::published_survival`,
//! and model estimates are shown only for groups of at least [`MIN_GROUP`] youth.

pub mod baseline;
pub mod combinations;
pub mod competing;
pub mod completeness;
pub mod deadlines;
pub mod engagement;
pub mod enrollment;
pub mod landmark;
pub mod long_term;
pub mod missing;
pub mod responsiveness;
pub mod retention;
pub mod survival;

use std::collections::BTreeMap;

use super::dataset::YouthRow;

/// Fewest youth a group needs before any estimate about it is shown.
pub const MIN_GROUP: usize = 11;

/// Days at which survival and cumulative incidence are published.
pub const FIXED_DAYS: [f64; 6] = [30.0, 60.0, 90.0, 180.0, 270.0, 365.0];

/// The seed of every bootstrap, so a report is reproducible from its data set version.
pub const BOOTSTRAP_SEED: u64 = 0x5741_5946_494e_4452;

/// Bootstrap resamples (the issue asks for at least 2,000).
pub const BOOTSTRAP_RESAMPLES: usize = 2_000;

/// Rows grouped by the value of `dimension` (one group "all" without a dimension), in code order.
pub fn groups<'a>(rows: &'a [YouthRow], dimension: Option<&str>) -> BTreeMap<String, Vec<&'a YouthRow>> {
    let mut groups: BTreeMap<String, Vec<&YouthRow>> = BTreeMap::new();
    for row in rows {
        let key = match dimension {
            Some(d) => row.dimension(d).unwrap_or_else(|| "unknown".into()),
            None => "all".into(),
        };
        groups.entry(key).or_default().push(row);
    }
    groups
}

/// "insufficient data" tables say so in one cell, and why in a note.
pub fn insufficient(name: &str, title: &str, why: impl Into<String>) -> super::table::Table {
    let mut table = super::table::Table::new(name, title, &["result"]);
    table.rows.push(vec![super::table::Cell::label("insufficient data")]);
    table.note(why)
}
