//! The home page ("Action needed") against real services: for each role, every count is what the
//! services hold when asked the same thing, and links to its list with the filters in the address;
//! the tab reads "(N) Emergent" while emergent referrals wait without an owner; a partner sees only
//! its own counts; a role the services refuse a list is not given its count.

use std::collections::BTreeMap;

use wf_proto::cases::v1 as cases;
use wf_proto::common::v1 as common;
use wf_proto::intake::v1 as intake;
use wf_proto::routing::v1 as routing;
use wf_testkit::AuthedChannel;

use super::partner::{HARBOR, Submit, VALLEY, World};
use super::*;

/// The tiles of a home page: link → count as shown.
fn tiles(body: &str) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let marker = "<a class=\"action-tile__link\" href=\"";
    for part in body.split(marker).skip(1) {
        let href = part.split('"').next().unwrap_or_default().replace("&#38;", "&").replace("&amp;", "&");
        let count_marker = "class=\"action-tile__count\">";
        let count = part
            .find(count_marker)
            .map(|at| part[at + count_marker.len()..].split('<').next().unwrap_or_default().to_owned())
            .unwrap_or_default();
        found.insert(href, count);
    }
    found
}

fn title(body: &str) -> &str {
    let start = body.find("<title>").expect("a title") + "<title>".len();
    &body[start..start + body[start..].find("</title>").expect("title ends")]
}

/// A count as the home page shows one page of a list.
fn shown(len: usize, next_page_token: &str) -> String {
    if next_page_token.is_empty() { len.to_string() } else { format!("{len}+") }
}

/// Every referral status but closed: what the queue lists when the address names no status.
fn open_statuses() -> Vec<i32> {
    (1..=12).filter(|s| *s != intake::ReferralStatus::Closed as i32).collect()
}

async fn intake_as(w: &World, role: Role) -> intake::intake_service_client::IntakeServiceClient<AuthedChannel> {
    intake::intake_service_client::IntakeServiceClient::new(w.server.channel(&w.server.tokens.user(role)).await)
}

