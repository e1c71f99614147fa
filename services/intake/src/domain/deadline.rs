//! The deadline of a referral's current step (DESIGN.md "Time limits", DOMAIN.md), the instant a
//! queue sorts by. Every time limit still open counts and the earliest is the one shown:
//! - emergent: advocate contact within 90 minutes of receipt, until the youth is first reached;
//! - urgent: an offer accepted within 24 hours of receipt; routine: matched to a provider (an offer
//!   accepted) within 48 hours; until an offer is accepted;
//! - an offer waiting for the partner's answer: its own deadline (set by routing);
//! - a minor: a mandated report within 36 hours of receipt while none is recorded, then the written
//!   report within 36 hours of the initial one ([`super::mandated`]).
//!
//! A closed referral has no deadline. While a referral is on hold (e.g. the youth is missing) the
//! workflow's limits are paused, but the mandated report is a legal duty and keeps its deadline.
//! A passed deadline stays the deadline (overdue referrals sort first) until its step is done.

use chrono::Duration;
use wf_proto::common::v1::TriageTier;
use wf_proto::intake::v1::ReferralStatus;

use super::mandated::window_micros as mandated_window;

/// The step a deadline belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Emergent: first contact with the youth.
    EmergentContact,
    /// Urgent or routine: an offer accepted (matched to a provider).
    Match,
    /// The offer waiting for the partner's answer.
    OfferAcceptance,
    /// A minor's mandated report, none recorded yet.
    MandatedReport,
    /// The written follow-up of a minor's mandated report.
    WrittenReport,
}

/// A minor's mandated reports, as far as deadlines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mandated {
    /// Not a minor: no report is due.
    NotRequired,
    /// A minor without any report.
    NoReport,
    /// Reports exist; the earliest due date of a written report not yet recorded, if any.
    Reported { written_due: Option<i64> },
}

/// What the deadline depends on (instants in microseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineFacts {
    pub status: ReferralStatus,
    pub tier: TriageTier,
    pub received_at: i64,
    /// An offer was accepted.
    pub matched: bool,
    /// The youth was first reached.
    pub first_contact: bool,
    /// The deadline of the offer waiting for an answer, when one waits.
    pub pending_offer_deadline: Option<i64>,
    pub mandated: Mandated,
}

/// A deadline and its step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    pub step: Step,
    pub at: i64,
}

fn micros(window: Duration) -> i64 {
    window.num_microseconds().unwrap_or(i64::MAX)
}

/// The time limit of the tier, as a window after receipt (DESIGN.md): emergent contact 90 minutes,
/// urgent acceptance 24 hours, routine match 48 hours.
pub fn tier_window(tier: TriageTier) -> Option<(Step, Duration)> {
    match tier {
        TriageTier::Emergent => Some((Step::EmergentContact, Duration::minutes(90))),
        TriageTier::Urgent => Some((Step::Match, Duration::hours(24))),
        TriageTier::Routine => Some((Step::Match, Duration::hours(48))),
        TriageTier::Unspecified => None,
    }
}

/// The earliest deadline still open, or `None` when nothing is due.
pub fn current(facts: &DeadlineFacts) -> Option<Deadline> {
    if facts.status == ReferralStatus::Closed {
        return None;
    }
    let mut open = Vec::new();
    match facts.mandated {
        Mandated::NotRequired => {}
        Mandated::NoReport => {
            open.push(Deadline { step: Step::MandatedReport, at: facts.received_at.saturating_add(mandated_window()) })
        }
        Mandated::Reported { written_due } => {
            open.extend(written_due.map(|at| Deadline { step: Step::WrittenReport, at }))
        }
    }
    if facts.status != ReferralStatus::OnHold {
        if let Some((step, window)) = tier_window(facts.tier) {
            let done = match step {
                Step::EmergentContact => facts.first_contact,
                _ => facts.matched,
            };
            if !done {
                open.push(Deadline { step, at: facts.received_at.saturating_add(micros(window)) });
            }
        }
        if !facts.matched {
            open.extend(facts.pending_offer_deadline.map(|at| Deadline { step: Step::OfferAcceptance, at }));
        }
    }
    open.into_iter().min_by_key(|deadline| deadline.at)
}

