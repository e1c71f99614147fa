//! The partner's view against real intake, routing, cases and audit (one test server on the engine
//! under test; the gateway shares its clock): a partner sees only its own offers, accepts and
//! declines them (a reason required, a closed offer saying so), records a service and a contact
//! attempt on the case it serves, updates its own capacity; another partner's offer, case or
//! service answers the very page an unknown id does; every form is refused without the CSRF token
//! or from another origin.

use std::time::Duration;

use wf_proto::cases::v1 as cases;
use wf_proto::cases::v1::case_service_client::CaseServiceClient;
use wf_proto::common::v1 as common;
use wf_proto::intake::v1 as intake;
use wf_proto::routing::v1 as routing;
use wf_proto::routing::v1::routing_service_client::RoutingServiceClient;
use wf_testkit::{AuthedChannel, TestServer, TestService};
use wf_types::Clock as _;

use super::*;

/// Demo Harbor Youth Shelter (emergency beds in South Los Angeles) and its one service.
pub(super) const HARBOR: &str = "org_e74680f37b1a4624be1014d73e963b4b";
pub(super) const HARBOR_BEDS: &str = "svc_2c2c43b486bc4bc8a526abaa47f6ec14";
/// Demo Valley Survivor Mentors (peer mentoring in the San Fernando Valley) and its service.
pub(super) const VALLEY: &str = "org_fe4bd2b05589482d81198d7ffafad5dc";
pub(super) const VALLEY_MENTORING: &str = "svc_b09d7c8a261a464aade8942125173ce0";
const UNKNOWN_OFFER: &str = "off_00000000000000000000000000000000";
const UNKNOWN_CASE: &str = "case_00000000000000000000000000000000";
const UNKNOWN_SERVICE: &str = "svc_00000000000000000000000000000000";
const SETTLE: Duration = Duration::from_secs(30);
/// Words of the fictional personal details: never on a partner's page.
const PERSONAL: [&str; 4] = ["Fictional", "Sky Testcase", "555-0142", "blue kite"];

pub(super) struct World {
    pub server: TestServer,
    pub h: Harness,
    pub clock: TestClock,
}

/// A referral a test submits, coded as a hotline would send it.
pub(super) struct Submit {
    pub reference: &'static str,
    pub tier: common::TriageTier,
    pub site: common::Site,
    pub needs: &'static [&'static str],
}

impl World {
    pub async fn start(engine: Engine) -> Self {
        let clock = TestClock::starting_now();
        let services = vec![
            TestService::new(wf_intake::migrations(), |ctx| async move { Ok(wf_intake::build(ctx).await? as _) }),
            TestService::new(wf_routing::migrations(), |ctx| async move { Ok(wf_routing::build(ctx).await? as _) }),
            TestService::new(wf_cases::migrations(), |ctx| async move { Ok(wf_cases::build(ctx).await? as _) }),
            TestService::new(wf_audit::migrations(), |ctx| async move { Ok(wf_audit::build(ctx).await? as _) }),
        ];
        let server = TestServer::start_many(engine, clock.shared(), services).await;
        let h = Harness::in_front_of(engine, &server, &clock).await;
        World { server, h, clock }
    }

    pub async fn routing_as(&self, token: &str) -> RoutingServiceClient<AuthedChannel> {
        RoutingServiceClient::new(self.server.channel(token).await)
    }

    pub async fn staff_routing(&self) -> RoutingServiceClient<AuthedChannel> {
        self.routing_as(&self.server.tokens.user(Role::ProgramManager)).await
    }

    pub async fn cases_as(&self, token: &str) -> CaseServiceClient<AuthedChannel> {
        CaseServiceClient::new(self.server.channel(token).await)
    }

    pub async fn submit(&self, what: Submit) -> String {
        let personal = intake::PersonalDetails {
            legal_first_name: "Fictional".into(),
            legal_last_name: format!("Youth {}", what.reference),
            preferred_name: "Sky Testcase".into(),
            estimated_age: 16,
            phones: vec![intake::Phone { number: "+1-555-0142".into(), kind: "mobile".into(), ..Default::default() }],
            safe_contact: Some(intake::SafeContact { code_word: "blue kite".into(), ..Default::default() }),
            ..Default::default()
        };
        let request = intake::SubmitReferralRequest {
            referral: Some(intake::Referral {
                source: common::ReferralSource::Hotline as i32,
                referring_organization_name: "Fictional Test Hotline".into(),
                external_reference: what.reference.into(),
                received_at: Some(wf_proto::time::timestamp_from_micros(self.clock.now_micros())),
                triage_tier: what.tier as i32,
                site: what.site as i32,
                needs: what.needs.iter().map(|need| (*need).to_owned()).collect(),
                preferred_language: "en".into(),
                personal: Some(personal),
                ..Default::default()
            }),
        };
        let token = self.server.tokens.user(Role::Hotline);
        let mut hotline = intake::intake_service_client::IntakeServiceClient::new(self.server.channel(&token).await);
        hotline.submit_referral(request).await.expect("submitted").into_inner().referral_id
    }

