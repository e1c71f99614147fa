//! How the referral pages name codes: each closed list as one table of (value, URL code, words), so
//! a filter's allowed values, its parsing and the label a page shows can never disagree. The URL
//! codes are the proto names without their prefix, lowercased (`TRIAGE_TIER_EMERGENT` → `emergent`).

use wf_proto::common::v1::{ContactChannel, ReferralSource, ScreeningResult, ScreeningTool, Site, TriageTier};
use wf_proto::intake::v1::{ReferralClosureReason, ReferralStatus};
use wf_proto::routing::v1::{DecisionOutcome, DeclineReason, OfferStatus};
use wf_types::Purpose;

/// One closed list: each value with its URL code and the words pages show.
pub type Table<E> = [(E, &'static str, &'static str)];

/// The words for `value`, if the table has it.
pub fn label<E: Copy + PartialEq>(table: &Table<E>, value: E) -> Option<&'static str> {
    table.iter().find(|(v, _, _)| *v == value).map(|(_, _, label)| *label)
}

/// The URL code of `value`, if the table has it.
pub fn code<E: Copy + PartialEq>(table: &Table<E>, value: E) -> Option<&'static str> {
    table.iter().find(|(v, _, _)| *v == value).map(|(_, code, _)| *code)
}

/// The value whose URL code is `code`.
pub fn parse<E: Copy>(table: &Table<E>, code: &str) -> Option<E> {
    table.iter().find(|(_, c, _)| *c == code).map(|(value, _, _)| *value)
}

/// The allowed codes, comma-separated, for error messages.
pub fn allowed<E>(table: &Table<E>) -> String {
    table.iter().map(|(_, code, _)| *code).collect::<Vec<_>>().join(", ")
}

/// The words for a proto enum number, or `fallback` for a number the table does not know.
pub fn label_of<E: Copy + PartialEq + TryFrom<i32>>(
    table: &Table<E>,
    value: i32,
    fallback: &'static str,
) -> &'static str {
    E::try_from(value).ok().and_then(|value| label(table, value)).unwrap_or(fallback)
}

/// Urgency, as the queue sorts and shows it: emergent first; a referral nobody triaged yet (and the
/// referrer proposed no tier) after routine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    Emergent,
    Urgent,
    Routine,
    NotTriaged,
}

impl Tier {
    pub fn of(tier: i32) -> Self {
        match TriageTier::try_from(tier) {
            Ok(TriageTier::Emergent) => Tier::Emergent,
            Ok(TriageTier::Urgent) => Tier::Urgent,
            Ok(TriageTier::Routine) => Tier::Routine,
            _ => Tier::NotTriaged,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Tier::Emergent => "Emergent",
            Tier::Urgent => "Urgent",
            Tier::Routine => "Routine",
            Tier::NotTriaged => "Not triaged",
        }
    }

    /// A shape beside the words (never alone: colour and shape only repeat the text). Hidden from
    /// screen readers, which read the words.
    pub fn icon(self) -> &'static str {
        match self {
            Tier::Emergent => "▲",
            Tier::Urgent => "◆",
            Tier::Routine => "●",
            Tier::NotTriaged => "○",
        }
    }

    /// The CSS modifier that colours the tier (`tier tier--emergent`).
    pub fn class(self) -> &'static str {
        match self {
            Tier::Emergent => "tier--emergent",
            Tier::Urgent => "tier--urgent",
            Tier::Routine => "tier--routine",
            Tier::NotTriaged => "tier--none",
        }
    }

    /// The time limit the tier sets, as DESIGN.md words it.
    pub fn time_limit(self) -> &'static str {
        match self {
            Tier::Emergent => "advocate contact within 90 minutes",
            Tier::Urgent => "offer accepted within 24 hours",
            Tier::Routine => "matched to a provider within 48 hours",
            Tier::NotTriaged => "no time limit until triaged",
        }
    }
}

pub const TIERS: &Table<TriageTier> = &[
    (TriageTier::Emergent, "emergent", "Emergent"),
    (TriageTier::Urgent, "urgent", "Urgent"),
    (TriageTier::Routine, "routine", "Routine"),
];

