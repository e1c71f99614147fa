//! A referral's progress after intake, from the events of routing and cases, folded into a few
//! facts; the status is derived from the facts, never from the order the events arrived in.
//! Consumers are at-least-once and events of two services overtake each other, so each fact only
//! ever moves forward: first instants stay first, and a step of a track that replaces the last one
//! (the partner match; the case closing and reopening; the case's owner) applies only when its event
//! is newer than the one it would replace (event ids are UUIDv7, ordered by creation).
//!
//! Two tracks run side by side once routing decides: the partner match (routing's offers) and the
//! case (cases opens it and gives it a case manager as soon as the referral is routed, usually
//! before the partner answers). The status is the step the referral waits on ([`status`]):
//! 1. the youth enrolled (case stage ENROLLED or later) → CLOSED, reason ENROLLED (DOMAIN.md:
//!    engagement ends in `closed{enrolled | declined services | unreachable | …}`); the case closed
//!    before that → CLOSED with the case's reason ([`closure_for_case`]); a case reopened with this
//!    referral in its current episode takes that back;
//! 2. an escalation not yet resolved → ESCALATED (a person must act);
//! 3. not yet accepted, with an offer on its way or waiting → ROUTED / OFFERED;
//! 4. first contact made → ENGAGEMENT; else a case manager owns the case → ASSIGNED; else an offer
//!    was accepted → ACCEPTED;
//! 5. else the last step of the match (DECLINED, EXPIRED; ROUTED after a withdrawn offer, routing
//!    choosing again), else TRIAGED or RECEIVED.
//!
//! Beside the status, intake keeps who holds the referral's case now ([`Owner`]): the case manager
//! the newest of `case.assigned` (first assignment, reassignment, joining an open case),
//! `case.reopened` (its case manager, none while the reopened case awaits assignment),
//! `case.awaiting_assignment` (none: the case waits in the supervisors' queue, e.g. the referral's
//! case merged into a waiting one) and `case.closed` (none: a closed case is nobody's work) named,
//! by event order as the case track.
//!
//! A reopening names every referral of the episode current after it, and whether that episode is
//! new (a new referral reopened the case) or carries on (`ReopenCase` naming none): only a new one
//! stops the acceptances of the earlier episode counting ([`starts_episode`], [`serves_now`]).
//!
//! Staff steps (hold, staff closure) are applied around this by `app::progress`.

#[cfg(test)]
mod tests;

use wf_proto::cases::v1::{CaseClosureReason, CaseStage};
use wf_proto::intake::v1::{ReferralClosureReason, ReferralStatus};

/// A step of the partner match, as routing announced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matching {
    /// `referral.routed`: a decision chose a partner service; its offer follows.
    Routed,
    /// `offer.made`: an offer waits for the partner's answer.
    Offered,
    /// `offer.declined`: routing routes again (or escalates).
    Declined,
    /// `offer.expired`: the offer deadline passed unanswered.
    Expired,
    /// `offer.withdrawn`: routing took the offer back (re-triage, re-route, the case closing).
    Withdrawn,
}

impl Matching {
    /// The code stored for the step.
    pub fn code(self) -> &'static str {
        match self {
            Matching::Routed => "routed",
            Matching::Offered => "offered",
            Matching::Declined => "declined",
            Matching::Expired => "expired",
            Matching::Withdrawn => "withdrawn",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Matching::Routed, Matching::Offered, Matching::Declined, Matching::Expired, Matching::Withdrawn]
            .into_iter()
            .find(|step| step.code() == code)
    }

    /// The status this step shows when nothing later in the lifecycle holds.
    fn status(self) -> ReferralStatus {
        match self {
            Matching::Routed | Matching::Withdrawn => ReferralStatus::Routed,
            Matching::Offered => ReferralStatus::Offered,
            Matching::Declined => ReferralStatus::Declined,
            Matching::Expired => ReferralStatus::Expired,
        }
    }
}

