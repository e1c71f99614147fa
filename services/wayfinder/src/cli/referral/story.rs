//! A referral's status as a person would tell it: where it is now, who has it (the partner and the
//! case manager, by name), and what happened when. Pure: [`Facts`] is what the services answered
//! (intake's record and status history, routing's decisions and offers, the case, the directory's
//! and the roster's names, the audit log's count); [`Story`] is the telling, as text or JSON.
//!
//! Each owner is the authority on its step: routing's records tell the routing decisions and the
//! offers (with the service, deadline and decline reason), so intake's history lines for those
//! statuses are left out when routing answered; intake's history tells everything else (received,
//! triaged, assigned, escalated, engagement, on hold, closed). Names come from ids; an id without
//! a known name is shown as the id.

use std::collections::HashMap;
use std::str::FromStr;

use crate::cli::rfc3339;
use chrono::{DateTime, Utc};
use wf_proto::cases::v1 as cases;
use wf_proto::common::v1 as common;
use wf_proto::intake::v1 as intake;
use wf_proto::routing::v1 as routing;
use wf_types::{CaseId, CaseManagerId, DecisionId, EscalationId, OfferId, PartnerId, PartnerServiceId};

/// What the services answered about one referral.
#[derive(Debug, Clone)]
pub struct Facts {
    /// Intake's coded record, status and history.
    pub referral: intake::GetReferralResponse,
    /// Routing's decisions and offers for the referral, or why they could not be read.
    pub routing: Result<Routing, String>,
    /// The referral's case (none before cases opened one), or why it could not be read.
    pub case: Result<Option<cases::Case>, String>,
    /// Names of organizations, services and staff by id.
    pub names: Names,
    /// The audit log's entries about the referral, or why they could not be read.
    pub audit: Result<AuditCount, String>,
}

/// Routing's records of one referral.
#[derive(Debug, Clone, Default)]
pub struct Routing {
    pub decisions: Vec<routing::RoutingDecision>,
    pub offers: Vec<routing::Offer>,
}

/// How many audit entries are about the referral, and the latest one's time.
#[derive(Debug, Clone, Default)]
pub struct AuditCount {
    pub entries: usize,
    pub latest: Option<DateTime<Utc>>,
}

/// A staff member of the roster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Staff {
    pub name: String,
    /// Short staff code, e.g. "CM-SLA-1".
    pub code: String,
    pub supervisor: bool,
    pub sites: Vec<common::Site>,
}

/// Names by id, from routing's directory and cases' roster.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub organizations: HashMap<String, String>,
    pub services: HashMap<String, String>,
    pub staff: HashMap<String, Staff>,
}

impl Names {
    fn organization(&self, id: &str) -> String {
        self.organizations.get(id).cloned().unwrap_or_else(|| id.to_owned())
    }

    /// "Organization — service", or the organization alone when the service is unknown or empty.
    fn partner(&self, organization_id: &str, service_id: &str) -> String {
        let organization = self.organization(organization_id);
        match self.services.get(service_id) {
            Some(service) if !service.is_empty() && *service != organization => format!("{organization} — {service}"),
            _ => organization,
        }
    }

    /// "Name (CODE)", or the id when the roster does not know it.
    fn staff(&self, id: &str) -> String {
        match self.staff.get(id) {
            Some(staff) if staff.code.is_empty() => staff.name.clone(),
            Some(staff) => format!("{} ({})", staff.name, staff.code),
            None => id.to_owned(),
        }
    }

    /// The supervisors whose queue holds a case of `site` (they serve the site, or countywide).
    fn supervisors_of(&self, site: i32) -> Vec<String> {
        let mut names: Vec<String> = self
            .staff
            .iter()
            .filter(|(_, staff)| {
                staff.supervisor && staff.sites.iter().any(|s| *s as i32 == site || *s == common::Site::Countywide)
            })
            .map(|(id, _)| self.staff(id))
            .collect();
        names.sort();
        names
    }
}

/// The ids a history entry's coded detail names (e.g. "offer off_… partner org_… reason no_capacity",
/// "case case_… case manager cm_…"), its reason code, and its other codes.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DetailIds {
    pub partner: Option<String>,
    pub service: Option<String>,
    pub case_manager: Option<String>,
    /// The code after "reason".
    pub reason: Option<String>,
    pub codes: Vec<String>,
}