pub const STATUSES: &Table<ReferralStatus> = &[
    (ReferralStatus::Received, "received", "Received"),
    (ReferralStatus::Triaged, "triaged", "Triaged"),
    (ReferralStatus::Routed, "routed", "Routed"),
    (ReferralStatus::Offered, "offered", "Offered"),
    (ReferralStatus::Accepted, "accepted", "Accepted"),
    (ReferralStatus::Assigned, "assigned", "Assigned"),
    (ReferralStatus::Declined, "declined", "Declined"),
    (ReferralStatus::Expired, "expired", "Offer expired"),
    (ReferralStatus::Escalated, "escalated", "Escalated"),
    (ReferralStatus::Engagement, "engagement", "Engagement"),
    (ReferralStatus::OnHold, "on_hold", "On hold"),
    (ReferralStatus::Closed, "closed", "Closed"),
];

/// Every status but CLOSED: what the queue lists when no status is asked for.
pub fn open_statuses() -> Vec<ReferralStatus> {
    STATUSES.iter().map(|(status, _, _)| *status).filter(|status| *status != ReferralStatus::Closed).collect()
}

pub const SITES: &Table<Site> = &[
    (Site::SouthLosAngeles, "south_los_angeles", "South Los Angeles"),
    (Site::SanFernandoValley, "san_fernando_valley", "San Fernando Valley"),
    (Site::Countywide, "countywide", "Countywide"),
];

pub const SOURCES: &Table<ReferralSource> = &[
    (ReferralSource::Self_, "self", "Self-referral"),
    (ReferralSource::Individual, "individual", "Individual (family, friend, foster parent)"),
    (ReferralSource::Outreach, "outreach", "Outreach"),
    (ReferralSource::TemporaryShelter, "temporary_shelter", "Temporary shelter"),
    (ReferralSource::ResidentialProject, "residential_project", "Residential project"),
    (ReferralSource::Hotline, "hotline", "Hotline"),
    (ReferralSource::ChildWelfare, "child_welfare", "Child welfare"),
    (ReferralSource::JuvenileJustice, "juvenile_justice", "Juvenile justice"),
    (ReferralSource::LawEnforcement, "law_enforcement", "Law enforcement"),
    (ReferralSource::MentalHospital, "mental_hospital", "Mental hospital"),
    (ReferralSource::School, "school", "School"),
    (ReferralSource::OtherOrganization, "other_organization", "Other organization"),
    (
        ReferralSource::NationalHumanTraffickingHotline,
        "national_human_trafficking_hotline",
        "National Human Trafficking Hotline",
    ),
    (ReferralSource::Probation, "probation", "Probation"),
    (ReferralSource::MedicalHub, "medical_hub", "Medical hub"),
    (ReferralSource::SpecialtyCourt, "specialty_court", "Specialty court"),
    (ReferralSource::ClientDoesntKnow, "client_doesnt_know", "Youth doesn't know"),
    (ReferralSource::ClientPrefersNotToAnswer, "client_prefers_not_to_answer", "Youth prefers not to answer"),
    (ReferralSource::DataNotCollected, "data_not_collected", "Not collected"),
];

/// The reasons staff close a referral with (PRACTICE_PURGED is the purge's own).
pub const CLOSURE_REASONS: &Table<ReferralClosureReason> = &[
    (ReferralClosureReason::Enrolled, "enrolled", "Enrolled in services"),
    (ReferralClosureReason::DeclinedServices, "declined_services", "Youth declined services"),
    (ReferralClosureReason::Unreachable, "unreachable", "Youth could not be reached"),
    (ReferralClosureReason::Ineligible, "ineligible", "Not eligible"),
    (ReferralClosureReason::Duplicate, "duplicate", "Duplicate of another referral"),
    (ReferralClosureReason::Missing, "missing", "Youth missing"),
];

/// Closure reasons as a closed referral shows them (the purge's included).
pub fn closure_label(reason: i32) -> &'static str {
    match ReferralClosureReason::try_from(reason) {
        Ok(ReferralClosureReason::PracticePurged) => "Practice referral purged",
        Ok(reason) => label(CLOSURE_REASONS, reason).unwrap_or("Closed by its case"),
        Err(_) => "Closed by its case",
    }
}

