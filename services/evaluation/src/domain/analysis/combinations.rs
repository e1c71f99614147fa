//! Which combination of interventions works: bundles of service types received by day 90 (a
//! landmark, so services given later are not credited as if given at intake), compared among
//! youth still at risk at day 90 with a Cox model of time from day 90 to the first recidivism.
//!
//! - Only bundles with at least [`MIN_BUNDLE`] youth are compared; the largest is the reference.
//! - Confounding by mandated participation: each youth is weighted by P(bundle) / P(bundle |
//!   mandated or voluntary) (stabilized inverse probability weights, estimated within the two
//!   participation strata), so both strata have the same bundle mix; robust (sandwich) errors.
//!   Youth whose participation basis is unknown cannot be weighted and are left out (counted).
//! - The bootstrap (2,000 seeded resamples of youth, weights re-estimated in each) gives the
//!   probability that each bundle has the lowest hazard, i.e. ranks first.
//! - Power (Schoenfeld), for each bundle against the reference with the groups' actual sizes: with
//!   D events in the two bundles and a share p = n₁ / (n₁ + n₀) in the compared bundle, the
//!   smallest hazard ratio detectable with 80% power at two-sided 5% is
//!   exp(−(z₀.₉₇₅ + z₀.₈) / √(D p (1 − p))) — equal groups are not assumed.

use std::collections::BTreeMap;

use wf_stats::bootstrap::bootstrap;
use wf_stats::cox::{CoxData, CoxOptions, Ties, cox_fit};

use super::{BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, insufficient};
use crate::domain::dataset::YouthRow;
use crate::domain::outcome::first_recidivism;
use crate::domain::table::{Cell, Chart, ForestRow, Output, Table, count_table};

/// Fewest youth a bundle needs to be compared.
pub const MIN_BUNDLE: usize = 20;

/// The landmark day bundles are fixed at.
pub const LANDMARK_DAY: f64 = 90.0;

/// Fewest events for a model at all.
pub const MIN_EVENTS: usize = 5;

/// One youth in the model.
#[derive(Debug, Clone)]
struct Subject {
    bundle: usize,
    mandated: bool,
    time: f64,
    event: bool,
}

/// The bundle name of a set of service types ("none" when empty).
pub fn bundle_name(types: &[&str]) -> String {
    if types.is_empty() { "none".to_owned() } else { types.join("+") }
}

/// The smallest hazard ratio below 1 detectable with 80% power at two-sided 5% with `events`
/// events between two groups of `compared` and `reference` youth (Schoenfeld, `wf_stats::power`,
/// with the share the groups' sizes give).
pub fn detectable_hazard_ratio(events: usize, compared: usize, reference: usize) -> Option<f64> {
    if events == 0 || compared == 0 || reference == 0 {
        return None;
    }
    let share = compared as f64 / (compared + reference) as f64;
    wf_stats::power::detectable_hazard_ratio(events as f64, share, 0.05, 0.8).ok().map(|s| s.detectable_below)
}

/// Events among the youth of bundles `a` and `b`.
fn events_between(subjects: &[&Subject], a: usize, b: usize) -> usize {
    subjects.iter().filter(|s| (s.bundle == a || s.bundle == b) && s.event).count()
}

/// Stabilized weights P(bundle) / P(bundle | stratum) for `subjects` (indices into them).
fn weights(subjects: &[&Subject], bundles: usize) -> Option<Vec<f64>> {
    let n = subjects.len() as f64;
    let mut overall = vec![0.0; bundles];
    let mut by_stratum = [vec![0.0; bundles], vec![0.0; bundles]];
    let mut stratum_size = [0.0; 2];
    for s in subjects {
        overall[s.bundle] += 1.0;
        by_stratum[usize::from(s.mandated)][s.bundle] += 1.0;
        stratum_size[usize::from(s.mandated)] += 1.0;
    }
    subjects
        .iter()
        .map(|s| {
            let k = usize::from(s.mandated);
            let conditional = by_stratum[k][s.bundle] / stratum_size[k];
            (conditional > 0.0).then(|| (overall[s.bundle] / n) / conditional)
        })
        .collect()
}

