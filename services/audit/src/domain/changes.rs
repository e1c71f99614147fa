//! The changes of a youth's records, as the disclosure report lists them beside the reads: which
//! record changed, who changed it, and what changed — in codes and ids from the event's payload
//! (events carry no free text, and no value is written here that the payload does not hold as a
//! code).
//!
//! Who: the person the event names as having made the change (the partner who accepted or
//! declined an offer, the staff member who decided a possible match or resolved an escalation, a
//! note's author); otherwise the service that recorded the change (the event names nobody else).
//! Deadline notices (`follow_up.due`, `follow_up.overdue`, `mandated_report.overdue`) change no
//! record and are not listed.

use prost::Message;
use wf_events::EventPayload;
use wf_proto::cases::v1 as cases;
use wf_proto::common::v1 as common;
use wf_proto::events::v1 as pb;
use wf_proto::intake::v1 as intake;
use wf_proto::routing::v1 as routing;

use super::chain::Entry;
use super::records::named_records;

/// The event types that change a youth's records (the report's "change" rows).
pub const CHANGE_TYPES: [&str; 36] = [
    pb::ReferralReceived::TYPE,
    pb::ReferralTriaged::TYPE,
    pb::ReferralUpdated::TYPE,
    pb::ReferralHoldChanged::TYPE,
    pb::ReferralClosed::TYPE,
    pb::ReferralPurged::TYPE,
    pb::ConsentReleaseCreated::TYPE,
    pb::ConsentReleaseRevoked::TYPE,
    pb::MandatedReportRecorded::TYPE,
    pb::ScreeningRecorded::TYPE,
    pb::PossibleMatchFound::TYPE,
    pb::PossibleMatchConfirmed::TYPE,
    pb::PossibleMatchRejected::TYPE,
    pb::ReferralRouted::TYPE,
    pb::OfferMade::TYPE,
    pb::OfferAccepted::TYPE,
    pb::OfferDeclined::TYPE,
    pb::OfferExpired::TYPE,
    pb::OfferWithdrawn::TYPE,
    pb::ReferralEscalated::TYPE,
    pb::EscalationResolved::TYPE,
    pb::CaseAssigned::TYPE,
    pb::CaseAwaitingAssignment::TYPE,
    pb::CaseStageChanged::TYPE,
    pb::ReadinessChanged::TYPE,
    pb::ContactAttemptRecorded::TYPE,
    pb::ServicePlanGoalChanged::TYPE,
    pb::InterventionDelivered::TYPE,
    pb::InterventionWithdrawn::TYPE,
    pb::FollowUpRecorded::TYPE,
    pb::FollowUpCancelled::TYPE,
    pb::RecidivismRecorded::TYPE,
    pb::CaseClosed::TYPE,
    pb::CaseReopened::TYPE,
    pb::CaseLinked::TYPE,
    pb::CaseNoteAdded::TYPE,
];

/// One change of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The record changed (a note before its case, an offer before its referral).
    pub record: String,
    /// The person the event names as having made the change; `None`: the producing service.
    pub by: Option<String>,
    /// The partner organization of `by`, when the event names one.
    pub organization: String,
    /// "<event type>: name=code, …".
    pub what: String,
}

/// `what`, built one coded detail at a time; empty values are left out.
struct What(String, Vec<String>);

impl What {
    fn new(event_type: &str) -> Self {
        What(event_type.to_owned(), Vec::new())
    }

    fn text(mut self, name: &str, value: &str) -> Self {
        if !value.is_empty() {
            self.1.push(format!("{name}={value}"));
        }
        self
    }

    fn list(self, name: &str, values: &[String]) -> Self {
        let joined = values.iter().filter(|v| !v.is_empty()).cloned().collect::<Vec<_>>().join("+");
        self.text(name, &joined)
    }

    fn flag(self, name: &str, value: bool) -> Self {
        self.text(name, if value { "yes" } else { "no" })
    }

    fn number(self, name: &str, value: impl std::fmt::Display) -> Self {
        self.text(name, &value.to_string())
    }

