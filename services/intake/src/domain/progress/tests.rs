use wf_proto::cases::v1::{CaseClosureReason, CaseStage};
use wf_proto::intake::v1::{ReferralClosureReason, ReferralStatus};

use super::*;

/// Event ids in creation order: `id(1) < id(2) < …`, as UUIDv7 strings sort.
fn id(n: u32) -> String {
    format!("0193a1b2-c3d4-7e5f-8071-{n:012}")
}

fn event(n: u32, signal: Signal) -> Event {
    Event { event_id: id(n), at: i64::from(n) * 1_000_000, signal }
}

fn routed(n: u32) -> Event {
    event(n, Signal::Routed { partner_id: "org_a".into() })
}

fn made(n: u32, deadline: i64) -> Event {
    event(n, Signal::OfferMade { offer_id: format!("off_{n}"), partner_id: "org_a".into(), deadline: Some(deadline) })
}

fn accepted(n: u32) -> Event {
    event(n, Signal::OfferAccepted { offer_id: "off_2".into(), partner_id: "org_a".into() })
}

fn declined(n: u32) -> Event {
    event(
        n,
        Signal::OfferDeclined { offer_id: "off_2".into(), partner_id: "org_a".into(), reason: "no_capacity".into() },
    )
}

fn assigned(n: u32) -> Event {
    event(n, Signal::CaseAssigned { case_id: "case_1".into(), case_manager_id: "usr_1".into() })
}

fn escalated(n: u32, escalation_id: &str) -> Event {
    event(n, Signal::Escalated { escalation_id: escalation_id.into(), reason: "all_declined".into() })
}

fn resolved(n: u32, escalation_id: &str) -> Event {
    event(n, Signal::EscalationResolved { escalation_id: escalation_id.into(), resolution: "rerouted".into() })
}

fn closed(n: u32, reason: CaseClosureReason) -> Event {
    event(n, Signal::CaseClosed { case_id: "case_1".into(), reason: reason as i32 })
}

fn reopened(n: u32) -> Event {
    reopened_in(n, "usr_1", ReopenedEpisode::New)
}

fn reopened_in(n: u32, case_manager_id: &str, episode: ReopenedEpisode) -> Event {
    event(n, Signal::CaseReopened { case_id: "case_1".into(), case_manager_id: case_manager_id.into(), episode })
}

fn awaiting(n: u32) -> Event {
    event(n, Signal::CaseAwaitingAssignment { case_id: "case_2".into() })
}

fn fold(events: &[Event]) -> Facts {
    events.iter().fold(Facts::default(), |facts, event| apply(facts, event).0)
}

fn status_after(events: &[Event]) -> ReferralStatus {
    status(&fold(events)).status
}

#[test]
fn the_usual_flow_shows_each_step_the_referral_waits_on() {
    let mut events = vec![routed(1)];
    assert_eq!(status_after(&events), ReferralStatus::Routed);
    events.push(assigned(2)); // cases assigns as soon as the referral is routed
    events.push(made(3, 99));
    assert_eq!(status_after(&events), ReferralStatus::Offered, "the offer still waits although a case manager owns it");
    events.push(accepted(4));
    assert_eq!(status_after(&events), ReferralStatus::Assigned, "matched and owned");
    events.push(event(5, Signal::FirstContact { case_id: "case_1".into() }));
    assert_eq!(status_after(&events), ReferralStatus::Engagement);
    events.push(event(6, Signal::Enrolled { case_id: "case_1".into(), stage: CaseStage::Enrolled }));
    let derived = status(&fold(&events));
    assert_eq!(
        derived,
        Derived { status: ReferralStatus::Closed, closure: Some((ReferralClosureReason::Enrolled, 6_000_000)) }
    );
    assert_eq!(fold(&events).matched_at, Some(4_000_000), "matched when the offer was accepted");
}

#[test]
fn accepted_without_a_case_manager_is_accepted() {
    assert_eq!(status_after(&[routed(1), made(2, 99), accepted(3)]), ReferralStatus::Accepted);
}