    /// The offer routing made for `referral_id` (waits for it), as staff read it.
    pub async fn offer_for(&self, referral_id: &str) -> routing::Offer {
        for _ in 0..150 {
            let request =
                routing::ListOffersRequest { referral_id: referral_id.to_owned(), page_size: 10, ..Default::default() };
            let answer = self.staff_routing().await.list_offers(request).await.expect("offers listed");
            if let Some(offer) = answer.into_inner().offers.pop() {
                return offer;
            }
            tokio::time::sleep(SETTLE / 150).await;
        }
        panic!("no offer was made for {referral_id}");
    }

    pub async fn offer(&self, offer_id: &str) -> routing::Offer {
        let request = routing::GetOfferRequest { offer_id: offer_id.to_owned() };
        self.staff_routing().await.get_offer(request).await.expect("offer").into_inner().offer.expect("offer")
    }

    /// A shelter referral in South Los Angeles offered to Harbor, and a mentoring one in the Valley
    /// offered to Valley: `(harbor offer, valley offer)`.
    pub async fn two_offers(&self, prefix: &str) -> (routing::Offer, routing::Offer) {
        let harbor = self
            .submit(Submit {
                reference: if prefix == "A" { "P-A-HARBOR" } else { "P-B-HARBOR" },
                tier: common::TriageTier::Urgent,
                site: common::Site::SouthLosAngeles,
                needs: &["emergency_shelter"],
            })
            .await;
        let valley = self
            .submit(Submit {
                reference: if prefix == "A" { "P-A-VALLEY" } else { "P-B-VALLEY" },
                tier: common::TriageTier::Routine,
                site: common::Site::SanFernandoValley,
                needs: &["support_group_mentoring"],
            })
            .await;
        let (harbor, valley) = (self.offer_for(&harbor).await, self.offer_for(&valley).await);
        assert_eq!((harbor.partner_id.as_str(), valley.partner_id.as_str()), (HARBOR, VALLEY), "routed as planned");
        (harbor, valley)
    }

    /// The case `partner` serves through `referral_id` (waits until cases opened it for it).
    pub async fn served_case(&self, partner: &str, referral_id: &str) -> String {
        let token = self.server.tokens.partner(partner);
        for _ in 0..150 {
            let request = cases::ListCasesRequest {
                referral_id: referral_id.to_owned(),
                include_practice: true,
                ..Default::default()
            };
            if let Ok(answer) = self.cases_as(&token).await.list_cases(request).await
                && let Some(case) = answer.into_inner().cases.pop()
            {
                return case.case_id;
            }
            tokio::time::sleep(SETTLE / 150).await;
        }
        panic!("{partner} never served the case of {referral_id}");
    }

    /// A sign-in of `role` (partner of `partner`; linked to the roster entry `user_id`), signed in
    /// and acknowledged.
    pub async fn person(
        &self,
        username: &str,
        role: Role,
        partner: Option<&str>,
        user_id: Option<&str>,
    ) -> Browser<'_> {
        let new = NewAccount {
            username: username.to_owned(),
            role,
            partner_id: partner.map(|p| p.parse().expect("org id")),
            user_id: user_id.map(str::to_owned),
            password: Zeroizing::new(PASSWORD.to_owned()),
        };
        self.h.gateway.accounts().add(new).await.expect("account added");
        self.h.signed_in(username).await
    }
}

/// Two answers are the one "not found" page: same status, same bytes.
#[track_caller]
fn same_not_found(foreign: &Answer, unknown: &Answer) {
    foreign.expect_status(StatusCode::NOT_FOUND);
    unknown.expect_status(StatusCode::NOT_FOUND);
    assert_eq!(foreign.body, unknown.body, "another partner's record must look exactly like an unknown one");
    assert!(foreign.body.contains("Page not found"), "{}", foreign.body);
}

