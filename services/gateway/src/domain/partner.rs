//! The rules of the partner's screens and of the home counts, over plain data: dates and times a
//! form takes in Los Angeles time, how long ago capacity was reported (and when that is stale), the decline reasons a partner picks from, the coded facts an offer shows (tier, age
//! band, needs, language; never a name), why an offer can no longer be answered, and counts taken
//! from one page of a list.
//!
//! Instants are microseconds since the Unix epoch, as the service clock and the protos give them.
//! Deadlines read as clock time and countdown the way every screen shows them ([`time`]).

use std::fmt;

use jiff::civil;
use jiff::tz::TimeZone;
use wf_proto::common::v1::{ContactChannel, ContactOutcome};
use wf_proto::routing::v1::{DeclineReason, OfferStatus};

pub use super::queue::time;

#[cfg(test)]
mod tests;

/// Where the program works: every clock time and "today" on the pages is Los Angeles time.
pub const PROGRAM_TIME_ZONE: &str = time::ZONE;

const MINUTE: i64 = 60 * 1_000_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// Capacity reported longer ago than this is flagged as stale: routing decides on it as if true.
pub const CAPACITY_STALE_AFTER_MICROS: i64 = DAY;

/// The program's time zone (bundled with the binary, so a host without tzdata still shows LA time).
pub fn program_zone() -> TimeZone {
    TimeZone::get(PROGRAM_TIME_ZONE).unwrap_or(TimeZone::UTC)
}

fn zoned(at_micros: i64) -> Option<jiff::ZonedDateTime> {
    jiff::Timestamp::from_microsecond(at_micros).ok().map(|at| at.to_zoned_datetime(program_zone()))
}

/// The Los Angeles calendar date of an instant, as a form's date field holds it ("2026-12-07").
pub fn local_date(at_micros: i64) -> String {
    zoned(at_micros).map(|at| at.date().to_string()).unwrap_or_default()
}

/// The Los Angeles clock time of an instant, as a form's time field holds it ("14:32").
pub fn local_time(at_micros: i64) -> String {
    zoned(at_micros).map(|at| at.strftime("%H:%M").to_string()).unwrap_or_default()
}

/// A date field ("2026-12-07") as a calendar date: `(year, month, day)`.
pub fn parse_date(value: &str) -> Result<(i32, u32, u32), &'static str> {
    let date: civil::Date = value.trim().parse().map_err(|_| "must be a date like 2026-03-02")?;
    Ok((i32::from(date.year()), date.month().unsigned_abs().into(), date.day().unsigned_abs().into()))
}

/// A date and a clock time typed in Los Angeles time, as an instant. A time that happens twice
/// (the autumn change) is the first; one that never happens (the spring change) is read an hour on.
pub fn local_instant(date: &str, time: &str) -> Result<i64, LocalTimeError> {
    let date: civil::Date = date.trim().parse().map_err(|_| LocalTimeError::Date)?;
    let time: civil::Time = time.trim().parse().map_err(|_| LocalTimeError::Time)?;
    let at = date.to_datetime(time).to_zoned_datetime(program_zone()).map_err(|_| LocalTimeError::Time)?;
    Ok(at.timestamp().as_microsecond())
}

/// Which part of a typed date and time could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalTimeError {
    Date,
    Time,
}

/// How long ago something was reported: "just now", "3 h ago", "2 days 5 h ago".
pub fn ago(now: i64, then: i64) -> String {
    let minutes = (now - then).max(0) / MINUTE;
    if minutes < 1 { "just now".to_owned() } else { format!("{} ago", time::span(minutes)) }
}

/// Whether capacity reported at `updated` (never: `None`) is too old to trust.
pub fn capacity_is_stale(now: i64, updated: Option<i64>) -> bool {
    updated.is_none_or(|updated| now - updated > CAPACITY_STALE_AFTER_MICROS)
}

/// One reason a partner may give for declining, as the form offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeclineChoice {
    /// The form's value.
    pub code: &'static str,
    pub label: &'static str,
    pub reason: DeclineReason,
}