/// Weighted Cox fit of bundle indicators (reference = bundle 0): log hazard ratios, their robust
/// errors and the events.
fn fit(subjects: &[&Subject], bundles: usize, robust: bool) -> Option<wf_stats::cox::CoxFit> {
    let w = weights(subjects, bundles)?;
    let p = bundles - 1;
    let mut x = vec![0.0; subjects.len() * p];
    for (i, s) in subjects.iter().enumerate() {
        if s.bundle > 0 {
            x[i * p + s.bundle - 1] = 1.0;
        }
    }
    let time: Vec<f64> = subjects.iter().map(|s| s.time).collect();
    let event: Vec<bool> = subjects.iter().map(|s| s.event).collect();
    let data = CoxData { time: &time, event: &event, x: &x, covariates: p, weights: Some(&w) };
    cox_fit(&data, &CoxOptions { ties: Ties::Efron, robust, ..CoxOptions::default() }).ok()
}

/// The bundle comparison over all rows, or within each group of `group_by` separately (each group
/// its own reference, thresholds and bootstrap).
pub fn intervention_combinations(rows: &[YouthRow], group_by: Option<&str>) -> Output {
    super::per_group(rows, group_by, combinations_of)
}

fn combinations_of(rows: &[YouthRow]) -> Output {
    let mut output = Output::default();
    const NAME: &str = "intervention_bundles";
    const TITLE: &str = "Recidivism by combination of services received by day 90 (adjusted hazard ratios)";

    // At risk at the landmark: no event and still observed at day 90.
    let mut at_risk: Vec<(String, bool, f64, bool)> = Vec::new();
    let mut unknown_participation = 0usize;
    for row in rows {
        let outcome = first_recidivism(row, None);
        if outcome.time <= LANDMARK_DAY {
            continue;
        }
        let mandated = match row.participation.as_str() {
            "mandated" => true,
            "voluntary" => false,
            _ => {
                unknown_participation += 1;
                continue;
            }
        };
        at_risk.push((
            bundle_name(&row.received_by(LANDMARK_DAY)),
            mandated,
            outcome.time - LANDMARK_DAY,
            outcome.event,
        ));
    }
    let mut sizes: BTreeMap<String, usize> = BTreeMap::new();
    for (bundle, ..) in &at_risk {
        *sizes.entry(bundle.clone()).or_default() += 1;
    }
    // Largest first (the reference), ties by name.
    let mut eligible: Vec<(String, usize)> =
        sizes.iter().filter(|(_, n)| **n >= MIN_BUNDLE).map(|(b, n)| (b.clone(), *n)).collect();
    eligible.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let left_out_small: usize = sizes.values().filter(|n| **n < MIN_BUNDLE).sum();
    let subjects: Vec<Subject> = at_risk
        .iter()
        .filter_map(|(bundle, mandated, time, event)| {
            let index = eligible.iter().position(|(b, _)| b == bundle)?;
            Some(Subject { bundle: index, mandated: *mandated, time: *time, event: *event })
        })
        .collect();
    let events = subjects.iter().filter(|s| s.event).count();
    let scope_note = format!(
        "youth at risk at day {LANDMARK_DAY}: {} in bundles of at least {MIN_BUNDLE}; youth in smaller bundles and youth \
         with unknown prior participation are left out",
        if subjects.len() > 10 { subjects.len().to_string() } else { "fewer than 11".into() },
    );
    let _ = (left_out_small, unknown_participation);

    if eligible.len() < 2 || events < MIN_EVENTS {
        let why = if eligible.len() < 2 {
            format!("fewer than two bundles have at least {MIN_BUNDLE} youth at risk at day {LANDMARK_DAY}")
        } else {
            format!("fewer than {MIN_EVENTS} recidivism events after day {LANDMARK_DAY}")
        };
        output.tables.push(insufficient(NAME, TITLE, why).note(scope_note));
        let refs: Vec<&Subject> = subjects.iter().collect();
        output.tables.push(power_table(&refs, &eligible));
        return output;
    }

    let refs: Vec<&Subject> = subjects.iter().collect();
    let Some(model) = fit(&refs, eligible.len(), true) else {
        output.tables.push(
            insufficient(NAME, TITLE, "the weighted Cox model could not be fitted on these data").note(scope_note),
        );
        return output;
    };
    let ranks = bootstrap(refs.len(), BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, |indices| {
        let sample: Vec<&Subject> = indices.iter().map(|&i| refs[i]).collect();
        let present = (0..eligible.len()).all(|b| sample.iter().any(|s| s.bundle == b));
        if !present || !sample.iter().any(|s| s.event) {
            return None;
        }
        let fitted = fit(&sample, eligible.len(), false)?;
        // The bundle with the lowest log hazard ratio ranks first (the reference has 0).
        let mut best = (0usize, 0.0f64);
        for (k, c) in fitted.coefficients.iter().enumerate() {
            if c.coef < best.1 {
                best = (k + 1, c.coef);
            }
        }
        Some(best.0)
    });
    let successful = ranks.values.len().max(1) as f64;
    let first_share = |b: usize| ranks.values.iter().filter(|&&k| k == b).count() as f64 / successful;

    let mut table = Table::new(
        NAME,
        TITLE,
        &["bundle", "youth", "hazard_ratio_95ci", "p_value", "probability_ranks_first", "detectable_hazard_ratio"],
    )
    .note(scope_note)
    .note(format!(
        "Cox model (Efron ties) of time from day {LANDMARK_DAY} to first recidivism; reference = the largest bundle; \
         stabilized inverse probability weights for mandated vs voluntary participation; robust standard errors"
    ))
    .note(format!(
        "probability of ranking first: share of {} seeded bootstrap resamples in which the bundle had the lowest \
         hazard ({} resamples could not be fitted)",
        BOOTSTRAP_RESAMPLES, ranks.failed
    ))
    .note("a hazard ratio below 1 means less recidivism than the reference bundle; intervals crossing 1 are uncertain");
    // The reference is drawn too: every hazard ratio is against it.
    let mut forest =
        vec![ForestRow { label: eligible[0].0.clone(), estimate: 1.0, lower: 1.0, upper: 1.0, reference: true }];
    for (b, (bundle, size)) in eligible.iter().enumerate() {
        let mut row = vec![Cell::label(bundle.clone()), Cell::number(*size as f64, 0)];
        let detectable = detectable_hazard_ratio(events_between(&refs, 0, b), *size, eligible[0].1);
        if b == 0 {
            row.extend([Cell::label("1 (reference)"), Cell::label("")]);
        } else {
            let c = &model.coefficients[b - 1];
            row.push(Cell::estimate(c.exp_coef, c.exp_ci_lower, c.exp_ci_upper, 2));
            row.push(Cell::number(c.p_value, 4));
            forest.push(ForestRow {
                label: bundle.clone(),
                estimate: c.exp_coef,
                lower: c.exp_ci_lower,
                upper: c.exp_ci_upper,
                reference: false,
            });
        }
        row.push(Cell::number(first_share(b), 3));
        row.push(if b == 0 {
            Cell::label("")
        } else {
            detectable.map_or_else(|| Cell::label("n/a"), |hr| Cell::number(hr, 2))
        });
        table.rows.push(row);
    }
    output.tables.push(table);
    output.charts.push(Chart::Forest {
        name: "intervention_bundles_forest".into(),
        title: format!("Adjusted hazard ratios vs {} (95% intervals)", eligible[0].0),
        rows: forest,
    });

    // Events by bundle and participation balance, under disclosure control.
    let labels: Vec<String> = eligible.iter().map(|(b, _)| b.clone()).collect();
    let mut counts = Vec::new();
    let mut mandated_counts = Vec::new();
    for b in 0..eligible.len() {
        let members: Vec<&&Subject> = refs.iter().filter(|s| s.bundle == b).collect();
        let e = members.iter().filter(|s| s.event).count() as u64;
        counts.extend([e, members.len() as u64 - e]);
        let m = members.iter().filter(|s| s.mandated).count() as u64;
        mandated_counts.extend([m, members.len() as u64 - m]);
    }
    output.tables.push(count_table(
        "intervention_bundle_events",
        "Recidivism after day 90 by bundle",
        "bundle",
        &labels,
        &["recidivism".into(), "censored".into()],
        &counts,
    ));
    output.tables.push(balance_table(&refs, &labels, &mandated_counts));
    output.tables.push(power_table(&refs, &eligible));
    output
}

