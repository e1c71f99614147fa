use super::*;
use crate::bootstrap::SplitMix64;
use crate::km::kaplan_meier;

/// The published table as an attacker sees it, in the augmented (r+1) × (c+1) layout.
struct Attack {
    rows: usize,
    cols: usize,
    /// True value of every entry (the attacker does not know the suppressed ones).
    value: Vec<u64>,
    suppressed: Vec<bool>,
}

impl Attack {
    fn new(counts: &[u64], rows: usize, cols: usize, published: &PublishedTable) -> Attack {
        let width = cols + 1;
        let value = with_margins(counts, rows, cols);
        let mut suppressed = vec![false; (rows + 1) * width];
        for i in 0..rows {
            for j in 0..cols {
                suppressed[i * width + j] = published.cell(i, j).is_suppressed();
            }
            suppressed[i * width + cols] = published.row_totals[i].is_suppressed();
        }
        for j in 0..cols {
            suppressed[rows * width + j] = published.col_totals[j].is_suppressed();
        }
        suppressed[rows * width + cols] = published.grand_total.is_suppressed();
        Attack { rows, cols, value, suppressed }
    }

    /// In y = sign · value, every augmented row and column sums to zero: totals carry −1,
    /// the grand total +1 (it is subtracted twice).
    fn sign(&self, k: usize) -> i64 {
        let (i, j) = (k / (self.cols + 1), k % (self.cols + 1));
        if (i == self.rows) != (j == self.cols) { -1 } else { 1 }
    }

    /// Can entry k change by one unit while every equation still holds and no entry goes
    /// below zero? Feasible changes of the unknowns are circulations: a cycle through k in
    /// the row–column graph of suppressed entries, alternating +1 and −1 in y. The change
    /// is allowed when every entry that decreases is at least 1. By conformal decomposition
    /// of any feasible direction into such cycles this is exact: false means the published
    /// table pins entry k to its true value.
    fn can_move(&self, k: usize) -> bool {
        let width = self.cols + 1;
        let (row, col) = (k / width, k % width);
        // delta of value when entry e is crossed from its row to its column (+1 in y), or back.
        let allowed = |e: usize, row_to_col: bool| {
            let delta = if row_to_col { self.sign(e) } else { -self.sign(e) };
            delta > 0 || self.value[e] >= 1
        };
        // Nodes: rows are 0..=rows, columns rows+1..; a path from `start` to `target` that
        // avoids k, each entry crossed in the direction its end nodes dictate.
        let path_exists = |start: usize, target: usize| {
            let mut seen = vec![false; self.rows + self.cols + 2];
            let mut stack = vec![start];
            seen[start] = true;
            while let Some(node) = stack.pop() {
                if node == target {
                    return true;
                }
                let at_row = node <= self.rows;
                let edges: Vec<(usize, usize)> = if at_row {
                    (0..=self.cols).map(|j| (node * width + j, self.rows + 1 + j)).collect()
                } else {
                    let j = node - self.rows - 1;
                    (0..=self.rows).map(|i| (i * width + j, i)).collect()
                };
                for (e, next) in edges {
                    if e != k && self.suppressed[e] && allowed(e, at_row) && !seen[next] {
                        seen[next] = true;
                        stack.push(next);
                    }
                }
            }
            false
        };
        let (row_node, col_node) = (row, self.rows + 1 + col);
        // Cross k from its row to its column, then return from the column to the row; or the reverse.
        (allowed(k, true) && path_exists(col_node, row_node)) || (allowed(k, false) && path_exists(row_node, col_node))
    }
}

fn rule() -> DisclosureRule {
    DisclosureRule::default()
}

/// Every shown entry is its true value and none is a small count.
fn assert_nothing_small_shown(counts: &[u64], rows: usize, cols: usize, published: &PublishedTable) {
    let attack = Attack::new(counts, rows, cols, published);
    for (k, &v) in attack.value.iter().enumerate() {
        if !attack.suppressed[k] {
            assert!(!(1..=10).contains(&v), "entry {k} shows {v} in {counts:?} ({rows}×{cols})");
        }
    }
    for i in 0..rows {
        for j in 0..cols {
            if let Published::Shown(v) = published.cell(i, j) {
                assert_eq!(v, counts[i * cols + j]);
            }
        }
    }
}

