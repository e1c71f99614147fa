//! Optimistic concurrency on a case: a change request may carry the `updated_at` its caller read
//! (`expected_updated_at`), and is refused when the case has changed since, so nobody overwrites a
//! change they never saw. The use case compares under the case's lock (`store::lock_case_in`),
//! before it decides anything else.

use std::fmt;

/// The case changed after the caller read it: when, and who changed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    /// The case's `updated_at` now (microseconds).
    pub updated_at: i64,
    /// Who made that change (a user id, the service's name, or empty when unknown).
    pub updated_by: String,
}

impl fmt::Display for Changed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let when = chrono::DateTime::from_timestamp_micros(self.updated_at)
            .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
            .unwrap_or_else(|| self.updated_at.to_string());
        let by = if self.updated_by.is_empty() { "an earlier request" } else { self.updated_by.as_str() };
        write!(
            f,
            "the case changed after expected_updated_at: it was last changed at {when} by {by}; nothing was \
             changed: read the case again and decide on what it holds now"
        )
    }
}

/// `Ok` when the caller named no expectation, or the case is still as it read it.
pub fn check_unchanged(expected: Option<i64>, updated_at: i64, updated_by: &str) -> Result<(), Changed> {
    match expected {
        Some(expected) if expected != updated_at => Err(Changed { updated_at, updated_by: updated_by.to_owned() }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_expectation_or_the_same_instant_passes_and_any_other_is_refused() {
        assert_eq!(check_unchanged(None, 10, "usr_a"), Ok(()));
        assert_eq!(check_unchanged(Some(10), 10, "usr_a"), Ok(()));
        for stale in [9, 11, 0] {
            let refused = check_unchanged(Some(stale), 10, "usr_a").unwrap_err();
            assert_eq!(refused, Changed { updated_at: 10, updated_by: "usr_a".into() });
        }
    }

    #[test]
    fn the_message_says_when_and_by_whom() {
        let changed = Changed { updated_at: 1_767_225_600_000_001, updated_by: "usr_maria".into() };
        assert_eq!(
            changed.to_string(),
            "the case changed after expected_updated_at: it was last changed at 2026-01-01T00:00:00.000001Z by \
             usr_maria; nothing was changed: read the case again and decide on what it holds now"
        );
        let nobody = Changed { updated_at: 0, updated_by: String::new() }.to_string();
        assert!(nobody.contains("by an earlier request"), "{nobody}");
    }
}