#[track_caller]
fn no_personal_data(body: &str) {
    for word in PERSONAL {
        assert!(!body.contains(word), "a partner page shows {word:?}");
    }
}

both_engines!(a_partner_sees_and_answers_only_its_own_offers, |engine| async move {
    let w = World::start(engine).await;
    let (mine, theirs) = w.two_offers("A").await;
    let second = w
        .submit(Submit {
            reference: "P-A-HARBOR-2",
            tier: common::TriageTier::Emergent,
            site: common::Site::SouthLosAngeles,
            needs: &["emergency_shelter", "crisis_intervention"],
        })
        .await;
    let second = w.offer_for(&second).await;
    assert_eq!(second.partner_id, HARBOR);
    let mut harbor = w.person("harbor.staff", Role::Partner, Some(HARBOR), None).await;

    // Its own offers, pending first, with coded facts, deadline and countdown; never another's.
    let list = harbor.get("/offers").await;
    list.expect_status(StatusCode::OK);
    assert!(list.body.contains(&mine.offer_id) && list.body.contains(&second.offer_id), "{}", list.body);
    assert!(!list.body.contains(&theirs.offer_id), "another partner's offer is listed");
    assert!(list.body.contains("Waiting for your answer (2)"), "{}", list.body);
    assert!(list.body.contains("tier--emergent") && list.body.contains("Emergency shelter"));
    assert!(list.body.contains("15–17") && list.body.contains("role=\"timer\""), "{}", list.body);
    assert!(list.body.contains("PDT") || list.body.contains("PST"), "the deadline is Los Angeles time");
    assert!(list.body.find(&second.offer_id) < list.body.find(&mine.offer_id), "the emergent deadline first");
    no_personal_data(&list.body);
    let pending = harbor.get("/offers?status=pending").await;
    assert!(pending.body.contains(&mine.offer_id) && pending.body.contains("aria-current=\"page\""));
    assert!(!harbor.get("/offers?status=accepted").await.body.contains(&mine.offer_id));

    let page = harbor.get(&format!("/offers/{}", mine.offer_id)).await;
    page.expect_status(StatusCode::OK);
    assert!(page.body.contains("Accept offer") && page.body.contains("Decline offer"));
    assert!(page.body.contains("English") && page.body.contains("Yes (under 18)"), "{}", page.body);
    no_personal_data(&page.body);
    let csrf = page.csrf();

    // Another partner's offer is the page of an id that does not exist (or is not even an id).
    let foreign = harbor.get(&format!("/offers/{}", theirs.offer_id)).await;
    same_not_found(&foreign, &harbor.get(&format!("/offers/{UNKNOWN_OFFER}")).await);
    same_not_found(&foreign, &harbor.get("/offers/not-an-offer").await);
    let foreign = harbor.post(&format!("/offers/{}/accept", theirs.offer_id), &[("csrf_token", &csrf)]).await;
    same_not_found(&foreign, &harbor.post(&format!("/offers/{UNKNOWN_OFFER}/accept"), &[("csrf_token", &csrf)]).await);
    let decline = [("csrf_token", csrf.as_str()), ("reason", "no_capacity"), ("detail", "")];
    let foreign = harbor.post(&format!("/offers/{}/decline", theirs.offer_id), &decline).await;
    same_not_found(&foreign, &harbor.post(&format!("/offers/{UNKNOWN_OFFER}/decline"), &decline).await);
    assert_eq!(w.offer(&theirs.offer_id).await.status, routing::OfferStatus::Pending as i32, "nothing changed");

    // Declining needs a reason from the list; "other" needs a code.
    let path = format!("/offers/{}/decline", second.offer_id);
    let missing = harbor.post(&path, &[("csrf_token", &csrf), ("reason", ""), ("detail", "")]).await;
    missing.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.body.contains("error-summary") && missing.body.contains("href=\"#reason\""), "{}", missing.body);
    assert!(missing.body.contains("Choose why you decline this offer"));
    let other = harbor.post(&path, &[("csrf_token", &csrf), ("reason", "other"), ("detail", "")]).await;
    other.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(other.body.contains("href=\"#detail\"") && other.body.contains("<option value=\"other\" selected>"));
    let sentence = harbor.post(&path, &[("csrf_token", &csrf), ("reason", "other"), ("detail", "Too far away")]).await;
    sentence.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(sentence.body.contains("The code must be a code"), "routing's violation on the field: {}", sentence.body);
    assert_eq!(w.offer(&second.offer_id).await.status, routing::OfferStatus::Pending as i32);
    let declined = harbor.post(&path, &[("csrf_token", &csrf), ("reason", "no_capacity"), ("detail", "")]).await;
    declined.expect_status(StatusCode::SEE_OTHER);
    assert_eq!(declined.location(), Some(format!("/offers/{}?done=declined", second.offer_id).as_str()));
    let recorded = w.offer(&second.offer_id).await;
    assert_eq!(
        (recorded.status, recorded.decline_reason),
        (routing::OfferStatus::Declined as i32, routing::DeclineReason::NoCapacity as i32)
    );
    let after = harbor.get(declined.location().unwrap()).await;
    assert!(after.body.contains("You declined this offer") && after.body.contains("No open places"));
    assert!(!after.body.contains("Accept offer"), "a declined offer has no forms");

    // Accepting redirects with a confirmation; a second answer says the offer is no longer open.
    let accepted = harbor.post(&format!("/offers/{}/accept", mine.offer_id), &[("csrf_token", &csrf)]).await;
    assert_eq!(accepted.location(), Some(format!("/offers/{}?done=accepted", mine.offer_id).as_str()));
    assert_eq!(w.offer(&mine.offer_id).await.status, routing::OfferStatus::Accepted as i32);
    let shown = harbor.get(accepted.location().unwrap()).await;
    assert!(shown.body.contains("You accepted this offer") && shown.body.contains("href=\"/served\""));
    let again = harbor.post(&format!("/offers/{}/accept", mine.offer_id), &[("csrf_token", &csrf)]).await;
    again.expect_status(StatusCode::CONFLICT);
    assert!(
        again.body.contains("Your answer was not recorded") && again.body.contains("it is accepted"),
        "{}",
        again.body
    );
    let late = harbor.post(&path, &[("csrf_token", &csrf), ("reason", "no_capacity"), ("detail", "")]).await;
    late.expect_status(StatusCode::CONFLICT);
    assert!(late.body.contains("This offer is no longer open: it is declined"), "{}", late.body);

    // Staff have their own screens: the partner's view does not exist for them.
    let mut staff = w.person("maria.cm", Role::CaseManager, None, Some("usr_demo_case_manager")).await;
    for path in ["/offers", &format!("/offers/{}", mine.offer_id), "/served", "/capacity"] {
        staff.get(path).await.expect_status(StatusCode::NOT_FOUND);
    }
    assert!(!staff.get("/").await.body.contains("href=\"/offers\""), "no partner navigation for staff");
    assert!(harbor.get("/").await.body.contains("href=\"/capacity\""), "the partner's navigation");
});