fn assert_nothing_recoverable(counts: &[u64], rows: usize, cols: usize, published: &PublishedTable) {
    let attack = Attack::new(counts, rows, cols, published);
    for k in 0..attack.value.len() {
        if attack.suppressed[k] {
            assert!(
                attack.can_move(k),
                "entry {k} (value {}) is pinned by the published table {counts:?} ({rows}×{cols}): {published:?}",
                attack.value[k]
            );
        }
    }
}

#[test]
fn a_single_small_cell_gets_a_partner_in_its_row_and_column() {
    let counts = [5, 40, 30, 25, 60, 45];
    let published = suppress_table(&counts, 2, 3, &rule()).unwrap();
    assert_eq!(published.primary_suppressed, 1);
    // The 5 needs a second unknown in row 0 (the 30 is the smallest there) and in column 0
    // (the 25); then the 60 closes the rectangle so that 30 and 25 are not alone in theirs.
    assert_eq!(published.cell(0, 0), Published::Suppressed);
    assert_eq!(published.cell(0, 2), Published::Suppressed);
    assert_eq!(published.cell(1, 0), Published::Suppressed);
    assert_eq!(published.cell(1, 2), Published::Suppressed);
    assert_eq!(published.cell(0, 1), Published::Shown(40));
    assert_eq!(published.row_totals, vec![Published::Shown(75), Published::Shown(130)]);
    assert_eq!(published.grand_total, Published::Shown(205));
    assert_eq!(published.complementary_suppressed, 3);
    assert_nothing_recoverable(&counts, 2, 3, &published);
}

#[test]
fn small_totals_are_suppressed_too() {
    // Row 0 is 3 + 4 = 7: both cells and the total are small.
    let counts = [3, 4, 20, 30];
    let published = suppress_table(&counts, 2, 2, &rule()).unwrap();
    assert_eq!(published.row_totals[0], Published::Suppressed);
    assert_nothing_small_shown(&counts, 2, 2, &published);
    assert_nothing_recoverable(&counts, 2, 2, &published);
}

#[test]
fn zeros_and_large_counts_are_shown_untouched() {
    let counts = [0, 12, 40, 0];
    let published = suppress_table(&counts, 2, 2, &rule()).unwrap();
    assert_eq!(published.primary_suppressed + published.complementary_suppressed, 0);
    assert_eq!(
        published.cells,
        vec![Published::Shown(0), Published::Shown(12), Published::Shown(40), Published::Shown(0)]
    );
}

#[test]
fn one_row_tables_suppress_the_matching_column_totals() {
    let counts = [4, 30, 50];
    let published = suppress_table(&counts, 1, 3, &rule()).unwrap();
    assert_eq!(published.col_totals[0], Published::Suppressed);
    assert_nothing_small_shown(&counts, 1, 3, &published);
    assert_nothing_recoverable(&counts, 1, 3, &published);
}

#[test]
fn the_exact_check_does_catch_a_recoverable_cell() {
    // Without complementary suppression the lone 5 follows from its row total.
    let counts = [5, 40, 30, 25];
    let mut published = suppress_table(&counts, 2, 2, &rule()).unwrap();
    published.cells = vec![Published::Suppressed, Published::Shown(40), Published::Shown(30), Published::Shown(25)];
    published.row_totals = vec![Published::Shown(45), Published::Shown(55)];
    published.col_totals = vec![Published::Shown(35), Published::Shown(65)];
    published.grand_total = Published::Shown(100);
    assert!(!Attack::new(&counts, 2, 2, &published).can_move(0));
    // Two unknowns in a row and a column each but joined by one entry only: a bridge.
    // Rows {0,1} with columns {0,1} form one cycle, rows {2,3} with columns {2,3} another,
    // and the cell (1, 2) alone links them: it is pinned by the cut between the blocks.
    let counts = [5u64, 5, 20, 20, 5, 5, 7, 20, 20, 20, 5, 5, 20, 20, 5, 5];
    let mut published = suppress_table(&counts, 4, 4, &rule()).unwrap();
    let suppressed = [0usize, 1, 4, 5, 6, 10, 11, 14, 15];
    published.cells = (0..16)
        .map(|k| if suppressed.contains(&k) { Published::Suppressed } else { Published::Shown(counts[k]) })
        .collect();
    published.row_totals = (0..4).map(|i| Published::Shown((0..4).map(|j| counts[i * 4 + j]).sum())).collect();
    published.col_totals = (0..4).map(|j| Published::Shown((0..4).map(|i| counts[i * 4 + j]).sum())).collect();
    published.grand_total = Published::Shown(counts.iter().sum());
    let attack = Attack::new(&counts, 4, 4, &published);
    // Entry (1, 2) of the augmented 5-wide layout.
    assert!(!attack.can_move(5 + 2), "the bridge (1, 2) is recoverable");
    assert!(attack.can_move(0));
    // suppress_table itself leaves no bridge on the same table.
    let published = suppress_table(&counts, 4, 4, &rule()).unwrap();
    assert_nothing_recoverable(&counts, 4, 4, &published);
}

