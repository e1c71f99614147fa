//! Pure intake rules: validation with one violation per problem, and the facts
//! derived from a referral (age, minor, inside the youth program). No I/O.

pub mod consent;
pub mod deadline;
pub mod lifecycle;
pub mod listing;
pub mod mandated;
pub mod matching;
pub mod progress;
pub mod receiving;
pub mod submitter;
mod update;
mod validate;

use chrono::{Datelike, NaiveDate};
use wf_proto::intake::v1 as pb;
use wf_types::FieldViolation;

pub use update::{UpdateOutcome, apply_update_mask};
pub(crate) use validate::is_code;
pub use validate::{validate, validate_screening};

/// Upper age of the youth program; older youth are accepted and referred on.
pub const YOUTH_PROGRAM_MAX_AGE: i32 = 24;

/// Facts derived from a referral that travel in events (never the data they come from).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DerivedFacts {
    /// Whole years, `None` when neither a date of birth nor an estimate was given.
    pub age_years: Option<i32>,
    pub is_minor: bool,
    pub outside_youth_program: bool,
}

pub(crate) fn age_on(dob: NaiveDate, today: NaiveDate) -> i32 {
    let mut age = today.year() - dob.year();
    if (today.month(), today.day()) < (dob.month(), dob.day()) {
        age -= 1;
    }
    age
}

/// Age, minor status and program eligibility from a validated referral. A youth
/// over 24 is still accepted (never turn a victim away) but marked outside the program.
/// A partial date of birth counts from its latest possible day: the youngest age it
/// allows, so a youth who may be a minor is treated as one.
pub fn derive_facts(referral: &pb::Referral, today: NaiveDate) -> DerivedFacts {
    let personal = referral.personal.as_ref();
    let age_years = personal
        .and_then(|p| p.date_of_birth.as_ref())
        .and_then(validate::latest_day)
        .map(|dob| age_on(dob, today).max(0))
        .or_else(|| personal.map(|p| p.estimated_age).filter(|age| *age > 0));
    DerivedFacts {
        age_years,
        is_minor: age_years.is_some_and(|age| age < 18),
        outside_youth_program: age_years.is_some_and(|age| age > YOUTH_PROGRAM_MAX_AGE),
    }
}

/// Who submits, as far as intake's rules care: the authenticated subject and the organization its
/// credentials name (a partner's, or a hotline client's when its token carries one). Never the
/// request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin<'a> {
    pub subject: &'a str,
    pub organization: Option<&'a str>,
}

impl<'a> Origin<'a> {
    /// The namespace of the caller's external references: its organization when the credentials name
    /// one (every client of that organization shares it), else its own subject. Never the body's
    /// `referring_organization_id`, so nobody can submit into another organization's namespace.
    pub fn namespace(&self) -> &'a str {
        self.organization.unwrap_or(self.subject)
    }

    /// Whether a referral stored as submitted by `stored` was submitted by this caller: the same
    /// organization when the caller has one, else the same subject without an organization.
    pub fn submitted(&self, stored: Origin<'_>) -> bool {
        match self.organization {
            Some(organization) => stored.organization == Some(organization),
            None => stored.organization.is_none() && stored.subject == self.subject,
        }
    }
}

/// The idempotency key of a submission: the caller's namespace ([`Origin::namespace`]) and its
/// external reference.
pub fn dedupe_key(origin: Origin<'_>, external_reference: &str) -> String {
    format!("{}|{}", origin.namespace(), external_reference.trim())
}