impl DetailIds {
    /// The reason code, else the other codes (a detail that is just a code).
    fn why(&self) -> Option<String> {
        self.reason.clone().or_else(|| (!self.codes.is_empty()).then(|| self.codes.join(" ")))
    }
}

/// Reads the typed ids out of a coded detail; the words that are neither ids nor labels are codes.
pub fn detail_ids(detail: &str) -> DetailIds {
    const LABELS: [&str; 9] =
        ["partner", "case", "manager", "service", "offer", "escalation", "decision", "reason", "previous"];
    let other_id = |token: &str| {
        CaseId::from_str(token).is_ok()
            || DecisionId::from_str(token).is_ok()
            || OfferId::from_str(token).is_ok()
            || EscalationId::from_str(token).is_ok()
    };
    let mut ids = DetailIds::default();
    let mut after_reason = false;
    for token in detail.split([' ', ',', ';', '=', ':']).filter(|t| !t.is_empty()) {
        if std::mem::take(&mut after_reason) && !LABELS.contains(&token) {
            ids.reason.get_or_insert_with(|| token.to_owned());
            continue;
        }
        after_reason = token == "reason";
        if PartnerId::from_str(token).is_ok() {
            ids.partner.get_or_insert_with(|| token.to_owned());
        } else if PartnerServiceId::from_str(token).is_ok() {
            ids.service.get_or_insert_with(|| token.to_owned());
        } else if CaseManagerId::from_str(token).is_ok() {
            ids.case_manager.get_or_insert_with(|| token.to_owned());
        } else if !LABELS.contains(&token) && !other_id(token) {
            ids.codes.push(token.to_owned());
        }
    }
    ids
}

/// One line of what happened.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Step {
    pub at: Option<DateTime<Utc>>,
    /// Short code of the step: received, triaged, routed, no_match, offered, accepted, declined,
    /// expired, withdrawn, assigned, escalated, engagement, on_hold, closed, …
    pub step: String,
    pub text: String,
}

/// The telling of a referral's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Story {
    pub referral_id: String,
    /// The status code, e.g. "assigned".
    pub status: String,
    /// "urgent, South Los Angeles, a minor; practice referral from Demo Youth Hotline".
    pub about: String,
    /// Where the referral is now, in one sentence.
    pub now: String,
    pub partner: String,
    pub case_manager: String,
    pub audit: String,
    pub steps: Vec<Step>,
}

impl Story {
    pub fn tell(facts: &Facts) -> Self {
        let referral = &facts.referral;
        let status = intake::ReferralStatus::try_from(referral.status).unwrap_or(intake::ReferralStatus::Unspecified);
        let latest_offer = facts.routing.as_ref().ok().and_then(|r| latest_offer(&r.offers));
        Story {
            referral_id: referral.referral_id.clone(),
            status: status_code(status),
            about: about(facts),
            now: now_sentence(status, facts, latest_offer),
            partner: partner_line(facts, latest_offer),
            case_manager: case_manager_line(facts),
            audit: audit_line(&facts.audit),
            steps: steps(facts),
        }
    }

