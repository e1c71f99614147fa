//! Validation of every field of a submitted referral: one violation per problem,
//! each naming the field path, what was wrong and what is allowed. Value 0 of an
//! enum is "missing"; "client doesn't know" and "prefers not to answer" are
//! explicit answers and always valid.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use wf_proto::common::v1 as common;
use wf_proto::intake::v1 as pb;
use wf_server::FieldViolation;

const MAX_EXTERNAL_REFERENCE_LEN: usize = 128;
pub(crate) const MAX_CODE_LEN: usize = 64;
const MAX_NAME_LEN: usize = 100;
const MAX_SHORT_TEXT_LEN: usize = 200;
const MAX_NOTES_LEN: usize = 10_000;
const MAX_LIST_LEN: usize = 50;
const MAX_AGE: i32 = 120;
/// Clock skew tolerated on instants the submitter sets.
const FUTURE_TOLERANCE_SECONDS: i64 = 300;

const PHONE_KINDS: &[&str] = &["mobile", "home", "work", "shelter", "other"];
const GUARDIAN_RELATIONSHIPS: &[&str] =
    &["parent", "legal_guardian", "relative_caregiver", "foster_parent", "social_worker", "other"];

/// Collects violations while walking a request.
pub(crate) struct Checker {
    pub(crate) violations: Vec<FieldViolation>,
    now: DateTime<Utc>,
}

/// A generated protobuf enum, named as in the .proto so messages match what callers send.
pub(crate) trait ProtoEnum {
    fn proto_name(value: i32) -> Option<&'static str>;
}

macro_rules! proto_enums {
    ($($ty:ty),* $(,)?) => {$(
        impl ProtoEnum for $ty {
            fn proto_name(value: i32) -> Option<&'static str> {
                <$ty>::try_from(value).ok().map(|e| e.as_str_name())
            }
        }
    )*};
}

proto_enums!(
    common::ReferralSource,
    common::TriageTier,
    common::Site,
    common::TraffickingStatus,
    common::TraffickingDeterminedBy,
    common::TraffickingType,
    common::MissingReason,
    common::PriorParticipationBasis,
    common::NoYes,
    common::IncomeSource,
    common::EmploymentType,
    common::NotEmployedReason,
    common::LivingSituation,
    common::LastGradeCompleted,
    common::SchoolStatus,
    common::SystemInvolvement,
    common::ExchangeCount,
    common::ScreeningTool,
    common::ScreeningResult,
    common::JusticeLevel,
    common::ContactChannel,
    pb::IntakeChannel,
    pb::DataQuality,
);

fn enum_values<E: ProtoEnum>() -> String {
    // Lists the allowed names from the generated enum so messages never drift from the proto.
    (1..200).filter_map(E::proto_name).collect::<Vec<_>>().join(", ")
}

impl Checker {
    pub(crate) fn new(now: DateTime<Utc>) -> Self {
        Self { violations: Vec::new(), now }
    }

    pub(crate) fn today(&self) -> NaiveDate {
        self.now.date_naive()
    }

    pub(crate) fn push(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.violations.push(FieldViolation::new(field, description));
    }

    /// A proto enum: unknown numbers are always wrong; 0 (missing) only when required.
    pub(crate) fn enumeration<E: ProtoEnum>(&mut self, field: &str, value: i32, required: bool) {
        if E::proto_name(value).is_none() {
            self.push(field, format!("unknown value {value}; allowed: {}", enum_values::<E>()));
        } else if required && value == 0 {
            self.push(field, format!("is required; allowed: {}", enum_values::<E>()));
        }
    }

    /// A repeated enum: every entry known and set, no entry twice.
    pub(crate) fn enumeration_list<E: ProtoEnum>(&mut self, field: &str, values: &[i32]) {
        self.list_len(field, values.len());
        let mut seen = HashSet::new();
        for (index, value) in values.iter().enumerate() {
            self.enumeration::<E>(&format!("{field}[{index}]"), *value, true);
            if !seen.insert(*value) {
                self.push(format!("{field}[{index}]"), "appears twice; list each value once");
            }
        }
    }

