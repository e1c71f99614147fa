//! Deadline compliance (DESIGN.md's time limits): the share of referrals matched within their
//! tier's limit — emergent 90 minutes, urgent 24 hours, routine 48 hours.
//!
//! - A referral is matched at the first offer accepted or case assigned (an advocate took it).
//! - The tier that counts is the one in force when the referral was matched (or at the as-of
//!   instant when it was not), and its clock starts when the referral entered that tier: at
//!   receipt, or at the re-triage. A re-triage to emergent therefore gives 90 minutes from the
//!   re-triage, not from a receipt that may be hours earlier.
//! - Unmatched referrals whose deadline has passed by the as-of instant missed it; those whose
//!   deadline is still ahead are pending and left out of the share.

use crate::domain::operations::{Operations, ReferralFacts};
use crate::domain::table::{Cell, Output, count_table};

const MINUTE: i64 = 60_000_000;

/// The limit of a tier in microseconds; None for a referral without a known tier.
pub fn limit(tier: &str) -> Option<i64> {
    match tier {
        "emergent" => Some(90 * MINUTE),
        "urgent" => Some(24 * 60 * MINUTE),
        "routine" => Some(48 * 60 * MINUTE),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compliance {
    Met,
    Missed,
    Pending,
}

/// The tier that counts and whether its deadline was met; None without a known tier.
pub fn compliance(referral: &ReferralFacts, as_of: i64) -> Option<(String, Compliance)> {
    let (since, tier) = referral.tier_at(referral.matched_at.unwrap_or(as_of));
    let deadline = since.saturating_add(limit(tier)?);
    let status = match referral.matched_at {
        Some(matched) if matched <= deadline => Compliance::Met,
        Some(_) => Compliance::Missed,
        None if as_of > deadline => Compliance::Missed,
        None => Compliance::Pending,
    };
    Some((tier.to_owned(), status))
}

pub fn deadline_compliance(operations: &Operations, group_by: Option<&str>) -> Output {
    // Every line is a tier already: grouping by the tier splits nothing further.
    let by = group_by.filter(|d| *d != "triage_tier");
    let mut groups: std::collections::BTreeMap<(usize, String, String), [u64; 3]> = std::collections::BTreeMap::new();
    let mut untiered = 0usize;
    for referral in &operations.referrals {
        let Some((tier, status)) = compliance(referral, operations.as_of) else {
            untiered += 1;
            continue;
        };
        let order = ["emergent", "urgent", "routine"].iter().position(|t| *t == tier).unwrap_or(3);
        let group = by.map(|d| referral.dimension(d)).unwrap_or_default();
        let counts = groups.entry((order, tier, group)).or_default();
        counts[status as usize] += 1;
    }
    // Tiers by urgency, each tier's groups in the order their codes are shown.
    let mut lines: Vec<((usize, String, String), [u64; 3])> = groups.into_iter().collect();
    lines.sort_by(|((a_order, _, a), _), ((b_order, _, b), _)| {
        let (a_key, b_key) = (crate::domain::codes::order_key(a), crate::domain::codes::order_key(b));
        a_order.cmp(b_order).then(a_key.0.cmp(&b_key.0)).then(a_key.1.total_cmp(&b_key.1)).then_with(|| a.cmp(b))
    });
    let labels: Vec<String> = lines
        .iter()
        .map(|((_, tier, group), _)| if by.is_some() { format!("{tier} / {group}") } else { tier.clone() })
        .collect();
    let counts: Vec<u64> = lines.iter().flat_map(|(_, counts)| *counts).collect();
    let header = match by {
        Some(d) => format!("triage_tier / {d}"),
        None => "triage_tier".to_owned(),
    };
    let mut table = count_table(
        "deadline_compliance",
        "Referrals matched within their tier's time limit",
        &header,
        &labels,
        &["met".into(), "missed".into(), "pending".into()],
        &counts,
    )
    .note(
        "limits: emergent 90 minutes, urgent 24 hours, routine 48 hours, counted from when the referral entered the \
         tier it had when matched; matched = first offer accepted or case assigned; pending = deadline still ahead \
         (not in the share)",
    )
    .note("the written mandated report (36 hours) and first advocate contact are not in the data set yet");
    if untiered > 0 {
        table = table.note("referrals without a triage tier have no deadline and are not counted");
    }
    table.columns.push("met_percent".into());
    for row in &mut table.rows {
        let share = match (&row[1], &row[2]) {
            (met, missed) if !met.suppressed && !missed.suppressed => {
                let (m, x) = (met.number.unwrap_or(0.0), missed.number.unwrap_or(0.0));
                if m + x > 0.0 { Cell::number(100.0 * m / (m + x), 1) } else { Cell::label("–") }
            }
            _ => Cell::suppressed(),
        };
        row.push(share);
    }
    Output { tables: vec![table], charts: Vec::new() }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 60 * MINUTE;

    fn referral(id: usize, tier: &str, received_at: i64, matched_after: Option<i64>) -> ReferralFacts {
        ReferralFacts {
            referral_id: format!("ref_{id}"),
            youth_id: format!("yth_{id}"),
            site: "south_los_angeles".into(),
            referral_source: "hotline".into(),
            dimensions: [("site", "south_los_angeles"), ("age_band", "15_17")]
                .into_iter()
                .map(|(d, v)| (d.to_owned(), v.to_owned()))
                .collect(),
            received_at,
            tiers: vec![(received_at, tier.into())],
            matched_at: matched_after.map(|after| received_at + after),
        }
    }

    #[test]
    fn re_triage_to_emergent_counts_ninety_minutes_from_the_re_triage() {
        let mut r = referral(1, "routine", 0, Some(10 * HOUR + 60 * MINUTE));
        r.tiers.push((10 * HOUR, "emergent".into()));
        // Matched 60 minutes after becoming emergent: met, and counted as emergent.
        assert_eq!(compliance(&r, 100 * HOUR), Some(("emergent".into(), Compliance::Met)));
        r.matched_at = Some(10 * HOUR + 2 * HOUR);
        assert_eq!(compliance(&r, 100 * HOUR), Some(("emergent".into(), Compliance::Missed)));
        // A re-triage after the match does not change the tier that counted.
        let mut late = referral(2, "routine", 0, Some(30 * HOUR));
        late.tiers.push((40 * HOUR, "emergent".into()));
        assert_eq!(compliance(&late, 100 * HOUR), Some(("routine".into(), Compliance::Met)));
    }

    #[test]
    fn unmatched_referrals_are_pending_until_the_deadline_passes() {
        let r = referral(1, "urgent", 0, None);
        assert_eq!(compliance(&r, 23 * HOUR), Some(("urgent".into(), Compliance::Pending)));
        assert_eq!(compliance(&r, 25 * HOUR), Some(("urgent".into(), Compliance::Missed)));
        assert_eq!(compliance(&referral(2, "missing", 0, None), 25 * HOUR), None);
    }

    #[test]
    fn group_by_splits_each_tier_by_any_dimension_of_the_referral() {
        let mut referrals: Vec<ReferralFacts> = (0..24).map(|i| referral(i, "routine", 0, Some(HOUR))).collect();
        for r in &mut referrals[12..] {
            r.site = "san_fernando_valley".into();
            r.dimensions.insert("site".into(), "san_fernando_valley".into());
            r.dimensions.insert("age_band".into(), "under_15".into());
        }
        let ops = Operations { referrals, offers: Vec::new(), as_of: 1000 * HOUR };
        let table = &deadline_compliance(&ops, Some("site")).tables[0];
        assert_eq!(table.columns[0], "triage_tier / site");
        let labels: Vec<&str> = table.rows.iter().map(|r| r[0].value.as_str()).collect();
        assert_eq!(labels, ["routine / san_fernando_valley", "routine / south_los_angeles", "total"]);
        // Any dimension of the referral: age bands in their numeric order.
        let table = &deadline_compliance(&ops, Some("age_band")).tables[0];
        let labels: Vec<&str> = table.rows.iter().map(|r| r[0].value.as_str()).collect();
        assert_eq!(labels, ["routine / under_15", "routine / 15_17", "total"]);
    }

    #[test]
    fn shares_by_tier_without_small_counts() {
        let mut referrals = Vec::new();
        for i in 0..40 {
            // 30 routine met, 10 routine missed (suppressed with its complement), 25 urgent met.
            let after = if i < 30 { 47 * HOUR } else { 49 * HOUR };
            referrals.push(referral(i, "routine", 0, Some(after)));
        }
        for i in 40..65 {
            referrals.push(referral(i, "urgent", 0, Some(2 * HOUR)));
        }
        let ops = Operations { referrals, offers: Vec::new(), as_of: 1000 * HOUR };
        let table = &deadline_compliance(&ops, None).tables[0];
        let urgent = table.rows.iter().find(|r| r[0].value == "urgent").unwrap();
        assert_eq!(urgent[1].number, Some(25.0));
        let routine = table.rows.iter().find(|r| r[0].value == "routine").unwrap();
        assert!(routine[2].suppressed, "10 missed must not be shown: {routine:?}");
        assert!(routine[5].suppressed, "a share built on a suppressed count is withheld");
        for row in &table.rows {
            for cell in &row[1..5] {
                if let Some(n) = cell.number {
                    assert!(n == 0.0 || n >= 11.0, "{row:?}");
                }
            }
        }
    }
}
