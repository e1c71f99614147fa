//! The status reads as a person would say it (issue 13, finding 1): names from the directory and the
//! roster instead of ids, and every step the services record — an accepted or declined offer, an
//! escalation, the supervisors' queue, first contact, closure — in words.

use super::*;

const ORG: &str = "org_7e613510641d4381b831320eadf619b6";
const SVC: &str = "svc_f3931d2581d1458785a91786530a83be";
const OTHER_ORG: &str = "org_37500f7421c4437980c5cff292270a56";
const CM: &str = "cm_07119f1e5f764a9a8ed388a92817b511";
const SUPERVISOR: &str = "cm_4e59abe7becd4c67875628da132a50ed";
const CASE: &str = "case_01a2507017a1735192636f2a9753014c";

fn ts(seconds: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds: 1_796_650_000 + seconds, nanos: 0 })
}

fn change(status: intake::ReferralStatus, at: i64, detail: &str) -> intake::StatusChange {
    intake::StatusChange { status: status as i32, at: ts(at), event_id: String::new(), detail: detail.to_owned() }
}

fn names() -> Names {
    let mut names = Names::default();
    names.organizations.insert(ORG.into(), "Demo Harbor Youth Shelter".into());
    names.organizations.insert(OTHER_ORG.into(), "Demo Crenshaw Wellness Clinic".into());
    names.services.insert(SVC.into(), "Demo Harbor Emergency Beds".into());
    names.staff.insert(
        CM.into(),
        Staff { name: "Demo Case Manager Three".into(), code: "CM-SLA-3".into(), supervisor: false, sites: vec![] },
    );
    names.staff.insert(
        SUPERVISOR.into(),
        Staff {
            name: "Demo Supervisor One".into(),
            code: "SUP-SLA-1".into(),
            supervisor: true,
            sites: vec![common::Site::SouthLosAngeles],
        },
    );
    names
}

fn referral(status: intake::ReferralStatus, history: Vec<intake::StatusChange>) -> intake::GetReferralResponse {
    intake::GetReferralResponse {
        referral_id: "ref_01a25070179a7200a5078d72e2a07648".into(),
        referral: Some(intake::Referral {
            referring_organization_name: "Demo Youth Hotline".into(),
            triage_tier: common::TriageTier::Urgent as i32,
            site: common::Site::SouthLosAngeles as i32,
            practice: true,
            ..Default::default()
        }),
        status: status as i32,
        history,
        is_minor: true,
        ..Default::default()
    }
}

fn decision(outcome: routing::DecisionOutcome, attempt: i32, at: i64) -> routing::RoutingDecision {
    let offered = outcome == routing::DecisionOutcome::Offered;
    routing::RoutingDecision {
        decided_at: ts(at),
        outcome: outcome as i32,
        attempt,
        partner_id: if offered { ORG.into() } else { String::new() },
        partner_service_id: if offered { SVC.into() } else { String::new() },
        ..Default::default()
    }
}

fn offer(status: routing::OfferStatus, at: i64) -> routing::Offer {
    routing::Offer {
        offer_id: "off_01a25070179f71608376d72c9a316f37".into(),
        partner_id: ORG.into(),
        partner_service_id: SVC.into(),
        status: status as i32,
        offered_at: ts(at),
        deadline: ts(at + 86_400),
        responded_at: if status == routing::OfferStatus::Pending { None } else { ts(at + 60) },
        ..Default::default()
    }
}

fn case(case_manager_id: &str) -> cases::Case {
    cases::Case {
        case_id: CASE.into(),
        case_manager_id: case_manager_id.into(),
        site: common::Site::SouthLosAngeles as i32,
        ..Default::default()
    }
}

fn facts(referral: intake::GetReferralResponse, routing: Routing, case: Option<cases::Case>) -> Facts {
    Facts {
        referral,
        routing: Ok(routing),
        case: Ok(case),
        names: names(),
        audit: Ok(AuditCount { entries: 7, latest: instant(ts(90).as_ref()) }),
    }
}

fn assigned_with(offer_status: routing::OfferStatus) -> Facts {
    use intake::ReferralStatus as S;
    let history = vec![
        change(S::Received, 0, ""),
        change(S::Routed, 1, &format!("partner {ORG}")),
        change(S::Assigned, 2, &format!("case {CASE} case manager {CM}")),
    ];
    let routing = Routing {
        decisions: vec![decision(routing::DecisionOutcome::Offered, 1, 1)],
        offers: vec![offer(offer_status, 1)],
    };
    facts(referral(S::Assigned, history), routing, Some(case(CM)))
}

fn step_texts(story: &Story) -> Vec<&str> {
    story.steps.iter().map(|s| s.text.as_str()).collect()
}

