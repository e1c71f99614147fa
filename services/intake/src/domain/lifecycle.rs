//! The staff-driven steps of a referral's lifecycle (DOMAIN.md): triage, hold and resume, closure.
//! Routing and cases move the rest (routed, offered, accepted, assigned, engagement, closed by the
//! case …) through their events (`super::progress`).
//!
//! `received → triaged → routed → offered → accepted | declined | expired → … → closed`; a referral
//! can be put on hold (e.g. while the youth is missing) from any open status and resumes to where it
//! was; a closed referral is final.

use chrono::{DateTime, Utc};
use wf_proto::common::v1::TriageTier;
use wf_proto::intake::v1::{ReferralClosureReason, ReferralStatus};

/// A change staff ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Triage,
    Hold,
    Resume,
    Close,
}

impl Step {
    fn describe(self) -> &'static str {
        match self {
            Step::Triage => "triage",
            Step::Hold => "put on hold",
            Step::Resume => "resume",
            Step::Close => "close",
        }
    }
}

/// A refused step, naming the current status and what is allowed from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub step: Step,
    pub current: ReferralStatus,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot {} a referral that is {}; allowed from {}: {}",
            self.step.describe(),
            status_name(self.current),
            status_name(self.current),
            allowed_steps(self.current)
        )
    }
}

/// "TRIAGED" for `REFERRAL_STATUS_TRIAGED`.
pub fn status_name(status: ReferralStatus) -> &'static str {
    let name = status.as_str_name();
    name.strip_prefix("REFERRAL_STATUS_").unwrap_or(name)
}

/// What staff may do from `status`, for messages.
pub fn allowed_steps(status: ReferralStatus) -> &'static str {
    match status {
        ReferralStatus::Closed => "nothing (a closed referral is final)",
        ReferralStatus::OnHold => "resume (SetReferralHold with on_hold false) or close",
        ReferralStatus::Received => "triage, put on hold or close",
        _ => "triage (changes the tier), put on hold or close",
    }
}

/// The status after `step` from `current`. `resume_to` is the status saved when the hold began.
pub fn next_status(
    current: ReferralStatus,
    step: Step,
    resume_to: Option<ReferralStatus>,
) -> Result<ReferralStatus, Refusal> {
    let refuse = || Refusal { step, current };
    match (current, step) {
        (ReferralStatus::Closed, _) => Err(refuse()),
        (ReferralStatus::OnHold, Step::Resume) => Ok(resume_to.unwrap_or(ReferralStatus::Received)),
        (ReferralStatus::OnHold, Step::Close) => Ok(ReferralStatus::Closed),
        (ReferralStatus::OnHold, _) => Err(refuse()),
        (_, Step::Resume) => Err(refuse()),
        (ReferralStatus::Received, Step::Triage) => Ok(ReferralStatus::Triaged),
        (other, Step::Triage) => Ok(other),
        (_, Step::Hold) => Ok(ReferralStatus::OnHold),
        (_, Step::Close) => Ok(ReferralStatus::Closed),
    }
}

/// Closure reasons staff may give; `PRACTICE_PURGED` is the purge's own.
pub fn closable_with(reason: ReferralClosureReason) -> bool {
    !matches!(reason, ReferralClosureReason::Unspecified | ReferralClosureReason::PracticePurged)
}

/// The time limit a tier sets (DESIGN.md "Time limits", [`super::deadline::tier_window`]):
/// emergent — advocate contact within 90 minutes; urgent — offer accepted within 24 hours; routine —
/// matched within 48 hours; counted from when the referral was received.
pub fn tier_deadline(tier: TriageTier, received_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    super::deadline::tier_window(tier).map(|(_, window)| received_at + window)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triage_moves_received_to_triaged_and_keeps_later_statuses() {
        assert_eq!(next_status(ReferralStatus::Received, Step::Triage, None), Ok(ReferralStatus::Triaged));
        assert_eq!(next_status(ReferralStatus::Routed, Step::Triage, None), Ok(ReferralStatus::Routed));
        assert_eq!(next_status(ReferralStatus::Escalated, Step::Triage, None), Ok(ReferralStatus::Escalated));
    }

    #[test]
    fn hold_resume_returns_to_the_saved_status() {
        assert_eq!(next_status(ReferralStatus::Assigned, Step::Hold, None), Ok(ReferralStatus::OnHold));
        assert_eq!(
            next_status(ReferralStatus::OnHold, Step::Resume, Some(ReferralStatus::Routed)),
            Ok(ReferralStatus::Routed)
        );
        assert_eq!(next_status(ReferralStatus::OnHold, Step::Close, None), Ok(ReferralStatus::Closed));
    }

    #[test]
    fn refusals_name_the_current_status_and_what_is_allowed() {
        let closed = next_status(ReferralStatus::Closed, Step::Triage, None).unwrap_err();
        assert_eq!(
            closed.to_string(),
            "cannot triage a referral that is CLOSED; allowed from CLOSED: nothing (a closed referral is final)"
        );
        let held = next_status(ReferralStatus::OnHold, Step::Hold, None).unwrap_err();
        assert!(held.to_string().contains("is ON_HOLD; allowed from ON_HOLD: resume"), "{held}");
        let triage_on_hold = next_status(ReferralStatus::OnHold, Step::Triage, None).unwrap_err();
        assert_eq!(triage_on_hold.current, ReferralStatus::OnHold);
        let resume = next_status(ReferralStatus::Triaged, Step::Resume, None).unwrap_err();
        assert!(
            resume.to_string().starts_with("cannot resume a referral that is TRIAGED; allowed from TRIAGED: triage")
        );
        for step in [Step::Triage, Step::Hold, Step::Resume, Step::Close] {
            assert!(next_status(ReferralStatus::Closed, step, None).is_err(), "{step:?} after closure");
        }
    }

    #[test]
    fn staff_cannot_close_as_purged_or_without_a_reason() {
        assert!(closable_with(ReferralClosureReason::Missing));
        assert!(closable_with(ReferralClosureReason::Duplicate));
        assert!(!closable_with(ReferralClosureReason::PracticePurged));
        assert!(!closable_with(ReferralClosureReason::Unspecified));
    }

    #[test]
    fn tiers_set_their_deadlines() {
        use chrono::Duration;
        let received = DateTime::parse_from_rfc3339("2026-03-02T18:45:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(tier_deadline(TriageTier::Emergent, received), Some(received + Duration::minutes(90)));
        assert_eq!(tier_deadline(TriageTier::Urgent, received), Some(received + Duration::hours(24)));
        assert_eq!(tier_deadline(TriageTier::Routine, received), Some(received + Duration::hours(48)));
        assert_eq!(tier_deadline(TriageTier::Unspecified, received), None);
    }
}
