//! What the submitter of a referral (a hotline, a submitting partner) sees of its progress.
//! DESIGN.md privacy rule 2: a hotline "sees the status of what it submitted", a partner "the status
//! of the referrals it submitted" — the referral, not the youth's case. So the submitter follows the
//! referral while it is in intake's hands and stops at the hand-off, the moment it leaves them:
//! - a case manager owns the youth's case (`assigned_at`), or the youth was first reached
//!   (`first_contact_at`, before any assignment was recorded): shown as ASSIGNED;
//! - the youth enrolled (`enrolled_at`), the case closed (`case_closed`), or staff closed the
//!   referral (`staff_closed`), before either: shown as CLOSED.
//!
//! Whether and how the referral was handed off is decided from those facts ([`handed_off_by`]) when
//! intake records the event (or staff step) that first makes them true, and kept with the number of
//! the history entry that recorded it ([`HandOff`]). The submitter's history ([`view`]) is the
//! entries recorded before that one, in the order intake recorded them (never by the instant an event
//! announced: a case may announce a back-dated instant, a stage change an earlier `effective_at`),
//! then the hand-off itself, and nothing after: no enrollment, youth missing or found, reassignment,
//! case closure, reopening, hold or staff closure. No date shown is before the referral was received.
//!
//! What a submitting partner reads of the referral itself is what it submitted ([`partner_record`]):
//! the coded record as intake stored it at submission, never a later staff triage, correction or
//! screening, and of its screenings only those it submitted with the referral, naming a screener
//! only when the screening names the partner's own organization.

use wf_proto::intake::v1::{self as pb, ReferralStatus};

use super::progress::Facts;

/// The fact that took the referral out of intake's hands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandOffBy {
    /// A case manager owns the youth's case.
    Assigned,
    /// The youth was first reached before an assignment was recorded.
    FirstContact,
    /// The youth enrolled before either.
    Enrolled,
    /// The youth's case closed before any of these.
    CaseClosed,
    /// Staff closed the referral while it was in intake's hands.
    StaffClosed,
}

impl HandOffBy {
    const ALL: [HandOffBy; 5] = [
        HandOffBy::Assigned,
        HandOffBy::FirstContact,
        HandOffBy::Enrolled,
        HandOffBy::CaseClosed,
        HandOffBy::StaffClosed,
    ];

    /// The code stored for it.
    pub fn code(self) -> &'static str {
        match self {
            HandOffBy::Assigned => "assigned",
            HandOffBy::FirstContact => "first_contact",
            HandOffBy::Enrolled => "enrolled",
            HandOffBy::CaseClosed => "case_closed",
            HandOffBy::StaffClosed => "staff_closed",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|by| by.code() == code)
    }

    /// The status the submitter is shown from the hand-off on: ASSIGNED or CLOSED.
    pub fn status(self) -> ReferralStatus {
        match self {
            HandOffBy::Assigned | HandOffBy::FirstContact => ReferralStatus::Assigned,
            HandOffBy::Enrolled | HandOffBy::CaseClosed | HandOffBy::StaffClosed => ReferralStatus::Closed,
        }
    }
}

/// Whether the facts (and a staff closure) have taken the referral out of intake's hands, and by
/// which fact. Every fact it reads only moves forward, except the case's closure, which a reopening
/// takes back: that is why the hand-off is kept once found ([`HandOff`]) rather than asked again.
pub fn handed_off_by(facts: &Facts, staff_closed: bool) -> Option<HandOffBy> {
    if facts.assigned_at.is_some() {
        Some(HandOffBy::Assigned)
    } else if facts.first_contact_at.is_some() {
        Some(HandOffBy::FirstContact)
    } else if facts.enrolled_at.is_some() {
        Some(HandOffBy::Enrolled)
    } else if facts.case.as_ref().is_some_and(|case| case.closed.is_some()) {
        Some(HandOffBy::CaseClosed)
    } else if staff_closed {
        Some(HandOffBy::StaffClosed)
    } else {
        None
    }
}

/// The hand-off as recorded: by which fact, when (the instant of the event or step that recorded
/// it), the number of the history entry that recorded it, and when the referral was matched if it
/// was by then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandOff {
    pub by: HandOffBy,
    pub at: i64,
    pub seq: i64,
    pub matched_at: Option<i64>,
}

