//! Validation of a request's `Scope`: one field violation per problem, naming what is allowed.

use wf_proto::common::v1::Site;
use wf_proto::evaluation::v1 as pb;
use wf_types::FieldViolation;

use crate::domain::codes::code_of;
use crate::domain::dataset::DIMENSIONS;
use crate::domain::scope::ScopeSpec;

/// Slack for clocks: an as-of instant up to a minute ahead is taken as now.
const CLOCK_SLACK_MICROS: i64 = 60_000_000;

const DAY_MICROS: i64 = 86_400_000_000;

fn micros(at: &prost_types::Timestamp) -> i64 {
    at.seconds.saturating_mul(1_000_000).saturating_add(i64::from(at.nanos / 1000))
}

/// True for the first instant of a calendar quarter in UTC (1 January, 1 April, 1 July, 1 October).
///
/// Referral periods are whole quarters so that two reports over nearly the same period cannot be
/// subtracted to single out a youth: cell suppression protects one table, not the difference of two.
fn is_quarter_start(at: i64) -> bool {
    use chrono::{Datelike, Timelike};
    chrono::DateTime::from_timestamp_micros(at).is_some_and(|t| {
        t.day() == 1 && t.month0() % 3 == 0 && t.num_seconds_from_midnight() == 0 && t.timestamp_subsec_micros() == 0
    })
}

/// What a scope is for: the analysis or report kind (its proto name, for messages) and the
/// groupings it honours. `None` when the kind itself was not valid (the grouping is then only
/// checked to be one at all).
pub type Grouped<'a> = Option<(&'a str, &'a [&'static str])>;

/// Every grouping code `Scope.group_by` knows; which ones a kind honours is the kind's.
fn known_grouping(code: &str) -> bool {
    DIMENSIONS.contains(&code) || code == crate::domain::catalog::PARTNER
}

/// The field violation of a grouping `kind` does not honour, naming the kind and what it honours.
fn unsupported_grouping(kind: &str, supported: &[&str], dimension: &str) -> FieldViolation {
    let allowed = if supported.is_empty() {
        format!("{kind} takes no grouping (leave group_by empty)")
    } else {
        format!("{kind} groups by: {}", supported.join(", "))
    };
    let what = if known_grouping(dimension) {
        format!("{kind} does not group by {dimension:?}")
    } else {
        format!("{dimension:?} is not a grouping")
    };
    FieldViolation::new("scope.group_by[0]", format!("{what}; {allowed}"))
}