    fn list_len(&mut self, field: &str, len: usize) {
        if len > MAX_LIST_LEN {
            self.push(field, format!("has {len} entries; allowed at most {MAX_LIST_LEN}"));
        }
    }

    /// Free text: bounded length, no control characters (line breaks allowed when `multiline`).
    pub(crate) fn text(&mut self, field: &str, value: &str, max: usize, multiline: bool) {
        let chars = value.chars().count();
        if chars > max {
            self.push(field, format!("is {chars} characters long; allowed at most {max}"));
        }
        if value.chars().any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\r' || c == '\t'))) {
            let allowed = if multiline { "only line breaks and tabs" } else { "none" };
            self.push(field, format!("contains control characters; allowed: {allowed}"));
        }
    }

    /// A non-empty list entry of free text.
    fn text_entry(&mut self, field: &str, value: &str, max: usize) {
        if value.trim().is_empty() {
            self.push(field, "is empty; remove the entry or give a value");
        } else {
            self.text(field, value, max, false);
        }
    }

    /// A data-driven code, optional unless `required`.
    pub(crate) fn code(&mut self, field: &str, value: &str, required: bool, example: &str) {
        if value.is_empty() {
            if required {
                self.push(field, format!("is required; allowed: a lower_snake_case code, e.g. {example}"));
            }
        } else if !is_code(value) {
            self.push(
                field,
                format!(
                    "must be a code of lowercase letters, digits and underscores (at most {MAX_CODE_LEN}), e.g. {example}"
                ),
            );
        }
    }

    fn one_of(&mut self, field: &str, value: &str, allowed: &[&str], required: bool) {
        if (value.is_empty() && required) || (!value.is_empty() && !allowed.contains(&value)) {
            // Never echo the value: a free-text mistake may carry a name.
            let what = if value.is_empty() { "is required" } else { "is not a known code" };
            self.push(field, format!("{what}; allowed: {}", allowed.join(", ")));
        }
    }

    /// A directory id such as `org_…`; optional.
    pub(crate) fn id(&mut self, field: &str, value: &str, prefix: &str) {
        if value.is_empty() {
            return;
        }
        let ok = value.strip_prefix(prefix).is_some_and(|rest| {
            !rest.is_empty() && rest.len() <= MAX_CODE_LEN && rest.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        if !ok {
            self.push(field, format!("must be a directory id: \"{prefix}\" followed by letters and digits"));
        }
    }

    /// An instant the submitter sets: not meaningfully in the future.
    pub(crate) fn instant(&mut self, field: &str, value: Option<&prost_types::Timestamp>) {
        let Some(value) = value else { return };
        match wf_proto::time::datetime(value) {
            None => self.push(field, "is not a valid timestamp (seconds and nanos within range)"),
            Some(at) if (at - self.now).num_seconds() > FUTURE_TOLERANCE_SECONDS => {
                self.push(field, "is in the future; allowed: now or earlier")
            }
            Some(_) => {}
        }
    }

    /// A possibly partial date (0 = unknown month or day) not after today.
    pub(crate) fn partial_date(&mut self, field: &str, date: &common::Date) -> Option<NaiveDate> {
        let today = self.today();
        if date.year == 0 && (date.month != 0 || date.day != 0) {
            self.push(field, "has a month or day without a year; allowed: a year, optionally month and day");
            return None;
        }
        if date.month == 0 && date.day != 0 {
            self.push(field, "has a day without a month; allowed: year, year and month, or a full date");
            return None;
        }
        if !(1900..=today.year()).contains(&date.year) {
            self.push(field, format!("year {} is out of range; allowed 1900 to {}", date.year, today.year()));
            return None;
        }
        if !(0..=12).contains(&date.month) {
            self.push(field, format!("month {} is out of range; allowed 1-12, or 0 when unknown", date.month));
            return None;
        }
        let earliest = earliest_day(date);
        let Some(earliest) = earliest else {
            self.push(field, "is not a calendar date (day valid for the month, or 0 when unknown)");
            return None;
        };
        if earliest > today {
            self.push(field, "is in the future; allowed: today or earlier");
            return None;
        }
        Some(earliest)
    }

    fn phone(&mut self, field: &str, phone: &pb::Phone) {
        let digits = phone.number.bytes().filter(u8::is_ascii_digit).count();
        let allowed_chars = phone.number.bytes().all(|b| b.is_ascii_digit() || b" +-().".contains(&b));
        if phone.number.trim().is_empty() {
            self.push(format!("{field}.number"), "is required; allowed: E.164 or as given, e.g. +1-555-0100");
        } else if !allowed_chars || !(7..=15).contains(&digits) || phone.number.len() > 32 {
            self.push(
                format!("{field}.number"),
                "is not a phone number; allowed: 7 to 15 digits with optional +, spaces, dashes, dots, parentheses",
            );
        }
        self.one_of(&format!("{field}.kind"), &phone.kind, PHONE_KINDS, false);
    }

    fn email(&mut self, field: &str, email: &str) {
        let valid = email.len() <= 254
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if !valid {
            self.push(field, "is not an email address; allowed: local@domain.tld, at most 254 characters");
        }
    }
}

pub(crate) fn is_code(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= MAX_CODE_LEN
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// First day a possibly partial date can be; `None` when the parts do not form a date.
pub(crate) fn earliest_day(date: &common::Date) -> Option<NaiveDate> {
    let month = u32::try_from(date.month.max(1)).ok()?;
    let day = u32::try_from(date.day.max(1)).ok()?;
    NaiveDate::from_ymd_opt(date.year, month, day)
}

/// Last day a possibly partial date can be (the youngest age a partial date of birth allows).
pub(crate) fn latest_day(date: &common::Date) -> Option<NaiveDate> {
    earliest_day(date)?;
    if date.day != 0 {
        return earliest_day(date);
    }
    let (year, month) = if date.month == 0 { (date.year, 12) } else { (date.year, date.month) };
    let first_of_next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, u32::try_from(month + 1).ok()?, 1)?
    };
    first_of_next.pred_opt()
}