/// The triage reasons the form offers (`Referral.triage_reason` codes).
pub const TRIAGE_REASONS: &Table<&'static str> = &[
    ("law_enforcement_recovery", "law_enforcement_recovery", "Law-enforcement recovery"),
    ("imminent_danger", "imminent_danger", "Imminent danger"),
    ("no_safe_place_tonight", "no_safe_place_tonight", "No safe place tonight"),
    ("medical_need", "medical_need", "Medical need"),
    ("routine", "routine", "Routine: no immediate risk"),
];

/// The reasons the hold form offers (`SetReferralHoldRequest.reason` codes).
pub const HOLD_REASONS: &Table<&'static str> = &[
    ("youth_missing", "youth_missing", "Youth missing"),
    ("youth_in_custody", "youth_in_custody", "Youth in custody"),
    ("youth_hospitalized", "youth_hospitalized", "Youth in hospital"),
    ("youth_asked_to_pause", "youth_asked_to_pause", "Youth asked to pause"),
];

/// The purposes staff may give to reveal a referral's personal details: intake's closed list
/// ([`Purpose`]) without the ones only partners, auditors or reports read for.
pub const REVEAL_PURPOSES: &Table<Purpose> = &[
    (Purpose::Triage, "triage", "Triage: deciding urgency and needs"),
    (Purpose::SafetyPlanning, "safety_planning", "Safety planning"),
    (Purpose::CaseManagement, "case_management", "Case management"),
    (Purpose::MandatedReporting, "mandated_reporting", "Mandated child-abuse report"),
    (Purpose::ReturningYouthMatching, "returning_youth_matching", "Reviewing a possible returning youth"),
    (Purpose::RoutingReview, "routing_review", "Reviewing the routing"),
    (Purpose::Supervision, "supervision", "Supervision"),
    (Purpose::SurvivorRequest, "survivor_request", "The youth asked to see their record"),
    (Purpose::RecordCorrection, "record_correction", "Correcting the record"),
    (Purpose::CourtOrder, "court_order", "Court order or subpoena"),
    (Purpose::EmergencyAccess, "emergency_access", "Emergency access"),
];

pub const SCREENING_TOOLS: &Table<ScreeningTool> = &[
    (ScreeningTool::CseItFull, "cse_it_full", "CSE-IT (full)"),
    (ScreeningTool::CseItBrief, "cse_it_brief", "CSE-IT (brief)"),
    (ScreeningTool::VeraTvitFull, "vera_tvit_full", "Vera TVIT (full)"),
    (ScreeningTool::VeraTvitShort, "vera_tvit_short", "Vera TVIT (short)"),
    (ScreeningTool::Other, "other", "Other tool"),
];

/// A screening's result as its band: the level, never the raw score.
pub const SCREENING_BANDS: &Table<ScreeningResult> = &[
    (ScreeningResult::NoConcern, "no_concern", "No concern"),
    (ScreeningResult::PossibleConcern, "possible_concern", "Possible concern"),
    (ScreeningResult::ClearConcern, "clear_concern", "Clear concern"),
    (ScreeningResult::Incomplete, "incomplete", "Incomplete"),
];

/// The CSS modifier of a screening band.
pub fn band_class(result: i32) -> &'static str {
    match ScreeningResult::try_from(result) {
        Ok(ScreeningResult::ClearConcern) => "band--clear",
        Ok(ScreeningResult::PossibleConcern) => "band--possible",
        Ok(ScreeningResult::NoConcern) => "band--none",
        _ => "band--incomplete",
    }
}

pub const CONTACT_CHANNELS: &Table<ContactChannel> = &[
    (ContactChannel::PhoneCall, "phone_call", "Phone call"),
    (ContactChannel::TextMessage, "text_message", "Text message"),
    (ContactChannel::Email, "email", "Email"),
    (ContactChannel::InPerson, "in_person", "In person"),
    (ContactChannel::VideoCall, "video_call", "Video call"),
    (ContactChannel::SocialMedia, "social_media", "Social media message"),
    (ContactChannel::ThroughThirdParty, "through_third_party", "Through a trusted third party"),
    (ContactChannel::Other, "other", "Other"),
];