/// Every decline reason of the proto but UNSPECIFIED, in its order ("other" last).
pub const DECLINE_REASONS: [DeclineChoice; 10] = [
    DeclineChoice { code: "no_capacity", label: "No open places", reason: DeclineReason::NoCapacity },
    DeclineChoice {
        code: "outside_service_area",
        label: "Outside our service area",
        reason: DeclineReason::OutsideServiceArea,
    },
    DeclineChoice { code: "age_not_served", label: "Age not served", reason: DeclineReason::AgeNotServed },
    DeclineChoice {
        code: "service_not_offered",
        label: "We do not offer the service needed",
        reason: DeclineReason::ServiceNotOffered,
    },
    DeclineChoice {
        code: "language_not_available",
        label: "Language not available",
        reason: DeclineReason::LanguageNotAvailable,
    },
    DeclineChoice {
        code: "safety_concern",
        label: "Safety concern for the youth or staff",
        reason: DeclineReason::SafetyConcern,
    },
    DeclineChoice {
        code: "conflict_of_interest",
        label: "Conflict of interest",
        reason: DeclineReason::ConflictOfInterest,
    },
    DeclineChoice {
        code: "already_serving",
        label: "Already serving this youth under another referral",
        reason: DeclineReason::AlreadyServing,
    },
    DeclineChoice {
        code: "needs_exceed_scope",
        label: "Needs exceed what we can safely provide",
        reason: DeclineReason::NeedsExceedScope,
    },
    DeclineChoice { code: "other", label: "Another reason (give a short code)", reason: DeclineReason::Other },
];

/// The decline reason a form's value names.
pub fn decline_reason(code: &str) -> Option<DeclineReason> {
    DECLINE_REASONS.iter().find(|choice| choice.code == code).map(|choice| choice.reason)
}

/// How a recorded decline reason reads.
pub fn decline_reason_label(reason: DeclineReason) -> &'static str {
    DECLINE_REASONS.iter().find(|choice| choice.reason == reason).map_or("Not given", |choice| choice.label)
}

pub fn offer_status_label(status: OfferStatus) -> &'static str {
    match status {
        OfferStatus::Pending => "Waiting for your answer",
        OfferStatus::Accepted => "Accepted",
        OfferStatus::Declined => "Declined",
        OfferStatus::Expired => "Expired unanswered",
        OfferStatus::Withdrawn => "Withdrawn",
        OfferStatus::Unspecified => "Unknown",
    }
}

/// Why an offer that the services would not let the partner answer is closed, from what the
/// offer shows now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotOpen {
    /// Answered, expired or withdrawn meanwhile.
    Closed(OfferStatus),
    /// Still pending, but its deadline has passed: routing offers the referral elsewhere.
    DeadlinePassed,
    /// Pending and in time: the service has no open place recorded.
    NoOpenPlace,
}

pub fn not_open(status: OfferStatus, deadline: Option<i64>, now: i64) -> NotOpen {
    match status {
        OfferStatus::Pending if deadline.is_some_and(|deadline| deadline <= now) => NotOpen::DeadlinePassed,
        OfferStatus::Pending => NotOpen::NoOpenPlace,
        other => NotOpen::Closed(other),
    }
}

impl NotOpen {
    /// The sentence the offer page shows.
    pub fn message(self) -> String {
        match self {
            NotOpen::Closed(status) => format!(
                "This offer is no longer open: it is {}. Nothing was changed.",
                offer_status_label(status).to_lowercase()
            ),
            NotOpen::DeadlinePassed => "This offer is no longer open: its deadline has passed, and the referral is \
                                        being offered elsewhere. Nothing was changed."
                .to_owned(),
            NotOpen::NoOpenPlace => "This offer cannot be accepted: your service has no open place recorded. Update \
                                     your capacity, or decline the offer with the reason \"No open places\"."
                .to_owned(),
        }
    }
}

/// Whether an offer can still be answered now (pending, before its deadline).
pub fn is_answerable(status: OfferStatus, deadline: Option<i64>, now: i64) -> bool {
    status == OfferStatus::Pending && deadline.is_none_or(|deadline| deadline > now)
}

/// Offers as the list shows them: pending ones first, soonest deadline first; then the others,
/// most recently offered first. Takes `(status, deadline, offered_at)` of each.
pub fn offer_order(a: (OfferStatus, i64, i64), b: (OfferStatus, i64, i64)) -> std::cmp::Ordering {
    let pending = |s: OfferStatus| s == OfferStatus::Pending;
    match (pending(a.0), pending(b.0)) {
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        (true, true) => a.1.cmp(&b.1),
        (false, false) => b.2.cmp(&a.2),
    }
}

