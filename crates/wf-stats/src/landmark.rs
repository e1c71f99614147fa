//! Landmark analysis: exposure counted only if it began by a fixed day.
//!
//! Comparing those who ever received a service with those who never did credits
//! the service with the time before it started, during which its recipients had to
//! stay event-free to receive it at all ("immortal time"; Anderson, Cain & Gelber
//! 1983). A landmark analysis at day L keeps only those still under observation and
//! event-free after day L, classifies each as exposed if the service had started by
//! day L, and measures time from L. Services that start later count as unexposed,
//! which biases toward no effect rather than toward a benefit.

use serde::Serialize;

use crate::{StatsError, validate};

/// The rows kept at a landmark, with time measured from it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Landmark {
    pub day: f64,
    /// How many rows the data had before the landmark (the length per-row columns must have).
    pub source_rows: usize,
    /// Indices (into the original rows) of those at risk after the landmark, ascending.
    pub rows: Vec<usize>,
    /// Time since the landmark, per kept row.
    pub time: Vec<f64>,
    pub event: Vec<bool>,
}

impl Landmark {
    /// Exposure by the landmark for each kept row: `start_day[i]` is the day row i's
    /// exposure began (None: never). Started on or before the landmark day counts.
    pub fn exposed_by(&self, start_day: &[Option<f64>]) -> Result<Vec<bool>, StatsError> {
        validate::same_length("start_day", self.source_rows, start_day.len())?;
        Ok(self.rows.iter().map(|&i| start_day[i].is_some_and(|s| s <= self.day)).collect())
    }

    /// Keeps the kept rows' entries of any per-row column (covariates, ids, weights).
    pub fn select<T: Clone>(&self, column: &[T]) -> Vec<T> {
        self.rows.iter().map(|&i| column[i].clone()).collect()
    }
}

/// Those whose follow-up extends beyond `day` without an event by then
/// (time > day), with time shifted to start at the landmark.
pub fn landmark(time: &[f64], event: &[bool], day: f64) -> Result<Landmark, StatsError> {
    validate::same_length("event", time.len(), event.len())?;
    validate::times(time)?;
    if !(day.is_finite() && day >= 0.0) {
        return Err(StatsError::Data(format!("landmark day {day} is not allowed: it must be a number ≥ 0")));
    }
    let rows: Vec<usize> = (0..time.len()).filter(|&i| time[i] > day).collect();
    Ok(Landmark {
        day,
        source_rows: time.len(),
        time: rows.iter().map(|&i| time[i] - day).collect(),
        event: rows.iter().map(|&i| event[i]).collect(),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_those_at_risk_and_counts_only_early_exposure() {
        let time = [30.0, 60.0, 61.0, 200.0, 90.0];
        let event = [true, false, true, false, true];
        let start = [Some(10.0), None, Some(60.0), Some(75.0), None];
        let lm = landmark(&time, &event, 60.0).unwrap();
        // An event on day 30 and a censoring on day 60 leave before the landmark.
        assert_eq!(lm.rows, vec![2, 3, 4]);
        assert_eq!(lm.time, vec![1.0, 140.0, 30.0]);
        assert_eq!(lm.event, vec![true, false, true]);
        // Started on day 60: exposed; on day 75: not yet.
        assert_eq!(lm.exposed_by(&start).unwrap(), vec![true, false, false]);
        assert_eq!(lm.select(&["a", "b", "c", "d", "e"]), vec!["c", "d", "e"]);
        assert!(lm.exposed_by(&start[..2]).is_err());
        assert!(landmark(&time, &event, -1.0).is_err());
    }
}
