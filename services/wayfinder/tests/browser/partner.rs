//! A partner's day in chromium, in a desktop window and at 390×844: a fictional referral
//! (submitted through intake's gRPC API as a hotline would) routes to Demo Harbor Youth Shelter;
//! Harbor's partner user signs in, sees the offer with its deadline and countdown, accepts it,
//! records a service on the case it now serves, opens its capacity page, and gets the "not found"
//! page for another partner's offer and referral. axe finds nothing serious or critical on home,
//! offers, the offer, the served case and capacity; a screenshot is written per step.

use std::time::Duration;

use fantoccini::Locator;
use wf_auth::Role;
use wf_proto::common::v1 as common;
use wf_proto::intake::v1 as intake;
use wf_proto::routing::v1 as routing;

use super::{Driver, Running, running, shots, sign_in};

/// Demo Harbor Youth Shelter (emergency beds in South Los Angeles), and Demo Valley Survivor
/// Mentors (peer mentoring in the San Fernando Valley), of the demo directory.
const HARBOR: &str = "org_e74680f37b1a4624be1014d73e963b4b";
const VALLEY: &str = "org_fe4bd2b05589482d81198d7ffafad5dc";
const NAME: &str = "Partner-Browser-Youth";

fn referral(reference: &str, site: common::Site, needs: &[&str]) -> intake::SubmitReferralRequest {
    intake::SubmitReferralRequest {
        referral: Some(intake::Referral {
            source: common::ReferralSource::Hotline as i32,
            referring_organization_name: "Fictional Browser-Test Hotline".into(),
            external_reference: reference.into(),
            triage_tier: common::TriageTier::Urgent as i32,
            site: site as i32,
            needs: needs.iter().map(|need| (*need).to_owned()).collect(),
            preferred_language: "es".into(),
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

/// Submits a shelter referral (routed to Harbor) and a mentoring one (routed to Valley); returns
/// both offers once routing has made them.
async fn offers(system: &Running, tag: &str) -> (routing::Offer, routing::Offer) {
    let target = wf_client::Target::resolve(Some(system.grpc.clone()), None, system._data.path()).expect("target");
    let mut hotline = target.intake(Role::Hotline).await.expect("intake");
    let mut submit = async |reference: String, site, needs: &[&str]| {
        hotline.submit_referral(referral(&reference, site, needs)).await.expect("submitted").into_inner().referral_id
    };
    let harbor = submit(format!("PARTNER-{tag}-SHELTER"), common::Site::SouthLosAngeles, &["emergency_shelter"]).await;
    let valley =
        submit(format!("PARTNER-{tag}-MENTOR"), common::Site::SanFernandoValley, &["support_group_mentoring"]).await;
    let mut staff = target.routing(Role::Supervisor).await.expect("routing");
    let mut offer_for = async |referral_id: &str| {
        for _ in 0..300 {
            let request = routing::ListOffersRequest { referral_id: referral_id.to_owned(), ..Default::default() };
            if let Some(offer) = staff.list_offers(request).await.expect("offers").into_inner().offers.pop() {
                return offer;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("routing made no offer for {referral_id}");
    };
    let (harbor, valley) = (offer_for(&harbor).await, offer_for(&valley).await);
    assert_eq!((harbor.partner_id.as_str(), valley.partner_id.as_str()), (HARBOR, VALLEY), "routed as planned");
    (harbor, valley)
}

/// Reloads `url` until the page shows `text` (the services work through their events meanwhile).
async fn wait_for_page(browser: &mut super::Browser, url: &str, text: &str) {
    for _ in 0..100 {
        browser.goto(url).await;
        if browser.page_text().await.contains(text) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{url} never showed {text:?}: {}", browser.page_text().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_accepts_an_offer_records_a_service_and_sees_nothing_of_another_partner() {
    let system = running(&[("harbor.partner", Role::Partner, Some(HARBOR), None)]).await;
    let driver = Driver::start().await;
    for (width, height, name) in [(1280, 900, "desktop"), (390, 844, "phone")] {
        let (mine, theirs) = offers(&system, name).await;
        let mut browser = driver.browser(width, height, true, shots(&format!("partner_{name}"))).await;
        let web = system.web.clone();
        sign_in(&mut browser, &web, "harbor.partner").await;
        if browser.current_path().await == "/acknowledge" {
            browser.click("form[action='/acknowledge'] button[type=submit]").await;
        }

        // Home: its own offers waiting, each count a link.
        assert_eq!(browser.current_path().await, "/");
        let home = browser.page_text().await;
        assert!(home.contains("offers waiting for your answer") && home.contains("cases you serve"), "{home}");
        browser.shot("home").await;
        browser.assert_accessible(&format!("home ({name})")).await;

        // Its offers: coded facts, deadline and countdown; never a name nor another partner's offer.
        browser.click("a.action-tile__link[href='/offers?status=pending']").await;
        assert_eq!(browser.current_path().await, "/offers");
        let list = browser.page_text().await;
        assert!(list.contains(&mine.offer_id) && !list.contains(&theirs.offer_id), "{list}");
        assert!(list.contains("Emergency shelter") && list.contains("due in") && !list.contains(NAME), "{list}");
        browser.shot("offers").await;
        browser.assert_accessible(&format!("offers ({name})")).await;

        browser.click(&format!("a[href='/offers/{}']", mine.offer_id)).await;
        let offer = browser.page_text().await;
        assert!(offer.contains("Spanish") && offer.contains("15–17") && !offer.contains(NAME), "{offer}");
        browser.shot("offer").await;
        browser.assert_accessible(&format!("the offer ({name})")).await;

        browser.click("form[action$='/accept'] button[type=submit]").await;
        assert!(browser.page_text().await.contains("You accepted this offer"));
        browser.shot("accepted").await;

        // The case it now serves: record a service delivered.
        wait_for_page(&mut browser, &format!("{web}/served"), "case_").await;
        browser.shot("served").await;
        browser.click("table.served tbody a").await;
        assert!(browser.current_path().await.starts_with("/served/case_"));
        browser.shot("case").await;
        browser.assert_accessible(&format!("the served case ({name})")).await;
        let service = browser.client.find(Locator::Css("#service_type")).await.expect("service type");
        service.select_by_value("emergency_shelter").await.expect("service chosen");
        let unit = browser.client.find(Locator::Css("#unit_type")).await.expect("unit");
        unit.select_by_value("nights").await.expect("unit chosen");
        browser.click("form[action$='/services'] button[type=submit]").await;
        let recorded = browser.page_text().await;
        assert!(recorded.contains("The service delivered is recorded") && recorded.contains("1 nights"), "{recorded}");
        browser.shot("service-recorded").await;
        browser.assert_accessible(&format!("the served case after recording ({name})")).await;

        // Its capacity.
        browser.goto(&format!("{web}/capacity")).await;
        assert!(browser.page_text().await.contains("Your capacity"));
        browser.shot("capacity").await;
        browser.assert_accessible(&format!("capacity ({name})")).await;

        // Another partner's offer and referral: the "not found" page.
        for (path, step) in [
            (format!("/offers/{}", theirs.offer_id), "foreign-offer"),
            (format!("/referrals/{}", theirs.referral_id), "foreign-referral"),
        ] {
            browser.goto(&format!("{web}{path}")).await;
            let text = browser.page_text().await;
            assert!(text.contains("Page not found") && !text.contains(&theirs.referral_id), "{path}: {text}");
            browser.shot(step).await;
        }
        browser.click("form[action='/sign-out'] button[type=submit]").await;
        browser.close().await;
    }
    system.stop().await;
}
