//! What a request asks to see: sites, a referral period, an as-of instant, one grouping
//! dimension, and whether it wants the synthetic cohort.

/// A validated scope (the API checks a request's `Scope` into one).
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeSpec {
    /// Site codes; empty = all.
    pub sites: Vec<String>,
    pub referred: (Option<i64>, Option<i64>),
    pub as_of: i64,
    pub group_by: Option<String>,
    pub synthetic: bool,
}

impl ScopeSpec {
    /// The scope in words, as a report prints it ("sites: all", "as of 2026-07-01T00:00:00Z").
    pub fn words(&self) -> Vec<String> {
        let mut words = vec![if self.sites.is_empty() {
            "sites: all".to_owned()
        } else {
            format!("sites: {}", self.sites.join(", "))
        }];
        match self.referred {
            (None, None) => words.push("referred: all time".into()),
            (from, to) => words.push(format!(
                "referred: {} to {}",
                from.map_or_else(|| "the start".into(), rfc3339),
                to.map_or_else(|| "now".into(), rfc3339)
            )),
        }
        words.push(format!("as of {}", rfc3339(self.as_of)));
        if let Some(group) = &self.group_by {
            words.push(format!("grouped by {group}"));
        }
        words
    }
}

/// An instant in microseconds as RFC 3339 to the second (the number itself if out of range).
pub fn rfc3339(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map_or_else(|| micros.to_string(), |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_in_words() {
        let all = ScopeSpec { sites: vec![], referred: (None, None), as_of: 0, group_by: None, synthetic: false };
        assert_eq!(all.words(), ["sites: all", "referred: all time", "as of 1970-01-01T00:00:00Z"]);
        let some = ScopeSpec {
            sites: vec!["south_los_angeles".into(), "countywide".into()],
            referred: (Some(1_767_225_600_000_000), None),
            as_of: 1_782_864_000_000_000,
            group_by: Some("site".into()),
            synthetic: false,
        };
        assert_eq!(
            some.words(),
            [
                "sites: south_los_angeles, countywide",
                "referred: 2026-01-01T00:00:00Z to now",
                "as of 2026-07-01T00:00:00Z",
                "grouped by site"
            ]
        );
    }
}
