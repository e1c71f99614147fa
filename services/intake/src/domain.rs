//! Pure intake rules: validation with one violation per problem, and the facts
//! derived from a referral (age, minor, inside the youth program). No I/O.

use chrono::{Datelike, NaiveDate};
use wf_proto::common::v1 as common;
use wf_proto::intake::v1 as pb;
use wf_server::FieldViolation;

/// Upper age of the youth program; older youth are accepted and referred on.
pub const YOUTH_PROGRAM_MAX_AGE: i32 = 24;
const MAX_EXTERNAL_REFERENCE_LEN: usize = 128;
const MAX_CODE_LEN: usize = 64;

/// Facts derived from a referral that travel in events (never the data they come from).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DerivedFacts {
    /// Whole years, `None` when neither a date of birth nor an estimate was given.
    pub age_years: Option<i32>,
    pub is_minor: bool,
    pub outside_youth_program: bool,
}

fn enum_is_known<E: TryFrom<i32>>(value: i32) -> bool {
    E::try_from(value).is_ok()
}

fn check_enum<E: TryFrom<i32>>(
    violations: &mut Vec<FieldViolation>,
    field: &str,
    value: i32,
    required: bool,
    allowed: &str,
) {
    if !enum_is_known::<E>(value) {
        violations.push(FieldViolation::new(field, format!("unknown value {value}; allowed: {allowed}")));
    } else if required && value == 0 {
        violations.push(FieldViolation::new(field, format!("is required; allowed: {allowed}")));
    }
}

fn is_code(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= MAX_CODE_LEN
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn calendar_date(date: &common::Date) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(date.year, u32::try_from(date.month).ok()?, u32::try_from(date.day).ok()?)
}

/// Validates a submitted referral; an empty list means it may be stored.
/// Step 1 checks the fields routing depends on; the complete table arrives with step 2.
pub fn validate(referral: Option<&pb::Referral>, today: NaiveDate) -> Vec<FieldViolation> {
    let Some(referral) = referral else {
        return vec![FieldViolation::new("referral", "is required")];
    };
    let mut violations = Vec::new();
    check_enum::<common::ReferralSource>(
        &mut violations,
        "referral.source",
        referral.source,
        true,
        "a REFERRAL_SOURCE_* value, including REFERRAL_SOURCE_CLIENT_DOESNT_KNOW",
    );
    check_enum::<common::TriageTier>(
        &mut violations,
        "referral.triage_tier",
        referral.triage_tier,
        true,
        "TRIAGE_TIER_EMERGENT, TRIAGE_TIER_URGENT, TRIAGE_TIER_ROUTINE",
    );
    check_enum::<common::Site>(
        &mut violations,
        "referral.site",
        referral.site,
        true,
        "SITE_SOUTH_LOS_ANGELES, SITE_SAN_FERNANDO_VALLEY, SITE_COUNTYWIDE",
    );
    let reference = referral.external_reference.trim();
    if reference.is_empty() {
        violations.push(FieldViolation::new(
            "referral.external_reference",
            "is required: the submitter's own reference (call or case number) makes resubmission safe",
        ));
    } else if reference.len() > MAX_EXTERNAL_REFERENCE_LEN {
        violations.push(FieldViolation::new(
            "referral.external_reference",
            format!("is {} characters long; allowed at most {MAX_EXTERNAL_REFERENCE_LEN}", reference.len()),
        ));
    }
    for (index, need) in referral.needs.iter().enumerate() {
        if !is_code(need) {
            violations.push(FieldViolation::new(
                format!("referral.needs[{index}]"),
                "must be a service type code: lowercase letters, digits and underscores, e.g. mental_health",
            ));
        }
    }
    let language = &referral.preferred_language;
    if !language.is_empty() && (!(2..=3).contains(&language.len()) || !language.bytes().all(|b| b.is_ascii_lowercase()))
    {
        violations.push(FieldViolation::new(
            "referral.preferred_language",
            "must be an ISO 639 code of 2 or 3 lowercase letters, e.g. en, es",
        ));
    }
    if let Some(personal) = &referral.personal {
        if let Some(dob) = &personal.date_of_birth {
            match calendar_date(dob) {
                None => violations.push(FieldViolation::new(
                    "referral.personal.date_of_birth",
                    "is not a calendar date (year, month 1-12, day valid for the month)",
                )),
                Some(date) if date > today => {
                    violations.push(FieldViolation::new("referral.personal.date_of_birth", "is in the future"))
                }
                Some(_) => {}
            }
        }
        if !(0..=120).contains(&personal.estimated_age) {
            violations.push(FieldViolation::new(
                "referral.personal.estimated_age",
                format!("{} is out of range; allowed 0 (unknown) to 120", personal.estimated_age),
            ));
        }
    }
    violations
}

fn age_on(dob: NaiveDate, today: NaiveDate) -> i32 {
    let mut age = today.year() - dob.year();
    if (today.month(), today.day()) < (dob.month(), dob.day()) {
        age -= 1;
    }
    age
}