#[test]
fn any_order_of_the_same_events_gives_the_same_facts() {
    let events = [routed(1), assigned(2), made(3, 99), accepted(4), escalated(5, "esc_1"), resolved(6, "esc_1")];
    let in_order = fold(&events);
    let mut reversed = events.to_vec();
    reversed.reverse();
    assert_eq!(fold(&reversed), in_order);
    // and twice over (redelivery)
    let twice: Vec<Event> = events.iter().chain(events.iter()).cloned().collect();
    assert_eq!(fold(&twice), in_order);
    assert_eq!(status(&in_order).status, ReferralStatus::Assigned);
}

#[test]
fn a_late_step_of_the_match_never_replaces_a_newer_one() {
    // declined, then routed again and offered to the next partner; the decline arrives last
    let facts = fold(&[routed(1), made(2, 50), routed(4), made(5, 90), declined(3)]);
    assert_eq!(status(&facts).status, ReferralStatus::Offered);
    assert_eq!(pending_offer_deadline(&facts), Some(90), "the newer offer's deadline");
    let facts = fold(&[routed(1), made(2, 50), declined(3)]);
    assert_eq!(status(&facts).status, ReferralStatus::Declined);
    assert_eq!(pending_offer_deadline(&facts), None, "no offer waits");
}

#[test]
fn a_late_offer_never_takes_back_an_acceptance() {
    let facts = fold(&[accepted(4), made(3, 99), routed(1)]);
    assert_eq!(status(&facts).status, ReferralStatus::Accepted);
    assert_eq!(pending_offer_deadline(&facts), None);
}

#[test]
fn an_open_escalation_shows_until_it_is_resolved_whichever_half_comes_first() {
    let facts = fold(&[routed(1), made(2, 50), declined(3), escalated(4, "esc_1")]);
    assert_eq!(status(&facts).status, ReferralStatus::Escalated);
    // resolved by a manual offer: the offer waits again
    let facts = fold(&[
        routed(1),
        made(2, 50),
        declined(3),
        escalated(4, "esc_1"),
        resolved(5, "esc_1"),
        routed(6),
        made(7, 80),
    ]);
    assert_eq!(status(&facts).status, ReferralStatus::Offered);
    // the resolution overtook the escalation
    assert_ne!(status_after(&[resolved(5, "esc_1"), escalated(4, "esc_1")]), ReferralStatus::Escalated);
    // two escalations, one resolved
    assert_eq!(
        status_after(&[escalated(1, "esc_1"), escalated(2, "esc_2"), resolved(3, "esc_1")]),
        ReferralStatus::Escalated
    );
    // an escalation after acceptance (emergent contact overdue) shows over the later steps
    assert_eq!(
        status_after(&[routed(1), made(2, 9), accepted(3), assigned(4), escalated(5, "esc_9")]),
        ReferralStatus::Escalated
    );
}

#[test]
fn a_resolved_escalation_with_nothing_else_returns_to_triaged() {
    let facts = Facts { triaged: true, ..Facts::default() };
    let (facts, entry) = apply(facts, &escalated(1, "esc_1"));
    assert_eq!(entry.status, ReferralStatus::Escalated);
    let (facts, entry) = apply(facts, &resolved(2, "esc_1"));
    assert_eq!((entry.status, status(&facts).status), (ReferralStatus::Triaged, ReferralStatus::Triaged));
    assert_eq!(entry.detail, "escalation esc_1 resolved rerouted");
}

#[test]
fn a_withdrawn_offer_is_routing_choosing_again() {
    let facts = fold(&[
        routed(1),
        made(2, 9),
        event(
            3,
            Signal::OfferWithdrawn {
                offer_id: "off_2".into(),
                partner_id: "org_a".into(),
                reason: "triage_changed".into(),
            },
        ),
    ]);
    assert_eq!(status(&facts).status, ReferralStatus::Routed);
    assert_eq!(pending_offer_deadline(&facts), None);
}

#[test]
fn an_expired_offer_then_an_escalation() {
    let expired = event(3, Signal::OfferExpired { offer_id: "off_2".into(), partner_id: "org_a".into() });
    assert_eq!(status_after(&[routed(1), made(2, 9), expired.clone()]), ReferralStatus::Expired);
    assert_eq!(status_after(&[routed(1), made(2, 9), expired, escalated(4, "esc_1")]), ReferralStatus::Escalated);
}