/// A case's stage as the partner's pages name it.
pub fn stage_label(stage: wf_proto::cases::v1::CaseStage) -> &'static str {
    use wf_proto::cases::v1::CaseStage;
    match stage {
        CaseStage::Engagement => "Engagement",
        CaseStage::Enrolled => "Enrolled",
        CaseStage::Assessed => "Assessed",
        CaseStage::Plan => "Service plan agreed",
        CaseStage::Active => "Active",
        CaseStage::Missing => "Youth missing",
        CaseStage::FollowUp => "Exit follow-up",
        CaseStage::Closed => "Closed",
        CaseStage::PostExitFollowUp => "Post-exit follow-up",
        CaseStage::Unspecified => "Unknown",
    }
}

pub fn readiness_label(readiness: wf_proto::common::v1::Readiness) -> &'static str {
    use wf_proto::common::v1::Readiness;
    match readiness {
        Readiness::NotYetReady => "Not yet ready",
        Readiness::ReadyToEngage => "Ready to engage",
        Readiness::Enrolled => "Enrolled",
        Readiness::DeclinedServices => "Declined services",
        Readiness::Unspecified => "Not recorded",
    }
}

/// The age band an offer shows instead of an age (the youth program serves 12 to 24).
pub fn age_band(age_years: i32, is_minor: bool) -> &'static str {
    match age_years {
        1..=11 => "Under 12",
        12..=14 => "12–14",
        15..=17 => "15–17",
        18..=20 => "18–20",
        21..=24 => "21–24",
        25.. => "25 or older",
        _ if is_minor => "Under 18 (age unknown)",
        _ => "Age unknown",
    }
}

/// A code as words: "emergency_shelter" reads "Emergency shelter".
pub fn code_label(code: &str) -> String {
    let spaced = code.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// An ISO 639 code as the language's English name, for the languages of the pilot's directory.
pub fn language_label(code: &str) -> String {
    match code {
        "" => "No preference".to_owned(),
        "en" => "English".to_owned(),
        "es" => "Spanish".to_owned(),
        "ko" => "Korean".to_owned(),
        "hy" => "Armenian".to_owned(),
        "tl" => "Tagalog".to_owned(),
        "zh" => "Chinese".to_owned(),
        "vi" => "Vietnamese".to_owned(),
        "ru" => "Russian".to_owned(),
        "fa" => "Persian".to_owned(),
        "ar" => "Arabic".to_owned(),
        other => format!("Language code {other}"),
    }
}

/// The channels a contact attempt names, as the form offers them.
pub const CONTACT_CHANNELS: [(ContactChannel, &str, &str); 8] = [
    (ContactChannel::PhoneCall, "phone_call", "Phone call"),
    (ContactChannel::TextMessage, "text_message", "Text message"),
    (ContactChannel::Email, "email", "Email"),
    (ContactChannel::InPerson, "in_person", "In person"),
    (ContactChannel::VideoCall, "video_call", "Video call"),
    (ContactChannel::SocialMedia, "social_media", "Social media or messaging app"),
    (ContactChannel::ThroughThirdParty, "through_third_party", "Through a trusted third party"),
    (ContactChannel::Other, "other", "Other"),
];

/// The outcomes of a contact attempt, as the form offers them.
pub const CONTACT_OUTCOMES: [(ContactOutcome, &str, &str); 4] = [
    (ContactOutcome::Reached, "reached", "Reached the youth"),
    (ContactOutcome::NotReached, "not_reached", "Did not reach the youth"),
    (ContactOutcome::UnsafeToContact, "unsafe_to_contact", "Stopped: contact was not safe"),
    (ContactOutcome::Declined, "declined", "The youth declined"),
];

pub fn contact_channel(code: &str) -> Option<ContactChannel> {
    CONTACT_CHANNELS.iter().find(|(_, value, _)| *value == code).map(|(channel, _, _)| *channel)
}

pub fn contact_outcome(code: &str) -> Option<ContactOutcome> {
    CONTACT_OUTCOMES.iter().find(|(_, value, _)| *value == code).map(|(outcome, _, _)| *outcome)
}

pub fn contact_channel_label(channel: ContactChannel) -> &'static str {
    CONTACT_CHANNELS.iter().find(|(c, _, _)| *c == channel).map_or("Not given", |(_, _, label)| label)
}

pub fn contact_outcome_label(outcome: ContactOutcome) -> &'static str {
    CONTACT_OUTCOMES.iter().find(|(o, _, _)| *o == outcome).map_or("Not given", |(_, _, label)| label)
}

