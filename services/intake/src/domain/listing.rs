//! `ListReferrals`' filters, checked and parsed: each bad value a violation naming its field and what
//! is allowed, never the value. Pure.

use wf_proto::common::v1 as common;
use wf_proto::intake::v1 as pb;
use wf_types::{CaseManagerId, FieldViolation, PartnerId, YouthId};

use super::validate::{ProtoEnum, enum_values};

/// The filters of a request, parsed; `None` / empty matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub statuses: Vec<i32>,
    pub site: Option<i32>,
    pub triage_tier: Option<i32>,
    pub referring_organization_id: Option<String>,
    /// Received in [from, before), microseconds.
    pub received_from: Option<i64>,
    pub received_before: Option<i64>,
    pub youth_id: Option<String>,
    pub source: Option<i32>,
    /// The owner: the case manager who holds the referral's case now.
    pub case_manager_id: Option<String>,
    /// Only referrals whose case no case manager holds now.
    pub unassigned_only: bool,
}

/// An enum filter: 0 is unset, anything else must be a value of `E`.
fn enum_filter<E: ProtoEnum>(field: &str, value: i32, violations: &mut Vec<FieldViolation>) -> Option<i32> {
    if value == 0 {
        return None;
    }
    if E::proto_name(value).is_none() {
        violations.push(FieldViolation::new(field, format!("unknown value {value}; allowed: {}", enum_values::<E>())));
        return None;
    }
    Some(value)
}

fn instant(field: &str, value: Option<&prost_types::Timestamp>, violations: &mut Vec<FieldViolation>) -> Option<i64> {
    let value = value?;
    match wf_proto::time::datetime(value) {
        Some(at) => Some(at.timestamp_micros()),
        None => {
            violations.push(FieldViolation::new(field, "is not a valid timestamp (seconds and nanos within range)"));
            None
        }
    }
}