pub fn validate_scope(
    scope: Option<&pb::Scope>,
    now: i64,
    grouped: Grouped<'_>,
) -> Result<ScopeSpec, Vec<FieldViolation>> {
    let default = pb::Scope::default();
    let scope = scope.unwrap_or(&default);
    let mut violations = Vec::new();
    let mut sites = Vec::new();
    for (i, &raw) in scope.sites.iter().enumerate() {
        match Site::try_from(raw) {
            Ok(Site::Unspecified) | Err(_) => violations.push(FieldViolation::new(
                format!("scope.sites[{i}]"),
                format!(
                    "{raw} is not a site; allowed: SITE_SOUTH_LOS_ANGELES, SITE_SAN_FERNANDO_VALLEY, SITE_COUNTYWIDE"
                ),
            )),
            Ok(_) => sites.push(code_of!(Site, "SITE_", raw)),
        }
    }
    let referred = match &scope.referred {
        None => (None, None),
        Some(range) => {
            let start = range.start.as_ref().map(micros);
            let end = range.end.as_ref().map(micros);
            for (field, bound) in [("scope.referred.start", start), ("scope.referred.end", end)] {
                if bound.is_some_and(|at| !is_quarter_start(at)) {
                    violations.push(FieldViolation::new(
                        field,
                        "must be the first instant of a calendar quarter in UTC (e.g. 2026-04-01T00:00:00Z), or \
                         absent; finer periods could be subtracted from each other to single out a youth",
                    ));
                }
            }
            if let (Some(start), Some(end)) = (start, end)
                && start >= end
            {
                violations.push(FieldViolation::new(
                    "scope.referred",
                    "start must be before end (the range is half-open: [start, end))",
                ));
            }
            (start, end)
        }
    };
    let as_of = match &scope.as_of {
        None => now,
        Some(at) => {
            let at = micros(at);
            if at > now + CLOCK_SLACK_MICROS {
                violations.push(FieldViolation::new(
                    "scope.as_of",
                    "is in the future; allowed: an instant up to now (absent = now)",
                ));
            } else if at.rem_euclid(DAY_MICROS) != 0 && at <= now {
                violations.push(FieldViolation::new(
                    "scope.as_of",
                    "must be midnight UTC (a whole day, e.g. 2026-10-01T00:00:00Z), or absent for now",
                ));
            }
            at.min(now)
        }
    };
    let group_by = match scope.group_by.as_slice() {
        [] => None,
        [dimension] => match grouped {
            Some((_, supported)) if supported.contains(&dimension.as_str()) => Some(dimension.clone()),
            Some((kind, supported)) => {
                violations.push(unsupported_grouping(kind, supported, dimension));
                None
            }
            None if known_grouping(dimension) => Some(dimension.clone()),
            None => {
                violations.push(FieldViolation::new(
                    "scope.group_by[0]",
                    format!("{dimension:?} is not a grouping; allowed: {}, partner", DIMENSIONS.join(", ")),
                ));
                None
            }
        },
        [_, ..] => {
            violations.push(FieldViolation::new(
                "scope.group_by",
                format!("{} dimensions given; at most one is allowed", scope.group_by.len()),
            ));
            None
        }
    };
    if violations.is_empty() {
        Ok(ScopeSpec { sites, referred, as_of, group_by, synthetic: scope.synthetic })
    } else {
        Err(violations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_named_with_its_field() {
        let scope = pb::Scope {
            sites: vec![0, Site::SouthLosAngeles as i32],
            group_by: vec!["shoe_size".into()],
            as_of: Some(prost_types::Timestamp { seconds: 4_000_000_000, nanos: 0 }),
            ..Default::default()
        };
        let violations = validate_scope(Some(&scope), 1_700_000_000_000_000, None).unwrap_err();
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, vec!["scope.sites[0]", "scope.as_of", "scope.group_by[0]"]);
        assert!(violations[2].description.contains("allowed: site"));
        // For a kind: what it honours, by name.
        let scope = pb::Scope { group_by: vec!["partner".into()], ..Default::default() };
        let violations =
            validate_scope(Some(&scope), 0, Some(("ANALYSIS_KIND_MISSING_EPISODES", &["site", "quarter"])))
                .unwrap_err();
        assert_eq!(violations[0].field, "scope.group_by[0]");
        assert_eq!(
            violations[0].description,
            "ANALYSIS_KIND_MISSING_EPISODES does not group by \"partner\"; ANALYSIS_KIND_MISSING_EPISODES groups by: site, quarter"
        );
        let violations = validate_scope(Some(&scope), 0, Some(("REPORT_KIND_HMIS_AGGREGATE", &[]))).unwrap_err();
        assert!(
            violations[0].description.ends_with("REPORT_KIND_HMIS_AGGREGATE takes no grouping (leave group_by empty)")
        );
    }

    #[test]
    fn periods_are_whole_quarters_and_as_of_is_a_whole_day() {
        let at = |text: &str| {
            let t = chrono::DateTime::parse_from_rfc3339(text).unwrap();
            Some(prost_types::Timestamp { seconds: t.timestamp(), nanos: 0 })
        };
        let now = 1_800_000_000_000_000;
        let scope = |start: &str, end: &str, as_of: &str| pb::Scope {
            referred: Some(wf_proto::common::v1::TimeRange { start: at(start), end: at(end) }),
            as_of: at(as_of),
            ..Default::default()
        };
        let fine = scope("2026-01-01T00:00:00Z", "2026-07-01T00:00:00Z", "2026-10-01T00:00:00Z");
        assert!(validate_scope(Some(&fine), now, None).is_ok());
        let off = scope("2026-01-02T00:00:00Z", "2026-05-01T00:00:00Z", "2026-10-01T00:00:01Z");
        let fields: Vec<String> =
            validate_scope(Some(&off), now, None).unwrap_err().into_iter().map(|v| v.field).collect();
        assert_eq!(fields, ["scope.referred.start", "scope.referred.end", "scope.as_of"]);
    }

    #[test]
    fn an_empty_scope_is_everything_now() {
        let spec = validate_scope(None, 42, None).unwrap();
        assert_eq!(
            spec,
            ScopeSpec { sites: vec![], referred: (None, None), as_of: 42, group_by: None, synthetic: false }
        );
        let spec = validate_scope(
            Some(&pb::Scope {
                sites: vec![Site::SanFernandoValley as i32],
                group_by: vec!["site".into()],
                ..Default::default()
            }),
            42,
            None,
        )
        .unwrap();
        assert_eq!(spec.sites, vec!["san_fernando_valley"]);
        assert_eq!(spec.group_by.as_deref(), Some("site"));
    }
}