both_engines!(a_partner_records_services_and_contact_attempts_only_on_the_cases_it_serves, |engine| async move {
    let w = World::start(engine).await;
    let (mine, theirs) = w.two_offers("B").await;
    for (partner, offer) in [(HARBOR, &mine), (VALLEY, &theirs)] {
        let mut routing = w.routing_as(&w.server.tokens.partner(partner)).await;
        let request = routing::AcceptOfferRequest { offer_id: offer.offer_id.clone() };
        routing.accept_offer(request).await.expect("accepted");
    }
    let case = w.served_case(HARBOR, &mine.referral_id).await;
    let their_case = w.served_case(VALLEY, &theirs.referral_id).await;
    let mut harbor = w.person("harbor.staff", Role::Partner, Some(HARBOR), None).await;

    let served = harbor.get("/served").await;
    served.expect_status(StatusCode::OK);
    assert!(served.body.contains(&format!("href=\"/served/{case}\"")), "{}", served.body);
    assert!(!served.body.contains(&their_case), "another partner's case is listed");
    no_personal_data(&served.body);

    let page = harbor.get(&format!("/served/{case}")).await;
    page.expect_status(StatusCode::OK);
    let today = wf_gateway::domain::partner::local_date(w.clock.now_micros());
    assert!(page.body.contains(&format!("name=\"delivered_on\" type=\"date\" max=\"{today}\"")), "{}", page.body);
    assert!(page.body.contains(&format!("value=\"{today}\"")), "the date defaults to today in Los Angeles");
    assert!(page.body.contains("<optgroup label=\"Named in the referral\">"), "the referral's needs first");
    assert!(page.body.contains(&format!("name=\"partner_service_id\" value=\"{HARBOR_BEDS}\"")));
    no_personal_data(&page.body);
    let csrf = page.csrf();

    // A service delivered: the form's own checks first, then the record.
    let services = format!("/served/{case}/services");
    let bad = harbor
        .post(
            &services,
            &[
                ("csrf_token", &csrf),
                ("service_type", ""),
                ("delivered_on", "yesterday"),
                ("units", "0"),
                ("unit_type", "nights"),
                ("partner_service_id", HARBOR_BEDS),
            ],
        )
        .await;
    bad.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    for anchor in ["#service_type", "#delivered_on", "#units"] {
        assert!(bad.body.contains(&format!("href=\"{anchor}\"")), "{anchor} in the summary: {}", bad.body);
    }
    assert!(bad.body.contains("<option value=\"nights\" selected>"), "what was typed is kept");
    let future = harbor
        .post(
            &services,
            &[
                ("csrf_token", &csrf),
                ("service_type", "emergency_shelter"),
                ("delivered_on", "2999-01-01"),
                ("units", "1"),
                ("unit_type", "nights"),
                ("partner_service_id", HARBOR_BEDS),
            ],
        )
        .await;
    future.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(future.body.contains("The date is in the future"), "cases' violation on the field: {}", future.body);
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("service_type", "emergency_shelter"),
        ("delivered_on", today.as_str()),
        ("units", "2"),
        ("unit_type", "nights"),
        ("partner_service_id", HARBOR_BEDS),
    ];
    let recorded = harbor.post(&services, &fields).await;
    assert_eq!(recorded.location(), Some(format!("/served/{case}?done=service#services").as_str()));
    let staff = w.server.tokens.user(Role::Supervisor);
    let request = cases::ListInterventionsRequest { case_id: case.clone(), ..Default::default() };
    let interventions = w.cases_as(&staff).await.list_interventions(request).await.unwrap().into_inner().interventions;
    assert_eq!(interventions.len(), 1);
    let delivered = &interventions[0];
    assert_eq!(
        (
            delivered.service_type.as_str(),
            delivered.units,
            delivered.provider_id.as_str(),
            delivered.partner_service_id.as_str()
        ),
        ("emergency_shelter", 2.0, HARBOR, HARBOR_BEDS)
    );
    assert_eq!(delivered.unit_type, cases::UnitType::Nights as i32);
    let shown = harbor.get(&format!("/served/{case}?done=service")).await;
    assert!(
        shown.body.contains("The service delivered is recorded") && shown.body.contains("2 nights"),
        "{}",
        shown.body
    );

    // A contact attempt at a Los Angeles date and time.
    let contacts = format!("/served/{case}/contact-attempts");
    let bad = harbor
        .post(
            &contacts,
            &[
                ("csrf_token", &csrf),
                ("attempted_on", &today),
                ("attempted_time", "7pm"),
                ("channel", ""),
                ("outcome", ""),
            ],
        )
        .await;
    bad.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    for anchor in ["#attempted_time", "#channel", "#outcome"] {
        assert!(bad.body.contains(&format!("href=\"{anchor}\"")), "{anchor} in the summary: {}", bad.body);
    }
    let earlier = w.clock.now_micros() - 2 * 3_600_000_000;
    let (on, at) = (wf_gateway::domain::partner::local_date(earlier), wf_gateway::domain::partner::local_time(earlier));
    let attempt = [
        ("csrf_token", csrf.as_str()),
        ("attempted_on", on.as_str()),
        ("attempted_time", at.as_str()),
        ("channel", "text_message"),
        ("outcome", "reached"),
    ];
    let recorded = harbor.post(&contacts, &attempt).await;
    assert_eq!(recorded.location(), Some(format!("/served/{case}?done=contact#contact-attempts").as_str()));
    let request = cases::ListContactAttemptsRequest { case_id: case.clone(), ..Default::default() };
    let attempts = w.cases_as(&staff).await.list_contact_attempts(request).await.unwrap().into_inner().contact_attempts;
    assert_eq!(attempts.len(), 1);
    let recorded_at = attempts[0].attempted_at.as_ref().map(|t| t.seconds).unwrap_or_default();
    assert_eq!(recorded_at, earlier / 1_000_000 / 60 * 60, "the minute typed, in Los Angeles time");
    assert_eq!(
        (attempts[0].channel, attempts[0].outcome, attempts[0].organization_id.as_str()),
        (common::ContactChannel::TextMessage as i32, common::ContactOutcome::Reached as i32, HARBOR)
    );
    let shown = harbor.get(&format!("/served/{case}?done=contact")).await;
    assert!(shown.body.contains("Reached the youth") && shown.body.contains("Text message"));

    // Another partner's case: the page, and each form, answer as an unknown case does.
    let foreign = harbor.get(&format!("/served/{their_case}")).await;
    same_not_found(&foreign, &harbor.get(&format!("/served/{UNKNOWN_CASE}")).await);
    same_not_found(&foreign, &harbor.get("/served/nothing").await);
    let foreign = harbor.post(&format!("/served/{their_case}/services"), &fields).await;
    same_not_found(&foreign, &harbor.post(&format!("/served/{UNKNOWN_CASE}/services"), &fields).await);
    let foreign = harbor.post(&format!("/served/{their_case}/contact-attempts"), &attempt).await;
    same_not_found(&foreign, &harbor.post(&format!("/served/{UNKNOWN_CASE}/contact-attempts"), &attempt).await);
    let request = cases::ListInterventionsRequest { case_id: their_case.clone(), ..Default::default() };
    let theirs = w.cases_as(&staff).await.list_interventions(request).await.unwrap().into_inner().interventions;
    assert!(theirs.is_empty(), "nothing was recorded on the other partner's case");
});