#[test]
fn the_status_names_the_partner_and_the_case_manager_not_their_ids() {
    let story = Story::tell(&assigned_with(routing::OfferStatus::Pending));
    let text = story.text();
    assert!(text.contains("Demo Harbor Youth Shelter — Demo Harbor Emergency Beds"), "{text}");
    assert!(text.contains("Demo Case Manager Three (CM-SLA-3)"), "{text}");
    assert!(text.contains("from Demo Youth Hotline"), "{text}");
    assert!(text.contains("practice referral"), "{text}");
    for id in [ORG, SVC, CM] {
        assert!(!text.contains(id), "{id} shown bare in\n{text}");
    }
    assert_eq!(story.status, "assigned");
    assert!(story.now.contains("Demo Case Manager Three"), "{}", story.now);
    assert!(story.partner.contains("offered, answer due by"), "{}", story.partner);
    assert_eq!(
        step_texts(&story),
        [
            "received from Demo Youth Hotline",
            "routed to Demo Harbor Youth Shelter — Demo Harbor Emergency Beds",
            "offered to Demo Harbor Youth Shelter, answer due by 2026-12-08 13:26 UTC",
            "assigned to case manager Demo Case Manager Three (CM-SLA-3)",
        ]
    );
}

#[test]
fn an_accepted_offer_is_shown_with_when() {
    let story = Story::tell(&assigned_with(routing::OfferStatus::Accepted));
    assert!(story.partner.contains("accepted the offer 2026-12-07 13:27 UTC"), "{}", story.partner);
    assert!(step_texts(&story).contains(&"Demo Harbor Youth Shelter accepted the offer"), "{:?}", story.steps);
}

#[test]
fn a_declined_offer_says_why_and_that_routing_goes_on() {
    use intake::ReferralStatus as S;
    let mut declined = offer(routing::OfferStatus::Declined, 1);
    declined.decline_reason = routing::DeclineReason::NoCapacity as i32;
    let routing =
        Routing { decisions: vec![decision(routing::DecisionOutcome::Offered, 1, 1)], offers: vec![declined] };
    let story = Story::tell(&facts(referral(S::Declined, vec![change(S::Received, 0, "")]), routing, None));
    assert!(story.now.contains("Demo Harbor Youth Shelter declined the offer; routing looks for another partner"));
    assert!(story.partner.contains("declined the offer (no capacity)"), "{}", story.partner);
    assert!(step_texts(&story).contains(&"Demo Harbor Youth Shelter declined the offer: no capacity"));
    assert_eq!(story.case_manager, "none yet");
}

#[test]
fn an_escalation_says_it_waits_for_staff_and_why() {
    use intake::ReferralStatus as S;
    let history = vec![change(S::Received, 0, ""), change(S::Escalated, 1, "no_eligible_partner")];
    let routing = Routing { decisions: vec![decision(routing::DecisionOutcome::NoMatch, 1, 1)], offers: vec![] };
    let story = Story::tell(&facts(referral(S::Escalated, history), routing, None));
    assert_eq!(story.now, "waiting for staff in the escalation queue: no eligible partner");
    assert_eq!(story.partner, "none: routing found no eligible partner");
    let steps = step_texts(&story);
    assert!(steps.contains(&"routing found no eligible partner"), "{steps:?}");
    assert!(steps.contains(&"escalated: waiting for staff in the escalation queue (no eligible partner)"), "{steps:?}");
}

#[test]
fn an_escalation_routing_made_shows_before_intake_records_it() {
    use intake::ReferralStatus as S;
    let routing = Routing { decisions: vec![decision(routing::DecisionOutcome::NoMatch, 1, 1)], offers: vec![] };
    let story = Story::tell(&facts(referral(S::Received, vec![change(S::Received, 0, "")]), routing, None));
    assert_eq!(story.now, "waiting for staff in the escalation queue: no eligible partner");
}

#[test]
fn a_case_nobody_could_take_waits_in_the_supervisors_queue_by_name() {
    let mut facts = assigned_with(routing::OfferStatus::Accepted);
    facts.referral.history.pop();
    facts.referral.status = intake::ReferralStatus::Accepted as i32;
    facts.case = Ok(Some(case("")));
    let story = Story::tell(&facts);
    assert!(
        story.case_manager.contains("supervisors' queue (Demo Supervisor One (SUP-SLA-1))"),
        "{}",
        story.case_manager
    );
    assert!(story.case_manager.contains(CASE), "{}", story.case_manager);
    let json = json(&facts, &story);
    assert_eq!(json["case"]["awaiting_assignment"], true);
    assert_eq!(json["case"]["supervisors"][0], "Demo Supervisor One (SUP-SLA-1)");
}

#[test]
fn first_contact_and_closure_are_told() {
    use intake::ReferralStatus as S;
    let mut facts = assigned_with(routing::OfferStatus::Accepted);
    facts.referral.history.push(change(S::Engagement, 3_600, ""));
    facts.referral.history.push(change(S::Closed, 7_200, "REFERRAL_CLOSURE_REASON_ENROLLED"));
    facts.referral.status = S::Closed as i32;
    facts.referral.closure_reason = intake::ReferralClosureReason::Enrolled as i32;
    let story = Story::tell(&facts);
    assert_eq!(story.now, "closed: the youth enrolled");
    let steps = step_texts(&story);
    assert_eq!(
        steps[steps.len() - 2..],
        ["first contact with the youth; engagement under way", "closed: the youth enrolled"]
    );
}

