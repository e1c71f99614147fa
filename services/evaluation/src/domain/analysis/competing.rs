//! Recidivism components as competing risks: the cumulative incidence of each kind of first event
//! (Aalen–Johansen), published at fixed days with at least 11 at risk, and the count of first
//! events by kind under disclosure control.

use std::collections::BTreeSet;

use wf_stats::disclosure::DisclosureRule;

use super::FIXED_DAYS;
use crate::domain::dataset::YouthRow;
use crate::domain::outcome::{COMPONENTS, first_recidivism};
use crate::domain::table::{Cell, Chart, Output, Series, Table, frequency_table};

/// Cumulative incidence of each cause at `times`: F_k(t) = Σ_{tⱼ ≤ t} Ŝ(tⱼ−) d_kj / nⱼ, with Ŝ the
/// all-cause Kaplan–Meier. `cause[i]` is the cause index of an event, None for censoring. Returns,
/// per time, the number at risk (time ≥ t) and the incidence of each cause.
///
/// A local seam until `wf_stats` publishes its Aalen–Johansen estimator; the arithmetic is the
/// textbook one (Klein & Moeschberger §2.7, lifelines' `AalenJohansenFitter` without ties jitter).
pub fn cumulative_incidence(
    time: &[f64],
    cause: &[Option<usize>],
    causes: usize,
    times: &[f64],
) -> Vec<(u64, Vec<f64>)> {
    let n = time.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| time[a].total_cmp(&time[b]));
    let mut steps: Vec<(f64, Vec<f64>)> = Vec::new();
    let mut survival = 1.0;
    let mut incidence = vec![0.0; causes];
    let mut at_risk = n as f64;
    let mut i = 0;
    while i < n {
        let t = time[order[i]];
        let mut deaths = vec![0.0; causes];
        let mut leaving = 0.0;
        while i < n && time[order[i]] == t {
            if let Some(k) = cause[order[i]] {
                deaths[k] += 1.0;
            }
            leaving += 1.0;
            i += 1;
        }
        let total: f64 = deaths.iter().sum();
        if total > 0.0 {
            for k in 0..causes {
                incidence[k] += survival * deaths[k] / at_risk;
            }
            survival *= 1.0 - total / at_risk;
        }
        at_risk -= leaving;
        steps.push((t, incidence.clone()));
    }
    times
        .iter()
        .map(|&t| {
            let at_risk = time.iter().filter(|&&o| o >= t).count() as u64;
            let idx = steps.partition_point(|(s, _)| *s <= t);
            let value = idx.checked_sub(1).map_or_else(|| vec![0.0; causes], |j| steps[j].1.clone());
            (at_risk, value)
        })
        .collect()
}

pub fn competing_risks(rows: &[YouthRow]) -> Output {
    let mut output = Output::default();
    let mut kinds: BTreeSet<String> = COMPONENTS.iter().map(|c| (*c).to_owned()).collect();
    let outcomes: Vec<_> = rows.iter().map(|r| first_recidivism(r, None)).collect();
    kinds.extend(outcomes.iter().filter_map(|o| o.kind.clone()));
    let kinds: Vec<String> = kinds.into_iter().collect();
    let time: Vec<f64> = outcomes.iter().map(|o| o.time).collect();
    let cause: Vec<Option<usize>> =
        outcomes.iter().map(|o| o.kind.as_ref().and_then(|k| kinds.iter().position(|c| c == k))).collect();

    let mut columns = vec!["day", "at_risk"];
    columns.extend(kinds.iter().map(String::as_str));
    let mut table = Table::new(
        "recidivism_cumulative_incidence",
        "Cumulative incidence of each kind of first recidivism (competing risks)",
        &columns,
    )
    .note("Aalen–Johansen estimates: each kind of first event competes with the others; censoring at last contact")
    .note("shown only at fixed days with at least 11 youth at risk");
    let rule = DisclosureRule::default();
    let mut series: Vec<Series> = kinds.iter().map(|k| Series { label: k.clone(), points: Vec::new() }).collect();
    if !rows.is_empty() {
        for (day, (at_risk, incidence)) in
            FIXED_DAYS.iter().zip(cumulative_incidence(&time, &cause, kinds.len(), &FIXED_DAYS))
        {
            let mut row = vec![Cell::number(*day, 0)];
            if at_risk >= rule.min_at_risk {
                row.push(Cell::number(at_risk as f64, 0));
                for (k, value) in incidence.iter().enumerate() {
                    row.push(Cell::number(*value, 3));
                    series[k].points.push((*day, *value, *value, *value));
                }
            } else {
                row.extend((0..=kinds.len()).map(|_| Cell::suppressed()));
            }
            table.rows.push(row);
        }
    }
    output.tables.push(table);
    output.charts.push(Chart::Curves {
        name: "recidivism_cumulative_incidence".into(),
        title: "Cumulative incidence by kind of first recidivism".into(),
        y_label: "cumulative incidence".into(),
        start: 0.0,
        series,
    });

    let mut first_kinds: Vec<(String, u64)> = kinds.iter().map(|k| (k.clone(), 0)).collect();
    first_kinds.push(("none_within_12_months".into(), 0));
    for o in &outcomes {
        let idx = o.kind.as_ref().and_then(|k| kinds.iter().position(|c| c == k)).unwrap_or(kinds.len());
        first_kinds[idx].1 += 1;
    }
    output.tables.push(frequency_table(
        "recidivism_first_event_kind",
        "Kind of first recidivism event within 12 months",
        "first_event",
        &first_kinds,
    ));
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incidence_of_all_causes_adds_up_to_one_minus_survival() {
        // 6 people: events of cause 0 at 1 and 3, cause 1 at 2, censored at 2.5, 4, 5.
        let time = [1.0, 2.0, 2.5, 3.0, 4.0, 5.0];
        let cause = [Some(0), Some(1), None, Some(0), None, None];
        let result = cumulative_incidence(&time, &cause, 2, &[1.0, 2.0, 3.0, 10.0]);
        // At 1: 1/6. At 2: S(2−) = 5/6, +1/5 of it for cause 1. At 3: S(3−)=5/6·4/5=2/3, 3 at risk.
        assert!((result[0].1[0] - 1.0 / 6.0).abs() < 1e-12);
        assert!((result[1].1[1] - (5.0 / 6.0) / 5.0).abs() < 1e-12);
        assert!((result[2].1[0] - (1.0 / 6.0 + (2.0 / 3.0) / 3.0)).abs() < 1e-12);
        let survival_at_10 = 5.0 / 6.0 * 4.0 / 5.0 * 2.0 / 3.0;
        assert!((result[3].1.iter().sum::<f64>() - (1.0 - survival_at_10)).abs() < 1e-12);
        assert_eq!(result[0].0, 6);
        assert_eq!(result[3].0, 0);
    }
}