/// The capacity routing holds for `service`, as staff read it.
async fn capacity(w: &World, service: &str) -> Vec<routing::Capacity> {
    let request = routing::ListPartnerServicesRequest { page_size: 100, ..Default::default() };
    let listed = w.staff_routing().await.list_partner_services(request).await.unwrap().into_inner().partner_services;
    listed.into_iter().find(|s| s.partner_service_id == service).expect("service listed").capacity
}

both_engines!(a_partner_updates_only_its_own_capacity, |engine| async move {
    let w = World::start(engine).await;
    w.two_offers("A").await;
    let mut harbor = w.person("harbor.staff", Role::Partner, Some(HARBOR), None).await;
    let page = harbor.get("/capacity").await;
    page.expect_status(StatusCode::OK);
    assert!(page.body.contains(&format!("action=\"/capacity/{HARBOR_BEDS}\"")), "{}", page.body);
    assert!(!page.body.contains(VALLEY_MENTORING), "another partner's service is listed");
    let csrf = page.csrf();
    let before = capacity(&w, HARBOR_BEDS).await;

    let path = format!("/capacity/{HARBOR_BEDS}");
    let bad = harbor.post(&path, &[("csrf_token", &csrf), ("unit", "bed"), ("available", "9"), ("maximum", "8")]).await;
    bad.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains(&format!("href=\"#available-{HARBOR_BEDS}\"")), "{}", bad.body);
    assert!(bad.body.contains("cannot be more than the 8 places"));
    let unit =
        harbor.post(&path, &[("csrf_token", &csrf), ("unit", "room"), ("available", "1"), ("maximum", "8")]).await;
    assert!(unit.body.contains(&format!("href=\"#unit-{HARBOR_BEDS}\"")), "{}", unit.body);
    assert_eq!(capacity(&w, HARBOR_BEDS).await, before, "nothing changed");

    let done =
        harbor.post(&path, &[("csrf_token", &csrf), ("unit", "bed"), ("available", "2"), ("maximum", "8")]).await;
    done.expect_status(StatusCode::SEE_OTHER);
    assert_eq!(done.location(), Some(format!("/capacity?done=updated&service={HARBOR_BEDS}#{HARBOR_BEDS}").as_str()));
    let now = capacity(&w, HARBOR_BEDS).await;
    let bed = now.iter().find(|c| c.unit == "bed").expect("a bed entry");
    assert_eq!((bed.available, bed.maximum), (2, 8));
    let shown = harbor.get(done.location().unwrap()).await;
    assert!(shown.body.contains("Capacity is updated") && shown.body.contains("capacity--updated"));

    // Another partner's service, an unknown one and a malformed id: one page, nothing changed.
    let fields = [("csrf_token", csrf.as_str()), ("unit", "slot"), ("available", "0"), ("maximum", "12")];
    let valley_before = capacity(&w, VALLEY_MENTORING).await;
    let foreign = harbor.post(&format!("/capacity/{VALLEY_MENTORING}"), &fields).await;
    same_not_found(&foreign, &harbor.post(&format!("/capacity/{UNKNOWN_SERVICE}"), &fields).await);
    same_not_found(&foreign, &harbor.post("/capacity/beds", &fields).await);
    assert_eq!(capacity(&w, VALLEY_MENTORING).await, valley_before);
});

