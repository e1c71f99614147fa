//! The primary outcome (DOMAIN.md "Outcomes"): the first recidivism event — re-exploitation,
//! re-arrest or return to the trafficker — within 12 months of intake. Other recorded kinds (e.g.
//! running away) are not part of it; they can be analysed as a component of their own. Without an event a youth is censored at the last contact (or at 12 months, or at the
//! as-of instant, whichever comes first): lost to follow-up is censoring, never "no recidivism".

use super::dataset::YouthRow;

/// The outcome window, days from intake.
pub const WINDOW_DAYS: f64 = 365.0;

/// The recidivism components that make up the primary outcome.
pub const COMPONENTS: &[&str] = &["re_exploitation", "re_arrest", "return_to_trafficker"];

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Days from intake to the event or the censoring.
    pub time: f64,
    pub event: bool,
    /// The kind of the first event.
    pub kind: Option<String>,
}

/// Time to the first event (of `component` only, when given) within the window. For a component
/// on its own, events of other kinds do not end observation.
pub fn first_recidivism(row: &YouthRow, component: Option<&str>) -> Outcome {
    let horizon = row.observed_days.min(WINDOW_DAYS);
    let counts = |kind: &str| component.map_or_else(|| COMPONENTS.contains(&kind), |c| kind == c);
    let first = row.recidivism.iter().find(|r| counts(&r.kind) && r.day <= horizon);
    match first {
        Some(event) => Outcome { time: event.day, event: true, kind: Some(event.kind.clone()) },
        None => Outcome { time: row.last_contact_day.min(horizon).max(0.0), event: false, kind: None },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dataset::Recidivism;
    use crate::domain::testing::row;

    #[test]
    fn lost_to_follow_up_is_censored_at_last_contact_not_counted_as_success() {
        let mut youth = row("stu_a");
        youth.last_contact_day = 120.0;
        youth.observed_days = 500.0;
        let outcome = first_recidivism(&youth, None);
        assert_eq!(outcome, Outcome { time: 120.0, event: false, kind: None });
    }

    #[test]
    fn first_event_in_the_window_counts_and_later_ones_do_not() {
        let mut youth = row("stu_b");
        youth.observed_days = 800.0;
        youth.last_contact_day = 700.0;
        youth.recidivism = vec![
            Recidivism { kind: "re_arrest".into(), day: 200.0 },
            Recidivism { kind: "re_exploitation".into(), day: 300.0 },
        ];
        assert_eq!(first_recidivism(&youth, None).time, 200.0);
        assert_eq!(first_recidivism(&youth, Some("re_exploitation")).time, 300.0);
        let censored = first_recidivism(&youth, Some("return_to_trafficker"));
        assert_eq!((censored.time, censored.event), (WINDOW_DAYS, false));
        youth.recidivism = vec![Recidivism { kind: "re_arrest".into(), day: 400.0 }];
        assert!(!first_recidivism(&youth, None).event);
        youth.recidivism = vec![Recidivism { kind: "running_away".into(), day: 30.0 }];
        assert!(!first_recidivism(&youth, None).event, "running away is not part of the primary outcome");
        assert!(first_recidivism(&youth, Some("running_away")).event);
    }

    #[test]
    fn observation_ends_at_the_as_of_instant() {
        let mut youth = row("stu_c");
        youth.observed_days = 45.0;
        youth.last_contact_day = 45.0;
        assert_eq!(first_recidivism(&youth, None).time, 45.0);
    }
}