#[test]
fn first_contact_before_the_match_waits_for_the_match() {
    let contact = event(3, Signal::FirstContact { case_id: "case_1".into() });
    assert_eq!(status_after(&[routed(1), made(2, 9), contact.clone()]), ReferralStatus::Offered);
    assert_eq!(status_after(&[routed(1), made(2, 9), contact, accepted(4)]), ReferralStatus::Engagement);
}

#[test]
fn the_case_closing_closes_the_referral_with_a_matching_reason_and_reopening_takes_it_back() {
    let before = [routed(1), made(2, 9), accepted(3), assigned(4)];
    let mut events = before.to_vec();
    events.push(closed(5, CaseClosureReason::Unreachable));
    let derived = status(&fold(&events));
    assert_eq!(derived.status, ReferralStatus::Closed);
    assert_eq!(derived.closure, Some((ReferralClosureReason::Unreachable, 5_000_000)));
    events.push(reopened(6));
    assert_eq!(status(&fold(&events)), Derived { status: ReferralStatus::Assigned, closure: None });
    // the reopening arrives before the closure it undoes: still reopened
    let mut late = before.to_vec();
    late.extend([reopened(6), closed(5, CaseClosureReason::Unreachable)]);
    assert_eq!(status(&fold(&late)).status, ReferralStatus::Assigned);
    // once enrolled, the referral stays closed as enrolled whatever the case does later
    let enrolled = event(5, Signal::Enrolled { case_id: "case_1".into(), stage: CaseStage::Active });
    let derived = status(&fold(&[accepted(3), enrolled, closed(7, CaseClosureReason::MovedAway), reopened(8)]));
    assert_eq!(derived.closure.map(|(reason, _)| reason), Some(ReferralClosureReason::Enrolled));
}

#[test]
fn case_closure_reasons_map_to_referral_outcomes() {
    use CaseClosureReason as Case;
    use ReferralClosureReason as Referral;
    for (case, referral) in [
        (Case::GoalsMet, Referral::Enrolled),
        (Case::DeclinedServices, Referral::DeclinedServices),
        (Case::Unreachable, Referral::Unreachable),
        (Case::Ineligible, Referral::Ineligible),
        (Case::AgedOut, Referral::Ineligible),
        (Case::MovedAway, Referral::Unspecified),
        (Case::Transferred, Referral::Unspecified),
        (Case::Deceased, Referral::Unspecified),
        (Case::Other, Referral::Unspecified),
        (Case::Unspecified, Referral::Unspecified),
    ] {
        assert_eq!(closure_for_case(case as i32), referral, "{case:?}");
    }
    let (_, entry) = apply(Facts::default(), &closed(1, Case::MovedAway));
    assert_eq!(entry.detail, "case case_1 closed moved_away");
}

#[test]
fn only_enrolment_and_the_open_stages_after_it_count_as_enrolled() {
    for stage in [
        CaseStage::Enrolled,
        CaseStage::Assessed,
        CaseStage::Plan,
        CaseStage::Active,
        CaseStage::Missing,
        CaseStage::FollowUp,
    ] {
        assert!(is_enrolled_stage(stage), "{stage:?}");
    }
    for stage in [CaseStage::Unspecified, CaseStage::Engagement, CaseStage::Closed, CaseStage::PostExitFollowUp] {
        assert!(!is_enrolled_stage(stage), "{stage:?}");
    }
}

#[test]
fn untouched_referrals_are_received_or_triaged() {
    assert_eq!(status(&Facts::default()).status, ReferralStatus::Received);
    assert_eq!(status(&Facts { triaged: true, ..Facts::default() }).status, ReferralStatus::Triaged);
}