/// The latest step of the partner match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchStep {
    pub step: Matching,
    /// The event that announced it (the order of steps).
    pub event_id: String,
    /// The deadline of the offer waiting for an answer (only with [`Matching::Offered`]).
    pub offer_deadline: Option<i64>,
}

/// The case's latest closure or reopening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseTrack {
    /// `Some(reason)` (a `CaseClosureReason` number) when the case closed; `None` when it was reopened.
    pub closed: Option<i32>,
    pub at: i64,
    pub event_id: String,
}

/// Who holds the referral's case now, as the newest case event about it said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// The case manager ("cm_…"); `None` once the case closed, or while a reopened case awaits
    /// assignment.
    pub case_manager_id: Option<String>,
    /// The event that said so (the order of owners).
    pub event_id: String,
}

/// One escalation of the referral; either half may arrive first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    pub escalation_id: String,
    pub raised_at: Option<i64>,
    pub resolved_at: Option<i64>,
}

impl Escalation {
    fn open(&self) -> bool {
        self.raised_at.is_some() && self.resolved_at.is_none()
    }
}

/// What intake knows of a referral's progress (instants in microseconds).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// Staff triaged it (`TriageReferral`).
    pub triaged: bool,
    pub matching: Option<MatchStep>,
    /// When an offer was first accepted: matched to a provider.
    pub matched_at: Option<i64>,
    /// When a case manager first owned the case.
    pub assigned_at: Option<i64>,
    /// When the youth was first reached.
    pub first_contact_at: Option<i64>,
    /// When the case first reached ENROLLED (or a later open stage).
    pub enrolled_at: Option<i64>,
    pub case: Option<CaseTrack>,
    /// Who holds the case now (none before cases first named one).
    pub owner: Option<Owner>,
    pub escalations: Vec<Escalation>,
}

impl Facts {
    /// The case manager who holds the referral's case now, if any.
    pub fn case_manager_id(&self) -> Option<&str> {
        self.owner.as_ref().and_then(|owner| owner.case_manager_id.as_deref())
    }
}

/// What an event of routing or cases says about a referral (ids and codes only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    Routed {
        partner_id: String,
    },
    OfferMade {
        offer_id: String,
        partner_id: String,
        deadline: Option<i64>,
    },
    OfferAccepted {
        offer_id: String,
        partner_id: String,
    },
    OfferDeclined {
        offer_id: String,
        partner_id: String,
        reason: String,
    },
    OfferExpired {
        offer_id: String,
        partner_id: String,
    },
    OfferWithdrawn {
        offer_id: String,
        partner_id: String,
        reason: String,
    },
    Escalated {
        escalation_id: String,
        reason: String,
    },
    EscalationResolved {
        escalation_id: String,
        resolution: String,
    },
    CaseAssigned {
        case_id: String,
        case_manager_id: String,
    },
    /// The case reopened with this referral in its current episode (a returning youth's new
    /// referral, or the episode that carries on).
    CaseReopened {
        case_id: String,
        case_manager_id: String,
        episode: ReopenedEpisode,
    },
    /// The case waits in the supervisors' queue: nobody holds it.
    CaseAwaitingAssignment {
        case_id: String,
    },
    /// The first contact attempt that reached the youth.
    FirstContact {
        case_id: String,
    },
    /// The case moved to ENROLLED or a later open stage.
    Enrolled {
        case_id: String,
        stage: CaseStage,
    },
    /// The case closed (`reason` a `CaseClosureReason` number).
    CaseClosed {
        case_id: String,
        reason: i32,
    },
}

/// Which episode a reopening leaves current, as `case.reopened` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReopenedEpisode {
    /// A new referral reopened the case: a new episode, without the earlier one's referrals.
    New,
    /// `ReopenCase` named no referral: the case's last episode carries on, its referrals with it.
    CarriedOn,
    /// An older producer's event, which did not say (no `episode_referral_ids`): read as before,
    /// as a new episode for a referral whose case intake knew closed.
    Unsaid,
}

