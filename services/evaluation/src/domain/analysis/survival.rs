//! Recidivism survival: Kaplan–Meier of time to first recidivism within 12 months, overall and by
//! group, published only at fixed days with at least 11 at risk; the log-rank test between the
//! groups that have at least 11 youth.

use wf_stats::disclosure::{DisclosureRule, published_survival};
use wf_stats::km::kaplan_meier;
use wf_stats::logrank::log_rank;

use super::{FIXED_DAYS, MIN_GROUP, groups};
use crate::domain::dataset::YouthRow;
use crate::domain::outcome::{Outcome, first_recidivism};
use crate::domain::table::{Cell, Chart, Output, Series, Table, count_table};

const CENSORING_NOTE: &str = "time from intake to the first recidivism event (re-exploitation, re-arrest, return to the \
     trafficker) within 12 months; youth without an event are censored at their last contact, so lost to follow-up \
     is never counted as no recidivism";

/// (at risk, estimate, lower, upper) at one fixed day, when published.
pub type PublishedPoint = Option<(u64, f64, f64, f64)>;

/// The published curve of `outcomes` at the fixed days.
pub fn published_curve(outcomes: &[Outcome]) -> Vec<(f64, PublishedPoint)> {
    if outcomes.is_empty() {
        return FIXED_DAYS.iter().map(|&d| (d, None)).collect();
    }
    let time: Vec<f64> = outcomes.iter().map(|o| o.time).collect();
    let event: Vec<bool> = outcomes.iter().map(|o| o.event).collect();
    let Ok(km) = kaplan_meier(&time, &event, None, 0.95) else {
        return FIXED_DAYS.iter().map(|&d| (d, None)).collect();
    };
    published_survival(&km, &time, &FIXED_DAYS, &DisclosureRule::default())
        .into_iter()
        .map(|p| (p.time, p.estimate.map(|e| (e.at_risk, e.survival, e.ci_lower, e.ci_upper))))
        .collect()
}

