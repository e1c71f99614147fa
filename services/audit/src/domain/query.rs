//! Validation of log queries: filters, time bounds and pagination. Pages are keyed by sequence
//! (the token is the last sequence returned), so a page never shifts when entries are appended.

use wf_proto::audit::v1::ListEntriesRequest;
use wf_types::FieldViolation;

pub const DEFAULT_PAGE_SIZE: u32 = 100;
pub const MAX_PAGE_SIZE: u32 = 1000;
/// Ids and actors are short prefixed tokens; anything longer is not one.
const MAX_ID_LEN: usize = 200;

/// An event type to match: exact, or every type under a prefix (`"offer.*"` → `"offer."`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypePattern {
    Exact(String),
    Prefix(String),
}

/// Which entries a query selects (every condition must hold).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EntryFilter {
    pub correlation_id: Option<String>,
    pub aggregate_id: Option<String>,
    pub actor: Option<String>,
    /// Any of these (empty: every type).
    pub types: Vec<TypePattern>,
    /// `occurred_at >= this`.
    pub occurred_from_micros: Option<i64>,
    /// `occurred_at < this`.
    pub occurred_before_micros: Option<i64>,
    /// `sequence >= this`.
    pub from_sequence: u64,
    /// Candidates for entries about some records (a youth's or a referral's): entries with one of
    /// the records as aggregate or one of the referrals as correlation. Only candidates: whether an
    /// entry is about them is decided by the records its payload names
    /// (`crate::domain::records`).
    pub records: Option<RecordScope>,
}

/// Records, as the log ties them to a youth or referral (`crate::domain::records::RecordLinks`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecordScope {
    /// Referrals: entries with one of them as aggregate or correlation id.
    pub referral_ids: Vec<String>,
    /// The other records (youth ids, offers, cases, notes): entries with one of them as aggregate id.
    pub record_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub filter: EntryFilter,
    pub page_size: u32,
    pub omit_payload: bool,
}

/// The token naming the page after the one ending at `last_sequence`.
pub fn page_token(last_sequence: u64) -> String {
    last_sequence.to_string()
}

/// Validates a `ListEntries` request (all problems at once). `youth_id` is checked here and
/// resolved by the caller (it needs the log to find the youth's records).
pub fn list_query(request: &ListEntriesRequest) -> Result<ListQuery, Vec<FieldViolation>> {
    let mut violations = Vec::new();
    let mut id = |field: &str, value: &str| -> Option<String> {
        if value.is_empty() {
            None
        } else if value.len() > MAX_ID_LEN {
            violations.push(FieldViolation::new(field, format!("must be at most {MAX_ID_LEN} characters")));
            None
        } else {
            Some(value.to_owned())
        }
    };
    let correlation_id = id("correlation_id", &request.correlation_id);
    let aggregate_id = id("aggregate_id", &request.aggregate_id);
    let actor = id("actor", &request.actor);

    let mut types = Vec::new();
    for (index, raw) in request.types.iter().enumerate() {
        match type_pattern(raw) {
            Some(pattern) => types.push(pattern),
            None => violations.push(FieldViolation::new(
                format!("types[{index}]"),
                "must be an event type such as \"record.accessed\", or a prefix such as \"offer.*\"",
            )),
        }
    }

    let mut bound = |field: &str, at: Option<&prost_types::Timestamp>| -> Option<i64> {
        let at = at?;
        let micros = u32::try_from(at.nanos)
            .ok()
            .and_then(|nanos| chrono::DateTime::from_timestamp(at.seconds, nanos))
            .map(wf_db::to_micros);
        if micros.is_none() {
            violations.push(FieldViolation::new(field, "is not a valid timestamp"));
        }
        micros
    };
    let occurred = request.occurred.as_ref();
    let occurred_from_micros = bound("occurred.start", occurred.and_then(|range| range.start.as_ref()));
    let occurred_before_micros = bound("occurred.end", occurred.and_then(|range| range.end.as_ref()));
    if let (Some(start), Some(end)) = (occurred_from_micros, occurred_before_micros)
        && start > end
    {
        violations.push(FieldViolation::new("occurred", "start must not be after end"));
    }

    let page_size = wf_types::PageLimits::new(DEFAULT_PAGE_SIZE as usize, MAX_PAGE_SIZE as usize)
        .size(request.page_size, &mut violations) as u32;

    let mut from_sequence = request.from_sequence.max(1);
    if !request.page_token.is_empty() {
        match request.page_token.parse::<u64>() {
            Ok(last) => from_sequence = from_sequence.max(last.saturating_add(1)),
            Err(_) => violations.push(FieldViolation::new("page_token", "is not a token from a previous response")),
        }
    }

    if !violations.is_empty() {
        return Err(violations);
    }
    Ok(ListQuery {
        filter: EntryFilter {
            correlation_id,
            aggregate_id,
            actor,
            types,
            occurred_from_micros,
            occurred_before_micros,
            from_sequence,
            records: None,
        },
        page_size,
        omit_payload: request.omit_payload,
    })
}