/// One event: its id (UUIDv7, the order of events), its instant (micros) and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub event_id: String,
    pub at: i64,
    pub signal: Signal,
}

/// The status history entry an event writes: the status it brings and a coded detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub status: ReferralStatus,
    pub detail: String,
}

/// The status the facts give, with the closure when it is CLOSED.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Derived {
    pub status: ReferralStatus,
    pub closure: Option<(ReferralClosureReason, i64)>,
}

/// Whether `event_id` is newer than the event that set `current` (none yet: newer).
fn newer(event_id: &str, current: Option<&str>) -> bool {
    current.is_none_or(|current| event_id > current)
}

fn first(slot: &mut Option<i64>, at: i64) {
    *slot = Some(slot.map_or(at, |earlier| earlier.min(at)));
}

/// The facts after `event`, and the history entry it writes. Applying an event twice changes
/// nothing the second time.
pub fn apply(mut facts: Facts, event: &Event) -> (Facts, Entry) {
    let Event { event_id, at, signal } = event;
    let at = *at;
    let set_matching = |facts: &mut Facts, step: Matching, offer_deadline: Option<i64>| {
        if newer(event_id, facts.matching.as_ref().map(|m| m.event_id.as_str())) {
            facts.matching = Some(MatchStep { step, event_id: event_id.clone(), offer_deadline });
        }
    };
    let set_owner = |facts: &mut Facts, case_manager_id: &str| {
        if newer(event_id, facts.owner.as_ref().map(|o| o.event_id.as_str())) {
            let case_manager_id = Some(case_manager_id.to_owned()).filter(|id| !id.is_empty());
            facts.owner = Some(Owner { case_manager_id, event_id: event_id.clone() });
        }
    };
    let own = |status: ReferralStatus, detail: String| Entry { status, detail };
    let entry = match signal {
        Signal::Routed { partner_id } => {
            set_matching(&mut facts, Matching::Routed, None);
            own(ReferralStatus::Routed, format!("partner {partner_id}"))
        }
        Signal::OfferMade { offer_id, partner_id, deadline } => {
            set_matching(&mut facts, Matching::Offered, *deadline);
            own(ReferralStatus::Offered, format!("offer {offer_id} partner {partner_id}"))
        }
        Signal::OfferAccepted { offer_id, partner_id } => {
            first(&mut facts.matched_at, at);
            own(ReferralStatus::Accepted, format!("offer {offer_id} partner {partner_id}"))
        }
        Signal::OfferDeclined { offer_id, partner_id, reason } => {
            set_matching(&mut facts, Matching::Declined, None);
            own(ReferralStatus::Declined, format!("offer {offer_id} partner {partner_id} reason {reason}"))
        }
        Signal::OfferExpired { offer_id, partner_id } => {
            set_matching(&mut facts, Matching::Expired, None);
            own(ReferralStatus::Expired, format!("offer {offer_id} partner {partner_id}"))
        }
        Signal::OfferWithdrawn { offer_id, partner_id, reason } => {
            set_matching(&mut facts, Matching::Withdrawn, None);
            own(ReferralStatus::Routed, format!("offer {offer_id} partner {partner_id} withdrawn {reason}"))
        }
        Signal::Escalated { escalation_id, reason } => {
            escalation(&mut facts, escalation_id).raised_at.get_or_insert(at);
            own(ReferralStatus::Escalated, format!("escalation {escalation_id} reason {reason}"))
        }
        Signal::EscalationResolved { escalation_id, resolution } => {
            escalation(&mut facts, escalation_id).resolved_at.get_or_insert(at);
            own(status(&facts).status, format!("escalation {escalation_id} resolved {resolution}"))
        }
        Signal::CaseAssigned { case_id, case_manager_id } => {
            first(&mut facts.assigned_at, at);
            set_owner(&mut facts, case_manager_id);
            own(ReferralStatus::Assigned, format!("case {case_id} case manager {case_manager_id}"))
        }
        Signal::CaseReopened { case_id, case_manager_id, .. } => {
            if newer(event_id, facts.case.as_ref().map(|c| c.event_id.as_str())) {
                facts.case = Some(CaseTrack { closed: None, at, event_id: event_id.clone() });
            }
            set_owner(&mut facts, case_manager_id);
            if !case_manager_id.is_empty() {
                first(&mut facts.assigned_at, at);
            }
            let owner = if case_manager_id.is_empty() { "awaiting_assignment" } else { case_manager_id };
            own(status(&facts).status, format!("case {case_id} reopened case manager {owner}"))
        }
        Signal::CaseAwaitingAssignment { case_id } => {
            set_owner(&mut facts, "");
            own(status(&facts).status, format!("case {case_id} awaiting assignment"))
        }
        Signal::FirstContact { case_id } => {
            first(&mut facts.first_contact_at, at);
            own(ReferralStatus::Engagement, format!("case {case_id} first contact"))
        }
        Signal::Enrolled { case_id, stage } => {
            first(&mut facts.enrolled_at, at);
            let stage = stage.as_str_name().trim_start_matches("CASE_STAGE_").to_lowercase();
            own(ReferralStatus::Closed, format!("case {case_id} {stage} enrolled"))
        }
        Signal::CaseClosed { case_id, reason } => {
            if newer(event_id, facts.case.as_ref().map(|c| c.event_id.as_str())) {
                facts.case = Some(CaseTrack { closed: Some(*reason), at, event_id: event_id.clone() });
            }
            set_owner(&mut facts, "");
            own(ReferralStatus::Closed, format!("case {case_id} closed {}", case_closure_code(*reason)))
        }
    };
    (facts, entry)
}