    /// The text `wayfinder status` prints.
    pub fn text(&self) -> String {
        let mut out = format!("Referral {}: {}\n", self.referral_id, self.about);
        out.push_str(&format!("Status: {} — {}\n", self.status.replace('_', " "), self.now));
        out.push_str(&format!("  Partner       {}\n", self.partner));
        out.push_str(&format!("  Case manager  {}\n", self.case_manager));
        out.push_str(&format!("  Audit log     {}\n", self.audit));
        out.push_str("\nWhat happened (UTC)\n");
        for step in &self.steps {
            let at = step.at.map(|at| at.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_else(|| "—".repeat(19));
            out.push_str(&format!("  {at}  {}\n", step.text));
        }
        out
    }
}

/// The JSON `wayfinder status --json` prints: the telling plus the ids behind it.
pub fn json(facts: &Facts, story: &Story) -> serde_json::Value {
    let referral = &facts.referral;
    let coded = referral.referral.clone().unwrap_or_default();
    let offer = facts.routing.as_ref().ok().and_then(|r| latest_offer(&r.offers));
    let partner = offer.map(|offer| {
        let status = routing::OfferStatus::try_from(offer.status).unwrap_or(routing::OfferStatus::Unspecified);
        serde_json::json!({
            "organization_id": offer.partner_id,
            "organization": facts.names.organization(&offer.partner_id),
            "partner_service_id": offer.partner_service_id,
            "service": facts.names.services.get(&offer.partner_service_id),
            "offer_id": offer.offer_id,
            "offer_status": status.as_str_name().trim_start_matches("OFFER_STATUS_").to_lowercase(),
            "deadline": rfc3339(offer.deadline.as_ref()),
            "answered_at": rfc3339(offer.responded_at.as_ref()),
        })
    });
    let case = facts.case.as_ref().ok().and_then(Option::as_ref).map(|case| {
        let staff = facts.names.staff.get(&case.case_manager_id);
        serde_json::json!({
            "case_id": case.case_id,
            "case_manager_id": case.case_manager_id,
            "case_manager": staff.map(|s| s.name.clone()),
            "case_manager_code": staff.map(|s| s.code.clone()),
            "awaiting_assignment": case.case_manager_id.is_empty(),
            "supervisors": if case.case_manager_id.is_empty() { facts.names.supervisors_of(case.site) } else { Vec::new() },
            "first_contact_at": rfc3339(case.first_contact_at.as_ref()),
        })
    });
    let audit = match &facts.audit {
        Ok(count) => serde_json::json!({ "entries": count.entries, "latest": count.latest }),
        Err(err) => serde_json::json!({ "error": err }),
    };
    serde_json::json!({
        "referral_id": referral.referral_id,
        "status": story.status,
        "summary": story.now,
        "practice": coded.practice,
        "triage_tier": tier(coded.triage_tier),
        "site": site(coded.site),
        "minor": referral.is_minor,
        "referred_by": referred_by(facts),
        "partner": partner,
        "case": case,
        "case_id": referral.case_id,
        "timeline": story.steps,
        "audit": audit,
    })
}

fn instant(ts: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    ts.and_then(|ts| DateTime::from_timestamp(ts.seconds, u32::try_from(ts.nanos).unwrap_or(0)))
}

/// "2026-12-08 11:54 UTC".
fn when(ts: Option<&prost_types::Timestamp>) -> String {
    instant(ts).map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_else(|| "an unknown time".into())
}

fn status_code(status: intake::ReferralStatus) -> String {
    match status {
        intake::ReferralStatus::Unspecified => "unknown".to_owned(),
        other => other.as_str_name().trim_start_matches("REFERRAL_STATUS_").to_lowercase(),
    }
}

fn tier(value: i32) -> &'static str {
    match common::TriageTier::try_from(value) {
        Ok(common::TriageTier::Emergent) => "emergent",
        Ok(common::TriageTier::Urgent) => "urgent",
        Ok(common::TriageTier::Routine) => "routine",
        _ => "not triaged",
    }
}

fn site(value: i32) -> &'static str {
    match common::Site::try_from(value) {
        Ok(common::Site::SouthLosAngeles) => "South Los Angeles",
        Ok(common::Site::SanFernandoValley) => "San Fernando Valley",
        Ok(common::Site::Countywide) => "countywide",
        _ => "no site",
    }
}

fn referred_by(facts: &Facts) -> Option<String> {
    let coded = facts.referral.referral.as_ref()?;
    let by_id = (!coded.referring_organization_id.is_empty())
        .then(|| facts.names.organizations.get(&coded.referring_organization_id).cloned())
        .flatten();
    by_id.or_else(|| (!coded.referring_organization_name.is_empty()).then(|| coded.referring_organization_name.clone()))
}

fn about(facts: &Facts) -> String {
    let coded = facts.referral.referral.clone().unwrap_or_default();
    let mut about = format!("{}, {}", tier(coded.triage_tier), site(coded.site));
    if facts.referral.is_minor {
        about.push_str(", a minor");
    }
    about.push_str(if coded.practice { "; practice referral" } else { "; referral" });
    if let Some(by) = referred_by(facts) {
        about.push_str(&format!(" from {by}"));
    }
    about
}

/// The offer made last (the one that matters now).
fn latest_offer(offers: &[routing::Offer]) -> Option<&routing::Offer> {
    offers.iter().max_by_key(|offer| offer.offered_at.as_ref().map(|ts| (ts.seconds, ts.nanos)))
}

fn offer_status(offer: &routing::Offer) -> routing::OfferStatus {
    routing::OfferStatus::try_from(offer.status).unwrap_or(routing::OfferStatus::Unspecified)
}