pub const DECLINE_REASONS: &Table<DeclineReason> = &[
    (DeclineReason::NoCapacity, "no_capacity", "No capacity"),
    (DeclineReason::OutsideServiceArea, "outside_service_area", "Outside the service area"),
    (DeclineReason::AgeNotServed, "age_not_served", "Age not served"),
    (DeclineReason::ServiceNotOffered, "service_not_offered", "Service not offered"),
    (DeclineReason::LanguageNotAvailable, "language_not_available", "Language not available"),
    (DeclineReason::SafetyConcern, "safety_concern", "Safety concern"),
    (DeclineReason::ConflictOfInterest, "conflict_of_interest", "Conflict of interest"),
    (DeclineReason::AlreadyServing, "already_serving", "Already serving this youth"),
    (DeclineReason::NeedsExceedScope, "needs_exceed_scope", "Needs exceed what it can safely provide"),
    (DeclineReason::Other, "other", "Other"),
];

pub const OFFER_STATUSES: &Table<OfferStatus> = &[
    (OfferStatus::Pending, "pending", "Waiting for an answer"),
    (OfferStatus::Accepted, "accepted", "Accepted"),
    (OfferStatus::Declined, "declined", "Declined"),
    (OfferStatus::Expired, "expired", "Expired unanswered"),
    (OfferStatus::Withdrawn, "withdrawn", "Withdrawn"),
];

pub const DECISION_OUTCOMES: &Table<DecisionOutcome> = &[
    (DecisionOutcome::Offered, "offered", "An offer went to the chosen service"),
    (DecisionOutcome::NoMatch, "no_match", "No eligible partner service: escalated to staff"),
    (
        DecisionOutcome::Exhausted,
        "exhausted",
        "Every eligible service already declined or let an offer expire: escalated to staff",
    ),
];

/// Whether `word` is a prefixed id (`esc_0192…`, `org_…`): a lowercase prefix, `_`, 32 hex digits.
fn is_id(word: &str) -> bool {
    word.split_once('_').is_some_and(|(prefix, rest)| {
        !prefix.is_empty()
            && prefix.bytes().all(|b| b.is_ascii_lowercase())
            && rest.len() == 32
            && rest.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// A coded detail (history entries such as "offer off_… partner org_… reason no_capacity", codes
/// of decisions and declines) in words: ids as `name` names them (else as they are), a triage
/// entry's tier as "Emergent:", known reason codes by their words, other codes with spaces.
pub fn code_words_naming(detail: &str, name: impl Fn(&str) -> Option<String>) -> String {
    detail
        .split_whitespace()
        .map(|word| {
            if is_id(word) {
                return name(word).unwrap_or_else(|| word.to_owned());
            }
            if let Some(tier) = word.strip_prefix("triage_tier_").and_then(|code| parse(TIERS, code)) {
                return format!("{}:", label(TIERS, tier).unwrap_or_default());
            }
            let known = [TRIAGE_REASONS, HOLD_REASONS]
                .iter()
                .find_map(|table| table.iter().find(|(_, code, _)| *code == word).map(|(_, _, label)| *label))
                .or_else(|| CLOSURE_REASONS.iter().find(|(_, code, _)| *code == word).map(|(_, _, label)| *label))
                .or_else(|| DECLINE_REASONS.iter().find(|(_, code, _)| *code == word).map(|(_, _, label)| *label));
            match known {
                Some(label) => label.to_owned(),
                None => word.replace('_', " "),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// [`code_words_naming`] without names for ids.
pub fn code_words(detail: &str) -> String {
    code_words_naming(detail, |_| None)
}

/// Why routing decided (`RoutingDecision.reason`).
pub fn decision_trigger(reason: &str) -> String {
    match reason {
        "referral_received" => "First routing, when the referral arrived".to_owned(),
        "referral_triaged" => "Routed again after triage".to_owned(),
        "offer_declined" => "Routed again after a partner declined".to_owned(),
        "offer_expired" => "Routed again after an offer expired".to_owned(),
        "manual" => "Routed again by staff".to_owned(),
        other => code_words(other),
    }
}