#[test]
fn a_reassignment_reads_as_one() {
    use intake::ReferralStatus as S;
    let mut facts = assigned_with(routing::OfferStatus::Accepted);
    facts.referral.history.push(change(S::Assigned, 600, &format!("case {CASE} case manager {SUPERVISOR}")));
    let story = Story::tell(&facts);
    assert!(step_texts(&story).contains(&"reassigned to case manager Demo Supervisor One (SUP-SLA-1)"));
}

#[test]
fn without_routing_the_history_tells_the_partner_by_name() {
    use intake::ReferralStatus as S;
    let mut facts = assigned_with(routing::OfferStatus::Pending);
    facts.routing = Err("Unavailable: routing is down".into());
    let story = Story::tell(&facts);
    assert!(step_texts(&story).contains(&"routed to Demo Harbor Youth Shelter"), "{:?}", story.steps);
    assert_eq!(story.partner, "not readable: Unavailable: routing is down");
    assert_eq!(facts.referral.status, S::Assigned as i32);
}

#[test]
fn every_status_has_words_of_its_own() {
    let mut seen = std::collections::HashSet::new();
    for value in 1..=12 {
        let status = intake::ReferralStatus::try_from(value).expect("a status");
        let mut facts = assigned_with(routing::OfferStatus::Pending);
        facts.referral.status = value;
        let story = Story::tell(&facts);
        assert_ne!(story.status, "unknown", "{status:?}");
        assert!(
            !story.now.is_empty() && !story.now.contains("org_") && !story.now.contains("cm_"),
            "{status:?}: {}",
            story.now
        );
        assert!(seen.insert(story.now.clone()), "{status:?} reads like another status: {}", story.now);
    }
}

#[test]
fn detail_ids_are_read_by_their_type() {
    assert_eq!(
        detail_ids(&format!("case {CASE} case manager {CM}")),
        DetailIds { case_manager: Some(CM.into()), ..Default::default() }
    );
    assert_eq!(
        detail_ids(&format!("partner {ORG} service {SVC} no_capacity")),
        DetailIds {
            partner: Some(ORG.into()),
            service: Some(SVC.into()),
            codes: vec!["no_capacity".into()],
            ..Default::default()
        }
    );
    // Intake's history details name the offer, the partner and a reason code.
    let offer = "off_01a25070179f71608376d72c9a316f37";
    assert_eq!(
        detail_ids(&format!("offer {offer} partner {ORG} reason no_capacity")),
        DetailIds { partner: Some(ORG.into()), reason: Some("no_capacity".into()), ..Default::default() }
    );
}

#[test]
fn history_details_with_labels_and_a_reason_read_right() {
    use intake::ReferralStatus as S;
    let escalation = "esc_01a250758e92738aa28428ebf4a5ea3d";
    let history = vec![
        change(S::Received, 0, ""),
        change(S::Escalated, 1, &format!("escalation {escalation} reason emergent_contact_overdue")),
    ];
    let mut facts = facts(referral(S::Escalated, history), Routing::default(), None);
    let story = Story::tell(&facts);
    assert_eq!(
        story.now,
        "waiting for staff in the escalation queue: no advocate contact within 90 minutes of an emergent referral"
    );
    facts.routing = Err("Unavailable: down".into());
    facts.referral.history.push(change(
        S::Declined,
        2,
        &format!("offer off_01a25070179f71608376d72c9a316f37 partner {ORG} reason no_capacity"),
    ));
    let story = Story::tell(&facts);
    assert!(
        step_texts(&story).contains(&"Demo Harbor Youth Shelter declined the offer: no capacity"),
        "{:?}",
        story.steps
    );
    facts.referral.history.push(change(S::Closed, 3, &format!("case {CASE} reason goals_met")));
    facts.referral.status = S::Closed as i32;
    assert_eq!(Story::tell(&facts).now, "closed: goals met");
}

#[test]
fn json_carries_the_names_and_the_ids() {
    let facts = assigned_with(routing::OfferStatus::Pending);
    let story = Story::tell(&facts);
    let json = json(&facts, &story);
    assert_eq!(json["status"], "assigned");
    assert_eq!(json["partner"]["organization"], "Demo Harbor Youth Shelter");
    assert_eq!(json["partner"]["organization_id"], ORG);
    assert_eq!(json["partner"]["offer_status"], "pending");
    assert_eq!(json["case"]["case_manager"], "Demo Case Manager Three");
    assert_eq!(json["case"]["case_manager_id"], CM);
    assert_eq!(json["timeline"].as_array().map(Vec::len), Some(4));
    assert_eq!(json["audit"]["entries"], 7);
}