/// The mandated share per bundle before and after weighting (after weighting every bundle has
/// the overall share: that is what the weights are for).
fn balance_table(subjects: &[&Subject], labels: &[String], mandated_counts: &[u64]) -> Table {
    let mut table = count_table(
        "intervention_bundle_participation",
        "Prior participation by bundle (balance before weighting)",
        "bundle",
        labels,
        &["mandated".into(), "voluntary".into()],
        mandated_counts,
    );
    if let Some(w) = weights(subjects, labels.len()) {
        let mut notes = Vec::new();
        for (b, label) in labels.iter().enumerate() {
            let (mut total, mut mandated) = (0.0, 0.0);
            for (s, weight) in subjects.iter().zip(&w) {
                if s.bundle == b {
                    total += weight;
                    if s.mandated {
                        mandated += weight;
                    }
                }
            }
            if total > 0.0 {
                notes.push(format!("{label} {:.1}%", 100.0 * mandated / total));
            }
        }
        table.notes.push(format!("mandated share after weighting: {}", notes.join(", ")));
    }
    table
}

/// A count as it may be printed: 0 or 11 and more as they are, 1 to 10 as "fewer than 11".
fn publishable(count: usize) -> String {
    if count == 0 || count > 10 { count.to_string() } else { "fewer than 11".to_owned() }
}

