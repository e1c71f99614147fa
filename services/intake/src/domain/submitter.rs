//! What the submitter of a referral (a hotline, a submitting partner) sees of its progress. DESIGN.md
//! privacy rule 2: a hotline "sees the status of what it submitted", a partner "the status of the
//! referrals it submitted" — the referral, not the youth's case. So the status and history a
//! submitter sees stop when the referral leaves intake's hands: at the first hand-off entry, ASSIGNED
//! (a case manager owns the youth's case) or CLOSED (staff closed it, or its case closed or the
//! youth enrolled before any assignment was recorded). ENGAGEMENT reached first (a first contact
//! recorded before the assignment) is a hand-off too and is shown as ASSIGNED: whether the youth was
//! reached is the case's, not the submitter's. Nothing after the hand-off is shown — no enrollment,
//! no youth missing or found, no reassignment, no closure, no reopening — and the status stays the
//! hand-off's. A referral not yet handed off shows its current status and whole history.

use wf_proto::intake::v1::ReferralStatus;

/// The statuses that take a referral out of intake's hands.
pub const HAND_OFF: [ReferralStatus; 3] =
    [ReferralStatus::Assigned, ReferralStatus::Engagement, ReferralStatus::Closed];

/// Whether `status` (a `ReferralStatus` number) hands the referral off.
pub fn is_hand_off(status: i32) -> bool {
    HAND_OFF.iter().any(|s| *s as i32 == status)
}

/// The status a submitter is shown for a hand-off entry's `status`: ENGAGEMENT reads ASSIGNED.
pub fn shown(status: i32) -> i32 {
    if status == ReferralStatus::Engagement as i32 { ReferralStatus::Assigned as i32 } else { status }
}

/// What the submitter sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// The status shown: the hand-off's once handed off, else the current one.
    pub status: i32,
    /// (status, at) oldest first, up to and including the hand-off.
    pub history: Vec<(i32, i64)>,
    /// When the referral left intake's hands, if it did.
    pub handed_off_at: Option<i64>,
    /// The referral was closed while in intake's hands and nothing happened since: its closure
    /// reason is the submitter's to know.
    pub closed_in_intake: bool,
}

/// The submitter's view of a referral whose status is `current` and whose history (status, at) is
/// `history`, oldest first.
pub fn view(current: i32, history: &[(i32, i64)]) -> View {
    match history.iter().position(|(status, _)| is_hand_off(*status)) {
        Some(cut) => {
            let (status, at) = history[cut];
            View {
                status: shown(status),
                history: history[..=cut].iter().map(|&(status, at)| (shown(status), at)).collect(),
                handed_off_at: Some(at),
                closed_in_intake: status == ReferralStatus::Closed as i32
                    && cut + 1 == history.len()
                    && current == ReferralStatus::Closed as i32,
            }
        }
        None => View { status: current, history: history.to_vec(), handed_off_at: None, closed_in_intake: false },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReferralStatus as S;

    fn entries(statuses: &[S]) -> Vec<(i32, i64)> {
        statuses.iter().enumerate().map(|(i, s)| (*s as i32, i as i64 * 10)).collect()
    }

    #[test]
    fn before_the_hand_off_the_submitter_sees_everything() {
        let history = entries(&[S::Received, S::Triaged, S::Routed, S::Offered, S::Declined, S::Escalated]);
        let seen = view(S::Escalated as i32, &history);
        assert_eq!(seen, View { status: S::Escalated as i32, history, handed_off_at: None, closed_in_intake: false });
    }

    #[test]
    fn the_view_stops_at_the_first_assignment() {
        let history = entries(&[S::Received, S::Routed, S::Offered, S::Assigned, S::Engagement, S::Closed]);
        let seen = view(S::Closed as i32, &history);
        assert_eq!(seen.status, S::Assigned as i32);
        assert_eq!(seen.history, history[..4].to_vec());
        assert_eq!((seen.handed_off_at, seen.closed_in_intake), (Some(30), false));
        let held = view(S::OnHold as i32, &entries(&[S::Received, S::Assigned, S::OnHold]));
        assert_eq!(held.status, S::Assigned as i32, "a hold after the hand-off is the case's");
    }

    #[test]
    fn a_first_contact_before_the_assignment_reads_as_assigned() {
        let seen = view(S::Engagement as i32, &entries(&[S::Received, S::Accepted, S::Engagement]));
        assert_eq!(seen.status, S::Assigned as i32);
        assert_eq!(seen.history.last(), Some(&(S::Assigned as i32, 20)));
    }

    #[test]
    fn a_closure_in_intakes_hands_is_shown_with_its_reason_until_anything_follows() {
        let closed = view(S::Closed as i32, &entries(&[S::Received, S::Closed]));
        assert_eq!((closed.status, closed.closed_in_intake), (S::Closed as i32, true));
        let reopened = view(S::Assigned as i32, &entries(&[S::Received, S::Closed, S::Assigned]));
        assert_eq!((reopened.status, reopened.closed_in_intake), (S::Closed as i32, false));
        assert_eq!(reopened.history.len(), 2);
    }
}