/// A caller whose credentials name an organization submits only as that organization: the body's
/// `referring_organization_id` must be empty (it is then filled in) or the same. The violation never
/// repeats either value.
pub fn referring_organization_violation(referral: &pb::Referral, origin: Origin<'_>) -> Option<FieldViolation> {
    let own = origin.organization?;
    let given = referral.referring_organization_id.as_str();
    (!given.is_empty() && given != own).then(|| {
        FieldViolation::new(
            "referral.referring_organization_id",
            "must match the caller's organization (the one its credentials name); leave it empty to use that \
             organization",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wf_proto::common::v1 as common;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

    fn valid() -> pb::Referral {
        pb::Referral {
            external_reference: "HL-1".into(),
            personal: Some(pb::PersonalDetails {
                date_of_birth: Some(common::Date { year: 2010, month: 12, day: 1 }),
                ..Default::default()
            }),
            ..Default::default()
        }
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
    fn a_partial_date_of_birth_gives_the_youngest_possible_age() {
        let mut referral = valid();
        // Born some time in 2008: 17 or 18 today; treated as 17, a minor.
        referral.personal.as_mut().unwrap().date_of_birth = Some(common::Date { year: 2008, month: 0, day: 0 });
        assert_eq!(
            derive_facts(&referral, today()),
            DerivedFacts { age_years: Some(17), is_minor: true, outside_youth_program: false }
        );
        referral.personal.as_mut().unwrap().date_of_birth = Some(common::Date { year: 2008, month: 11, day: 0 });
        assert_eq!(derive_facts(&referral, today()).age_years, Some(17));
        referral.personal.as_mut().unwrap().date_of_birth = Some(common::Date { year: 2008, month: 10, day: 0 });
        assert_eq!(derive_facts(&referral, today()).age_years, Some(18));
    }

    #[test]
    fn birthday_not_yet_reached_counts_the_year_before() {
        let dob = NaiveDate::from_ymd_opt(2008, 11, 27).unwrap();
        assert_eq!(age_on(dob, today()), 17);
        assert_eq!(age_on(NaiveDate::from_ymd_opt(2008, 11, 26).unwrap(), today()), 18);
    }

    #[test]
    fn over_24_is_outside_the_program() {
        let mut older = valid();
        older.personal = Some(pb::PersonalDetails { estimated_age: 26, ..Default::default() });
        assert!(derive_facts(&older, today()).outside_youth_program);
        older.personal = Some(pb::PersonalDetails { estimated_age: 24, ..Default::default() });
        assert!(!derive_facts(&older, today()).outside_youth_program);
    }

    #[test]
    fn the_dedupe_namespace_is_the_callers_own_never_the_body() {
        let mut referral = valid();
        referral.referring_organization_id = "org_other".into();
        let hotline = Origin { subject: "hotline-1", organization: None };
        assert_eq!(dedupe_key(hotline, &referral.external_reference), "hotline-1|HL-1");
        let partner = Origin { subject: "client-7", organization: Some("org_a") };
        assert_eq!(dedupe_key(partner, " HL-1 "), "org_a|HL-1");
    }

    #[test]
    fn a_caller_with_an_organization_submits_only_as_it() {
        let partner = Origin { subject: "client-7", organization: Some("org_a") };
        let mut referral = valid();
        assert!(referring_organization_violation(&referral, partner).is_none(), "empty: filled in");
        referral.referring_organization_id = "org_a".into();
        assert!(referring_organization_violation(&referral, partner).is_none());
        referral.referring_organization_id = "org_b".into();
        let violation = referring_organization_violation(&referral, partner).expect("refused");
        assert_eq!(violation.field, "referral.referring_organization_id");
        assert!(!violation.description.contains("org_b") && !violation.description.contains("org_a"));
        let staff = Origin { subject: "usr_1", organization: None };
        assert!(referring_organization_violation(&referral, staff).is_none(), "staff act on a behalf");
    }

    #[test]
    fn a_submission_belongs_to_its_organization_or_else_its_subject() {
        let a = Origin { subject: "client-1", organization: Some("org_a") };
        let a_other_client = Origin { subject: "client-2", organization: Some("org_a") };
        let b = Origin { subject: "client-1", organization: Some("org_b") };
        let hotline = Origin { subject: "client-1", organization: None };
        assert!(a.submitted(a_other_client), "one organization, several clients");
        assert!(!a.submitted(b) && !b.submitted(a));
        assert!(!hotline.submitted(a), "same subject, but that one acted as an organization");
        assert!(hotline.submitted(Origin { subject: "client-1", organization: None }));
        assert!(!hotline.submitted(Origin { subject: "client-9", organization: None }));
    }
}