/// Validates a submitted referral; an empty list means it may be stored.
pub fn validate(referral: Option<&pb::Referral>, now: DateTime<Utc>) -> Vec<FieldViolation> {
    let Some(referral) = referral else {
        return vec![FieldViolation::new("referral", "is required")];
    };
    let mut c = Checker::new(now);
    referral_fields(&mut c, referral);
    if let Some(personal) = &referral.personal {
        super::personal::personal_fields(&mut c, personal);
    }
    c.violations
}

/// Validates one screening recorded on its own (`RecordScreening`): the checks a submission applies to
/// each of `referral.screenings`, under the field path `screening`, and the date is required here
/// (a screening recorded after intake always has one).
pub fn validate_screening(screening: Option<&pb::Screening>, now: DateTime<Utc>) -> Vec<FieldViolation> {
    let Some(screening) = screening else {
        return vec![FieldViolation::new("screening", "is required")];
    };
    let mut c = Checker::new(now);
    super::records::screening_fields(&mut c, "screening", screening);
    if screening.screened_at.is_none() {
        c.push("screening.screened_at", "is required; allowed: when the screening was done, now or earlier");
    }
    c.violations
}

fn referral_fields(c: &mut Checker, r: &pb::Referral) {
    c.enumeration::<common::ReferralSource>("referral.source", r.source, true);
    c.id("referral.referring_organization_id", &r.referring_organization_id, "org_");
    c.text("referral.referring_organization_name", &r.referring_organization_name, MAX_SHORT_TEXT_LEN, false);
    let reference = r.external_reference.trim();
    if reference.is_empty() {
        c.push(
            "referral.external_reference",
            "is required: the submitter's own reference (call or case number) makes resubmission safe",
        );
    } else if reference.len() > MAX_EXTERNAL_REFERENCE_LEN {
        c.push(
            "referral.external_reference",
            format!("is {} characters long; allowed at most {MAX_EXTERNAL_REFERENCE_LEN}", reference.len()),
        );
    } else {
        c.text("referral.external_reference", reference, MAX_EXTERNAL_REFERENCE_LEN, false);
    }
    c.instant("referral.received_at", r.received_at.as_ref());
    c.enumeration::<common::TriageTier>("referral.triage_tier", r.triage_tier, true);
    c.code("referral.triage_reason", &r.triage_reason, false, "no_safe_place_tonight");
    c.enumeration::<common::Site>("referral.site", r.site, true);
    c.list_len("referral.needs", r.needs.len());
    for (index, need) in r.needs.iter().enumerate() {
        if !is_code(need) {
            c.push(
                format!("referral.needs[{index}]"),
                "must be a service type code: lowercase letters, digits and underscores, e.g. mental_health",
            );
        }
    }
    let language = &r.preferred_language;
    if !language.is_empty() && (!(2..=3).contains(&language.len()) || !language.bytes().all(|b| b.is_ascii_lowercase()))
    {
        c.push("referral.preferred_language", "must be an ISO 639 code of 2 or 3 lowercase letters, e.g. en, es");
    }
    c.list_len("referral.screenings", r.screenings.len());
    for (index, screening) in r.screenings.iter().enumerate() {
        super::records::screening_fields(c, &format!("referral.screenings[{index}]"), screening);
    }
    c.enumeration::<common::TraffickingStatus>("referral.trafficking_status", r.trafficking_status, false);
    c.enumeration::<common::TraffickingDeterminedBy>(
        "referral.trafficking_determined_by",
        r.trafficking_determined_by,
        false,
    );
    if r.trafficking_determined_by != 0 && r.trafficking_status == 0 {
        c.push(
            "referral.trafficking_determined_by",
            "is set without referral.trafficking_status; allowed only together with a status",
        );
    }
    c.enumeration::<common::TraffickingType>("referral.trafficking_type", r.trafficking_type, false);
    if let Some(age) = &r.age_first_exploited {
        match age.answer {
            Some(common::age_answer::Answer::Years(years)) if !(1..=MAX_AGE).contains(&years) => c.push(
                "referral.age_first_exploited.years",
                format!("{years} is out of range; allowed 1 to {MAX_AGE}, or not_given with a reason"),
            ),
            Some(common::age_answer::Answer::NotGiven(reason)) => {
                c.enumeration::<common::MissingReason>("referral.age_first_exploited.not_given", reason, true)
            }
            _ => {}
        }
    }
    c.enumeration::<common::PriorParticipationBasis>(
        "referral.prior_participation_basis",
        r.prior_participation_basis,
        false,
    );
    c.enumeration::<common::NoYes>("referral.former_ward_child_welfare", r.former_ward_child_welfare, false);
    c.enumeration::<common::NoYes>("referral.former_ward_juvenile_justice", r.former_ward_juvenile_justice, false);
    if let Some(income) = &r.income {
        super::records::income_fields(c, income);
    }
    if let Some(employment) = &r.employment {
        super::records::employment_fields(c, employment);
    }
    c.enumeration::<common::LivingSituation>("referral.living_situation", r.living_situation, false);
    c.enumeration::<common::LastGradeCompleted>("referral.last_grade_completed", r.last_grade_completed, false);
    c.enumeration::<common::SchoolStatus>("referral.school_status", r.school_status, false);
    c.list_len("referral.arrests", r.arrests.len());
    for (index, arrest) in r.arrests.iter().enumerate() {
        super::records::arrest_fields(c, &format!("referral.arrests[{index}]"), arrest);
    }
    c.enumeration::<common::NoYes>("referral.ever_arrested", r.ever_arrested, false);
    if r.ever_arrested == common::NoYes::No as i32 && !r.arrests.is_empty() {
        c.push(
            "referral.ever_arrested",
            "is NO_YES_NO but referral.arrests lists arrests; allowed: YES, or no arrests",
        );
    }
    c.enumeration_list::<common::SystemInvolvement>("referral.system_involvement", &r.system_involvement);
    if r.system_involvement.len() > 1 && r.system_involvement.contains(&(common::SystemInvolvement::None as i32)) {
        c.push("referral.system_involvement", "lists SYSTEM_INVOLVEMENT_NONE with other values; NONE must stand alone");
    }
    c.code("referral.engagement_approach", &r.engagement_approach, false, "survivor_mentor");
    if let Some(sexual) = &r.sexual_exploitation {
        let p = "referral.sexual_exploitation";
        c.enumeration::<common::NoYes>(&format!("{p}.ever_exchanged_sex"), sexual.ever_exchanged_sex, false);
        c.enumeration::<common::NoYes>(
            &format!("{p}.exchanged_sex_last_three_months"),
            sexual.exchanged_sex_last_three_months,
            false,
        );
        c.enumeration::<common::ExchangeCount>(
            &format!("{p}.times_last_three_months"),
            sexual.times_last_three_months,
            false,
        );
        c.enumeration::<common::NoYes>(
            &format!("{p}.ever_made_persuaded_or_forced"),
            sexual.ever_made_persuaded_or_forced,
            false,
        );
        c.enumeration::<common::NoYes>(
            &format!("{p}.made_persuaded_or_forced_last_three_months"),
            sexual.made_persuaded_or_forced_last_three_months,
            false,
        );
    }
    if let Some(labor) = &r.labor_exploitation {
        let p = "referral.labor_exploitation";
        c.enumeration::<common::NoYes>(&format!("{p}.ever_afraid_to_quit"), labor.ever_afraid_to_quit, false);
        c.enumeration::<common::NoYes>(
            &format!("{p}.ever_promised_different_work"),
            labor.ever_promised_different_work,
            false,
        );
        c.enumeration::<common::NoYes>(
            &format!("{p}.either_in_last_three_months"),
            labor.either_in_last_three_months,
            false,
        );
    }
    // Set by intake on arrival; a submitted value is overwritten but must still be a known one.
    c.enumeration::<pb::IntakeChannel>("referral.channel", r.channel, false);
    c.list_len("referral.requested_partner_service_ids", r.requested_partner_service_ids.len());
    for (index, id) in r.requested_partner_service_ids.iter().enumerate() {
        let field = format!("referral.requested_partner_service_ids[{index}]");
        if id.is_empty() {
            c.push(field, "is empty; allowed: a directory id \"svc_…\"");
        } else {
            c.id(&field, id, "svc_");
        }
    }
}