fn decline_reason(offer: &routing::Offer) -> String {
    use routing::DeclineReason as R;
    let reason = match R::try_from(offer.decline_reason).unwrap_or(R::Unspecified) {
        R::NoCapacity => "no capacity",
        R::OutsideServiceArea => "outside its service area",
        R::AgeNotServed => "age not served",
        R::ServiceNotOffered => "service not offered",
        R::LanguageNotAvailable => "language not available",
        R::SafetyConcern => "a safety concern",
        R::ConflictOfInterest => "a conflict of interest",
        R::AlreadyServing => "already serving the youth",
        R::NeedsExceedScope => "needs beyond what it can safely provide",
        R::Other if !offer.decline_detail.is_empty() => return humanize(&offer.decline_detail),
        R::Other => "another reason",
        R::Unspecified => "no reason given",
    };
    reason.to_owned()
}

/// Words for an escalation reason code ("no_eligible_partner", or the enum name).
fn escalation_reason(code: &str) -> String {
    let code = code.trim_start_matches("ESCALATION_REASON_").to_lowercase();
    match code.as_str() {
        "no_eligible_partner" => "no eligible partner".to_owned(),
        "all_declined" => "every eligible partner declined".to_owned(),
        "offer_expired" => "an offer expired unanswered".to_owned(),
        "emergent_contact_overdue" => "no advocate contact within 90 minutes of an emergent referral".to_owned(),
        "match_deadline_missed" => "not matched to a provider within its tier's deadline".to_owned(),
        "manual" => "escalated by staff".to_owned(),
        other => humanize(other),
    }
}

fn closure_reason(value: i32, detail: &str) -> String {
    use intake::ReferralClosureReason as R;
    let reason = match R::try_from(value).unwrap_or(R::Unspecified) {
        R::Enrolled => "the youth enrolled",
        R::DeclinedServices => "the youth declined services",
        R::Unreachable => "the youth could not be reached",
        R::Ineligible => "not eligible",
        R::Duplicate => "a duplicate of another referral",
        R::Missing => "the youth is missing",
        R::PracticePurged => "practice referral purged",
        R::Unspecified if !detail.is_empty() => return humanize(detail.trim_start_matches("REFERRAL_CLOSURE_REASON_")),
        R::Unspecified => "no reason recorded",
    };
    reason.to_owned()
}

/// A code in words: "no_safe_place_tonight" → "no safe place tonight".
fn humanize(code: &str) -> String {
    code.replace('_', " ").to_lowercase()
}

fn case_of(facts: &Facts) -> Option<&cases::Case> {
    facts.case.as_ref().ok().and_then(Option::as_ref)
}

fn now_sentence(status: intake::ReferralStatus, facts: &Facts, offer: Option<&routing::Offer>) -> String {
    use intake::ReferralStatus as S;
    let partner = offer.map(|offer| facts.names.organization(&offer.partner_id));
    let partner = partner.as_deref().unwrap_or("the chosen partner");
    let referral = &facts.referral;
    // Routing may already have found no partner before intake records the escalation.
    let unplaced =
        facts.routing.as_ref().ok().and_then(|r| r.decisions.iter().max_by_key(|d| d.attempt)).and_then(|decision| {
            match routing::DecisionOutcome::try_from(decision.outcome) {
                Ok(routing::DecisionOutcome::NoMatch) => Some("no eligible partner"),
                Ok(routing::DecisionOutcome::Exhausted) => {
                    Some("every eligible partner declined or let an offer expire")
                }
                _ => None,
            }
        });
    if matches!(status, S::Received | S::Triaged)
        && let Some(why) = unplaced
    {
        return format!("waiting for staff in the escalation queue: {why}");
    }
    match status {
        S::Received => "received; not routed to a partner yet".to_owned(),
        S::Triaged => format!(
            "triaged as {}; not routed to a partner yet",
            tier(referral.referral.as_ref().map_or(0, |r| r.triage_tier))
        ),
        S::Routed => format!("routed to {partner}; the offer follows"),
        S::Offered => format!(
            "offered to {partner}, waiting for its answer (due by {})",
            when(offer.and_then(|o| o.deadline.as_ref()))
        ),
        S::Accepted => format!("{partner} accepted the offer; a case manager is being assigned"),
        S::Assigned => match case_of(facts) {
            Some(case) if !case.case_manager_id.is_empty() => {
                format!("{} coordinates the youth's care", facts.names.staff(&case.case_manager_id))
            }
            _ => "a case manager coordinates the youth's care".to_owned(),
        },
        S::Declined => format!("{partner} declined the offer; routing looks for another partner"),
        S::Expired => format!("the offer to {partner} expired unanswered; routing looks for another partner"),
        S::Escalated => {
            let reason = referral
                .history
                .iter()
                .rev()
                .find(|c| c.status == S::Escalated as i32)
                .and_then(|c| detail_ids(&c.detail).why())
                .map(|code| format!(": {}", escalation_reason(&code)))
                .unwrap_or_default();
            format!("waiting for staff in the escalation queue{reason}")
        }
        S::Engagement => "in contact with the youth; engagement continues until the youth is ready".to_owned(),
        S::OnHold => "on hold (for example while the youth is missing)".to_owned(),
        S::Closed => {
            let detail = referral.history.iter().rev().find(|c| c.status == S::Closed as i32);
            let why = detail.and_then(|c| detail_ids(&c.detail).why()).unwrap_or_default();
            format!("closed: {}", closure_reason(referral.closure_reason, &why))
        }
        S::Unspecified => "status unknown".to_owned(),
    }
}