both_engines!(every_partner_form_refuses_a_missing_token_and_a_foreign_origin, |engine| async move {
    let w = World::start(engine).await;
    let (served, _valley) = w.two_offers("A").await;
    let token = w.server.tokens.partner(HARBOR);
    let pending = w
        .submit(Submit {
            reference: "P-CSRF",
            tier: common::TriageTier::Urgent,
            site: common::Site::SouthLosAngeles,
            needs: &["emergency_shelter"],
        })
        .await;
    let pending = w.offer_for(&pending).await;
    let request = routing::AcceptOfferRequest { offer_id: served.offer_id.clone() };
    w.routing_as(&token).await.accept_offer(request).await.expect("accepted");
    let case = w.served_case(HARBOR, &served.referral_id).await;
    let mut harbor = w.person("harbor.staff", Role::Partner, Some(HARBOR), None).await;
    let csrf = harbor.get("/offers").await.csrf();
    let today = wf_gateway::domain::partner::local_date(w.clock.now_micros());
    let forms: Vec<(String, Vec<(&str, &str)>)> = vec![
        (format!("/offers/{}/accept", pending.offer_id), vec![]),
        (format!("/offers/{}/decline", pending.offer_id), vec![("reason", "no_capacity")]),
        (
            format!("/served/{case}/services"),
            vec![
                ("service_type", "emergency_shelter"),
                ("delivered_on", &today),
                ("units", "1"),
                ("unit_type", "nights"),
            ],
        ),
        (
            format!("/served/{case}/contact-attempts"),
            vec![
                ("attempted_on", &today),
                ("attempted_time", "00:01"),
                ("channel", "phone_call"),
                ("outcome", "not_reached"),
            ],
        ),
        (format!("/capacity/{HARBOR_BEDS}"), vec![("unit", "bed"), ("available", "0"), ("maximum", "8")]),
    ];
    let before = capacity(&w, HARBOR_BEDS).await;
    for (path, fields) in &forms {
        let with_token: Vec<(&str, &str)> =
            [("csrf_token", csrf.as_str())].into_iter().chain(fields.iter().copied()).collect();
        let forged: Vec<(&str, &str)> = [("csrf_token", "forged")].into_iter().chain(fields.iter().copied()).collect();
        for (request, what) in [
            (harbor.form(path, fields, Some(ORIGIN), None), "without the token"),
            (harbor.form(path, &forged, Some(ORIGIN), None), "with a forged token"),
            (harbor.form(path, &with_token, Some("https://evil.example"), None), "from another origin"),
            (harbor.form(path, &with_token, None, Some("cross-site")), "from another site"),
        ] {
            let answer = w.h.send(request).await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path} {what}: {}", answer.body);
            assert!(answer.body.contains("This request was refused"), "{path} {what}");
        }
    }
    // Nothing was changed by the refused posts.
    assert_eq!(w.offer(&pending.offer_id).await.status, routing::OfferStatus::Pending as i32);
    let staff = w.server.tokens.user(Role::Supervisor);
    let request = cases::ListInterventionsRequest { case_id: case.clone(), ..Default::default() };
    assert!(w.cases_as(&staff).await.list_interventions(request).await.unwrap().into_inner().interventions.is_empty());
    let request = cases::ListContactAttemptsRequest { case_id: case.clone(), ..Default::default() };
    assert!(
        w.cases_as(&staff).await.list_contact_attempts(request).await.unwrap().into_inner().contact_attempts.is_empty()
    );
    assert_eq!(capacity(&w, HARBOR_BEDS).await, before);
    // The same forms with the token and our origin go through.
    for (path, fields) in &forms {
        let with_token: Vec<(&str, &str)> =
            [("csrf_token", csrf.as_str())].into_iter().chain(fields.iter().copied()).collect();
        let answer = harbor.post(path, &with_token).await;
        assert!(
            answer.status == StatusCode::SEE_OTHER || answer.status == StatusCode::CONFLICT,
            "{path}: {}",
            answer.body
        );
    }
});
