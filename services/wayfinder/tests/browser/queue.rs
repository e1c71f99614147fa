//! A case manager's referral queue and referral page in chromium, in a desktop window and at
//! 390×844: a new emergent referral (fictional, submitted through intake's gRPC API as a hotline
//! would) is at the top of the queue with its countdown; its page opens; "why this partner"
//! expands; triage is saved through htmx; contact details are revealed with a purpose, safe-contact
//! instructions first, and are masked again on the next visit; a consent release is recorded and
//! shown as a chip; the case opens from the referral, moves a stage (enrolled), gets a service, a
//! contact attempt and its baseline follow-up; after sign-out Back shows nothing personal. axe finds
//! nothing serious or critical on any of these pages at either size; a screenshot is written per
//! step.

use std::time::Duration;

use fantoccini::Locator;
use wf_auth::Role;
use wf_proto::common::v1 as common;
use wf_proto::intake::v1 as intake;

use super::{Driver, Running, running, shots, sign_in};

const PHONE: &str = "+1-555-0177";

fn referral(reference: &str, tier: common::TriageTier, needs: &[&str]) -> intake::SubmitReferralRequest {
    intake::SubmitReferralRequest {
        referral: Some(intake::Referral {
            source: common::ReferralSource::LawEnforcement as i32,
            referring_organization_name: "Fictional Browser-Test Hotline".into(),
            external_reference: reference.into(),
            triage_tier: tier as i32,
            site: common::Site::SouthLosAngeles as i32,
            needs: needs.iter().map(|need| (*need).to_owned()).collect(),
            preferred_language: "en".into(),
            personal: Some(intake::PersonalDetails {
                legal_first_name: "Fictional".into(),
                legal_last_name: "Browser-Youth".into(),
                preferred_name: "River Example".into(),
                estimated_age: 17,
                phones: vec![intake::Phone {
                    number: PHONE.into(),
                    kind: "mobile".into(),
                    safe_to_text: true,
                    ..Default::default()
                }],
                safe_contact: Some(intake::SafeContact {
                    safe_channels: vec![common::ContactChannel::TextMessage as i32],
                    never_say: vec!["the word shelter".into()],
                    code_word: "green lantern".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }),
    }
}

/// Submits an emergent and a routine referral; returns the emergent one's id once routing has
/// offered it (so the page has a decision to explain).
async fn submit(system: &Running, tag: &str) -> String {
    let target = wf_client::Target::resolve(Some(system.grpc.clone()), None, system._data.path()).expect("target");
    let mut hotline = target.intake(Role::Hotline).await.expect("intake");
    hotline
        .submit_referral(referral(&format!("BROWSER-ROUTINE-{tag}"), common::TriageTier::Routine, &["education"]))
        .await
        .expect("routine submitted");
    let emergent = hotline
        .submit_referral(referral(
            &format!("BROWSER-EMERGENT-{tag}"),
            common::TriageTier::Emergent,
            &["emergency_shelter"],
        ))
        .await
        .expect("emergent submitted")
        .into_inner()
        .referral_id;
    let mut staff = target.routing(Role::Supervisor).await.expect("routing");
    for _ in 0..200 {
        let request = wf_proto::routing::v1::ListOffersRequest { referral_id: emergent.clone(), ..Default::default() };
        if !staff.list_offers(request).await.expect("offers").into_inner().offers.is_empty() {
            return emergent;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("routing made no offer for {emergent}");
}

/// Waits until the page's text contains `text` (an htmx swap or a navigation finishing).
async fn wait_for_text(browser: &super::Browser, text: &str) {
    for _ in 0..100 {
        if browser.page_text().await.contains(text) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page never showed {text:?}: {}", browser.page_text().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_manager_triages_an_emergent_referral_and_reveals_its_contact_details() {
    let system = running(&[("maria.cm", Role::CaseManager, None, Some("usr_demo_case_manager"))]).await;
    let driver = Driver::start().await;
    for (width, height, name) in [(1280, 900, "desktop"), (390, 844, "phone")] {
        // Each size walks the whole day on a new emergent referral of its own.
        let emergent = submit(&system, name).await;
        let mut browser = driver.browser(width, height, true, shots(&format!("queue_{name}"))).await;
        sign_in(&mut browser, &system.web, "maria.cm").await;
        if browser.current_path().await == "/acknowledge" {
            browser.click("form[action='/acknowledge'] button[type=submit]").await;
        }

        // The queue: the emergent referral first, with its due time and countdown.
        browser.click("a[href='/referrals']").await;
        assert_eq!(browser.current_path().await, "/referrals");
        let first = browser.text_of("table.queue tbody tr").await;
        assert!(first.contains("Emergent") && first.contains("due in"), "{first}\n{}", browser.page_text().await);
        let link = browser.client.find(Locator::Css("table.queue tbody tr a")).await.expect("a link");
        assert_eq!(link.attr("href").await.unwrap().as_deref(), Some(format!("/referrals/{emergent}").as_str()));
        let queue_text = browser.page_text().await;
        assert!(!queue_text.contains("River Example") && !queue_text.contains(PHONE), "no personal data in the list");
        browser.shot("queue").await;
        browser.assert_accessible(&format!("the queue ({name})")).await;

        // Its page, masked.
        browser.click("table.queue tbody tr a").await;
        assert_eq!(browser.current_path().await, format!("/referrals/{emergent}"));
        let masked = browser.page_text().await;
        assert!(masked.contains("are hidden") && !masked.contains(PHONE), "{masked}");
        let overflow =
            browser.client.execute("return document.documentElement.scrollWidth > window.innerWidth", vec![]).await;
        assert_eq!(overflow.unwrap(), serde_json::Value::Bool(false), "the page scrolls sideways at {width}px");
        browser.shot("referral").await;
        browser.assert_accessible(&format!("the referral page ({name})")).await;

        // Why this partner.
        browser.click("#why-this-partner summary").await;
        let why = browser.text_of("#why-this-partner").await;
        assert!(why.contains("Has an open place") && why.contains("Capacity when routing decided"), "{why}");
        let details = browser.client.find(Locator::Css("#why-this-partner")).await.expect("why this partner");
        browser
            .client
            .execute("arguments[0].scrollIntoView()", vec![serde_json::to_value(&details).unwrap()])
            .await
            .unwrap();
        browser.shot("why-this-partner").await;
        browser.assert_accessible(&format!("why this partner ({name})")).await;

        // Triage (htmx swaps the section in place).
        let tier = browser.client.find(Locator::Css("#triage_tier")).await.expect("tier");
        tier.select_by_value("emergent").await.expect("tier chosen");
        let reason = browser.client.find(Locator::Css("#triage_reason")).await.expect("reason");
        reason.select_by_value("law_enforcement_recovery").await.expect("reason chosen");
        browser.click("#triage button[type=submit]").await;
        wait_for_text(&browser, "The triage is saved.").await;
        browser.shot("triaged").await;
        browser.assert_accessible(&format!("the referral page after triage ({name})")).await;

        // Reveal with a purpose: safe-contact instructions first, then the contact details.
        let purpose = browser.client.find(Locator::Css("#purpose")).await.expect("purpose");
        purpose.select_by_value("safety_planning").await.expect("purpose chosen");
        browser.click("form[action$='/reveal#personal'] button[type=submit]").await;
        wait_for_text(&browser, "Shown for: Safety planning").await;
        let revealed = browser.page_text().await;
        let instructions = revealed.find("Safe-contact instructions").expect("instructions");
        let phone = revealed.find(PHONE).expect("the phone number");
        assert!(instructions < phone, "the instructions come first");
        assert!(revealed.contains("green lantern") && revealed.contains("River Example"));
        browser.shot("revealed").await;
        browser.assert_accessible(&format!("the revealed details ({name})")).await;

        // The next visit shows them masked again.
        browser.goto(&format!("{}/referrals/{emergent}", system.web)).await;
        let again = browser.page_text().await;
        assert!(!again.contains(PHONE) && !again.contains("green lantern"), "masked again");
        browser.shot("masked-again").await;

        // A consent release.
        {
            browser.click("#new-release summary").await;
            let recipient = browser.client.find(Locator::Css("#release_recipient_organization_id")).await.unwrap();
            recipient.select_by_label("Demo Harbor Youth Shelter").await.expect("recipient chosen");
            browser.click("#release_category-contact").await;
            let purpose = browser.client.find(Locator::Css("#release_purpose")).await.unwrap();
            purpose.select_by_value("service_referral").await.expect("purpose chosen");
            let today = page_today(&browser, "#release_signed_at").await;
            set_value(&browser, "#release_expires_on", &in_days(&today, 90)).await;
            let basis = browser.client.find(Locator::Css("#release_youth_basis")).await.unwrap();
            basis.select_by_value("minor_consent_sensitive_services").await.expect("basis chosen");
            browser.shot("consent-form").await;
            browser.assert_accessible(&format!("the consent form ({name})")).await;
            browser.click("form[action$='/releases#consent'] button[type=submit]").await;
            wait_for_text(&browser, "The consent release is recorded.").await;
        }
        let chip = browser.text_of(".release-chips").await;
        assert!(chip.contains("Active") && chip.contains("Demo Harbor Youth Shelter"), "{chip}");
        browser.shot("consent-recorded").await;
        browser.assert_accessible(&format!("the referral page with its release ({name})")).await;

        // The case: move it a stage, log a service, record a contact attempt and a follow-up.
        browser.click("#open-case").await;
        assert!(browser.current_path().await.starts_with("/cases/case_"), "the case page");
        let case_text = browser.page_text().await;
        assert!(!case_text.contains("River Example") && !case_text.contains(PHONE), "no personal data on the case");
        browser.shot("case").await;
        browser.assert_accessible(&format!("the case page ({name})")).await;
        {
            browser.click("#to_stage button[value='enrolled']").await;
            wait_for_text(&browser, "The stage is changed.").await;
            browser.shot("case-enrolled").await;

            browser.click("#log-service summary").await;
            let service = browser.client.find(Locator::Css("#service_type")).await.unwrap();
            service.select_by_index(1).await.expect("a service chosen");
            let provider = browser.client.find(Locator::Css("#provider_id")).await.unwrap();
            provider.select_by_index(1).await.expect("a provider chosen");
            let today = page_today(&browser, "#completed_on").await;
            set_value(&browser, "#delivered_on", &today).await;
            browser.fill("#units", "1").await;
            browser.click("form[action$='/services'] button[type=submit]").await;
            wait_for_text(&browser, "The service is logged.").await;
            browser.shot("service-logged").await;
            browser.assert_accessible(&format!("the case after a service ({name})")).await;

            set_value(&browser, "#attempted_on", &today).await;
            let channel = browser.client.find(Locator::Css("#channel")).await.unwrap();
            channel.select_by_index(1).await.expect("a channel chosen");
            browser.click("#outcome").await;
            browser.click("form[action$='/contact-attempts'] button[type=submit]").await;
            wait_for_text(&browser, "The contact attempt is recorded.").await;
            browser.shot("contact-recorded").await;

            // The baseline follow-up, due at enrollment, is recorded today.
            let result = browser.client.find(Locator::Css("#follow_up_result")).await.unwrap();
            result.select_by_value("completed").await.expect("completed");
            browser.click("form[action$='/follow-ups'] button[type=submit]").await;
            wait_for_text(&browser, "The follow-up is recorded.").await;
            browser.shot("follow-up-recorded").await;
            browser.assert_accessible(&format!("the case after a follow-up ({name})")).await;
        }
        let case_text = browser.page_text().await;
        for recorded in ["Enrolled", "Done"] {
            assert!(case_text.contains(recorded), "the case page does not show {recorded}: {case_text}");
        }

        // Sign out: Back shows nothing personal, and the pages ask for a sign-in again.
        let case_path = browser.current_path().await;
        browser.click("form[action='/sign-out'] button[type=submit]").await;
        browser.client.back().await.expect("back");
        let after = browser.page_text().await;
        for personal in ["maria.cm", "River Example", PHONE, "green lantern"] {
            assert!(!after.contains(personal), "Back after sign-out shows {personal}: {after}");
        }
        browser.shot("back-after-sign-out").await;
        browser.goto(&format!("{}{case_path}", system.web)).await;
        assert_eq!(browser.current_path().await, "/sign-in", "the session ended");
        browser.close().await;
    }
    system.stop().await;
}

/// Sets a form field's value in the page (a date input, which typing fills by the browser's
/// locale), as a person's picker would.
async fn set_value(browser: &super::Browser, css: &str, value: &str) {
    let element = browser.client.find(Locator::Css(css)).await.unwrap_or_else(|err| panic!("{css}: {err}"));
    browser
        .client
        .execute("arguments[0].value = arguments[1]", vec![serde_json::to_value(&element).unwrap(), value.into()])
        .await
        .expect("value set");
}

/// The date `days` after `today` ("2026-12-08", the page's own Los Angeles date).
fn in_days(today: &str, days: i64) -> String {
    let today = chrono::NaiveDate::parse_from_str(today, "%Y-%m-%d").expect("a date");
    (today + chrono::Duration::days(days)).format("%Y-%m-%d").to_string()
}

/// The page's Los Angeles date, from a `datetime-local` or `date` field it filled in.
async fn page_today(browser: &super::Browser, css: &str) -> String {
    let element = browser.client.find(Locator::Css(css)).await.unwrap_or_else(|err| panic!("{css}: {err}"));
    let value = element.prop("value").await.expect("value").unwrap_or_default();
    value.get(..10).unwrap_or_else(|| panic!("{css} holds no date: {value:?}")).to_owned()
}