/// One history entry as stored: its number in intake's recording order, its status, its instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub seq: i64,
    pub status: i32,
    pub at: i64,
}

/// What the submitter sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// The hand-off's status once handed off, else the referral's current status.
    pub status: i32,
    /// (status, at) in recording order: the entries before the hand-off, then the hand-off.
    pub history: Vec<(i32, i64)>,
    /// When the referral was matched, if it was before the hand-off.
    pub matched_at: Option<i64>,
    /// Staff closed the referral while it was in intake's hands: its closure reason is the
    /// submitter's to know (a closure by the case, or any closure after the hand-off, is not).
    pub closure_shown: bool,
}

/// The submitter's view of a referral received at `received_at`, whose status is `current`, matched
/// at `matched_at`, with history `entries` (any order) and the hand-off `hand_off` when there was one.
pub fn view(
    current: i32,
    received_at: i64,
    matched_at: Option<i64>,
    entries: &[Entry],
    hand_off: Option<&HandOff>,
) -> View {
    let mut entries = entries.to_vec();
    entries.sort_by_key(|entry| entry.seq);
    let shown_at = |at: i64| at.max(received_at);
    let before = |entry: &&Entry| hand_off.is_none_or(|hand_off| entry.seq < hand_off.seq);
    let mut history: Vec<(i32, i64)> =
        entries.iter().filter(before).map(|entry| (entry.status, shown_at(entry.at))).collect();
    match hand_off {
        Some(hand_off) => {
            let status = hand_off.by.status() as i32;
            history.push((status, shown_at(hand_off.at)));
            View {
                status,
                history,
                matched_at: hand_off.matched_at.map(shown_at),
                closure_shown: hand_off.by == HandOffBy::StaffClosed,
            }
        }
        None => View { status: current, history, matched_at: matched_at.map(shown_at), closure_shown: false },
    }
}

/// The coded record a submitting partner (`partner`, its organization) reads: `submitted`, the record
/// as intake stored it at submission, without a personal part, keeping only the screenings whose ids
/// are in `submitted_screenings` (those that came with the submission: a record stored before intake
/// kept the submission apart holds later ones too), each through [`partner_screening`].
pub fn partner_record(mut submitted: pb::Referral, submitted_screenings: &[String], partner: &str) -> pb::Referral {
    submitted.personal = None;
    submitted.screenings.retain(|screening| submitted_screenings.contains(&screening.screening_id));
    for screening in &mut submitted.screenings {
        *screening = partner_screening(std::mem::take(screening), partner);
    }
    submitted
}