/// What the data can detect: one statement per bundle compared with the reference, for the two
/// groups' actual sizes and the events among them.
fn power_table(subjects: &[&Subject], eligible: &[(String, usize)]) -> Table {
    let mut table = Table::new("intervention_power", "What these data can detect", &["statement"])
        .note("Schoenfeld's formula for the two groups compared, with their actual sizes (80% power, two-sided 5%)");
    if eligible.len() < 2 {
        let events = subjects.iter().filter(|s| s.event).count();
        table.rows.push(vec![Cell::label(format!(
            "insufficient data: {} events among {} youth in {} comparable bundles; at least 11 events and two \
             bundles of {MIN_BUNDLE} youth are needed for a statement of power",
            publishable(events),
            publishable(subjects.len()),
            eligible.len()
        ))]);
        return table;
    }
    let (reference, reference_size) = &eligible[0];
    for (b, (bundle, size)) in eligible.iter().enumerate().skip(1) {
        let events = events_between(subjects, 0, b);
        let statement = match detectable_hazard_ratio(events, *size, *reference_size) {
            // The number of events is a count too: from 1 to 10 it is not published.
            Some(hr) if events > 10 => format!(
                "{bundle} ({size} youth) against {reference} ({reference_size} youth): with {events} events the \
                 smallest hazard ratio these data can detect is {hr:.2} (80% power, two-sided 5%, groups of {size} \
                 and {reference_size}); smaller effects may exist and go undetected"
            ),
            _ => format!(
                "{bundle} ({size} youth) against {reference} ({reference_size} youth): insufficient data, {} events; \
                 at least 11 are needed for a statement of power",
                publishable(events)
            ),
        };
        table.rows.push(vec![Cell::label(statement)]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dataset::{Exposure, Recidivism};
    use crate::domain::testing::row;

    #[test]
    fn schoenfeld_detectable_hazard_ratio() {
        // 4 (1.96 + 0.8416)² / D: with D = 100 in two equal groups, log HR = −0.5604 → HR 0.571.
        let hr = detectable_hazard_ratio(100, 50, 50).unwrap();
        assert!((hr - 0.5711).abs() < 1e-3, "{hr}");
        assert!(detectable_hazard_ratio(0, 50, 50).is_none());
    }

    #[test]
    fn power_is_for_the_groups_actual_sizes() {
        // exp(−(z.975 + z.8) / √(D p (1 − p))) with p = 35 / 64 and D = 40: 0.4107 (0.4123 if the
        // groups were equal); with 60 against 20, p = 0.75: 0.3595.
        let hr = detectable_hazard_ratio(40, 35, 29).unwrap();
        assert!((hr - 0.410_714).abs() < 1e-5, "{hr}");
        let hr = detectable_hazard_ratio(40, 60, 20).unwrap();
        assert!((hr - 0.359_517).abs() < 1e-5, "{hr}");
    }

    fn subjects(sizes: &[(usize, usize)]) -> Vec<Subject> {
        // (youth, events) per bundle.
        sizes
            .iter()
            .enumerate()
            .flat_map(|(bundle, &(n, events))| {
                (0..n).map(move |i| Subject { bundle, mandated: false, time: 10.0, event: i < events })
            })
            .collect()
    }

    #[test]
    fn the_power_statement_names_the_group_sizes_and_never_a_small_count() {
        let eligible = vec![("a".to_owned(), 35), ("b".to_owned(), 29)];
        let all = subjects(&[(35, 22), (29, 18)]);
        let refs: Vec<&Subject> = all.iter().collect();
        let statement = &power_table(&refs, &eligible).rows[0][0].value;
        assert!(
            statement.starts_with(
                "b (29 youth) against a (35 youth): with 40 events the smallest hazard ratio these data can detect \
                 is 0.41 (80% power, two-sided 5%, groups of 29 and 35)"
            ),
            "{statement}"
        );
        assert!(!statement.contains("equal"), "{statement}");
        let few = subjects(&[(35, 4), (29, 3)]);
        let refs: Vec<&Subject> = few.iter().collect();
        let statement = &power_table(&refs, &eligible).rows[0][0].value;
        assert!(statement.contains("insufficient data, fewer than 11 events"), "{statement}");
        let one = vec![("a".to_owned(), 55)];
        let statement = &power_table(&refs, &one).rows[0][0].value;
        assert!(statement.starts_with("insufficient data: fewer than 11 events among 64 youth"), "{statement}");
    }

    #[test]
    fn weights_balance_the_mandated_share_across_bundles() {
        let subjects: Vec<Subject> = (0..60)
            .map(|i| Subject { bundle: usize::from(i % 3 == 0), mandated: i % 2 == 0, time: 10.0, event: false })
            .collect();
        let refs: Vec<&Subject> = subjects.iter().collect();
        let w = weights(&refs, 2).unwrap();
        let share = |b: usize| {
            let (t, m) = refs
                .iter()
                .zip(&w)
                .filter(|(s, _)| s.bundle == b)
                .fold((0.0, 0.0), |(t, m), (s, w)| (t + w, if s.mandated { m + w } else { m }));
            m / t
        };
        assert!((share(0) - share(1)).abs() < 1e-12);
    }

    #[test]
    fn small_bundles_give_insufficient_data() {
        let rows: Vec<YouthRow> = (0..15)
            .map(|i| {
                let mut r = row(&format!("stu_{i}"));
                r.observed_days = 400.0;
                r.last_contact_day = 300.0;
                r
            })
            .collect();
        let output = intervention_combinations(&rows, None);
        assert_eq!(output.tables[0].rows[0][0].value, "insufficient data");
        let power = output.tables.iter().find(|t| t.name == "intervention_power").unwrap();
        assert!(power.rows[0][0].value.starts_with("insufficient data"));
    }

    #[test]
    fn a_planted_protective_bundle_ranks_first_most_often() {
        let rows: Vec<YouthRow> = (0..160)
            .map(|i| {
                let mut r = row(&format!("stu_{i}"));
                r.observed_days = 500.0;
                r.last_contact_day = 400.0;
                r.participation = if i % 4 == 0 { "mandated".into() } else { "voluntary".into() };
                let helped = i % 3 == 0;
                if helped {
                    r.interventions = vec![Exposure {
                        service_type: "mental_health".into(),
                        first_day: 10.0,
                        deliveries: 3,
                        units: 3.0,
                    }];
                }
                // Half of the unhelped and a ninth of the helped have an event after day 90.
                if (!helped && i % 2 == 1) || (helped && i % 27 == 0) {
                    r.recidivism = vec![Recidivism { kind: "re_exploitation".into(), day: 100.0 + i as f64 }];
                }
                r
            })
            .collect();
        let output = intervention_combinations(&rows, None);
        let table = &output.tables[0];
        assert_eq!(table.name, "intervention_bundles");
        let helped = table.rows.iter().find(|r| r[0].value == "mental_health").expect("bundle shown");
        assert!(helped[4].number.unwrap() > 0.9, "{table:#?}");
        let hr = helped[2].number.unwrap();
        assert!(hr < 1.0);
        assert!(output.charts.iter().any(|c| matches!(c, Chart::Forest { .. })));
    }

    #[test]
    fn grouped_each_group_is_its_own_comparison() {
        let rows: Vec<YouthRow> = (0..30)
            .map(|i| {
                let mut r = row(&format!("stu_{i}"));
                r.observed_days = 400.0;
                r.last_contact_day = 300.0;
                r.site = if i < 15 { "south_los_angeles".into() } else { "san_fernando_valley".into() };
                r
            })
            .collect();
        let output = intervention_combinations(&rows, Some("site"));
        let names: Vec<&str> = output.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "intervention_bundles__site_san_fernando_valley",
                "intervention_power__site_san_fernando_valley",
                "intervention_bundles__site_south_los_angeles",
                "intervention_power__site_south_los_angeles"
            ]
        );
        assert!(output.tables[0].title.ends_with("— site: san_fernando_valley"), "{}", output.tables[0].title);
        assert!(output.tables[0].notes.iter().any(|n| n == "computed within site san_fernando_valley alone"));
    }
}
