//! Every screen, for every role (issue 14, acceptance 2): one sign-in per role on a system holding
//! fictional referrals (an emergent one offered to a partner and assigned to the demo case
//! manager, a routine one nobody could take), each person walks every page the application links
//! to from their home page — the navigation, every count, every list row, every detail page —
//! and axe reports no serious or critical issue on any of them. No link the application shows a
//! person leads to a "not found" or "you cannot do this" page, and no page of any list shows a
//! youth's name. Screenshots go to the test's output folder.

use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

use fantoccini::Locator;
use wf_auth::Role;
use wf_proto::common::v1 as common;
use wf_proto::intake::v1 as intake;

use super::{Browser, Driver, Running, running, shots, sign_in};

const HARBOR: &str = "org_e74680f37b1a4624be1014d73e963b4b";
/// The fictional youth's name: never on any page without a reveal.
const NAME: &str = "Screens-Walk-Youth";
/// Pages visited per person at most (the application has fewer screens per role; the cap only
/// keeps a link loop from running forever).
const MAX_PAGES: usize = 40;
/// Addresses of one path visited at most (a list's many filter links are one screen).
const PER_PATH: usize = 2;

fn referral(reference: &str, tier: common::TriageTier, needs: &[&str]) -> intake::SubmitReferralRequest {
    intake::SubmitReferralRequest {
        referral: Some(intake::Referral {
            source: common::ReferralSource::Hotline as i32,
            referring_organization_name: "Fictional Screens-Test Hotline".into(),
            external_reference: reference.into(),
            triage_tier: tier as i32,
            site: common::Site::SouthLosAngeles as i32,
            needs: needs.iter().map(|need| (*need).to_owned()).collect(),
            preferred_language: "en".into(),
            personal: Some(intake::PersonalDetails {
                legal_first_name: "Fictional".into(),
                legal_last_name: NAME.into(),
                estimated_age: 16,
                ..Default::default()
            }),
            ..Default::default()
        }),
    }
}

