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
pub mod hmis;
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

/// Rows in groups, in the order their codes are shown ([`crate::domain::codes::order_key`]:
/// `under_15` before `15_17`, "missing" last).
#[derive(Debug, Clone, Default)]
pub struct Groups<'a>(Vec<(String, Vec<&'a YouthRow>)>);

impl<'a> Groups<'a> {
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(key, _)| key)
    }

    pub fn values(&self) -> impl Iterator<Item = &Vec<&'a YouthRow>> {
        self.0.iter().map(|(_, members)| members)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Vec<&'a YouthRow>)> {
        self.0.iter().map(|(key, members)| (key, members))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Rows grouped by the value of `dimension` (one group "all" without a dimension), in code order.
pub fn groups<'a>(rows: &'a [YouthRow], dimension: Option<&str>) -> Groups<'a> {
    let mut groups: BTreeMap<String, Vec<&YouthRow>> = BTreeMap::new();
    for row in rows {
        let key = match dimension {
            Some(d) => row.dimension(d).unwrap_or_else(|| "unknown".into()),
            None => "all".into(),
        };
        groups.entry(key).or_default().push(row);
    }
    let mut keys: Vec<String> = groups.keys().cloned().collect();
    crate::domain::codes::sort_codes(&mut keys);
    Groups(keys.into_iter().filter_map(|key| groups.remove(&key).map(|members| (key, members))).collect())
}

/// The label of a row of a grouped table: the row's own code, then the group's.
pub fn grouped_label(code: &str, group: Option<&str>) -> String {
    match group {
        Some(group) => format!("{code} / {group}"),
        None => code.to_owned(),
    }
}

/// The header of the first column of a grouped table.
pub fn grouped_header(header: &str, dimension: Option<&str>) -> String {
    match dimension {
        Some(dimension) => format!("{header} / {dimension}"),
        None => header.to_owned(),
    }
}

/// Each group of `rows` by `dimension` (with its code), or all rows as one group (None) without one.
pub fn each_group<'a>(rows: &'a [YouthRow], dimension: Option<&str>) -> Vec<(Option<String>, Vec<&'a YouthRow>)> {
    match dimension {
        None => vec![(None, rows.iter().collect())],
        Some(d) => groups(rows, Some(d)).0.into_iter().map(|(key, members)| (Some(key), members)).collect(),
    }
}

/// "insufficient data" tables say so in one cell, and why in a note.
pub fn insufficient(name: &str, title: &str, why: impl Into<String>) -> super::table::Table {
    let mut table = super::table::Table::new(name, title, &["result"]);
    table.rows.push(vec![super::table::Cell::label("insufficient data")]);
    table.note(why)
}

/// `analyse` run on each group of `rows` by `dimension` separately (every table and chart named and
/// titled with its group, and noted as computed within it), or on all rows without a dimension.
/// For analyses whose estimates come from a model over the whole scope (intervention bundles,
/// landmark comparisons): each group is its own comparison, with its own thresholds.
pub fn per_group(
    rows: &[YouthRow],
    dimension: Option<&str>,
    analyse: impl Fn(&[YouthRow]) -> super::table::Output,
) -> super::table::Output {
    let Some(dimension) = dimension else {
        return analyse(rows);
    };
    let mut output = super::table::Output::default();
    for (group, members) in groups(rows, Some(dimension)).iter() {
        let members: Vec<YouthRow> = members.iter().map(|r| (*r).clone()).collect();
        let mut part = analyse(&members);
        let suffix = format!("{dimension}_{group}");
        for table in &mut part.tables {
            table.name = format!("{}__{suffix}", table.name);
            table.title = format!("{} — {dimension}: {group}", table.title);
            table.notes.push(format!("computed within {dimension} {group} alone"));
        }
        for chart in &mut part.charts {
            let (super::table::Chart::Curves { name, title, .. } | super::table::Chart::Forest { name, title, .. }) =
                chart;
            *name = format!("{name}__{suffix}");
            *title = format!("{title} — {dimension}: {group}");
        }
        output.extend(part);
    }
    output
}
