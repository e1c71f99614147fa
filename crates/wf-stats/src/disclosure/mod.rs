//! Statistical disclosure control for published tables and survival curves.
//!
//! **Tables.** A table of counts with row, column and grand totals is published with
//! every count from 1 to `min_count − 1` (1–10 by default) suppressed — cells *and*
//! totals — and with complementary suppression so that no suppressed value can be
//! worked out from what is shown.
//!
//! The method treats the table with its margins as one (r + 1) × (c + 1) array in
//! which every row and column is an additive constraint (cells add up to the total).
//! Suppressed entries are the unknowns. Think of each row and column (totals
//! included) as a node and each suppressed entry as an edge between its row and its
//! column: a suppressed entry can be recovered exactly when that edge is a *bridge*
//! (it lies on no cycle), because a line with one unknown gives it away, and more
//! generally a cut crossed by one unknown gives it away. So, until nothing changes:
//!
//! 1. every row or column with exactly one suppressed entry gets a second one: the
//!    smallest shown positive entry of that line (cells before totals on equal values);
//! 2. when no line has a single suppressed entry but an edge is still a bridge, the
//!    smallest positive shown entry that joins the two sides of the bridge is
//!    suppressed, which puts the bridge on a cycle.
//!
//! Zeros are shown (a zero is not a small count) and are never chosen for
//! complementary suppression while a positive entry would do: moving a cycle of
//! positive unknowns by ±1 keeps every value feasible, so each suppressed value has
//! at least two possible values given the published table (the tests check this
//! exactly, by searching for such a cycle for every suppressed entry of random tables).
//!
//! **Survival.** Curves are published only at fixed times, and only where at least
//! `min_at_risk` (11 by default) people are still at risk; see [`published_survival`].

use serde::Serialize;

use crate::StatsError;
use crate::km::KaplanMeier;

/// Thresholds of the disclosure rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DisclosureRule {
    /// Counts from 1 to `min_count − 1` are suppressed (11 suppresses 1–10).
    pub min_count: u64,
    /// Survival is shown at a time only when at least this many are at risk.
    pub min_at_risk: u64,
}

impl Default for DisclosureRule {
    fn default() -> Self {
        Self { min_count: 11, min_at_risk: 11 }
    }
}

impl DisclosureRule {
    /// True for a count that may not be published on its own (1 to `min_count − 1`).
    pub fn is_small(&self, count: u64) -> bool {
        count > 0 && count < self.min_count
    }
}

/// A published count: the value, or a mark that it is suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "value")]
pub enum Published {
    Shown(u64),
    /// Withheld because it was small (primary) or because it would reveal a small one (complementary).
    Suppressed,
}

impl Published {
    pub fn value(&self) -> Option<u64> {
        match self {
            Published::Shown(v) => Some(*v),
            Published::Suppressed => None,
        }
    }

    pub fn is_suppressed(&self) -> bool {
        matches!(self, Published::Suppressed)
    }
}

/// A table ready to publish: cells row by row, the totals, and how much was withheld.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedTable {
    pub rows: usize,
    pub cols: usize,
    /// rows × cols, row by row.
    pub cells: Vec<Published>,
    pub row_totals: Vec<Published>,
    pub col_totals: Vec<Published>,
    pub grand_total: Published,
    /// Entries (cells and totals) withheld because they were small.
    pub primary_suppressed: usize,
    /// Entries withheld only to protect the small ones.
    pub complementary_suppressed: usize,
}

impl PublishedTable {
    pub fn cell(&self, row: usize, col: usize) -> Published {
        self.cells[row * self.cols + col]
    }
}

/// The table with its margins as one (rows + 1) × (cols + 1) array: the last column
/// holds the row totals, the last row the column totals, the corner the grand total.
struct Augmented {
    rows: usize,
    cols: usize,
    value: Vec<u64>,
    suppressed: Vec<bool>,
}

/// `counts` (rows × cols, row-major) with their margins, laid out as in [`Augmented`].
fn with_margins(counts: &[u64], rows: usize, cols: usize) -> Vec<u64> {
    let width = cols + 1;
    let mut value = vec![0u64; (rows + 1) * width];
    for i in 0..rows {
        for j in 0..cols {
            let v = counts[i * cols + j];
            value[i * width + j] = v;
            value[i * width + cols] += v;
            value[rows * width + j] += v;
            value[rows * width + cols] += v;
        }
    }
    value
}

impl Augmented {
    fn width(&self) -> usize {
        self.cols + 1
    }

    fn index(&self, i: usize, j: usize) -> usize {
        i * self.width() + j
    }

    /// Entries of augmented row i or column j; lines 0..=rows are rows, the rest columns.
    fn line(&self, line: usize) -> Vec<usize> {
        if line <= self.rows {
            (0..=self.cols).map(|j| self.index(line, j)).collect()
        } else {
            let j = line - self.rows - 1;
            (0..=self.rows).map(|i| self.index(i, j)).collect()
        }
    }

    fn is_total(&self, k: usize) -> bool {
        k / self.width() == self.rows || k % self.width() == self.cols
    }

    /// Preference order for complementary suppression: positive before zero, smaller
    /// value first, inner cells before totals, then position (for determinism).
    fn preference(&self, k: usize) -> (bool, u64, bool, usize) {
        (self.value[k] == 0, self.value[k], self.is_total(k), k)
    }

    /// Nodes 0..=rows are rows, rows+1.. are columns; entry k joins its row and its column.
    fn ends(&self, k: usize) -> (usize, usize) {
        (k / self.width(), self.rows + 1 + k % self.width())
    }

    fn nodes(&self) -> usize {
        self.rows + self.cols + 2
    }