/// What staff's tiles should say, asked of the services directly (`owner`: the case manager's own
/// roster entry, for a case manager).
async fn staff_expected(w: &World, role: Role, owner: Option<&str>) -> BTreeMap<String, String> {
    let mut intake = intake_as(w, role).await;
    let emergent = intake
        .list_referrals(intake::ListReferralsRequest {
            triage_tier: common::TriageTier::Emergent as i32,
            unassigned_only: true,
            statuses: open_statuses(),
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let offered = intake
        .list_referrals(intake::ListReferralsRequest {
            statuses: vec![intake::ReferralStatus::Offered as i32],
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut expected = BTreeMap::from([
        (
            "/referrals?tier=emergent&unassigned=1".to_owned(),
            shown(emergent.referrals.len(), &emergent.next_page_token),
        ),
        ("/referrals?status=offered".to_owned(), shown(offered.referrals.len(), &offered.next_page_token)),
    ]);
    let mut cases = w.cases_as(&w.server.tokens.user(role)).await;
    let owner_id = owner.unwrap_or_default().to_owned();
    let scope = if owner.is_some() { "mine=true&" } else { "" };
    for (status, code) in [(cases::FollowUpStatus::Due, "due"), (cases::FollowUpStatus::Overdue, "overdue")] {
        let request = cases::ListFollowUpsRequest {
            statuses: vec![status as i32],
            case_manager_id: owner_id.clone(),
            page_size: 100,
            ..Default::default()
        };
        let answer = cases.list_follow_ups(request).await.unwrap().into_inner();
        expected
            .insert(format!("/cases?{scope}follow_up={code}"), shown(answer.follow_ups.len(), &answer.next_page_token));
    }
    let request = cases::ListCasesRequest {
        incomplete_only: true,
        case_manager_id: owner_id,
        page_size: 100,
        ..Default::default()
    };
    let answer = cases.list_cases(request).await.unwrap().into_inner();
    expected.insert(format!("/cases?{scope}incomplete=true"), shown(answer.cases.len(), &answer.next_page_token));
    expected
}

/// Reads the page until its counts equal the services' answers and stay so (the services work
/// through their events meanwhile); returns the last page.
async fn settled(
    browser: &mut Browser<'_>,
    expected: impl AsyncFn() -> BTreeMap<String, String>,
) -> (Answer, BTreeMap<String, String>) {
    let mut last = None;
    for _ in 0..60 {
        let before = browser.get("/").await;
        let want = expected().await;
        let after = browser.get("/").await;
        if tiles(&before.body) == want && tiles(&after.body) == want {
            return (after, want);
        }
        last = Some((tiles(&after.body), want));
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    panic!("the home counts never matched the services: {last:?}");
}

both_engines!(home_counts_what_the_services_hold_and_links_to_the_filtered_lists, |engine| async move {
    let w = World::start(engine).await;
    // Nobody in the demo directory offers childcare: routing escalates it, and nobody owns it.
    let waiting = w
        .submit(Submit {
            reference: "H-EMERGENT",
            tier: common::TriageTier::Emergent,
            site: common::Site::SouthLosAngeles,
            needs: &["childcare"],
        })
        .await;
    let (harbor_offer, _valley_offer) = w.two_offers("A").await;
    // An emergent referral a case manager holds is not counted as waiting.
    let held = w
        .submit(Submit {
            reference: "H-EMERGENT-HELD",
            tier: common::TriageTier::Emergent,
            site: common::Site::SouthLosAngeles,
            needs: &["emergency_shelter"],
        })
        .await;
    let mut staff_intake = intake_as(&w, Role::Supervisor).await;
    let mut owned = false;
    for _ in 0..150 {
        let request = intake::GetReferralRequest { referral_id: held.clone(), purpose: String::new() };
        if !staff_intake.get_referral(request).await.unwrap().into_inner().case_manager_id.is_empty() {
            owned = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(owned, "{held} never got an owner");

    // A case manager: the referral counts, and their own cases' follow-ups and data gaps.
    let mut maria = w.person("maria.cm", Role::CaseManager, None, Some("usr_demo_case_manager")).await;
    let request = cases::ListCaseManagersRequest { include_supervisors: true, page_size: 500, ..Default::default() };
    let roster = w.cases_as(&w.server.tokens.user(Role::Supervisor)).await.list_case_managers(request).await.unwrap();
    let own = roster.into_inner().case_managers.into_iter().find(|cm| cm.user_id == "usr_demo_case_manager");
    let own = own.expect("the demo roster links CM-SLA-1").case_manager_id;
    let (page, counts) = settled(&mut maria, async || staff_expected(&w, Role::CaseManager, Some(&own)).await).await;
    assert_eq!(counts.len(), 5, "{counts:?}");
    let emergent = &counts["/referrals?tier=emergent&unassigned=1"];
    assert_eq!(emergent, "1", "{waiting} waits for an owner; {held} has one");
    assert_ne!(counts["/referrals?status=offered"], "0", "{} waits for Harbor's answer", harbor_offer.offer_id);
    assert_eq!(title(&page.body), format!("({emergent}) Emergent – Action needed – Wayfinder"));
    assert!(page.body.contains("new emergent referrals without an owner") && page.body.contains("action-tile--urgent"));
    assert!(page.body.contains("Of your cases"), "{}", page.body);

    // A supervisor: the same referral counts, follow-ups across all cases.
    let mut jlee = w.person("jlee.sup", Role::Supervisor, None, Some("usr_demo_supervisor")).await;
    let (page, counts) = settled(&mut jlee, async || staff_expected(&w, Role::Supervisor, None).await).await;
    assert!(counts.contains_key("/cases?follow_up=due") && page.body.contains("Across all cases"), "{counts:?}");

    // A partner: its own pending offers and served cases only (Valley's pending offer is not counted).
    let mut harbor = w.person("harbor.staff", Role::Partner, Some(HARBOR), None).await;
    let partner_expected = async || {
        let token = w.server.tokens.partner(HARBOR);
        let request = routing::ListOffersRequest {
            statuses: vec![routing::OfferStatus::Pending as i32],
            include_practice: true,
            page_size: 100,
            ..Default::default()
        };
        let pending = w.routing_as(&token).await.list_offers(request).await.unwrap().into_inner();
        let request = cases::ListCasesRequest { include_practice: true, page_size: 100, ..Default::default() };
        let served = w.cases_as(&token).await.list_cases(request).await.unwrap().into_inner();
        BTreeMap::from([
            ("/offers?status=pending".to_owned(), shown(pending.offers.len(), &pending.next_page_token)),
            ("/served".to_owned(), shown(served.cases.len(), &served.next_page_token)),
        ])
    };
    let (page, counts) = settled(&mut harbor, partner_expected).await;
    let request = routing::ListOffersRequest {
        statuses: vec![routing::OfferStatus::Pending as i32],
        include_practice: true,
        ..Default::default()
    };
    let everyone = w.staff_routing().await.list_offers(request).await.unwrap().into_inner().offers;
    let harbors = everyone.iter().filter(|offer| offer.partner_id == HARBOR).count();
    assert!(everyone.iter().any(|offer| offer.partner_id == VALLEY), "another partner has a pending offer too");
    assert_eq!(counts["/offers?status=pending"], harbors.to_string(), "Harbor's offers, not Valley's");
    assert!(!page.body.contains("/referrals"), "no staff counts for a partner");
    assert_eq!(title(&page.body), "Action needed – Wayfinder");

    // A hotline may not list referrals, an auditor nothing here: neither is asked for a count.
    let mut hotline = w.person("hotline.staff", Role::Hotline, None, None).await;
    let page = hotline.get("/").await;
    page.expect_status(StatusCode::OK);
    assert!(tiles(&page.body).is_empty() && page.body.contains("not available to your role"), "{}", page.body);
    let mut auditor = w.person("audit.staff", Role::Auditor, None, None).await;
    let page = auditor.get("/").await;
    assert!(tiles(&page.body).is_empty() && page.body.contains("Nothing here needs your action"));
});

both_engines!(home_says_when_a_count_cannot_be_had_without_failing, |engine| async move {
    // No services at all: the page still opens, each count marked as not counted.
    let h = Harness::start(engine).await;
    h.add("maria.cm", Role::CaseManager).await;
    h.add("partner1", Role::Partner).await;
    let mut maria = h.signed_in("maria.cm").await;
    let page = maria.get("/").await;
    page.expect_status(StatusCode::OK);
    assert!(page.body.contains("referrals waiting for a partner to answer an offer"), "{}", page.body);
    assert!(page.body.contains("(not counted)") && page.body.contains("cannot be counted just now"));
    assert_eq!(title(&page.body), "Action needed – Wayfinder");
    let mut partner = h.signed_in("partner1").await;
    let page = partner.get("/").await;
    page.expect_status(StatusCode::OK);
    assert!(page.body.contains("offers waiting for your answer") && page.body.contains("(not counted)"));
});