fn escalation<'a>(facts: &'a mut Facts, escalation_id: &str) -> &'a mut Escalation {
    let index = match facts.escalations.iter().position(|e| e.escalation_id == escalation_id) {
        Some(index) => index,
        None => {
            facts.escalations.push(Escalation {
                escalation_id: escalation_id.to_owned(),
                raised_at: None,
                resolved_at: None,
            });
            facts.escalations.len() - 1
        }
    };
    &mut facts.escalations[index]
}

/// The status the facts give (see the module comment for the order).
pub fn status(facts: &Facts) -> Derived {
    let plain = |status| Derived { status, closure: None };
    if let Some(enrolled_at) = facts.enrolled_at {
        return Derived {
            status: ReferralStatus::Closed,
            closure: Some((ReferralClosureReason::Enrolled, enrolled_at)),
        };
    }
    if let Some(CaseTrack { closed: Some(reason), at, .. }) = &facts.case {
        return Derived { status: ReferralStatus::Closed, closure: Some((closure_for_case(*reason), *at)) };
    }
    if facts.escalations.iter().any(Escalation::open) {
        return plain(ReferralStatus::Escalated);
    }
    let matching = facts.matching.as_ref().map(|m| m.step);
    let matched = facts.matched_at.is_some();
    if !matched && let Some(step @ (Matching::Routed | Matching::Offered)) = matching {
        return plain(step.status());
    }
    if facts.first_contact_at.is_some() {
        return plain(ReferralStatus::Engagement);
    }
    if facts.assigned_at.is_some() {
        return plain(ReferralStatus::Assigned);
    }
    if matched {
        return plain(ReferralStatus::Accepted);
    }
    match matching {
        Some(step) => plain(step.status()),
        None if facts.triaged => plain(ReferralStatus::Triaged),
        None => plain(ReferralStatus::Received),
    }
}

/// The deadline of the offer waiting for an answer, when one is (not yet accepted, last step an offer).
pub fn pending_offer_deadline(facts: &Facts) -> Option<i64> {
    let matching = facts.matching.as_ref();
    waiting_offer_deadline(
        matching.map(|m| m.step),
        matching.and_then(|m| m.offer_deadline),
        facts.matched_at.is_some(),
    )
}