fn partner_line(facts: &Facts, offer: Option<&routing::Offer>) -> String {
    let routing = match &facts.routing {
        Ok(routing) => routing,
        Err(err) => return format!("not readable: {err}"),
    };
    let Some(offer) = offer else {
        let last = routing.decisions.iter().max_by_key(|d| d.attempt);
        return match last.map(|d| routing::DecisionOutcome::try_from(d.outcome)) {
            Some(Ok(routing::DecisionOutcome::NoMatch)) => "none: routing found no eligible partner".to_owned(),
            Some(Ok(routing::DecisionOutcome::Exhausted)) => {
                "none: every eligible partner declined or let an offer expire".to_owned()
            }
            _ => "none yet".to_owned(),
        };
    };
    let who = facts.names.partner(&offer.partner_id, &offer.partner_service_id);
    match offer_status(offer) {
        routing::OfferStatus::Pending => {
            format!("{who}: offered, answer due by {}", when(offer.deadline.as_ref()))
        }
        routing::OfferStatus::Accepted => format!("{who}: accepted the offer {}", when(offer.responded_at.as_ref())),
        routing::OfferStatus::Declined => {
            format!("{who}: declined the offer ({}) {}", decline_reason(offer), when(offer.responded_at.as_ref()))
        }
        routing::OfferStatus::Expired => format!("{who}: did not answer by {}", when(offer.deadline.as_ref())),
        routing::OfferStatus::Withdrawn => format!("{who}: the offer was withdrawn"),
        routing::OfferStatus::Unspecified => who,
    }
}

fn case_manager_line(facts: &Facts) -> String {
    match &facts.case {
        Err(err) => format!("not readable: {err}"),
        Ok(None) => "none yet".to_owned(),
        Ok(Some(case)) if case.case_manager_id.is_empty() => {
            let supervisors = facts.names.supervisors_of(case.site);
            let whose = if supervisors.is_empty() { String::new() } else { format!(" ({})", supervisors.join(", ")) };
            format!(
                "none yet: nobody eligible could take the case, so it waits in the supervisors' queue{whose} (case {})",
                case.case_id
            )
        }
        Ok(Some(case)) => {
            let mut line = format!("{}, case {}", facts.names.staff(&case.case_manager_id), case.case_id);
            if case.first_contact_at.is_some() {
                line.push_str(&format!(", first contact {}", when(case.first_contact_at.as_ref())));
            }
            line
        }
    }
}

fn audit_line(audit: &Result<AuditCount, String>) -> String {
    match audit {
        Err(err) => format!("not readable: {err}"),
        Ok(count) if count.entries == 0 => "no entries about this referral yet".to_owned(),
        Ok(count) => {
            let latest = count.latest.map(|at| format!(", the latest {}", at.format("%Y-%m-%d %H:%M:%S UTC")));
            format!("{} entries about this referral{}", count.entries, latest.unwrap_or_default())
        }
    }
}

/// The order of steps recorded at the same instant.
fn rank(step: &str) -> u8 {
    match step {
        "received" => 0,
        "triaged" => 1,
        "routed" | "no_match" | "exhausted" => 2,
        "offered" => 3,
        "accepted" | "declined" | "expired" | "withdrawn" => 4,
        "escalated" => 5,
        "assigned" => 6,
        "engagement" => 7,
        "on_hold" => 8,
        "closed" => 9,
        _ => 10,
    }
}