/// A screening as a submitting partner (`partner`) is shown it: the screener (`screener_id`,
/// `screener_organization_id`) only when the screening names the partner's own organization, never
/// anyone else's screener.
pub fn partner_screening(mut screening: pb::Screening, partner: &str) -> pb::Screening {
    if partner.is_empty() || screening.screener_organization_id != partner {
        screening.screener_id.clear();
        screening.screener_organization_id.clear();
    }
    screening
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::progress::CaseTrack;
    use ReferralStatus as S;

    const RECEIVED: i64 = 1_000;

    /// Entries numbered 1.. in the order given, each with its instant.
    fn entries(steps: &[(S, i64)]) -> Vec<Entry> {
        steps.iter().zip(1..).map(|(&(status, at), seq)| Entry { seq, status: status as i32, at }).collect()
    }

    fn statuses(view: &View) -> Vec<S> {
        view.history.iter().map(|(status, _)| S::try_from(*status).unwrap_or(S::Unspecified)).collect()
    }

    fn hand_off(by: HandOffBy, seq: i64, at: i64) -> HandOff {
        HandOff { by, at, seq, matched_at: None }
    }

    #[test]
    fn before_the_hand_off_the_submitter_sees_the_status_and_every_entry_in_recording_order() {
        // recorded in this order, the escalation announced with an instant before the decline's
        let recorded = entries(&[
            (S::Received, RECEIVED),
            (S::Routed, 1_100),
            (S::Offered, 1_200),
            (S::Declined, 1_400),
            (S::Escalated, 1_300),
        ]);
        let mut shuffled = recorded.clone();
        shuffled.reverse();
        let seen = view(S::Escalated as i32, RECEIVED, None, &shuffled, None);
        assert_eq!(seen.status, S::Escalated as i32);
        assert_eq!(statuses(&seen), [S::Received, S::Routed, S::Offered, S::Declined, S::Escalated]);
        assert_eq!(seen.history.last(), Some(&(S::Escalated as i32, 1_300)));
        assert!(!seen.closure_shown);
    }

    #[test]
    fn the_view_stops_at_the_hand_off_and_shows_nothing_after() {
        // assigned (entry 4), then accepted, enrolled, reassigned, closed, reopened
        let recorded = entries(&[
            (S::Received, RECEIVED),
            (S::Routed, 1_100),
            (S::Offered, 1_200),
            (S::Assigned, 1_300),
            (S::Accepted, 1_400),
            (S::Closed, 1_500),
            (S::Assigned, 1_600),
            (S::Closed, 1_700),
            (S::Engagement, 1_800),
        ]);
        let seen = view(
            S::Engagement as i32,
            RECEIVED,
            Some(1_400),
            &recorded,
            Some(&hand_off(HandOffBy::Assigned, 4, 1_300)),
        );
        assert_eq!(seen.status, S::Assigned as i32, "the status stays the hand-off's");
        assert_eq!(
            seen.history,
            [
                (S::Received as i32, RECEIVED),
                (S::Routed as i32, 1_100),
                (S::Offered as i32, 1_200),
                (S::Assigned as i32, 1_300)
            ]
        );
        assert_eq!(seen.matched_at, None, "matched after the hand-off");
        assert!(!seen.closure_shown);
    }

    #[test]
    fn a_back_dated_event_after_the_hand_off_does_not_move_the_cut() {
        // the case's closure, recorded after the assignment, announces an instant before everything
        let recorded =
            entries(&[(S::Received, RECEIVED), (S::Routed, 1_100), (S::Assigned, 1_300), (S::Closed, 1_050)]);
        let seen = view(S::Closed as i32, RECEIVED, None, &recorded, Some(&hand_off(HandOffBy::Assigned, 3, 1_300)));
        assert_eq!(statuses(&seen), [S::Received, S::Routed, S::Assigned]);
        assert_eq!(seen.status, S::Assigned as i32);
        // and one recorded before it, dated after it, is still before it
        let recorded = entries(&[(S::Received, RECEIVED), (S::Routed, 2_000), (S::Assigned, 1_300)]);
        let seen = view(S::Assigned as i32, RECEIVED, None, &recorded, Some(&hand_off(HandOffBy::Assigned, 3, 1_300)));
        assert_eq!(
            seen.history,
            [(S::Received as i32, RECEIVED), (S::Routed as i32, 2_000), (S::Assigned as i32, 1_300)]
        );
    }

    #[test]
    fn no_date_shown_is_before_receipt() {
        let recorded = entries(&[(S::Received, RECEIVED), (S::Routed, 10), (S::Assigned, 20)]);
        let seen = view(
            S::Closed as i32,
            RECEIVED,
            Some(5),
            &recorded,
            Some(&HandOff { matched_at: Some(5), ..hand_off(HandOffBy::Assigned, 3, 20) }),
        );
        assert!(seen.history.iter().all(|(_, at)| *at >= RECEIVED), "{:?}", seen.history);
        assert_eq!(seen.matched_at, Some(RECEIVED));
        let before = view(S::Routed as i32, RECEIVED, Some(5), &recorded[..2], None);
        assert!(before.history.iter().all(|(_, at)| *at >= RECEIVED));
        assert_eq!(before.matched_at, Some(RECEIVED));
    }

    #[test]
    fn a_first_contact_reads_as_assigned_and_closures_as_closed() {
        let recorded = entries(&[(S::Received, RECEIVED), (S::Accepted, 1_100), (S::Engagement, 1_200)]);
        let seen = view(
            S::Engagement as i32,
            RECEIVED,
            Some(1_100),
            &recorded,
            Some(&HandOff { matched_at: Some(1_100), ..hand_off(HandOffBy::FirstContact, 3, 1_200) }),
        );
        assert_eq!(statuses(&seen), [S::Received, S::Accepted, S::Assigned]);
        assert_eq!((seen.status, seen.matched_at), (S::Assigned as i32, Some(1_100)), "matched before the hand-off");
        for by in [HandOffBy::Enrolled, HandOffBy::CaseClosed, HandOffBy::StaffClosed] {
            let seen = view(S::Closed as i32, RECEIVED, None, &recorded[..2], Some(&hand_off(by, 3, 1_200)));
            assert_eq!(seen.status, S::Closed as i32, "{by:?}");
            assert_eq!(
                seen.closure_shown,
                by == HandOffBy::StaffClosed,
                "only a staff closure in intake's hands: {by:?}"
            );
        }
    }

    #[test]
    fn a_submitting_partner_reads_what_it_submitted_and_only_its_own_screeners() {
        const OWN: &str = "org_0193a1b2c3d4e5f60718293a4b5c6d01";
        let screening = |id: &str, organization: &str| pb::Screening {
            screening_id: id.into(),
            screener_id: "usr_0193a1b2c3d4e5f60718293a4b5c6d02".into(),
            screener_organization_id: organization.into(),
            score: 3,
            ..Default::default()
        };
        let stored = pb::Referral {
            needs: vec!["emergency_shelter".into()],
            personal: Some(pb::PersonalDetails { legal_first_name: "Demo".into(), ..Default::default() }),
            screenings: vec![
                screening("scr_own", OWN),
                screening("scr_cast", "org_0193a1b2c3d4e5f60718293a4b5c6d03"),
                screening("scr_later", OWN),
                screening("scr_none", ""),
            ],
            ..Default::default()
        };
        let submitted: Vec<String> = ["scr_own", "scr_cast", "scr_none"].map(String::from).to_vec();
        let read = partner_record(stored.clone(), &submitted, OWN);
        assert_eq!(read.personal, None);
        assert_eq!(read.needs, stored.needs);
        let shown: Vec<(&str, &str, &str, i32)> = read
            .screenings
            .iter()
            .map(|s| (s.screening_id.as_str(), s.screener_id.as_str(), s.screener_organization_id.as_str(), s.score))
            .collect();
        assert_eq!(
            shown,
            [
                ("scr_own", "usr_0193a1b2c3d4e5f60718293a4b5c6d02", OWN, 3),
                ("scr_cast", "", "", 3),
                ("scr_none", "", "", 3),
            ],
            "only the submitted screenings, another organization's screener cleared"
        );
        let nobody = partner_screening(screening("scr_x", ""), "");
        assert_eq!((nobody.screener_id.as_str(), nobody.screener_organization_id.as_str()), ("", ""));
    }

    #[test]
    fn the_hand_off_comes_from_the_facts() {
        let none = Facts::default();
        assert_eq!(handed_off_by(&none, false), None);
        assert_eq!(handed_off_by(&Facts { matched_at: Some(1), ..none.clone() }, false), None, "an acceptance is not");
        let reopened = Facts { case: Some(CaseTrack { closed: None, at: 1, event_id: "e".into() }), ..none.clone() };
        assert_eq!(handed_off_by(&reopened, false), None, "a reopening without a case manager is not");
        let closed = Facts { case: Some(CaseTrack { closed: Some(1), at: 1, event_id: "e".into() }), ..none.clone() };
        assert_eq!(handed_off_by(&closed, false), Some(HandOffBy::CaseClosed));
        assert_eq!(handed_off_by(&Facts { enrolled_at: Some(1), ..none.clone() }, false), Some(HandOffBy::Enrolled));
        assert_eq!(
            handed_off_by(&Facts { first_contact_at: Some(1), ..none.clone() }, false),
            Some(HandOffBy::FirstContact)
        );
        assert_eq!(handed_off_by(&Facts { assigned_at: Some(1), ..closed }, true), Some(HandOffBy::Assigned));
        assert_eq!(handed_off_by(&none, true), Some(HandOffBy::StaffClosed));
        for by in HandOffBy::ALL {
            assert_eq!(HandOffBy::from_code(by.code()), Some(by));
        }
        assert_eq!(HandOffBy::from_code("pizza"), None);
    }
}
