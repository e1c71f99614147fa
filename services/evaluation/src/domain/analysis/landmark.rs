//! Landmark analysis at day 60 and day 90: among youth still at risk at the landmark, those who had
//! received a service type by then against those who had not, with time measured from the
//! landmark — so a service received at month 8 is not credited as if it had been there from
//! intake (immortal time). One Cox model per service type with at least 20 youth in each arm;
//! p-values Holm-adjusted across service types.

use std::collections::BTreeSet;

use wf_stats::adjust::holm;
use wf_stats::cox::{CoxData, CoxOptions, cox_fit};

use crate::domain::dataset::YouthRow;
use crate::domain::outcome::first_recidivism;
use crate::domain::table::{Cell, Output, Table};

/// Landmark days.
pub const LANDMARKS: [f64; 2] = [60.0, 90.0];

/// Fewest youth in each arm for a comparison.
pub const MIN_ARM: usize = 20;

/// The landmark comparisons over all rows, or within each group of `group_by` separately.
pub fn landmark(rows: &[YouthRow], group_by: Option<&str>) -> Output {
    super::per_group(rows, group_by, landmarks_of)
}

fn landmarks_of(rows: &[YouthRow]) -> Output {
    let mut output = Output::default();
    for day in LANDMARKS {
        output.tables.push(landmark_at(rows, day));
    }
    output
}

fn landmark_at(rows: &[YouthRow], day: f64) -> Table {
    let mut table = Table::new(
        &format!("landmark_day_{day}"),
        &format!("Services received by day {day} and recidivism afterwards (landmark analysis)"),
        &["service_type", "received", "not_received", "hazard_ratio_95ci", "p_value", "p_holm"],
    )
    .note(format!(
        "youth with no recidivism and still observed at day {day}; time from day {day}; unadjusted Cox (Efron) per \
         service type with at least {MIN_ARM} youth in each arm; Holm-adjusted p across the service types shown"
    ));
    let at_risk: Vec<(&YouthRow, f64, bool)> = rows
        .iter()
        .filter_map(|r| {
            let o = first_recidivism(r, None);
            (o.time > day).then_some((r, o.time - day, o.event))
        })
        .collect();
    let types: BTreeSet<&str> =
        at_risk.iter().flat_map(|(r, ..)| r.interventions.iter().map(|e| e.service_type.as_str())).collect();
    let mut results = Vec::new();
    for service_type in types {
        let exposed: Vec<bool> = at_risk.iter().map(|(r, ..)| r.received_by(day).contains(&service_type)).collect();
        let n_exposed = exposed.iter().filter(|&&e| e).count();
        let n_unexposed = exposed.len() - n_exposed;
        if n_exposed < MIN_ARM || n_unexposed < MIN_ARM {
            continue;
        }
        let time: Vec<f64> = at_risk.iter().map(|(_, t, _)| *t).collect();
        let event: Vec<bool> = at_risk.iter().map(|(_, _, e)| *e).collect();
        let x: Vec<f64> = exposed.iter().map(|&e| f64::from(u8::from(e))).collect();
        let data = CoxData { time: &time, event: &event, x: &x, covariates: 1, weights: None };
        if let Ok(fit) = cox_fit(&data, &CoxOptions::default()) {
            results.push((service_type, n_exposed, n_unexposed, fit.coefficients[0].clone()));
        }
    }
    if results.is_empty() {
        table.rows.push(vec![
            Cell::label("insufficient data"),
            Cell::label(""),
            Cell::label(""),
            Cell::label(""),
            Cell::label(""),
            Cell::label(""),
        ]);
        table.notes.push(format!(
            "no service type had at least {MIN_ARM} youth who received it and {MIN_ARM} who did not by day {day}, with an \
             event"
        ));
        return table;
    }
    let p: Vec<f64> = results.iter().map(|(.., c)| c.p_value).collect();
    let adjusted = holm(&p).unwrap_or_else(|_| vec![f64::NAN; p.len()]);
    for ((service_type, exposed, unexposed, c), p_holm) in results.into_iter().zip(adjusted) {
        table.rows.push(vec![
            Cell::label(service_type),
            Cell::number(exposed as f64, 0),
            Cell::number(unexposed as f64, 0),
            Cell::estimate(c.exp_coef, c.exp_ci_lower, c.exp_ci_upper, 2),
            Cell::number(c.p_value, 4),
            Cell::number(p_holm, 4),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dataset::{Exposure, Recidivism};
    use crate::domain::testing::row;

    #[test]
    fn services_after_the_landmark_are_not_exposure() {
        let rows: Vec<YouthRow> = (0..60)
            .map(|i| {
                let mut r = row(&format!("stu_{i}"));
                r.observed_days = 400.0;
                r.last_contact_day = 380.0;
                // Everyone gets housing, but half only at day 200: by day 90 half have it.
                let first_day = if i % 2 == 0 { 30.0 } else { 200.0 };
                r.interventions = vec![Exposure {
                    service_type: "transitional_housing".into(),
                    first_day,
                    deliveries: 1,
                    units: 1.0,
                }];
                if i % 5 == 0 {
                    r.recidivism = vec![Recidivism { kind: "re_arrest".into(), day: 150.0 + i as f64 }];
                }
                r
            })
            .collect();
        let output = landmark(&rows, None);
        let day90 = &output.tables[1];
        let housing = &day90.rows[0];
        assert_eq!(housing[0].value, "transitional_housing");
        assert_eq!(housing[1].number, Some(30.0));
        assert_eq!(housing[2].number, Some(30.0));
    }
}