fn steps(facts: &Facts) -> Vec<Step> {
    use intake::ReferralStatus as S;
    let names = &facts.names;
    let routing = facts.routing.as_ref().ok();
    let mut steps = Vec::new();
    let mut assigned_before = false;
    for change in &facts.referral.history {
        let status = S::try_from(change.status).unwrap_or(S::Unspecified);
        let ids = detail_ids(&change.detail);
        let partner = ids.partner.as_deref().map(|id| names.partner(id, ids.service.as_deref().unwrap_or_default()));
        let partner = partner.as_deref().unwrap_or("the partner");
        let at = instant(change.at.as_ref());
        let text = match status {
            // Routing's own records tell these, with the service, deadline and reason.
            S::Routed | S::Offered | S::Accepted | S::Declined | S::Expired if routing.is_some() => continue,
            S::Received => match referred_by(facts) {
                Some(by) => format!("received from {by}"),
                None => "received".to_owned(),
            },
            S::Triaged => "triaged".to_owned(),
            S::Routed => format!("routed to {partner}"),
            S::Offered => format!("offered to {partner}"),
            S::Accepted => format!("{partner} accepted the offer"),
            S::Declined => match ids.why() {
                Some(code) => format!("{partner} declined the offer: {}", humanize(&code)),
                None => format!("{partner} declined the offer"),
            },
            S::Expired => format!("the offer to {partner} expired unanswered"),
            S::Assigned => {
                let manager = ids
                    .case_manager
                    .clone()
                    .or_else(|| case_of(facts).map(|c| c.case_manager_id.clone()).filter(|id| !id.is_empty()));
                let verb = if assigned_before { "reassigned" } else { "assigned" };
                assigned_before = true;
                match manager {
                    Some(id) => format!("{verb} to case manager {}", names.staff(&id)),
                    None => format!("{verb} to a case manager"),
                }
            }
            S::Escalated => match ids.why() {
                None => "escalated: waiting for staff in the escalation queue".to_owned(),
                Some(code) => {
                    format!("escalated: waiting for staff in the escalation queue ({})", escalation_reason(&code))
                }
            },
            S::Engagement => "first contact with the youth; engagement under way".to_owned(),
            S::OnHold => "put on hold".to_owned(),
            S::Closed => {
                format!("closed: {}", closure_reason(facts.referral.closure_reason, &ids.why().unwrap_or_default()))
            }
            S::Unspecified => humanize(&change.detail),
        };
        steps.push(Step { at, step: status_code(status), text });
    }
    if let Some(routing) = routing {
        for decision in &routing.decisions {
            let at = instant(decision.decided_at.as_ref());
            let attempt =
                if decision.attempt > 1 { format!(" (routing attempt {})", decision.attempt) } else { String::new() };
            let (step, text) = match routing::DecisionOutcome::try_from(decision.outcome) {
                Ok(routing::DecisionOutcome::Offered) => (
                    "routed",
                    format!("routed to {}{attempt}", names.partner(&decision.partner_id, &decision.partner_service_id)),
                ),
                Ok(routing::DecisionOutcome::NoMatch) => {
                    ("no_match", format!("routing found no eligible partner{attempt}"))
                }
                Ok(routing::DecisionOutcome::Exhausted) => {
                    ("exhausted", format!("every eligible partner had declined or let an offer expire{attempt}"))
                }
                _ => continue,
            };
            steps.push(Step { at, step: step.to_owned(), text });
        }
        for offer in &routing.offers {
            let organization = names.organization(&offer.partner_id);
            steps.push(Step {
                at: instant(offer.offered_at.as_ref()),
                step: "offered".to_owned(),
                text: format!("offered to {organization}, answer due by {}", when(offer.deadline.as_ref())),
            });
            let answered = instant(offer.responded_at.as_ref());
            let (step, at, text) = match offer_status(offer) {
                routing::OfferStatus::Accepted => ("accepted", answered, format!("{organization} accepted the offer")),
                routing::OfferStatus::Declined => {
                    ("declined", answered, format!("{organization} declined the offer: {}", decline_reason(offer)))
                }
                routing::OfferStatus::Expired => (
                    "expired",
                    answered.or_else(|| instant(offer.deadline.as_ref())),
                    format!("{organization} did not answer in time: the offer expired"),
                ),
                routing::OfferStatus::Withdrawn => {
                    ("withdrawn", answered, format!("the offer to {organization} was withdrawn"))
                }
                _ => continue,
            };
            steps.push(Step { at, step: step.to_owned(), text });
        }
    }
    steps.sort_by_key(|step| (step.at, rank(&step.step)));
    steps
}

#[cfg(test)]
mod tests;
