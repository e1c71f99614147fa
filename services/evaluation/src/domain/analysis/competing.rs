//! Recidivism components as competing risks: the cumulative incidence of each kind of first event
//! (Aalen–Johansen), published at fixed days with at least 11 at risk, and the count of first
//! events by kind under disclosure control.

use std::collections::BTreeSet;

use wf_stats::competing as cumulative_incidence;
use wf_stats::disclosure::DisclosureRule;

use super::FIXED_DAYS;
use crate::domain::dataset::YouthRow;
use crate::domain::outcome::{COMPONENTS, first_recidivism};
use crate::domain::table::{Cell, Chart, Output, Series, Table, frequency_table};

/// Per fixed day: the number at risk (time ≥ day) and the incidence of each kind (Aalen–Johansen,
/// `wf_stats::competing`). `kind[i]` is the 0-based kind of an event, None for censoring.
fn incidence_at_days(time: &[f64], kind: &[Option<usize>], kinds: usize) -> Vec<(u64, Vec<f64>)> {
    let outcome: Vec<u32> = kind.iter().map(|k| k.map_or(0, |k| k as u32 + 1)).collect();
    let curves: Vec<Option<cumulative_incidence::CumulativeIncidence>> = (0..kinds)
        .map(|k| cumulative_incidence::cumulative_incidence(time, &outcome, k as u32 + 1, 0.95).ok())
        .collect();
    FIXED_DAYS
        .iter()
        .map(|&day| {
            let at_risk = time.iter().filter(|&&t| t >= day).count() as u64;
            let values = curves.iter().map(|c| c.as_ref().map_or(0.0, |c| c.incidence_at(day))).collect();
            (at_risk, values)
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
        for (day, (at_risk, incidence)) in FIXED_DAYS.iter().zip(incidence_at_days(&time, &cause, kinds.len())) {
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
    fn incidence_of_all_kinds_adds_up_to_one_minus_survival() {
        // 20 people: kind 0 at days 10..=14, kind 1 at 15..=17, the rest censored at 400.
        let mut time = Vec::new();
        let mut kind = Vec::new();
        for i in 0..20 {
            match i {
                0..=4 => (time.push(10.0 + i as f64), kind.push(Some(0))),
                5..=7 => (time.push(10.0 + i as f64), kind.push(Some(1))),
                _ => (time.push(400.0), kind.push(None)),
            };
        }
        let result = incidence_at_days(&time, &kind, 2);
        let (at_risk, incidence) = &result[0];
        assert_eq!(*at_risk, 12);
        assert!((incidence[0] - 5.0 / 20.0).abs() < 1e-12);
        assert!((incidence[1] - 3.0 / 20.0).abs() < 1e-12);
    }
}