    fn done(self) -> String {
        if self.1.is_empty() { self.0 } else { format!("{}: {}", self.0, self.1.join(", ")) }
    }
}

/// The lower snake_case code of an enum value (`TRIAGE_TIER_URGENT` with prefix `TRIAGE_TIER_` →
/// `urgent`); empty for the unspecified value; `code_<n>` for a value this build does not know.
fn code(name: Option<&str>, prefix: &str, raw: i32) -> String {
    match name {
        Some(name) => {
            let code = name.strip_prefix(prefix).unwrap_or(name).to_ascii_lowercase();
            if code == "unspecified" { String::new() } else { code }
        }
        None => format!("code_{raw}"),
    }
}

macro_rules! code_of {
    ($enum:ty, $prefix:literal, $raw:expr) => {{
        let raw: i32 = $raw;
        code(<$enum>::try_from(raw).ok().map(|value| value.as_str_name()), $prefix, raw)
    }};
}

fn date(at: Option<&prost_types::Timestamp>) -> String {
    at.and_then(|at| chrono::DateTime::from_timestamp(at.seconds, 0))
        .map(|at| at.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn person(id: &str) -> Option<String> {
    (!id.is_empty()).then(|| id.to_owned())
}

/// The change `entry` records, or `None` when it changes no youth's record (another type, a
/// notice, or an unreadable payload).
pub fn change_of(entry: &Entry) -> Option<Change> {
    let t = entry.content.event_type.as_str();
    let bytes = entry.content.payload.as_slice();
    let mut by = None;
    let mut organization = String::new();
    let what = What::new(t);
    macro_rules! decode {
        ($message:ident) => {
            pb::$message::decode(bytes).ok()?
        };
    }
    let what = match t {
        pb::ReferralReceived::TYPE => {
            let e = decode!(ReferralReceived);
            what.text("source", &code_of!(common::ReferralSource, "REFERRAL_SOURCE_", e.source))
                .text("tier", &code_of!(common::TriageTier, "TRIAGE_TIER_", e.triage_tier))
                .text("site", &code_of!(common::Site, "SITE_", e.site))
                .text("referred_by", &e.referring_organization_id)
        }
        pb::ReferralTriaged::TYPE => {
            let e = decode!(ReferralTriaged);
            what.text("tier", &code_of!(common::TriageTier, "TRIAGE_TIER_", e.triage_tier))
                .text("reason", &e.triage_reason)
        }
        pb::ReferralUpdated::TYPE => {
            let e = decode!(ReferralUpdated);
            what.list("fields", &e.changed_fields).text("reason", &e.reason)
        }
        pb::ReferralHoldChanged::TYPE => {
            let e = decode!(ReferralHoldChanged);
            what.flag("on_hold", e.on_hold).text("reason", &e.reason)
        }
        pb::ReferralClosed::TYPE => {
            let e = decode!(ReferralClosed);
            what.text("reason", &code_of!(intake::ReferralClosureReason, "REFERRAL_CLOSURE_REASON_", e.reason))
        }
        pb::ReferralPurged::TYPE => what,
        pb::ConsentReleaseCreated::TYPE => {
            let e = decode!(ConsentReleaseCreated);
            let categories: Vec<String> = e
                .categories
                .iter()
                .map(|c| code_of!(common::InformationCategory, "INFORMATION_CATEGORY_", *c))
                .collect();
            let signers: Vec<String> =
                e.signer_roles.iter().map(|s| code_of!(intake::SignerRole, "SIGNER_ROLE_", *s)).collect();
            what.text("release", &e.release_id)
                .text("recipient", &e.recipient_organization_id)
                .list("categories", &categories)
                .text("purpose", &e.purpose)
                .text("expires", &date(e.expires_at.as_ref()))
                .list("signed_by", &signers)
        }
        pb::ConsentReleaseRevoked::TYPE => {
            let e = decode!(ConsentReleaseRevoked);
            what.text("release", &e.release_id)
                .text("recipient", &e.recipient_organization_id)
                .text("reason", &e.reason)
        }
        pb::MandatedReportRecorded::TYPE => {
            let e = decode!(MandatedReportRecorded);
            what.text("report", &e.mandated_report_id)
                .text("agency", &code_of!(intake::MandatedReportAgency, "MANDATED_REPORT_AGENCY_", e.agency))
                .flag("written_report", e.written_report_at.is_some())
        }
        pb::ScreeningRecorded::TYPE => {
            let e = decode!(ScreeningRecorded);
            what.text("screening", &e.screening_id)
                .text("tool", &code_of!(common::ScreeningTool, "SCREENING_TOOL_", e.tool))
                .text("result", &code_of!(common::ScreeningResult, "SCREENING_RESULT_", e.result))
        }
        pb::PossibleMatchFound::TYPE => {
            // Never the candidate youth: a match found and then rejected is someone else.
            let e = decode!(PossibleMatchFound);
            what.text("possible_match", &e.possible_match_id).list("matched_on", &e.matched_on)
        }
        pb::PossibleMatchConfirmed::TYPE => {
            let e = decode!(PossibleMatchConfirmed);
            by = person(&e.decided_by);
            what.text("possible_match", &e.possible_match_id)
                .text("youth", &e.youth_id)
                .text("previous_youth", &e.previous_youth_id)
        }
        pb::PossibleMatchRejected::TYPE => {
            let e = decode!(PossibleMatchRejected);
            by = person(&e.decided_by);
            what.text("possible_match", &e.possible_match_id)
        }
        pb::ReferralRouted::TYPE => {
            let e = decode!(ReferralRouted);
            what.text("partner", &e.partner_id)
                .text("service", &e.partner_service_id)
                .number("attempt", e.attempt)
                .text("reason", &e.reason)
        }
        pb::OfferMade::TYPE => {
            let e = decode!(OfferMade);
            what.text("partner", &e.partner_id)
                .text("service", &e.partner_service_id)
                .text("tier", &code_of!(common::TriageTier, "TRIAGE_TIER_", e.triage_tier))
        }
        pb::OfferAccepted::TYPE => {
            let e = decode!(OfferAccepted);
            by = person(&e.accepted_by);
            organization = e.partner_id.clone();
            what.text("partner", &e.partner_id).text("service", &e.partner_service_id)
        }
        pb::OfferDeclined::TYPE => {
            let e = decode!(OfferDeclined);
            by = person(&e.declined_by);
            organization = e.partner_id.clone();
            what.text("partner", &e.partner_id)
                .text("reason", &code_of!(routing::DeclineReason, "DECLINE_REASON_", e.reason))
                .text("detail", &e.detail)
        }
        pb::OfferExpired::TYPE => {
            let e = decode!(OfferExpired);
            what.text("partner", &e.partner_id)
        }
        pb::OfferWithdrawn::TYPE => {
            let e = decode!(OfferWithdrawn);
            what.text("partner", &e.partner_id).text("reason", &e.reason)
        }
        pb::ReferralEscalated::TYPE => {
            let e = decode!(ReferralEscalated);
            what.text("escalation", &e.escalation_id)
                .text("reason", &code_of!(routing::EscalationReason, "ESCALATION_REASON_", e.reason))
        }
        pb::EscalationResolved::TYPE => {
            let e = decode!(EscalationResolved);
            by = person(&e.resolved_by);
            what.text("escalation", &e.escalation_id).text("resolution", &e.resolution)
        }
        pb::CaseAssigned::TYPE => {
            let e = decode!(CaseAssigned);
            what.text("case_manager", &e.case_manager_id)
                .text("previous_case_manager", &e.previous_case_manager_id)
                .text("reason", &e.reason)
                .text("reassign_reason", &code_of!(cases::ReassignReason, "REASSIGN_REASON_", e.reassign_reason))
        }
        pb::CaseAwaitingAssignment::TYPE => {
            let e = decode!(CaseAwaitingAssignment);
            what.text("reason", &e.reason)
        }
        pb::CaseStageChanged::TYPE => {
            let e = decode!(CaseStageChanged);
            what.text("from", &code_of!(cases::CaseStage, "CASE_STAGE_", e.from_stage))
                .text("to", &code_of!(cases::CaseStage, "CASE_STAGE_", e.to_stage))
                .text("reason", &e.reason)
        }
        pb::ReadinessChanged::TYPE => {
            let e = decode!(ReadinessChanged);
            what.text("readiness", &code_of!(common::Readiness, "READINESS_", e.readiness))
        }
        pb::ContactAttemptRecorded::TYPE => {
            let e = decode!(ContactAttemptRecorded);
            what.text("contact_attempt", &e.contact_attempt_id)
                .text("channel", &code_of!(common::ContactChannel, "CONTACT_CHANNEL_", e.channel))
                .text("outcome", &code_of!(common::ContactOutcome, "CONTACT_OUTCOME_", e.outcome))
                .text("approach", &e.engagement_approach)
                .text("organization", &e.organization_id)
        }
        pb::ServicePlanGoalChanged::TYPE => {
            let e = decode!(ServicePlanGoalChanged);
            what.text("goal", &e.goal_id)
                .text("domain", &e.domain)
                .text("status", &code_of!(cases::GoalStatus, "GOAL_STATUS_", e.status))
        }
        pb::InterventionDelivered::TYPE => {
            let e = decode!(InterventionDelivered);
            what.text("intervention", &e.intervention_id)
                .text("service_type", &e.service_type)
                .number("units", e.units)
                .text("unit", &code_of!(cases::UnitType, "UNIT_TYPE_", e.unit_type))
                .text("provider", &e.provider_id)
        }
        pb::InterventionWithdrawn::TYPE => {
            let e = decode!(InterventionWithdrawn);
            by = person(&e.withdrawn_by);
            what.text("intervention", &e.intervention_id).text("service_type", &e.service_type).flag("withdrawn", true)
        }
        pb::FollowUpRecorded::TYPE => {
            let e = decode!(FollowUpRecorded);
            what.text("follow_up", &e.follow_up_id)
                .text("kind", &code_of!(cases::FollowUpKind, "FOLLOW_UP_KIND_", e.kind))
                .text("status", &code_of!(cases::FollowUpStatus, "FOLLOW_UP_STATUS_", e.status))
        }
        pb::FollowUpCancelled::TYPE => {
            let e = decode!(FollowUpCancelled);
            what.text("follow_up", &e.follow_up_id)
                .text("kind", &code_of!(cases::FollowUpKind, "FOLLOW_UP_KIND_", e.kind))
                .text("reason", &e.reason)
        }
        pb::RecidivismRecorded::TYPE => {
            let e = decode!(RecidivismRecorded);
            what.text("event", &e.recidivism_event_id)
                .text("kind", &code_of!(common::RecidivismKind, "RECIDIVISM_KIND_", e.kind))
                .text("evidence", &code_of!(common::RecidivismEvidence, "RECIDIVISM_EVIDENCE_", e.evidence))
        }
        pb::CaseClosed::TYPE => {
            let e = decode!(CaseClosed);
            what.text("reason", &code_of!(cases::CaseClosureReason, "CASE_CLOSURE_REASON_", e.reason)).text(
                "exit_living_situation",
                &code_of!(common::LivingSituation, "LIVING_SITUATION_", e.exit_living_situation),
            )
        }
        pb::CaseReopened::TYPE => {
            let e = decode!(CaseReopened);
            what.text("referral", &e.referral_id).text("case_manager", &e.case_manager_id).text("reason", &e.reason)
        }
        pb::CaseLinked::TYPE => {
            let e = decode!(CaseLinked);
            what.text("earlier_case", &e.earlier_case_id).text("relation", &e.relation)
        }
        pb::CaseNoteAdded::TYPE => {
            let e = decode!(CaseNoteAdded);
            by = person(&e.author_id);
            what.text("category", &e.category).flag("privileged", e.privileged)
        }
        _ => return None,
    };
    let record = named_records(entry).into_iter().next().unwrap_or_default();
    Some(Change { record, by, organization, what: what.done() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::chain::EntryContent;

    fn entry<P: EventPayload>(aggregate_id: &str, payload: &P) -> Entry {
        Entry {
            sequence: 1,
            content: EntryContent {
                event_type: P::TYPE.into(),
                aggregate_id: aggregate_id.into(),
                payload: payload.encode_to_vec(),
                actor: "intake".into(),
                ..Default::default()
            },
            previous_hash: Vec::new(),
            entry_hash: Vec::new(),
        }
    }

    #[test]
    fn a_change_names_its_record_who_and_what_in_codes() {
        let triaged = pb::ReferralTriaged {
            referral_id: "ref_1".into(),
            triage_tier: common::TriageTier::Emergent as i32,
            triage_reason: "imminent_danger".into(),
            ..Default::default()
        };
        assert_eq!(
            change_of(&entry("ref_1", &triaged)),
            Some(Change {
                record: "ref_1".into(),
                by: None,
                organization: String::new(),
                what: "referral.triaged: tier=emergent, reason=imminent_danger".into(),
            })
        );
        let declined = pb::OfferDeclined {
            offer_id: "off_1".into(),
            referral_id: "ref_1".into(),
            partner_id: "org_1".into(),
            reason: routing::DeclineReason::NoCapacity as i32,
            declined_by: "partner-client-1".into(),
            ..Default::default()
        };
        let change = change_of(&entry("ref_1", &declined)).unwrap();
        assert_eq!((change.record.as_str(), change.by.as_deref()), ("off_1", Some("partner-client-1")));
        assert_eq!(change.organization, "org_1");
        assert_eq!(change.what, "offer.declined: partner=org_1, reason=no_capacity");
        let note = pb::CaseNoteAdded {
            note_id: "note_1".into(),
            case_id: "case_1".into(),
            author_id: "usr_cm1".into(),
            category: "contact".into(),
            privileged: true,
            ..Default::default()
        };
        let change = change_of(&entry("case_1", &note)).unwrap();
        assert_eq!((change.record.as_str(), change.by.as_deref()), ("note_1", Some("usr_cm1")));
        assert_eq!(change.what, "case_note.added: category=contact, privileged=yes");
        // An undone service is a change of the case, by the person who undid it.
        let withdrawn = pb::InterventionWithdrawn {
            intervention_id: "int_1".into(),
            case_id: "case_1".into(),
            service_type: "legal_advocacy".into(),
            withdrawn_by: "usr_cm1".into(),
            ..Default::default()
        };
        let change = change_of(&entry("case_1", &withdrawn)).unwrap();
        assert_eq!((change.record.as_str(), change.by.as_deref()), ("case_1", Some("usr_cm1")));
        assert_eq!(
            change.what,
            "intervention.withdrawn: intervention=int_1, service_type=legal_advocacy, withdrawn=yes"
        );
    }

    #[test]
    fn a_found_match_never_names_the_candidate_youth() {
        let found = pb::PossibleMatchFound {
            possible_match_id: "pm_1".into(),
            referral_id: "ref_2".into(),
            candidate_youth_id: "yth_other".into(),
            matched_on: vec!["name_dob".into()],
            ..Default::default()
        };
        let change = change_of(&entry("pm_1", &found)).unwrap();
        assert_eq!(change.record, "ref_2");
        assert!(!change.what.contains("yth_other"), "{}", change.what);
    }

    #[test]
    fn notices_reads_and_unreadable_payloads_are_no_changes() {
        let due = pb::FollowUpDue { case_id: "case_1".into(), ..Default::default() };
        assert_eq!(change_of(&entry("case_1", &due)), None);
        assert_eq!(change_of(&entry("ref_1", &pb::RecordAccessed::default())), None);
        let mut broken = entry("ref_1", &pb::ReferralTriaged::default());
        broken.content.payload = vec![0x0a, 0x05, b'x'];
        assert_eq!(change_of(&broken), None);
        for t in CHANGE_TYPES {
            assert!(!matches!(t, "follow_up.due" | "follow_up.overdue" | "mandated_report.overdue"), "{t}");
        }
    }
}