/// Age, minor status and program eligibility from a validated referral. A youth
/// over 24 is still accepted (never turn a victim away) but marked outside the program.
pub fn derive_facts(referral: &pb::Referral, today: NaiveDate) -> DerivedFacts {
    let personal = referral.personal.as_ref();
    let age_years = personal
        .and_then(|p| p.date_of_birth.as_ref())
        .and_then(calendar_date)
        .map(|dob| age_on(dob, today))
        .or_else(|| personal.map(|p| p.estimated_age).filter(|age| *age > 0));
    DerivedFacts {
        age_years,
        is_minor: age_years.is_some_and(|age| age < 18),
        outside_youth_program: age_years.is_some_and(|age| age > YOUTH_PROGRAM_MAX_AGE),
    }
}

/// Who a submission counts as coming from, for idempotency: the referring
/// organization when named, otherwise the authenticated submitter.
pub fn dedupe_key(referral: &pb::Referral, submitter: &str) -> String {
    let origin = if referral.referring_organization_id.is_empty() {
        submitter
    } else {
        referral.referring_organization_id.as_str()
    };
    format!("{origin}|{}", referral.external_reference.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

    fn valid() -> pb::Referral {
        pb::Referral {
            source: common::ReferralSource::Hotline as i32,
            triage_tier: common::TriageTier::Urgent as i32,
            site: common::Site::SouthLosAngeles as i32,
            external_reference: "HL-1".into(),
            needs: vec!["mental_health".into()],
            preferred_language: "es".into(),
            personal: Some(pb::PersonalDetails {
                date_of_birth: Some(common::Date { year: 2010, month: 12, day: 1 }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn fields(violations: &[FieldViolation]) -> Vec<&str> {
        violations.iter().map(|v| v.field.as_str()).collect()
    }

    #[test]
    fn a_valid_referral_has_no_violations() {
        assert!(validate(Some(&valid()), today()).is_empty());
    }

    #[test]
    fn each_bad_field_is_named() {
        type Breakage = Box<dyn Fn(&mut pb::Referral)>;
        let cases: Vec<(&str, Breakage)> = vec![
            ("referral.source", Box::new(|r| r.source = 0)),
            ("referral.source", Box::new(|r| r.source = 999)),
            ("referral.triage_tier", Box::new(|r| r.triage_tier = 0)),
            ("referral.site", Box::new(|r| r.site = 77)),
            ("referral.external_reference", Box::new(|r| r.external_reference = "  ".into())),
            ("referral.external_reference", Box::new(|r| r.external_reference = "x".repeat(129))),
            ("referral.needs[0]", Box::new(|r| r.needs = vec!["Mental Health".into()])),
            ("referral.preferred_language", Box::new(|r| r.preferred_language = "Spanish".into())),
            (
                "referral.personal.date_of_birth",
                Box::new(|r| {
                    r.personal.as_mut().unwrap().date_of_birth = Some(common::Date { year: 2010, month: 2, day: 30 })
                }),
            ),
            (
                "referral.personal.date_of_birth",
                Box::new(|r| {
                    r.personal.as_mut().unwrap().date_of_birth = Some(common::Date { year: 2030, month: 1, day: 1 })
                }),
            ),
            ("referral.personal.estimated_age", Box::new(|r| r.personal.as_mut().unwrap().estimated_age = -3)),
        ];
        for (field, break_it) in cases {
            let mut referral = valid();
            break_it(&mut referral);
            let violations = validate(Some(&referral), today());
            assert_eq!(fields(&violations), vec![field], "{violations:?}");
        }
        assert_eq!(fields(&validate(None, today())), vec!["referral"]);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let referral = pb::Referral::default();
        let violations = validate(Some(&referral), today());
        assert_eq!(
            fields(&violations),
            vec!["referral.source", "referral.triage_tier", "referral.site", "referral.external_reference"]
        );
    }

    #[test]
    fn age_comes_from_date_of_birth_then_estimate() {
        let facts = derive_facts(&valid(), today());
        assert_eq!(facts, DerivedFacts { age_years: Some(15), is_minor: true, outside_youth_program: false });
        let mut estimated = valid();
        estimated.personal = Some(pb::PersonalDetails { estimated_age: 19, ..Default::default() });
        assert_eq!(derive_facts(&estimated, today()).age_years, Some(19));
        assert!(!derive_facts(&estimated, today()).is_minor);
        let mut unknown = valid();
        unknown.personal = None;
        assert_eq!(derive_facts(&unknown, today()).age_years, None);
    }

    #[test]
    fn birthday_not_yet_reached_counts_the_year_before() {
        let dob = NaiveDate::from_ymd_opt(2008, 11, 27).unwrap();
        assert_eq!(age_on(dob, today()), 17);
        assert_eq!(age_on(NaiveDate::from_ymd_opt(2008, 11, 26).unwrap(), today()), 18);
    }

    #[test]
    fn over_24_is_accepted_but_outside_the_program() {
        let mut older = valid();
        older.personal = Some(pb::PersonalDetails { estimated_age: 26, ..Default::default() });
        assert!(validate(Some(&older), today()).is_empty());
        assert!(derive_facts(&older, today()).outside_youth_program);
    }

    #[test]
    fn dedupe_key_prefers_the_referring_organization() {
        let mut referral = valid();
        assert_eq!(dedupe_key(&referral, "hotline-1"), "hotline-1|HL-1");
        referral.referring_organization_id = "org_1".into();
        assert_eq!(dedupe_key(&referral, "hotline-1"), "org_1|HL-1");
    }
}
