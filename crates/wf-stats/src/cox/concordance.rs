//! Harrell's concordance index in O(n log n).
//!
//! A pair is comparable when one subject has an event strictly before the other's
//! time, or has an event at the time the other is censored (the censored one is
//! taken to live longer); two events at the same time are not compared. The pair
//! is concordant when the earlier one has the higher risk score, and counts ½ when
//! the scores tie — lifelines' `concordance_index` rules, unweighted.
//!
//! Times are visited from the latest backward with a Fenwick tree over the ranks of
//! the scores of subjects already passed, so each event asks "how many later
//! subjects score lower / equal" in O(log n).

use super::Prepared;

pub(crate) fn concordance(prep: &Prepared, eta: &[f64]) -> f64 {
    // Dense ranks of the scores (equal scores share a rank), computed once.
    let by_score = super::sort_by_key(eta.iter().map(|&e| super::order_key(e)).collect());
    let mut ranks = vec![0usize; eta.len()];
    let mut distinct = 0;
    for (k, &(score, i)) in by_score.iter().enumerate() {
        if k > 0 && score != by_score[k - 1].0 {
            distinct += 1;
        }
        ranks[i] = distinct;
    }
    let rank = |i: usize| ranks[i];
    let mut tree = Fenwick::new(distinct + 1);
    let (mut concordant, mut tied, mut pairs) = (0.0f64, 0.0f64, 0.0f64);
    for group in prep.groups.iter().rev() {
        // The censored at this time are comparable with this time's events.
        for i in group.start..group.end {
            if !prep.event[i] {
                tree.add(rank(i));
            }
        }
        for i in group.start..group.end {
            if prep.event[i] {
                let r = rank(i);
                let lower = tree.prefix(r);
                let equal = tree.prefix(r + 1) - lower;
                concordant += lower;
                tied += equal;
                pairs += tree.total();
            }
        }
        for i in group.start..group.end {
            if prep.event[i] {
                tree.add(rank(i));
            }
        }
    }
    if pairs == 0.0 { f64::NAN } else { (concordant + 0.5 * tied) / pairs }
}

/// Counts of scores by rank. u32 counts (n < 2³²) keep the tree half the size of f64 ones,
/// so more of it stays in cache while events probe it at scattered ranks.
struct Fenwick {
    tree: Vec<u32>,
    total: f64,
}

impl Fenwick {
    fn new(n: usize) -> Self {
        Self { tree: vec![0; n + 1], total: 0.0 }
    }

    fn add(&mut self, index: usize) {
        self.total += 1.0;
        let mut i = index + 1;
        while i < self.tree.len() {
            self.tree[i] += 1;
            i += i & i.wrapping_neg();
        }
    }

    /// Sum over ranks < `end`.
    fn prefix(&self, end: usize) -> f64 {
        let mut s = 0u64;
        let mut i = end;
        while i > 0 {
            s += u64::from(self.tree[i]);
            i -= i & i.wrapping_neg();
        }
        s as f64
    }

    fn total(&self) -> f64 {
        self.total
    }
}