/// `word(.word)*` with words of `[a-z0-9_]`, optionally ending in `.*`.
fn type_pattern(raw: &str) -> Option<TypePattern> {
    let (name, prefix) = match raw.strip_suffix(".*") {
        Some(name) => (name, true),
        None => (raw, false),
    };
    let valid = !name.is_empty()
        && name.split('.').all(|word| {
            !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        });
    if !valid {
        return None;
    }
    Some(if prefix { TypePattern::Prefix(format!("{name}.")) } else { TypePattern::Exact(name.to_owned()) })
}

#[cfg(test)]
mod tests {
    use wf_proto::common::v1::TimeRange;

    use super::*;

    fn fields(violations: &[FieldViolation]) -> Vec<&str> {
        violations.iter().map(|v| v.field.as_str()).collect()
    }

    #[test]
    fn an_empty_request_lists_everything_in_default_pages() {
        let query = list_query(&ListEntriesRequest::default()).unwrap();
        assert_eq!(query.page_size, DEFAULT_PAGE_SIZE);
        assert_eq!(query.filter, EntryFilter { from_sequence: 1, ..EntryFilter::default() });
    }

    #[test]
    fn filters_are_carried_over() {
        let request = ListEntriesRequest {
            correlation_id: "ref_1".into(),
            aggregate_id: "case_2".into(),
            actor: "usr_3".into(),
            types: vec!["record.accessed".into(), "offer.*".into()],
            occurred: Some(TimeRange {
                start: Some(prost_types::Timestamp { seconds: 10, nanos: 5_000 }),
                end: Some(prost_types::Timestamp { seconds: 20, nanos: 0 }),
            }),
            from_sequence: 4,
            page_size: 5000,
            omit_payload: true,
            ..Default::default()
        };
        let query = list_query(&request).unwrap();
        assert_eq!(query.page_size, MAX_PAGE_SIZE);
        assert!(query.omit_payload);
        let filter = query.filter;
        assert_eq!(filter.correlation_id.as_deref(), Some("ref_1"));
        assert_eq!(filter.aggregate_id.as_deref(), Some("case_2"));
        assert_eq!(filter.actor.as_deref(), Some("usr_3"));
        assert_eq!(filter.types, [TypePattern::Exact("record.accessed".into()), TypePattern::Prefix("offer.".into())]);
        assert_eq!(filter.occurred_from_micros, Some(10_000_005));
        assert_eq!(filter.occurred_before_micros, Some(20_000_000));
        assert_eq!(filter.from_sequence, 4);
    }

    #[test]
    fn the_page_token_moves_past_the_last_sequence() {
        let request = ListEntriesRequest { page_token: page_token(41), from_sequence: 3, ..Default::default() };
        assert_eq!(list_query(&request).unwrap().filter.from_sequence, 42);
        let request = ListEntriesRequest { page_token: page_token(2), from_sequence: 30, ..Default::default() };
        assert_eq!(list_query(&request).unwrap().filter.from_sequence, 30);
    }

    #[test]
    fn every_bad_field_is_named() {
        let request = ListEntriesRequest {
            actor: "u".repeat(201),
            types: vec!["offer.*".into(), "Offer.Made".into(), "*".into(), "offer..made".into()],
            occurred: Some(TimeRange {
                start: Some(prost_types::Timestamp { seconds: 20, nanos: 0 }),
                end: Some(prost_types::Timestamp { seconds: 10, nanos: 0 }),
            }),
            page_size: -1,
            page_token: "abc".into(),
            ..Default::default()
        };
        let violations = list_query(&request).unwrap_err();
        assert_eq!(
            fields(&violations),
            ["actor", "types[1]", "types[2]", "types[3]", "occurred", "page_size", "page_token"]
        );
    }

    #[test]
    fn invalid_timestamps_are_refused() {
        let request = ListEntriesRequest {
            occurred: Some(TimeRange { start: Some(prost_types::Timestamp { seconds: 0, nanos: -1 }), end: None }),
            ..Default::default()
        };
        assert_eq!(fields(&list_query(&request).unwrap_err()), ["occurred.start"]);
    }
}