/// The demo's data plus two fictional referrals, once routing and cases have worked on them.
async fn seed(system: &Running) {
    let target = wf_client::Target::resolve(Some(system.grpc.clone()), None, system._data.path()).expect("target");
    let mut hotline = target.intake(Role::Hotline).await.expect("intake");
    let emergent = hotline
        .submit_referral(referral("SCREENS-EMERGENT", common::TriageTier::Emergent, &["emergency_shelter"]))
        .await
        .expect("submitted")
        .into_inner()
        .referral_id;
    hotline
        .submit_referral(referral("SCREENS-ROUTINE", common::TriageTier::Routine, &["childcare"]))
        .await
        .expect("submitted");
    let mut staff = target.intake(Role::Supervisor).await.expect("intake");
    for _ in 0..300 {
        let request = intake::GetReferralRequest { referral_id: emergent.clone(), purpose: String::new() };
        let got = staff.get_referral(request).await.expect("read").into_inner();
        if !got.case_manager_id.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the emergent referral {emergent} got no case manager");
}

/// The same-origin pages `browser`'s current page links to, as paths with their query.
async fn links(browser: &Browser, web: &str) -> Vec<String> {
    let mut found = Vec::new();
    for anchor in browser.client.find_all(Locator::Css("a[href]")).await.unwrap_or_default() {
        let Ok(Some(href)) = anchor.prop("href").await else { continue };
        let Some(rest) = href.strip_prefix(web) else { continue };
        let rest = rest.split('#').next().unwrap_or_default();
        if rest.is_empty() || !rest.starts_with('/') {
            continue;
        }
        let path = rest.split('?').next().unwrap_or_default();
        if ["/static/", "/api/", "/healthz", "/sign-out", "/sign-in"].iter().any(|skip| path.starts_with(skip)) {
            continue;
        }
        found.push(rest.to_owned());
    }
    found
}

/// Walks every page reachable by links from home as the signed-in person; returns the paths seen.
async fn walk(browser: &mut Browser, web: &str, who: &str) -> BTreeSet<String> {
    let mut queue = VecDeque::from(["/".to_owned()]);
    let mut seen = BTreeSet::new();
    let mut per_path: std::collections::BTreeMap<String, usize> = Default::default();
    let mut visited = 0;
    while let Some(next) = queue.pop_front() {
        if visited >= MAX_PAGES || !seen.insert(next.clone()) {
            continue;
        }
        let path = next.split('?').next().unwrap_or_default().to_owned();
        // Ids in a path make one screen: /referrals/ref_… and /cases/case_… count once each.
        let screen: String = path
            .split('/')
            .map(|part| if part.contains('_') && part.len() > 20 { "{id}" } else { part })
            .collect::<Vec<_>>()
            .join("/");
        let count = per_path.entry(screen.clone()).or_default();
        if *count >= PER_PATH {
            continue;
        }
        *count += 1;
        visited += 1;
        browser.goto(&format!("{web}{next}")).await;
        let text = browser.page_text().await;
        assert!(
            !text.contains(wf_gateway::api::errors::NOT_FOUND_MESSAGE) && !text.contains("You cannot do this"),
            "{who}: the link to {next} leads to an error page: {text}"
        );
        assert!(!text.contains(NAME), "{who}: {next} shows the youth's name without a reveal");
        let screen_name = screen.trim_matches('/').replace(['/', '{', '}'], "_");
        let name = if screen_name.is_empty() { format!("{who}-home") } else { format!("{who}-{screen_name}") };
        browser.shot(&name).await;
        browser.assert_accessible(&format!("{who}: {next}")).await;
        for link in links(browser, web).await {
            if !seen.contains(&link) {
                queue.push_back(link);
            }
        }
    }
    seen.into_iter().map(|page| page.split('?').next().unwrap_or_default().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_screen_of_every_role_has_no_serious_accessibility_issue() {
    let people: [(&str, Role, Option<&str>, Option<&str>); 8] = [
        ("hotline.walk", Role::Hotline, None, None),
        ("harbor.walk", Role::Partner, Some(HARBOR), None),
        ("maria.walk", Role::CaseManager, None, Some("usr_demo_case_manager")),
        ("sam.walk", Role::Supervisor, None, Some("usr_demo_supervisor")),
        ("pat.walk", Role::ProgramManager, None, None),
        ("eva.walk", Role::Evaluator, None, None),
        ("aud.walk", Role::Auditor, None, None),
        ("adm.walk", Role::Admin, None, None),
    ];
    let system = running(&people).await;
    seed(&system).await;
    let driver = Driver::start().await;
    let mut reached = Vec::new();
    for (username, role, _, _) in &people {
        let mut browser = driver.browser(1280, 900, true, shots(&format!("screens_{username}"))).await;
        sign_in(&mut browser, &system.web, username).await;
        if browser.current_path().await == "/acknowledge" {
            browser.click("form[action='/acknowledge'] button[type=submit]").await;
        }
        assert_eq!(browser.current_path().await, "/", "{username} is signed in");
        let pages = walk(&mut browser, &system.web, username).await;
        reached.push((*role, pages));
        browser.close().await;
    }
    // The walk reached each role's screens (so a clean report means the screens were checked).
    let pages_of = |role: Role| reached.iter().find(|(r, _)| *r == role).map(|(_, pages)| pages.clone()).unwrap();
    let case_manager = pages_of(Role::CaseManager);
    for screen in ["/", "/referrals", "/account"] {
        assert!(case_manager.contains(screen), "the case manager's walk missed {screen}: {case_manager:?}");
    }
    assert!(case_manager.iter().any(|p| p.starts_with("/referrals/ref_")), "no referral page: {case_manager:?}");
    let partner = pages_of(Role::Partner);
    for screen in ["/offers", "/served", "/capacity"] {
        assert!(partner.contains(screen), "the partner's walk missed {screen}: {partner:?}");
    }
    assert!(partner.iter().any(|p| p.starts_with("/offers/off_")), "no offer page: {partner:?}");
    assert!(!partner.iter().any(|p| p.starts_with("/referrals")), "a partner is shown staff screens: {partner:?}");
    system.stop().await;
}