#[test]
fn each_event_writes_the_status_it_brings_and_a_coded_detail() {
    let cases = [
        (routed(1), ReferralStatus::Routed, "partner org_a"),
        (made(2, 9), ReferralStatus::Offered, "offer off_2 partner org_a"),
        (declined(3), ReferralStatus::Declined, "offer off_2 partner org_a reason no_capacity"),
        (accepted(4), ReferralStatus::Accepted, "offer off_2 partner org_a"),
        (assigned(5), ReferralStatus::Assigned, "case case_1 case manager usr_1"),
        (escalated(6, "esc_1"), ReferralStatus::Escalated, "escalation esc_1 reason all_declined"),
    ];
    for (event, status, detail) in cases {
        let (_, entry) = apply(Facts::default(), &event);
        assert_eq!((entry.status, entry.detail.as_str()), (status, detail));
    }
}

#[test]
fn matching_codes_round_trip() {
    for step in [Matching::Routed, Matching::Offered, Matching::Declined, Matching::Expired, Matching::Withdrawn] {
        assert_eq!(Matching::from_code(step.code()), Some(step));
    }
    assert_eq!(Matching::from_code("pizza"), None);
}

#[test]
fn an_acceptance_serves_only_the_open_cases_current_episode() {
    assert!(serves_now(None, None, 3), "no case event yet");
    assert!(serves_now(Some(0), None, 3), "reopened as the referral's first case event: its own episode");
    assert!(!serves_now(Some(1), None, 3), "the case closed");
    assert!(!serves_now(Some(1), Some(2), 5), "closed again after a reopening");
    assert!(!serves_now(Some(0), Some(7), 3), "reopened since: an acceptance of an earlier episode");
    assert!(serves_now(Some(0), Some(7), 9), "accepted in the reopened episode");
}

#[test]
fn only_a_reopening_of_a_closed_case_starts_an_episode() {
    let case = |closed: Option<i32>, id: &str| Some(CaseTrack { closed, at: 5, event_id: id.into() });
    let reopen = |id: &str| Event {
        event_id: id.into(),
        at: 10,
        signal: Signal::CaseReopened {
            case_id: "case_x".into(),
            case_manager_id: String::new(),
            episode: ReopenedEpisode::New,
        },
    };
    let closed = Facts { case: case(Some(1), "01"), ..Facts::default() };
    let (after, _) = apply(closed.clone(), &reopen("02"));
    assert!(starts_episode(&closed, &after, &reopen("02")));
    let (late, _) = apply(closed.clone(), &reopen("00"));
    assert!(!starts_episode(&closed, &late, &reopen("00")), "older than the closure: not applied");
    let fresh = Facts::default();
    let (joined, _) = apply(fresh.clone(), &reopen("02"));
    assert!(!starts_episode(&fresh, &joined, &reopen("02")), "the referral's first case event");
}

#[test]
fn a_reopening_that_carries_the_last_episode_on_starts_no_episode() {
    // accepted, owned, the case closed: then reopened three ways
    let closed = fold(&[accepted(1), assigned(2), closed(3, CaseClosureReason::Unreachable)]);
    let starts = |episode: ReopenedEpisode| {
        let reopening = reopened_in(4, "usr_1", episode);
        let (after, _) = apply(closed.clone(), &reopening);
        assert_eq!(status(&after).status, ReferralStatus::Assigned, "{episode:?}: the case is open again");
        starts_episode(&closed, &after, &reopening)
    };
    assert!(!starts(ReopenedEpisode::CarriedOn), "ReopenCase naming no referral: the episode carries on");
    assert!(starts(ReopenedEpisode::New), "a new referral's episode: the earlier acceptances stop counting");
    assert!(starts(ReopenedEpisode::Unsaid), "an older producer's event: read as a new episode, as before");
    // what that means for the partner that accepted at record 1, the closure at record 3, the
    // reopening at record 4
    let episode_seq = |episode: ReopenedEpisode| starts(episode).then_some(4);
    assert!(serves_now(Some(0), episode_seq(ReopenedEpisode::CarriedOn), 1), "it serves the episode again");
    assert!(!serves_now(Some(0), episode_seq(ReopenedEpisode::New), 1));
    assert!(!serves_now(Some(0), episode_seq(ReopenedEpisode::Unsaid), 1));
}