/// The units a service delivered is counted in (the form's values are the proto's names).
pub const UNIT_TYPES: [(wf_proto::cases::v1::UnitType, &str, &str); 4] = [
    (wf_proto::cases::v1::UnitType::Sessions, "sessions", "Sessions"),
    (wf_proto::cases::v1::UnitType::Hours, "hours", "Hours"),
    (wf_proto::cases::v1::UnitType::Nights, "nights", "Nights"),
    (wf_proto::cases::v1::UnitType::Items, "items", "Items or trips"),
];

pub fn unit_type(code: &str) -> Option<wf_proto::cases::v1::UnitType> {
    UNIT_TYPES.iter().find(|(_, value, _)| *value == code).map(|(unit, _, _)| *unit)
}

pub fn unit_type_label(unit: wf_proto::cases::v1::UnitType) -> &'static str {
    UNIT_TYPES.iter().find(|(u, _, _)| *u == unit).map_or("units", |(_, _, label)| label)
}

/// Units a capacity entry counts (routing's list), as the form offers them.
pub const CAPACITY_UNITS: [(&str, &str); 4] =
    [("bed", "Beds"), ("slot", "Slots"), ("client", "Clients"), ("appointment", "Appointments")];

/// A count on the home page, taken from one page of a list: when the list goes on, the page
/// shows "100+" rather than a number it did not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    Exact(usize),
    AtLeast(usize),
}

/// How many rows one counting request asks for.
pub const COUNT_PAGE: usize = 100;

impl Count {
    /// The count of a page of `len` rows, `more` when the list has a next page.
    pub fn of_page(len: usize, more: bool) -> Self {
        if more { Count::AtLeast(len) } else { Count::Exact(len) }
    }

    pub fn is_zero(self) -> bool {
        self == Count::Exact(0)
    }
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Count::Exact(n) => write!(f, "{n}"),
            Count::AtLeast(n) => write!(f, "{n}+"),
        }
    }
}

/// The home page's title: "(2) Emergent – Action needed" while emergent referrals wait without an
/// owner, so the tab says so from any other tab.
pub fn home_title(emergent_waiting: Option<Count>) -> String {
    match emergent_waiting {
        Some(count) if !count.is_zero() => format!("({count}) Emergent – Action needed"),
        _ => "Action needed".to_owned(),
    }
}

/// A list's address with its filters in the query string: `/referrals?tier=emergent&unassigned=true`.
pub fn filtered(path: &str, filters: &[(&str, &str)]) -> String {
    if filters.is_empty() {
        return path.to_owned();
    }
    let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(filters).finish();
    format!("{path}?{query}")
}

/// A contact attempt as a form gave it (Los Angeles date and optional time, channel and outcome
/// codes), as the request the cases service takes, or each field's error.
pub fn contact_attempt_request(
    case_id: &str,
    attempted_on: &str,
    attempted_time: &str,
    channel: &str,
    outcome: &str,
) -> Result<wf_proto::cases::v1::RecordContactAttemptRequest, Vec<wf_types::FieldViolation>> {
    use wf_types::FieldViolation;
    let mut violations = Vec::new();
    let at = match local_instant(attempted_on, attempted_time) {
        Ok(at) => Some(at),
        Err(LocalTimeError::Date) => {
            violations
                .push(FieldViolation::new("attempted_on", "Enter the date as year-month-day, such as 2026-03-02"));
            None
        }
        Err(LocalTimeError::Time) => {
            violations
                .push(FieldViolation::new("attempted_time", "Enter the time as hours and minutes, such as 14:30"));
            None
        }
    };
    let channel = contact_channel(channel)
        .ok_or_else(|| violations.push(FieldViolation::new("channel", "Choose how you tried to reach the youth")))
        .ok();
    let outcome = contact_outcome(outcome)
        .ok_or_else(|| violations.push(FieldViolation::new("outcome", "Choose what happened")))
        .ok();
    match (at, channel, outcome) {
        (Some(at), Some(channel), Some(outcome)) if violations.is_empty() => {
            Ok(wf_proto::cases::v1::RecordContactAttemptRequest {
                contact_attempt: Some(wf_proto::cases::v1::ContactAttempt {
                    case_id: case_id.to_owned(),
                    attempted_at: Some(wf_proto::time::timestamp_from_micros(at)),
                    channel: channel as i32,
                    outcome: outcome as i32,
                    ..Default::default()
                }),
            })
        }
        _ => Err(violations),
    }
}