/// The deadline a partner is shown in its list of what it submitted (`facts.status` the status it
/// is shown, `domain::submitter`): only the tier's time limit (emergent 90 minutes, urgent 24 hours,
/// routine 48 hours after receipt) while the referral is not matched and still in intake's hands
/// and not on hold; nothing after. Never a minor's mandated-report deadlines (they would tell
/// whether and when staff reported), an offer's own deadline (another partner's), or whether the
/// youth was reached.
pub fn for_partner(facts: &DeadlineFacts) -> Option<Deadline> {
    let open = !facts.matched
        && !matches!(facts.status, ReferralStatus::OnHold | ReferralStatus::Assigned | ReferralStatus::Closed);
    let (step, window) = tier_window(facts.tier).filter(|_| open)?;
    Some(Deadline { step, at: facts.received_at.saturating_add(micros(window)) })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000_000;
    const RECEIVED: i64 = 1_772_477_100_000_000; // 2026-03-02T18:45:00Z

    fn facts(tier: TriageTier) -> DeadlineFacts {
        DeadlineFacts {
            status: ReferralStatus::Triaged,
            tier,
            received_at: RECEIVED,
            matched: false,
            first_contact: false,
            pending_offer_deadline: None,
            mandated: Mandated::NotRequired,
        }
    }

    fn at(deadline: Option<Deadline>) -> Option<(Step, i64)> {
        deadline.map(|d| (d.step, d.at - RECEIVED))
    }

    #[test]
    fn each_tier_sets_its_time_limit_from_receipt() {
        assert_eq!(at(current(&facts(TriageTier::Emergent))), Some((Step::EmergentContact, 90 * 60_000_000)));
        assert_eq!(at(current(&facts(TriageTier::Urgent))), Some((Step::Match, 24 * HOUR)));
        assert_eq!(at(current(&facts(TriageTier::Routine))), Some((Step::Match, 48 * HOUR)));
        assert_eq!(current(&facts(TriageTier::Unspecified)), None);
    }

    #[test]
    fn a_step_done_stops_its_deadline() {
        let emergent = DeadlineFacts { first_contact: true, ..facts(TriageTier::Emergent) };
        assert_eq!(current(&emergent), None, "contact made");
        let emergent_matched = DeadlineFacts { matched: true, ..facts(TriageTier::Emergent) };
        assert_eq!(
            at(current(&emergent_matched)).map(|d| d.0),
            Some(Step::EmergentContact),
            "accepted, not yet reached"
        );
        let routine = DeadlineFacts { matched: true, ..facts(TriageTier::Routine) };
        assert_eq!(current(&routine), None, "matched");
        let urgent = DeadlineFacts { first_contact: true, ..facts(TriageTier::Urgent) };
        assert_eq!(at(current(&urgent)).map(|d| d.0), Some(Step::Match), "contact does not match");
    }

    #[test]
    fn a_waiting_offer_counts_when_it_is_earlier() {
        let waiting = DeadlineFacts { pending_offer_deadline: Some(RECEIVED + 4 * HOUR), ..facts(TriageTier::Routine) };
        assert_eq!(at(current(&waiting)), Some((Step::OfferAcceptance, 4 * HOUR)));
        let later = DeadlineFacts { pending_offer_deadline: Some(RECEIVED + 60 * HOUR), ..facts(TriageTier::Routine) };
        assert_eq!(at(current(&later)), Some((Step::Match, 48 * HOUR)));
        let untriaged =
            DeadlineFacts { pending_offer_deadline: Some(RECEIVED + HOUR), ..facts(TriageTier::Unspecified) };
        assert_eq!(at(current(&untriaged)), Some((Step::OfferAcceptance, HOUR)));
    }

    #[test]
    fn a_minor_has_the_mandated_report_deadlines() {
        let none = DeadlineFacts { mandated: Mandated::NoReport, ..facts(TriageTier::Routine) };
        assert_eq!(at(current(&none)), Some((Step::MandatedReport, 36 * HOUR)));
        let written = DeadlineFacts {
            mandated: Mandated::Reported { written_due: Some(RECEIVED + 40 * HOUR) },
            matched: true,
            ..facts(TriageTier::Routine)
        };
        assert_eq!(at(current(&written)), Some((Step::WrittenReport, 40 * HOUR)));
        let done = DeadlineFacts { mandated: Mandated::Reported { written_due: None }, ..written };
        assert_eq!(current(&done), None);
        let emergent = DeadlineFacts { mandated: Mandated::NoReport, ..facts(TriageTier::Emergent) };
        assert_eq!(at(current(&emergent)).map(|d| d.0), Some(Step::EmergentContact), "the earliest wins");
    }

    #[test]
    fn a_hold_pauses_the_workflow_but_not_the_mandated_report_and_closure_ends_everything() {
        let held = DeadlineFacts { status: ReferralStatus::OnHold, ..facts(TriageTier::Emergent) };
        assert_eq!(current(&held), None);
        let held_minor = DeadlineFacts { mandated: Mandated::NoReport, ..held };
        assert_eq!(at(current(&held_minor)), Some((Step::MandatedReport, 36 * HOUR)));
        let closed = DeadlineFacts { status: ReferralStatus::Closed, ..held_minor };
        assert_eq!(current(&closed), None);
    }

    #[test]
    fn a_partner_sees_only_the_tiers_limit_until_matched() {
        let minor = DeadlineFacts {
            mandated: Mandated::NoReport,
            pending_offer_deadline: Some(RECEIVED + HOUR),
            ..facts(TriageTier::Routine)
        };
        assert_eq!(at(current(&minor)), Some((Step::OfferAcceptance, HOUR)), "staff see the earliest");
        assert_eq!(at(for_partner(&minor)), Some((Step::Match, 48 * HOUR)), "a partner the tier's limit only");
        let reported =
            DeadlineFacts { mandated: Mandated::Reported { written_due: Some(RECEIVED + 2 * HOUR) }, ..minor };
        assert_eq!(for_partner(&reported), for_partner(&minor), "nothing tells whether a report was filed");
        let no_offer = DeadlineFacts { pending_offer_deadline: None, ..minor };
        assert_eq!(at(current(&no_offer)), Some((Step::MandatedReport, 36 * HOUR)), "staff: the report first");
        assert_eq!(at(for_partner(&no_offer)), Some((Step::Match, 48 * HOUR)), "a partner: never the report's");
        let contacted = DeadlineFacts { first_contact: true, ..facts(TriageTier::Emergent) };
        assert_eq!(at(for_partner(&contacted)), Some((Step::EmergentContact, 90 * 60_000_000)), "nor a contact");
        assert_eq!(for_partner(&DeadlineFacts { matched: true, ..minor }), None, "matched");
        for status in [ReferralStatus::OnHold, ReferralStatus::Assigned, ReferralStatus::Closed] {
            assert_eq!(for_partner(&DeadlineFacts { status, ..minor }), None, "{status:?}");
        }
        assert_eq!(for_partner(&facts(TriageTier::Unspecified)), None, "not triaged: no limit yet");
    }

    #[test]
    fn a_passed_deadline_stays_until_its_step_is_done() {
        // Nothing here reads a clock: a deadline in the past is still the deadline.
        let old = DeadlineFacts { received_at: 0, ..facts(TriageTier::Urgent) };
        assert_eq!(current(&old).map(|d| d.at), Some(24 * HOUR));
    }
}