/// [`pending_offer_deadline`] from the stored columns: the last step of the match, its offer
/// deadline, and whether an offer was accepted.
pub fn waiting_offer_deadline(step: Option<Matching>, offer_deadline: Option<i64>, matched: bool) -> Option<i64> {
    (!matched && step == Some(Matching::Offered)).then_some(offer_deadline).flatten()
}

/// Whether a partner's acceptance, recorded as intake's `accepted_seq`-th record of the referral,
/// still lets it read the referral (it serves the youth), given the case track intake holds:
/// `case_closed` (1 closed, 0 reopened, none yet) and `episode_seq`, the record of the last
/// reopening that started a new episode after a closure intake had recorded for the referral
/// ([`starts_episode`]). Cases' rule is an accepted offer for a referral of the case's current
/// episode, on an open case. So: never once the case closed; after a reopening that started a new
/// episode only with an acceptance recorded since. A reopening that carries the last episode on
/// (`ReopenCase` naming no referral; `case.reopened` names every referral of that episode) starts
/// none: the acceptances of the episode count again. A reopening that is the referral's first case
/// event (a returning youth's new referral starting the new episode) sets no `episode_seq` either:
/// every acceptance of that referral belongs to its episode. Compared in intake's recording order,
/// never by the instants the events announce.
pub fn serves_now(case_closed: Option<i32>, episode_seq: Option<i64>, accepted_seq: i64) -> bool {
    case_closed != Some(1) && episode_seq.is_none_or(|start| accepted_seq > start)
}

/// Whether `event` (applied to `before`, giving `after`) starts a new episode for the referral,
/// after which only acceptances recorded since count ([`serves_now`]): it reopened a case intake
/// knew closed for the referral, and it is not a reopening that carries the last episode on. An
/// older producer's reopening, which did not say, counts as a new episode (its referral may be an
/// earlier episode's: never let an acceptance count that might no longer serve the case).
pub fn starts_episode(before: &Facts, after: &Facts, event: &Event) -> bool {
    matches!(event.signal, Signal::CaseReopened { episode: ReopenedEpisode::New | ReopenedEpisode::Unsaid, .. })
        && before.case.as_ref().is_some_and(|case| case.closed.is_some())
        && after.case.as_ref().is_some_and(|case| case.closed.is_none() && case.event_id == event.event_id)
}

/// Whether a case stage means the youth enrolled (ENROLLED and every open stage after it).
pub fn is_enrolled_stage(stage: CaseStage) -> bool {
    matches!(
        stage,
        CaseStage::Enrolled
            | CaseStage::Assessed
            | CaseStage::Plan
            | CaseStage::Active
            | CaseStage::Missing
            | CaseStage::FollowUp
    )
}

/// The referral's closure reason when its case closed before the youth enrolled: the same outcome
/// where the lists share one (declined services, unreachable, ineligible; aged out is ineligible;
/// goals met means the youth was served, so enrolled), else UNSPECIFIED (moved away, transferred,
/// deceased, other): the history entry names the case's reason.
pub fn closure_for_case(reason: i32) -> ReferralClosureReason {
    match CaseClosureReason::try_from(reason) {
        Ok(CaseClosureReason::GoalsMet) => ReferralClosureReason::Enrolled,
        Ok(CaseClosureReason::DeclinedServices) => ReferralClosureReason::DeclinedServices,
        Ok(CaseClosureReason::Unreachable) => ReferralClosureReason::Unreachable,
        Ok(CaseClosureReason::Ineligible | CaseClosureReason::AgedOut) => ReferralClosureReason::Ineligible,
        _ => ReferralClosureReason::Unspecified,
    }
}

/// "moved_away" for `CASE_CLOSURE_REASON_MOVED_AWAY`.
fn case_closure_code(reason: i32) -> String {
    CaseClosureReason::try_from(reason)
        .unwrap_or(CaseClosureReason::Unspecified)
        .as_str_name()
        .trim_start_matches("CASE_CLOSURE_REASON_")
        .to_lowercase()
}
