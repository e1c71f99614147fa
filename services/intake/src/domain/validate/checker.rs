//! The pieces every part of validation shares: the [`Checker`] that collects violations, the
//! field limits, and the date and code helpers. Imports none of its siblings.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use wf_proto::common::v1 as common;
use wf_proto::intake::v1 as pb;
use wf_types::FieldViolation;

use super::limits;

pub(crate) const MAX_EXTERNAL_REFERENCE_LEN: usize = 128;
pub(crate) const MAX_CODE_LEN: usize = 64;
pub(crate) const MAX_NAME_LEN: usize = 100;
pub(crate) const MAX_SHORT_TEXT_LEN: usize = 200;
pub(crate) const MAX_NOTES_LEN: usize = 10_000;
pub(crate) const MAX_AGE: i32 = 120;
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
    pb::ReferralStatus,
);

pub(crate) fn enum_values<E: ProtoEnum>() -> String {
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

    /// A repeated enum of at most `max` entries: every entry known and set, no entry twice.
    pub(crate) fn enumeration_list<E: ProtoEnum>(&mut self, field: &str, values: &[i32], max: usize) {
        self.list_len(field, values.len(), max);
        let mut seen = HashSet::new();
        for (index, value) in values.iter().enumerate() {
            self.enumeration::<E>(&format!("{field}[{index}]"), *value, true);
            if !seen.insert(*value) {
                self.push(format!("{field}[{index}]"), "appears twice; list each value once");
            }
        }
    }

    /// A list of at most `max` entries (the maxima are in `limits`).
    pub(crate) fn list_len(&mut self, field: &str, len: usize, max: usize) {
        if len > max {
            self.push(field, format!("has {len} entries; allowed at most {max}"));
        }
    }

    /// Free text: bounded length, no control characters (line breaks allowed when `multiline`), no
    /// bidirectional overrides or byte order marks (they make text read differently than it is
    /// stored).
    pub(crate) fn text(&mut self, field: &str, value: &str, max: usize, multiline: bool) {
        let chars = value.chars().count();
        if chars > max {
            self.push(field, format!("is {chars} characters long; allowed at most {max}"));
        }
        if value.chars().any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\r' || c == '\t'))) {
            let allowed = if multiline { "only line breaks and tabs" } else { "none" };
            self.push(field, format!("contains control characters; allowed: {allowed}"));
        }
        if value.chars().any(|c| is_bidi_control(c) || c == BOM) {
            self.push(
                field,
                "contains bidirectional override or byte order mark characters (U+202A-U+202E, U+2066-U+2069, \
                 U+FEFF); allowed: text without them",
            );
        }
    }

    /// A name (of the youth, an alias, a guardian, an organization) or a handle: [`Checker::text`] on
    /// one line, and no zero-width characters either, so two names that look the same are the same.
    pub(crate) fn name(&mut self, field: &str, value: &str, max: usize) {
        self.text(field, value, max, false);
        if value.chars().any(is_zero_width) {
            self.push(
                field,
                "contains zero-width characters (U+200B-U+200D, U+2060); allowed: visible characters only",
            );
        }
    }

    /// A non-empty list entry of free text (a name when `name`).
    fn text_entry(&mut self, field: &str, value: &str, max: usize, name: bool) {
        if value.trim().is_empty() {
            self.push(field, "is empty; remove the entry or give a value");
        } else if name {
            self.name(field, value, max);
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

/// The byte order mark (zero-width no-break space).
const BOM: char = '\u{FEFF}';

/// Bidirectional embeddings, overrides and isolates: U+202A-U+202E and U+2066-U+2069.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Zero-width space, non-joiner and joiner (U+200B-U+200D) and the word joiner (U+2060).
fn is_zero_width(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}')
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

/// Helpers the personal-details checks share.
impl Checker {
    pub(crate) fn phones(&mut self, field: &str, phones: &[pb::Phone]) {
        self.list_len(field, phones.len(), limits::PHONES);
        for (index, phone) in phones.iter().enumerate() {
            self.phone(&format!("{field}[{index}]"), phone);
        }
    }

    pub(crate) fn emails(&mut self, field: &str, emails: &[String]) {
        self.list_len(field, emails.len(), limits::EMAILS);
        for (index, email) in emails.iter().enumerate() {
            self.email(&format!("{field}[{index}]"), email);
        }
    }

    /// A list of at most `max_entries` free-text entries of at most `max_len` characters each.
    pub(crate) fn text_list(&mut self, field: &str, values: &[String], max_entries: usize, max_len: usize) {
        self.list_len(field, values.len(), max_entries);
        for (index, value) in values.iter().enumerate() {
            self.text_entry(&format!("{field}[{index}]"), value, max_len, false);
        }
    }

    /// [`Checker::text_list`] of names (aliases, handles): each entry checked as [`Checker::name`].
    pub(crate) fn name_list(&mut self, field: &str, values: &[String], max_entries: usize, max_len: usize) {
        self.list_len(field, values.len(), max_entries);
        for (index, value) in values.iter().enumerate() {
            self.text_entry(&format!("{field}[{index}]"), value, max_len, true);
        }
    }

    pub(crate) fn channels(&mut self, field: &str, values: &[i32]) {
        self.enumeration_list::<common::ContactChannel>(field, values, limits::SAFE_CHANNELS);
    }

    pub(crate) fn relationship(&mut self, field: &str, value: &str) {
        self.one_of(field, value, GUARDIAN_RELATIONSHIPS, false);
    }
}

pub(crate) const NAME_LEN: usize = MAX_NAME_LEN;
pub(crate) const SHORT_TEXT_LEN: usize = MAX_SHORT_TEXT_LEN;
pub(crate) const NOTES_LEN: usize = MAX_NOTES_LEN;
pub(crate) const AGE_MAX: i32 = MAX_AGE;