#[test]
fn a_case_waiting_for_assignment_is_nobodys_from_its_event_on() {
    let owner_after = |events: &[Event]| fold(events).case_manager_id().map(str::to_owned);
    // owned through its own case, which then merged into the youth's waiting case
    assert_eq!(owner_after(&[assigned_to(2, "cm_a"), awaiting(3)]), None);
    // a supervisor then assigns the waiting case
    assert_eq!(owner_after(&[assigned_to(2, "cm_a"), awaiting(3), assigned_to(4, "cm_b")]).as_deref(), Some("cm_b"));
    // late: the queueing is older than the owner it would replace
    assert_eq!(owner_after(&[assigned_to(4, "cm_b"), awaiting(3)]).as_deref(), Some("cm_b"));
    assert_eq!(owner_after(&[awaiting(3), assigned_to(2, "cm_a")]), None, "the older assignment arrives late");
    // redelivered: nothing more; the rest of the facts and the status stay
    let once = fold(&[routed(1), assigned_to(2, "cm_a"), awaiting(3)]);
    assert_eq!(fold(&[routed(1), assigned_to(2, "cm_a"), awaiting(3), awaiting(3)]), once);
    assert_eq!(once.assigned_at, Some(2_000_000), "the first owner's instant stays");
    assert_eq!(status(&once), status(&fold(&[routed(1), assigned_to(2, "cm_a")])), "the status it had");
    let (_, entry) = apply(fold(&[routed(1)]), &awaiting(3));
    assert_eq!((entry.status, entry.detail.as_str()), (ReferralStatus::Routed, "case case_2 awaiting assignment"));
}

fn assigned_to(n: u32, case_manager_id: &str) -> Event {
    event(n, Signal::CaseAssigned { case_id: "case_1".into(), case_manager_id: case_manager_id.into() })
}

fn reopened_to(n: u32, case_manager_id: &str) -> Event {
    reopened_in(n, case_manager_id, ReopenedEpisode::New)
}

#[test]
fn the_owner_follows_assignment_reassignment_closure_and_reopening() {
    let owner_after = |events: &[Event]| fold(events).case_manager_id().map(str::to_owned);
    assert_eq!(owner_after(&[routed(1)]), None, "no case event yet");
    let mut events = vec![routed(1), assigned_to(2, "cm_a")];
    assert_eq!(owner_after(&events).as_deref(), Some("cm_a"));
    events.push(assigned_to(3, "cm_b")); // a supervisor's reassignment
    assert_eq!(owner_after(&events).as_deref(), Some("cm_b"));
    events.push(closed(4, CaseClosureReason::GoalsMet));
    assert_eq!(owner_after(&events), None, "a closed case is nobody's");
    events.push(reopened_to(5, ""));
    assert_eq!(owner_after(&events), None, "reopened, awaiting assignment");
    events.push(assigned_to(6, "cm_c"));
    assert_eq!(owner_after(&events).as_deref(), Some("cm_c"));
    events.push(reopened_to(7, "cm_a"));
    assert_eq!(owner_after(&events).as_deref(), Some("cm_a"));
}

#[test]
fn a_late_case_event_never_replaces_a_newer_owner() {
    // the reassignment arrives before the first assignment; the closure before the reassignment
    assert_eq!(fold(&[assigned_to(3, "cm_b"), assigned_to(2, "cm_a")]).case_manager_id(), Some("cm_b"));
    assert_eq!(fold(&[closed(4, CaseClosureReason::Unreachable), assigned_to(3, "cm_b")]).case_manager_id(), None);
    assert_eq!(
        fold(&[reopened_to(5, "cm_c"), closed(4, CaseClosureReason::Unreachable)]).case_manager_id(),
        Some("cm_c")
    );
    // events that say nothing of the owner leave it
    let facts = fold(&[assigned_to(2, "cm_a"), routed(3), event(4, Signal::FirstContact { case_id: "case_1".into() })]);
    assert_eq!(facts.case_manager_id(), Some("cm_a"));
    assert_eq!(fold(&[assigned_to(2, "cm_a"), assigned_to(2, "cm_a")]), fold(&[assigned_to(2, "cm_a")]), "redelivered");
}
