//! The referral time limits routing watches (DESIGN.md "Time limits the workflow enforces"): an
//! emergent referral needs a first advocate contact within 90 minutes of being received; an urgent
//! one an accepted offer within 24 hours, a routine one within 48 hours (being matched to a provider
//! is a partner accepting the offer). One limit is in force at a time, the one of the referral's
//! tier now, always counted from receipt (as intake shows it), so a re-triage changes which limit
//! and when it falls due, never where the count starts.
//!
//! These are the program's rules, not the routing policy's offer windows (`[deadlines]`), which
//! say how long one partner has to answer one offer.

use chrono::{DateTime, Duration, Utc};
use wf_proto::common::v1::TriageTier;
use wf_proto::routing::v1::EscalationReason;

use super::effective_tier;

/// Emergent: from receipt to the first advocate contact.
pub const EMERGENT_CONTACT: Duration = Duration::minutes(90);
/// Urgent: from receipt to an accepted offer.
pub const URGENT_MATCH: Duration = Duration::hours(24);
/// Routine: from receipt to an accepted offer.
pub const ROUTINE_MATCH: Duration = Duration::hours(48);

/// What has to happen by the time limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    /// A contact attempt that reached the youth.
    Contact,
    /// A partner accepting an offer.
    Match,
}

impl LimitKind {
    /// The escalation raised when the limit is missed.
    pub fn escalation_reason(self) -> EscalationReason {
        match self {
            Self::Contact => EscalationReason::EmergentContactOverdue,
            Self::Match => EscalationReason::MatchDeadlineMissed,
        }
    }

    /// Lower snake_case code, as stored.
    pub fn code(self) -> &'static str {
        match self {
            Self::Contact => "contact",
            Self::Match => "match",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Contact, Self::Match].into_iter().find(|kind| kind.code() == code)
    }
}

/// A time limit in force: what has to happen, by when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeLimit {
    pub kind: LimitKind,
    /// The last instant at which it is still in time.
    pub due: DateTime<Utc>,
}

/// The limit a referral of `tier` received at `received_at` is held to (an unspecified tier is
/// routine, as routing decides it).
pub fn time_limit(tier: TriageTier, received_at: DateTime<Utc>) -> TimeLimit {
    match effective_tier(tier) {
        TriageTier::Emergent => TimeLimit { kind: LimitKind::Contact, due: received_at + EMERGENT_CONTACT },
        TriageTier::Urgent => TimeLimit { kind: LimitKind::Match, due: received_at + URGENT_MATCH },
        _ => TimeLimit { kind: LimitKind::Match, due: received_at + ROUTINE_MATCH },
    }
}

/// What routing knows of one referral's progress against its limit.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferralProgress {
    /// The tier in force (the latest triage, else the one received).
    pub tier: TriageTier,
    pub received_at: DateTime<Utc>,
    /// When the earliest contact attempt that reached the youth was made.
    pub first_contact_at: Option<DateTime<Utc>>,
    /// When a partner first accepted an offer of the referral.
    pub accepted_at: Option<DateTime<Utc>>,
    /// When intake closed the referral.
    pub closed_at: Option<DateTime<Utc>>,
}

/// Where a referral stands against its limit at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitState {
    /// Not due yet.
    Running(TimeLimit),
    /// What the limit asks for happened in time.
    Met(TimeLimit),
    /// Staff closed the referral before it happened: nothing is owed any more, and nothing is
    /// escalated, even when the limit had passed before the closure (nobody works the referral
    /// now; whether the limit was met is the evaluation's to count, from the events).
    Closed(TimeLimit),
    /// The limit passed without it: the referral is escalated.
    Missed(TimeLimit),
}