#[test]
fn random_tables_show_no_small_count_and_pin_no_suppressed_entry() {
    let mut rng = SplitMix64::new(20_261_126);
    let mut tables_with_suppression = 0;
    for _ in 0..3000 {
        let rows = 1 + rng.below(6) as usize;
        let cols = 1 + rng.below(6) as usize;
        let counts: Vec<u64> = (0..rows * cols)
            .map(|_| match rng.below(10) {
                0 | 1 => 0,
                2..=4 => 1 + rng.below(10),
                _ => 11 + rng.below(90),
            })
            .collect();
        let published = suppress_table(&counts, rows, cols, &rule()).unwrap();
        tables_with_suppression += usize::from(published.primary_suppressed > 0);
        assert_nothing_small_shown(&counts, rows, cols, &published);
        assert_nothing_recoverable(&counts, rows, cols, &published);
    }
    assert!(tables_with_suppression > 2000, "{tables_with_suppression}");
}

#[test]
fn every_two_by_two_table_of_small_range_counts_is_safe() {
    // Exhaustive over 2×2 tables with counts in {0, 1, 5, 10, 11, 12, 30}.
    let values = [0u64, 1, 5, 10, 11, 12, 30];
    for a in values {
        for b in values {
            for c in values {
                for d in values {
                    let counts = [a, b, c, d];
                    let published = suppress_table(&counts, 2, 2, &rule()).unwrap();
                    assert_nothing_small_shown(&counts, 2, 2, &published);
                    assert_nothing_recoverable(&counts, 2, 2, &published);
                }
            }
        }
    }
}

#[test]
fn bad_shapes_are_rejected() {
    assert!(suppress_table(&[], 0, 2, &rule()).unwrap_err().to_string().contains("no cells"));
    assert_eq!(
        suppress_table(&[1, 2, 3], 2, 2, &rule()).unwrap_err().to_string(),
        "counts has 3 values but 4 were expected"
    );
    let lax = DisclosureRule { min_count: 1, min_at_risk: 11 };
    assert!(suppress_table(&[1], 1, 1, &lax).is_err());
}

#[test]
fn survival_is_shown_only_where_enough_are_at_risk() {
    // 30 people, one event or censoring per day: 30 − t + 1 at risk on day t.
    let time: Vec<f64> = (1..=30).map(f64::from).collect();
    let event: Vec<bool> = (0..30).map(|i| i % 3 == 0).collect();
    let km = kaplan_meier(&time, &event, None, 0.95).unwrap();
    let shown = published_survival(&km, &time, &[0.5, 10.0, 20.0, 21.0, 25.0], &rule());
    assert_eq!(shown[0].estimate.as_ref().unwrap().survival, 1.0);
    let day10 = shown[1].estimate.as_ref().unwrap();
    assert_eq!(day10.at_risk, 21);
    assert_eq!(day10.survival, km.survival_at(10.0));
    assert_eq!(shown[2].estimate.as_ref().unwrap().at_risk, 11);
    assert!(shown[3].estimate.is_none(), "10 at risk on day 21");
    assert!(shown[4].estimate.is_none());
}