/// Helpers the personal-details checks share.
impl Checker {
    pub(crate) fn phones(&mut self, field: &str, phones: &[pb::Phone]) {
        self.list_len(field, phones.len());
        for (index, phone) in phones.iter().enumerate() {
            self.phone(&format!("{field}[{index}]"), phone);
        }
    }

    pub(crate) fn emails(&mut self, field: &str, emails: &[String]) {
        self.list_len(field, emails.len());
        for (index, email) in emails.iter().enumerate() {
            self.email(&format!("{field}[{index}]"), email);
        }
    }

    pub(crate) fn text_list(&mut self, field: &str, values: &[String], max: usize) {
        self.list_len(field, values.len());
        for (index, value) in values.iter().enumerate() {
            self.text_entry(&format!("{field}[{index}]"), value, max);
        }
    }

    pub(crate) fn channels(&mut self, field: &str, values: &[i32]) {
        self.enumeration_list::<common::ContactChannel>(field, values);
    }

    pub(crate) fn relationship(&mut self, field: &str, value: &str) {
        self.one_of(field, value, GUARDIAN_RELATIONSHIPS, false);
    }
}

pub(crate) const NAME_LEN: usize = MAX_NAME_LEN;
pub(crate) const SHORT_TEXT_LEN: usize = MAX_SHORT_TEXT_LEN;
pub(crate) const NOTES_LEN: usize = MAX_NOTES_LEN;
pub(crate) const AGE_MAX: i32 = MAX_AGE;