/// Where `progress` stands at `now`. It is in time up to and including the due instant; something
/// that happened after it does not undo the miss. A referral closed (by the time it is looked at)
/// owes nothing more, so a miss is escalated only while the referral is open.
pub fn assess(progress: &ReferralProgress, now: DateTime<Utc>) -> LimitState {
    let limit = time_limit(progress.tier, progress.received_at);
    let done_at = match limit.kind {
        LimitKind::Contact => progress.first_contact_at,
        LimitKind::Match => progress.accepted_at,
    };
    if done_at.is_some_and(|at| at <= limit.due) {
        LimitState::Met(limit)
    } else if progress.closed_at.is_some() {
        LimitState::Closed(limit)
    } else if now <= limit.due {
        LimitState::Running(limit)
    } else {
        LimitState::Missed(limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received() -> DateTime<Utc> {
        DateTime::from_timestamp(1_767_225_600, 0).expect("2026-01-01")
    }

    fn progress(tier: TriageTier) -> ReferralProgress {
        ReferralProgress { tier, received_at: received(), first_contact_at: None, accepted_at: None, closed_at: None }
    }

    #[test]
    fn each_tier_has_its_limit_counted_from_receipt() {
        assert_eq!(
            time_limit(TriageTier::Emergent, received()),
            TimeLimit { kind: LimitKind::Contact, due: received() + Duration::minutes(90) }
        );
        assert_eq!(
            time_limit(TriageTier::Urgent, received()),
            TimeLimit { kind: LimitKind::Match, due: received() + Duration::hours(24) }
        );
        assert_eq!(
            time_limit(TriageTier::Routine, received()),
            TimeLimit { kind: LimitKind::Match, due: received() + Duration::hours(48) }
        );
        assert_eq!(time_limit(TriageTier::Unspecified, received()), time_limit(TriageTier::Routine, received()));
        assert_eq!(LimitKind::Contact.escalation_reason(), EscalationReason::EmergentContactOverdue);
        assert_eq!(LimitKind::Match.escalation_reason(), EscalationReason::MatchDeadlineMissed);
        for kind in [LimitKind::Contact, LimitKind::Match] {
            assert_eq!(LimitKind::from_code(kind.code()), Some(kind));
        }
    }

    #[test]
    fn an_emergent_referral_is_missed_one_instant_after_ninety_minutes_without_contact() {
        let emergent = progress(TriageTier::Emergent);
        let due = received() + Duration::minutes(90);
        assert_eq!(assess(&emergent, due), LimitState::Running(time_limit(TriageTier::Emergent, received())));
        let missed = assess(&emergent, due + Duration::microseconds(1));
        assert_eq!(missed, LimitState::Missed(TimeLimit { kind: LimitKind::Contact, due }));
    }

    #[test]
    fn a_contact_in_time_meets_the_limit_and_a_late_one_does_not() {
        let due = received() + Duration::minutes(90);
        let in_time = ReferralProgress { first_contact_at: Some(due), ..progress(TriageTier::Emergent) };
        assert!(matches!(assess(&in_time, due + Duration::hours(5)), LimitState::Met(_)));
        // Met before the limit passed: nothing can undo it.
        assert!(matches!(assess(&in_time, due - Duration::minutes(1)), LimitState::Met(_)));
        let late = ReferralProgress { first_contact_at: Some(due + Duration::seconds(1)), ..in_time.clone() };
        assert!(matches!(assess(&late, due + Duration::hours(5)), LimitState::Missed(_)));
        // An accepted offer is not a contact.
        let accepted = ReferralProgress { accepted_at: Some(received()), ..progress(TriageTier::Emergent) };
        assert!(matches!(assess(&accepted, due + Duration::seconds(1)), LimitState::Missed(_)));
    }

    #[test]
    fn urgent_and_routine_referrals_need_an_accepted_offer_not_a_contact() {
        let urgent_due = received() + Duration::hours(24);
        let contacted = ReferralProgress { first_contact_at: Some(received()), ..progress(TriageTier::Urgent) };
        assert!(matches!(assess(&contacted, urgent_due + Duration::seconds(1)), LimitState::Missed(_)));
        let accepted = ReferralProgress { accepted_at: Some(urgent_due), ..progress(TriageTier::Urgent) };
        assert!(matches!(assess(&accepted, urgent_due + Duration::seconds(1)), LimitState::Met(_)));

        let routine =
            ReferralProgress { accepted_at: Some(received() + Duration::hours(30)), ..progress(TriageTier::Routine) };
        assert!(matches!(assess(&routine, received() + Duration::hours(49)), LimitState::Met(_)));
        let still_waiting = progress(TriageTier::Routine);
        assert!(matches!(assess(&still_waiting, received() + Duration::hours(47)), LimitState::Running(_)));
        assert!(matches!(assess(&still_waiting, received() + Duration::hours(49)), LimitState::Missed(_)));
    }

    #[test]
    fn a_closed_referral_owes_nothing_even_when_closed_after_its_limit() {
        let due = received() + Duration::hours(48);
        let closed =
            ReferralProgress { closed_at: Some(received() + Duration::hours(2)), ..progress(TriageTier::Routine) };
        assert!(matches!(assess(&closed, due + Duration::hours(1)), LimitState::Closed(_)));
        assert!(matches!(assess(&closed, received() + Duration::hours(3)), LimitState::Closed(_)));
        // Closed after the limit passed, before anyone looked: nobody works it now, nothing to escalate.
        let closed_late =
            ReferralProgress { closed_at: Some(due + Duration::hours(1)), ..progress(TriageTier::Routine) };
        assert!(matches!(assess(&closed_late, due + Duration::hours(2)), LimitState::Closed(_)));
        // Still open when looked at after the limit: missed.
        assert!(matches!(assess(&progress(TriageTier::Routine), due + Duration::hours(2)), LimitState::Missed(_)));
        // Met in time and closed later: met.
        let met = ReferralProgress { accepted_at: Some(due), ..closed_late };
        assert!(matches!(assess(&met, due + Duration::hours(2)), LimitState::Met(_)));
    }

    #[test]
    fn a_re_triage_changes_the_limit_but_not_where_it_counts_from() {
        // Routine for 10 hours, then emergent: the 90 minutes from receipt are long gone.
        let now = received() + Duration::hours(10);
        assert!(matches!(assess(&progress(TriageTier::Routine), now), LimitState::Running(_)));
        let upgraded = assess(&progress(TriageTier::Emergent), now);
        assert_eq!(
            upgraded,
            LimitState::Missed(TimeLimit { kind: LimitKind::Contact, due: received() + Duration::minutes(90) })
        );
        // Emergent, then urgent after an hour without contact: now the 24-hour match limit runs.
        let downgraded = progress(TriageTier::Urgent);
        assert!(matches!(assess(&downgraded, received() + Duration::hours(2)), LimitState::Running(_)));
    }
}