/// The filters of `request`. A partner (`partner` true) never sees youth ids nor who holds a case,
/// so it cannot filter by either (`youth_id`, `case_manager_id`, `unassigned_only`).
pub fn parse_filter(request: &pb::ListReferralsRequest, partner: bool) -> Result<Filter, Vec<FieldViolation>> {
    let mut violations = Vec::new();
    let mut statuses = Vec::new();
    for (index, status) in request.statuses.iter().enumerate() {
        match <pb::ReferralStatus as ProtoEnum>::proto_name(*status) {
            Some(_) if *status != 0 => {
                if !statuses.contains(status) {
                    statuses.push(*status);
                }
            }
            _ => violations.push(FieldViolation::new(
                format!("statuses[{index}]"),
                format!("is not a referral status; allowed: {}", enum_values::<pb::ReferralStatus>()),
            )),
        }
    }
    let site = enum_filter::<common::Site>("site", request.site, &mut violations);
    let triage_tier = enum_filter::<common::TriageTier>("triage_tier", request.triage_tier, &mut violations);
    let organization = request.referring_organization_id.as_str();
    let referring_organization_id = match organization {
        "" => None,
        id if PartnerId::is_valid(id) => Some(id.to_owned()),
        _ => {
            violations.push(FieldViolation::new(
                "referring_organization_id",
                "is not an organization id; allowed: \"org_\" and 32 lowercase hex digits, as the directory gives it",
            ));
            None
        }
    };
    let range = request.received.as_ref();
    let received_from = instant("received.start", range.and_then(|r| r.start.as_ref()), &mut violations);
    let received_before = instant("received.end", range.and_then(|r| r.end.as_ref()), &mut violations);
    if let (Some(from), Some(before)) = (received_from, received_before)
        && before <= from
    {
        violations.push(FieldViolation::new(
            "received.end",
            "is not after received.start; allowed: a later instant (the range is [start, end))",
        ));
    }
    let youth_id = match request.youth_id.as_str() {
        "" => None,
        _ if partner => {
            violations
                .push(FieldViolation::new("youth_id", "is not a filter partners may use (they never see youth ids)"));
            None
        }
        id if YouthId::is_valid(id) => Some(id.to_owned()),
        _ => {
            violations.push(FieldViolation::new(
                "youth_id",
                "is not a youth id; allowed: \"yth_\" and 32 lowercase hex digits",
            ));
            None
        }
    };
    let source = enum_filter::<common::ReferralSource>("source", request.source, &mut violations);
    let case_manager_id = match request.case_manager_id.as_str() {
        "" => None,
        _ if partner => {
            violations.push(FieldViolation::new(
                "case_manager_id",
                "is not a filter partners may use (they never see who holds a case)",
            ));
            None
        }
        id if CaseManagerId::is_valid(id) => Some(id.to_owned()),
        _ => {
            violations.push(FieldViolation::new(
                "case_manager_id",
                "is not a case manager id; allowed: \"cm_\" and 32 lowercase hex digits, as the roster gives it",
            ));
            None
        }
    };
    let unassigned_only = request.unassigned_only;
    if unassigned_only && partner {
        violations.push(FieldViolation::new(
            "unassigned_only",
            "is not a filter partners may use (they never see who holds a case)",
        ));
    } else if unassigned_only && !request.case_manager_id.is_empty() {
        violations.push(FieldViolation::new(
            "unassigned_only",
            "cannot be combined with case_manager_id (a referral with an owner is not unassigned); allowed: one of them",
        ));
    }
    if !violations.is_empty() {
        return Err(violations);
    }
    Ok(Filter {
        statuses,
        site,
        triage_tier,
        referring_organization_id,
        received_from,
        received_before,
        youth_id,
        source,
        case_manager_id,
        unassigned_only,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Option<prost_types::Timestamp> {
        Some(prost_types::Timestamp { seconds, nanos: 0 })
    }

    fn refused(result: Result<Filter, Vec<FieldViolation>>) -> Vec<String> {
        result.expect_err("refused").into_iter().map(|v| v.field).collect()
    }

    #[test]
    fn unset_filters_match_everything() {
        assert_eq!(parse_filter(&pb::ListReferralsRequest::default(), false), Ok(Filter::default()));
        assert_eq!(parse_filter(&pb::ListReferralsRequest::default(), true), Ok(Filter::default()));
    }

    #[test]
    fn every_filter_is_parsed() {
        let request = pb::ListReferralsRequest {
            statuses: vec![4, 6, 4],
            site: common::Site::SanFernandoValley as i32,
            triage_tier: common::TriageTier::Urgent as i32,
            referring_organization_id: "org_0193a1b2c3d4e5f60718293a4b5c6d01".into(),
            received: Some(common::TimeRange { start: at(100), end: at(200) }),
            youth_id: "yth_0193a1b2c3d4e5f60718293a4b5c6d01".into(),
            source: common::ReferralSource::Outreach as i32,
            case_manager_id: "cm_0193a1b2c3d4e5f60718293a4b5c6d01".into(),
            ..Default::default()
        };
        let filter = parse_filter(&request, false).expect("valid");
        assert_eq!(filter.source, Some(common::ReferralSource::Outreach as i32));
        assert_eq!(filter.case_manager_id.as_deref(), Some("cm_0193a1b2c3d4e5f60718293a4b5c6d01"));
        assert!(!filter.unassigned_only);
        let unassigned = pb::ListReferralsRequest { unassigned_only: true, ..Default::default() };
        assert!(parse_filter(&unassigned, false).expect("valid").unassigned_only);
        assert_eq!(filter.statuses, vec![4, 6], "listed once each");
        assert_eq!((filter.site, filter.triage_tier), (Some(2), Some(2)));
        assert_eq!(filter.referring_organization_id.as_deref(), Some("org_0193a1b2c3d4e5f60718293a4b5c6d01"));
        assert_eq!((filter.received_from, filter.received_before), (Some(100_000_000), Some(200_000_000)));
        assert_eq!(filter.youth_id.as_deref(), Some("yth_0193a1b2c3d4e5f60718293a4b5c6d01"));
        let open_end = pb::ListReferralsRequest {
            received: Some(common::TimeRange { start: at(100), end: None }),
            ..Default::default()
        };
        assert_eq!(parse_filter(&open_end, false).expect("open").received_before, None);
    }

    #[test]
    fn each_bad_filter_is_named_with_what_is_allowed() {
        let request = pb::ListReferralsRequest {
            statuses: vec![4, 0, 99],
            site: 77,
            triage_tier: 9,
            referring_organization_id: "Acme Outreach".into(),
            received: Some(common::TimeRange { start: at(200), end: at(100) }),
            youth_id: "Demo".into(),
            source: 99,
            case_manager_id: "Dana".into(),
            unassigned_only: true,
            ..Default::default()
        };
        let violations = parse_filter(&request, false).expect_err("refused");
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "statuses[1]",
                "statuses[2]",
                "site",
                "triage_tier",
                "referring_organization_id",
                "received.end",
                "youth_id",
                "source",
                "case_manager_id",
                "unassigned_only"
            ]
        );
        assert!(violations[7].description.contains("REFERRAL_SOURCE_OUTREACH"), "{:?}", violations[7]);
        assert!(violations[0].description.contains("REFERRAL_STATUS_OFFERED"), "{:?}", violations[0]);
        assert!(violations[2].description.contains("SITE_SOUTH_LOS_ANGELES"), "{:?}", violations[2]);
        assert!(violations.iter().all(|v| ["Acme", "Demo", "Dana"].iter().all(|value| !v.description.contains(value))));
        let bad_instant = pb::ListReferralsRequest {
            received: Some(common::TimeRange {
                start: Some(prost_types::Timestamp { seconds: 0, nanos: -1 }),
                end: None,
            }),
            ..Default::default()
        };
        assert_eq!(refused(parse_filter(&bad_instant, false)), ["received.start"]);
    }

    #[test]
    fn a_partner_cannot_filter_by_youth() {
        let request =
            pb::ListReferralsRequest { youth_id: "yth_0193a1b2c3d4e5f60718293a4b5c6d01".into(), ..Default::default() };
        assert_eq!(refused(parse_filter(&request, true)), ["youth_id"]);
        assert!(parse_filter(&request, false).is_ok());
    }

    #[test]
    fn a_partner_cannot_filter_by_owner() {
        let owner = "cm_0193a1b2c3d4e5f60718293a4b5c6d01";
        let by_owner = pb::ListReferralsRequest { case_manager_id: owner.into(), ..Default::default() };
        assert_eq!(refused(parse_filter(&by_owner, true)), ["case_manager_id"]);
        let unassigned = pb::ListReferralsRequest { unassigned_only: true, ..Default::default() };
        assert_eq!(refused(parse_filter(&unassigned, true)), ["unassigned_only"]);
        // a source it may narrow by: it sees the source of what it submitted
        let by_source =
            pb::ListReferralsRequest { source: common::ReferralSource::Hotline as i32, ..Default::default() };
        assert!(parse_filter(&by_source, true).is_ok());
    }

    #[test]
    fn an_owner_and_unassigned_only_exclude_each_other() {
        let both = pb::ListReferralsRequest {
            case_manager_id: "cm_0193a1b2c3d4e5f60718293a4b5c6d01".into(),
            unassigned_only: true,
            ..Default::default()
        };
        assert_eq!(refused(parse_filter(&both, false)), ["unassigned_only"]);
    }
}