    /// Nodes reachable from `start` through suppressed entries other than `skip`.
    fn reachable(&self, start: usize, skip: usize) -> Vec<bool> {
        let mut seen = vec![false; self.nodes()];
        let mut stack = vec![start];
        seen[start] = true;
        while let Some(node) = stack.pop() {
            let neighbours: Vec<usize> = if node <= self.rows {
                (0..=self.cols).map(|j| self.index(node, j)).collect()
            } else {
                (0..=self.rows).map(|i| self.index(i, node - self.rows - 1)).collect()
            };
            for k in neighbours {
                if k == skip || !self.suppressed[k] {
                    continue;
                }
                let (a, b) = self.ends(k);
                let other = if a == node { b } else { a };
                if !seen[other] {
                    seen[other] = true;
                    stack.push(other);
                }
            }
        }
        seen
    }

    /// Step 1: a line with exactly one suppressed entry gets its best other entry suppressed.
    fn fix_single_lines(&mut self) -> bool {
        let mut changed = false;
        for line in 0..self.nodes() {
            let entries = self.line(line);
            if entries.iter().filter(|&&k| self.suppressed[k]).count() != 1 {
                continue;
            }
            if let Some(k) = entries.into_iter().filter(|&k| !self.suppressed[k]).min_by_key(|&k| self.preference(k)) {
                self.suppressed[k] = true;
                changed = true;
            }
        }
        changed
    }

    /// Step 2: put the first bridge found on a cycle.
    fn fix_one_bridge(&mut self) -> bool {
        for bridge in 0..self.value.len() {
            if !self.suppressed[bridge] {
                continue;
            }
            let (a, b) = self.ends(bridge);
            let side_a = self.reachable(a, bridge);
            if side_a[b] {
                continue;
            }
            let side_b = self.reachable(b, bridge);
            let joins = |k: usize| {
                let (r, c) = self.ends(k);
                (side_a[r] && side_b[c]) || (side_b[r] && side_a[c])
            };
            let best =
                (0..self.value.len()).filter(|&k| !self.suppressed[k] && joins(k)).min_by_key(|&k| self.preference(k));
            if let Some(k) = best {
                self.suppressed[k] = true;
                return true;
            }
        }
        false
    }
}

/// Publishes a rows × cols table of counts (row by row) with its totals under `rule`.
pub fn suppress_table(
    counts: &[u64],
    rows: usize,
    cols: usize,
    rule: &DisclosureRule,
) -> Result<PublishedTable, StatsError> {
    if rows == 0 || cols == 0 {
        return Err(StatsError::Data(format!(
            "a table of {rows} rows and {cols} columns has no cells: it needs at least one of each"
        )));
    }
    crate::validate::same_length("counts", rows * cols, counts.len())?;
    if rule.min_count < 2 {
        return Err(StatsError::Data(format!(
            "min_count {} suppresses nothing: it must be at least 2 (11 suppresses 1–10)",
            rule.min_count
        )));
    }
    let width = cols + 1;
    let value = with_margins(counts, rows, cols);
    let suppressed: Vec<bool> = value.iter().map(|&v| rule.is_small(v)).collect();
    let primary_suppressed = suppressed.iter().filter(|&&s| s).count();
    let mut table = Augmented { rows, cols, value, suppressed };
    // Each step suppresses one more entry, so this ends after at most (rows+1)(cols+1) rounds.
    while table.fix_single_lines() || table.fix_one_bridge() {}

    let shown = |k: usize| if table.suppressed[k] { Published::Suppressed } else { Published::Shown(table.value[k]) };
    let total_suppressed = table.suppressed.iter().filter(|&&s| s).count();
    Ok(PublishedTable {
        rows,
        cols,
        cells: (0..rows).flat_map(|i| (0..cols).map(move |j| i * width + j)).map(shown).collect(),
        row_totals: (0..rows).map(|i| shown(i * width + cols)).collect(),
        col_totals: (0..cols).map(|j| shown(rows * width + j)).collect(),
        grand_total: shown(rows * width + cols),
        primary_suppressed,
        complementary_suppressed: total_suppressed - primary_suppressed,
    })
}

/// Survival at one fixed time, or the reason it is withheld.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishedSurvival {
    pub time: f64,
    /// Ŝ(time) with its interval, or None when fewer than `min_at_risk` were at risk.
    pub estimate: Option<SurvivalEstimate>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurvivalEstimate {
    /// People still under observation and event-free just before `time` (at least `min_at_risk`).
    pub at_risk: u64,
    pub survival: f64,
    pub std_err: f64,
    pub ci_lower: f64,
    pub ci_upper: f64,
}

/// The curve `km` at the fixed `times` only, each shown only when at least
/// `rule.min_at_risk` people are at risk then. `observed_times` are the group's
/// follow-up times (event or censoring) the curve was fitted on: numbers at risk are
/// counted from them, so a weighted curve is judged on people, not weights.
pub fn published_survival(
    km: &KaplanMeier,
    observed_times: &[f64],
    times: &[f64],
    rule: &DisclosureRule,
) -> Vec<PublishedSurvival> {
    times
        .iter()
        .map(|&t| {
            let at_risk = observed_times.iter().filter(|&&o| o >= t).count() as u64;
            let estimate = (at_risk >= rule.min_at_risk).then(|| {
                let (std_err, ci_lower, ci_upper) =
                    km.row_at(t).map_or((0.0, 1.0, 1.0), |r| (r.std_err, r.ci_lower, r.ci_upper));
                SurvivalEstimate { at_risk, survival: km.survival_at(t), std_err, ci_lower, ci_upper }
            });
            PublishedSurvival { time: t, estimate }
        })
        .collect()
}

#[cfg(test)]
mod tests;
