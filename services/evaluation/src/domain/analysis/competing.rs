//! Recidivism components as competing risks: the cumulative incidence of each kind of first event
//! (Aalen–Johansen), published at fixed days with at least 11 at risk, and the count of first
//! events by kind under disclosure control; with a grouping, both for each group.

use std::collections::BTreeSet;

use wf_stats::competing as cumulative_incidence;
use wf_stats::disclosure::DisclosureRule;

use super::{FIXED_DAYS, each_group, grouped_header, grouped_label};
use crate::domain::dataset::YouthRow;
use crate::domain::outcome::{COMPONENTS, first_recidivism};
use crate::domain::table::{Cell, Chart, Output, Series, Table, count_table, frequency_table};

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

pub fn competing_risks(rows: &[YouthRow], group_by: Option<&str>) -> Output {
    let mut output = Output::default();
    let mut kinds: BTreeSet<String> = COMPONENTS.iter().map(|c| (*c).to_owned()).collect();
    let all_outcomes: Vec<_> = rows.iter().map(|r| first_recidivism(r, None)).collect();
    kinds.extend(all_outcomes.iter().filter_map(|o| o.kind.clone()));
    let kinds: Vec<String> = kinds.into_iter().collect();

    let mut columns = vec![grouped_header("group", group_by)];
    columns.extend(["day".to_owned(), "at_risk".to_owned()]);
    columns.extend(kinds.iter().cloned());
    let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
    let title = match group_by {
        Some(d) => format!("Cumulative incidence of each kind of first recidivism (competing risks), by {d}"),
        None => "Cumulative incidence of each kind of first recidivism (competing risks)".to_owned(),
    };
    let mut table = Table::new("recidivism_cumulative_incidence", &title, &columns)
        .note("Aalen–Johansen estimates: each kind of first event competes with the others; censoring at last contact")
        .note("shown only at fixed days with at least 11 youth at risk");
    let rule = DisclosureRule::default();
    let mut series = Vec::new();
    let groups = each_group(rows, group_by);
    for (group, members) in &groups {
        let outcomes: Vec<_> = members.iter().map(|r| first_recidivism(r, None)).collect();
        let time: Vec<f64> = outcomes.iter().map(|o| o.time).collect();
        let cause: Vec<Option<usize>> =
            outcomes.iter().map(|o| o.kind.as_ref().and_then(|k| kinds.iter().position(|c| c == k))).collect();
        let mut group_series: Vec<Series> =
            kinds.iter().map(|k| Series { label: grouped_label(k, group.as_deref()), points: Vec::new() }).collect();
        if members.is_empty() {
            continue;
        }
        for (day, (at_risk, incidence)) in FIXED_DAYS.iter().zip(incidence_at_days(&time, &cause, kinds.len())) {
            let mut row = vec![Cell::label(group.clone().unwrap_or_else(|| "all".into())), Cell::number(*day, 0)];
            if at_risk >= rule.min_at_risk {
                row.push(Cell::number(at_risk as f64, 0));
                for (k, value) in incidence.iter().enumerate() {
                    row.push(Cell::number(*value, 3));
                    group_series[k].points.push((*day, *value, *value, *value));
                }
            } else {
                row.extend((0..=kinds.len()).map(|_| Cell::suppressed()));
            }
            table.rows.push(row);
        }
        series.extend(group_series);
    }
    output.tables.push(table);
    output.charts.push(Chart::Curves {
        name: "recidivism_cumulative_incidence".into(),
        title: match group_by {
            Some(d) => format!("Cumulative incidence by kind of first recidivism, by {d}"),
            None => "Cumulative incidence by kind of first recidivism".into(),
        },
        y_label: "cumulative incidence".into(),
        start: 0.0,
        series,
    });

    let mut first_kinds: Vec<String> = kinds.clone();
    first_kinds.push("none_within_12_months".into());
    let first_kind = |row: &YouthRow| {
        let o = first_recidivism(row, None);
        o.kind.as_ref().and_then(|k| kinds.iter().position(|c| c == k)).unwrap_or(kinds.len())
    };
    const NAME: &str = "recidivism_first_event_kind";
    match group_by {
        None => {
            let mut counts: Vec<(String, u64)> = first_kinds.iter().map(|k| (k.clone(), 0)).collect();
            for row in rows {
                counts[first_kind(row)].1 += 1;
            }
            output.tables.push(frequency_table(
                NAME,
                "Kind of first recidivism event within 12 months",
                "first_event",
                &counts,
            ));
        }
        Some(dimension) => {
            let labels: Vec<String> = groups.iter().filter_map(|(g, _)| g.clone()).collect();
            let mut counts = vec![0u64; labels.len() * first_kinds.len()];
            for (g, (_, members)) in groups.iter().enumerate() {
                for row in members {
                    counts[g * first_kinds.len() + first_kind(row)] += 1;
                }
            }
            output.tables.push(count_table(
                NAME,
                &format!("Kind of first recidivism event within 12 months, by {dimension}"),
                dimension,
                &labels,
                &first_kinds,
                &counts,
            ));
        }
    }
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

    #[test]
    fn grouped_by_a_dimension_each_group_has_its_curves_and_counts() {
        use crate::domain::dataset::Recidivism;
        use crate::domain::testing::row;
        let rows: Vec<YouthRow> = (0..60)
            .map(|i| {
                let mut r = row(&format!("stu_{i}"));
                r.observed_days = 400.0;
                r.last_contact_day = 390.0;
                r.site = if i < 30 { "south_los_angeles".into() } else { "san_fernando_valley".into() };
                if i % 4 == 0 {
                    r.recidivism = vec![Recidivism { kind: "re_arrest".into(), day: 40.0 + i as f64 }];
                }
                r
            })
            .collect();
        let output = competing_risks(&rows, Some("site"));
        let incidence = &output.tables[0];
        assert_eq!(incidence.columns[0], "group / site");
        let groups: BTreeSet<&str> = incidence.rows.iter().map(|r| r[0].value.as_str()).collect();
        assert_eq!(groups, BTreeSet::from(["san_fernando_valley", "south_los_angeles"]));
        let first = &output.tables[1];
        assert_eq!(first.columns[0], "site");
        assert_eq!(first.rows.len(), 3, "two sites and the total: {first:?}");
        let ungrouped = competing_risks(&rows, None);
        assert!(ungrouped.tables[0].rows.iter().all(|r| r[0].value == "all"));
    }
}