pub fn recidivism_survival(rows: &[YouthRow], dimension: Option<&str>) -> Output {
    let dimension = dimension.unwrap_or("participation");
    let mut output = Output::default();
    let mut km_table = Table::new(
        "recidivism_12m_survival",
        "Free of recidivism (Kaplan–Meier) at fixed days after intake",
        &["group", "day", "at_risk", "recidivism_free", "ci_95"],
    )
    .note(CENSORING_NOTE)
    .note("shown only at fixed days with at least 11 youth at risk; 95% log(−log) intervals");
    let mut series = Vec::new();
    let mut curve = |label: &str, outcomes: &[Outcome], table: &mut Table| {
        let mut points = Vec::new();
        for (day, estimate) in published_curve(outcomes) {
            let mut row = vec![Cell::label(label), Cell::number(day, 0)];
            match estimate {
                Some((at_risk, s, lower, upper)) => {
                    row.push(Cell::number(at_risk as f64, 0));
                    row.push(Cell::number(s, 3));
                    row.push(Cell::label(format!("{lower:.3}–{upper:.3}")));
                    points.push((day, s, lower, upper));
                }
                None => row.extend([Cell::suppressed(), Cell::suppressed(), Cell::suppressed()]),
            }
            table.rows.push(row);
        }
        series.push(Series { label: label.to_owned(), points });
    };
    let all: Vec<Outcome> = rows.iter().map(|r| first_recidivism(r, None)).collect();
    curve("all", &all, &mut km_table);
    let grouped = groups(rows, Some(dimension));
    for (group, members) in grouped.iter() {
        let outcomes: Vec<Outcome> = members.iter().map(|r| first_recidivism(r, None)).collect();
        curve(&format!("{dimension}={group}"), &outcomes, &mut km_table);
    }
    output.tables.push(km_table);
    output.charts.push(Chart::Curves {
        name: "recidivism_12m_survival".into(),
        title: format!("Free of recidivism after intake, by {dimension}"),
        y_label: "share free of recidivism".into(),
        start: 1.0,
        series,
    });

    // Events and censorings by group, with disclosure control.
    let labels: Vec<String> = grouped.keys().cloned().collect();
    let mut counts = Vec::new();
    for members in grouped.values() {
        let events = members.iter().filter(|r| first_recidivism(r, None).event).count() as u64;
        counts.extend([events, members.len() as u64 - events]);
    }
    output.tables.push(count_table(
        "recidivism_12m_events",
        &format!("First recidivism within 12 months, by {dimension}"),
        dimension,
        &labels,
        &["recidivism".to_owned(), "censored".to_owned()],
        &counts,
    ));

    // The log-rank test among groups large enough to be shown.
    let (mut time, mut event, mut group) = (Vec::new(), Vec::new(), Vec::new());
    for (label, members) in grouped.iter().filter(|(_, m)| m.len() >= MIN_GROUP) {
        for row in members {
            let o = first_recidivism(row, None);
            time.push(o.time);
            event.push(o.event);
            group.push(label.clone());
        }
    }
    let mut test = Table::new(
        "recidivism_12m_logrank",
        &format!("Log-rank test of equal recidivism-free survival across {dimension}"),
        &["groups", "chi_square", "df", "p_value"],
    )
    .note(format!("groups with fewer than {MIN_GROUP} youth are left out of the test"));
    match log_rank(&time, &event, &group) {
        Ok(result) if event.iter().any(|&e| e) => {
            let names: Vec<String> = result.groups.iter().map(|g| g.group.clone()).collect();
            test.rows.push(vec![
                Cell::label(names.join(", ")),
                Cell::number(result.statistic, 3),
                Cell::number(result.df as f64, 0),
                Cell::number(result.p_value, 4),
            ]);
        }
        _ => {
            test.rows.push(vec![Cell::label("insufficient data"), Cell::label(""), Cell::label(""), Cell::label("")]);
            test.notes.push(format!("the test needs at least two groups of {MIN_GROUP} or more youth and an event"));
        }
    }
    output.tables.push(test);
    output
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dataset::Recidivism;
    use crate::domain::testing::row;

    fn cohort(n: usize) -> Vec<YouthRow> {
        (0..n)
            .map(|i| {
                let mut r = row(&format!("stu_{i}"));
                r.observed_days = 500.0;
                r.last_contact_day = 400.0;
                r.participation = if i % 2 == 0 { "mandated".into() } else { "voluntary".into() };
                if i % 3 == 0 {
                    r.recidivism = vec![Recidivism { kind: "re_arrest".into(), day: 20.0 + i as f64 }];
                }
                r
            })
            .collect()
    }

    #[test]
    fn survival_is_shown_only_with_eleven_at_risk() {
        let output = recidivism_survival(&cohort(30), None);
        let km = &output.tables[0];
        for row in &km.rows {
            if let Some(at_risk) = row[2].number {
                assert!(at_risk >= 11.0, "{row:?}");
            } else {
                assert!(row[2].suppressed && row[3].suppressed);
            }
        }
        // 15 per group: day 365 has fewer than 11 at risk in each group (a third had events).
        assert!(km.rows.iter().any(|r| r[3].suppressed));
    }

    #[test]
    fn small_groups_give_no_test() {
        let output = recidivism_survival(&cohort(12), None);
        let test = output.tables.iter().find(|t| t.name == "recidivism_12m_logrank").unwrap();
        assert_eq!(test.rows[0][0].value, "insufficient data");
    }

    #[test]
    fn two_large_groups_are_tested() {
        let output = recidivism_survival(&cohort(40), None);
        let test = output.tables.iter().find(|t| t.name == "recidivism_12m_logrank").unwrap();
        assert_eq!(test.rows[0][0].value, "mandated, voluntary");
        assert!(test.rows[0][3].number.unwrap() <= 1.0);
    }
}
