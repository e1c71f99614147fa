//! The case page and "My caseload", against real intake, routing and cases (one test server on the
//! engine under test; the gateway shares its clock): the stepper offers only the lifecycle's next
//! stages, a move goes through and a stale form is refused saying who changed the case and when, a
//! service is logged from the form and undone, a contact attempt and a follow-up are recorded, a
//! follow-up before its window is refused on the form, a partner gets the unknown id's 404 page,
//! every form is refused without the CSRF token or from another origin, and the caseload lists only
//! the person's own cases.

use std::time::Duration;

use wf_proto::cases::v1::{
    self as cases, CaseStage, FollowUpKind, FollowUpStatus, case_service_client::CaseServiceClient,
};
use wf_proto::common::v1 as common;
use wf_proto::intake::v1 as intake;
use wf_proto::intake::v1::intake_service_client::IntakeServiceClient;
use wf_testkit::{AuthedChannel, TestServer, TestService, eventually};
use wf_types::Clock as _;

use super::*;

/// The demo roster's CM-SLA-1, linked to the sign-in with this user id.
const MARIA_USER: &str = "usr_demo_case_manager";
const CM_SLA_1: &str = "cm_4fb1caa9b6c74909826609ac98974fef";
const MARIA_NAME: &str = "Demo Case Manager One (CM-SLA-1)";
/// The demo roster's first supervisor (CM-SLA-1's), linked to this user id.
const SUPERVISOR_USER: &str = "usr_demo_supervisor";
const SUPERVISOR_NAME: &str = "Demo Supervisor One (SUP-SLA-1)";
/// CM-SLA-3: who the assignment rule picks first at South Los Angeles (lowest id).
const CM_SLA_3: &str = "cm_07119f1e5f764a9a8ed388a92817b511";
const PARTNER: &str = "org_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d";
const UNKNOWN: &str = "case_00000000000000000000000000000000";
const SETTLE: Duration = Duration::from_secs(20);

struct World {
    server: TestServer,
    h: Harness,
    clock: TestClock,
}

impl World {
    async fn start(engine: Engine) -> Self {
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

    async fn cases_as(&self, role: Role) -> CaseServiceClient<AuthedChannel> {
        CaseServiceClient::new(self.server.channel(&self.server.tokens.user(role)).await)
    }

    /// A South Los Angeles referral needing shelter (routing matches it, cases opens its case), and
    /// the case opened for it.
    async fn case(&self, reference: &str) -> String {
        let personal = intake::PersonalDetails {
            legal_first_name: "Fictional".into(),
            legal_last_name: format!("Youth {reference}"),
            preferred_name: "Sky Testcase".into(),
            estimated_age: 16,
            ..Default::default()
        };
        let request = intake::SubmitReferralRequest {
            referral: Some(intake::Referral {
                source: common::ReferralSource::Hotline as i32,
                referring_organization_name: "Fictional Test Hotline".into(),
                external_reference: reference.into(),
                received_at: Some(wf_proto::time::timestamp_from_micros(self.clock.now_micros())),
                triage_tier: common::TriageTier::Urgent as i32,
                site: common::Site::SouthLosAngeles as i32,
                needs: vec!["emergency_shelter".into()],
                preferred_language: "en".into(),
                personal: Some(personal),
                ..Default::default()
            }),
        };
        let mut hotline = IntakeServiceClient::new(self.server.channel(&self.server.tokens.user(Role::Hotline)).await);
        let referral_id = hotline.submit_referral(request).await.expect("submitted").into_inner().referral_id;
        let mut staff = self.cases_as(Role::Supervisor).await;
        let listed = || {
            let mut staff = staff.clone();
            let request = cases::ListCasesRequest { referral_id: referral_id.clone(), ..Default::default() };
            async move { staff.list_cases(request).await.map(|r| r.into_inner().cases).unwrap_or_default() }
        };
        assert!(eventually(SETTLE, || async { !listed().await.is_empty() }).await, "no case for {referral_id}");
        let case_id = listed().await.remove(0).case_id;
        // Opened by the service on an event: the page's first version names cases itself.
        let read = staff.get_case(cases::GetCaseRequest { case_id: case_id.clone(), ..Default::default() }).await;
        assert_eq!(read.expect("read").into_inner().case.expect("case").updated_by, "cases");
        case_id
    }

    async fn get(&self, case_id: &str) -> cases::Case {
        let request = cases::GetCaseRequest { case_id: case_id.to_owned(), ..Default::default() };
        self.cases_as(Role::Supervisor).await.get_case(request).await.expect("read").into_inner().case.expect("case")
    }

    /// Gives the case to `case_manager_id`, as a supervisor would (unless it holds it already).
    async fn give(&self, case_id: &str, case_manager_id: &str) {
        if self.get(case_id).await.case_manager_id == case_manager_id {
            return;
        }
        let request = cases::ReassignCaseRequest {
            case_id: case_id.to_owned(),
            case_manager_id: case_manager_id.to_owned(),
            reason: cases::ReassignReason::CaseloadBalance as i32,
            ..Default::default()
        };
        self.cases_as(Role::Supervisor).await.reassign_case(request).await.expect("reassigned");
    }

    async fn enroll(&self, case_id: &str) {
        let request = cases::TransitionStageRequest {
            case_id: case_id.to_owned(),
            to_stage: CaseStage::Enrolled as i32,
            reason: "youth_enrolled".into(),
            ..Default::default()
        };
        self.cases_as(Role::CaseManager).await.transition_stage(request).await.expect("enrolled");
    }

    async fn follow_ups(&self, case_id: &str) -> Vec<cases::FollowUp> {
        let request = cases::ListFollowUpsRequest { case_id: case_id.to_owned(), ..Default::default() };
        self.cases_as(Role::Supervisor)
            .await
            .list_follow_ups(request)
            .await
            .expect("follow-ups")
            .into_inner()
            .follow_ups
    }

    async fn interventions(&self, case_id: &str) -> Vec<cases::Intervention> {
        let request = cases::ListInterventionsRequest { case_id: case_id.to_owned(), ..Default::default() };
        let mut client = self.cases_as(Role::Supervisor).await;
        client.list_interventions(request).await.expect("interventions").into_inner().interventions
    }

    /// A sign-in of `role` (linked to the roster entry of `user_id`), signed in and acknowledged.
    async fn person(&self, username: &str, role: Role, user_id: Option<&str>) -> Browser<'_> {
        let partner_id = (role == Role::Partner).then(|| PARTNER.parse().expect("org id"));
        let new = NewAccount {
            username: username.to_owned(),
            role,
            partner_id,
            user_id: user_id.map(str::to_owned),
            password: Zeroizing::new(PASSWORD.to_owned()),
        };
        self.h.gateway.accounts().add(new).await.expect("account added");
        self.h.signed_in(username).await
    }
}

/// The value of the first field `name` on a page.
#[track_caller]
fn field(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker).unwrap_or_else(|| panic!("no {name} field in\n{body}")) + marker.len();
    body[start..].split('"').next().unwrap_or_default().to_owned()
}

/// The stages the page's stage form offers (its submit buttons).
fn offered_stages(body: &str) -> Vec<&str> {
    body.match_indices("name=\"to_stage\" value=\"")
        .map(|(at, marker)| body[at + marker.len()..].split('"').next().unwrap_or_default())
        .collect()
}

fn assert_nothing_personal(body: &str) {
    for personal in ["Fictional", "Sky Testcase", "Youth C-", "yth_"] {
        assert!(!body.contains(personal), "the page shows {personal}");
    }
}

both_engines!(
    the_stepper_offers_only_the_next_stages_and_a_stale_form_names_who_changed_the_case,
    |engine| async move {
        let w = World::start(engine).await;
        let case_id = w.case("C-1").await;
        w.give(&case_id, CM_SLA_1).await;
        let mut maria = w.person("maria", Role::CaseManager, Some(MARIA_USER)).await;
        let page = format!("/cases/{case_id}");

        let first = maria.get(&page).await;
        first.expect_status(StatusCode::OK);
        assert_eq!(first.header("cache-control"), Some("no-store"));
        let body = &first.body;
        assert!(body.contains(&case_id) && body.contains(MARIA_NAME), "{body}");
        // In engagement: enrolling (and closing, its own form) is all the lifecycle allows.
        assert_eq!(offered_stages(body), ["enrolled"]);
        assert!(body.contains("aria-current=\"step\">Engagement"), "{body}");
        assert!(body.contains("Close the case"));
        assert!(!body.contains("Reopen the case"));
        assert!(body.contains("href=\"/referrals/") && body.contains("#consent\""), "a link to the consent section");
        assert_nothing_personal(body);
        // The owner reads (and may write) privileged notes; someone else's page has no such section.
        assert!(body.contains("id=\"privileged-notes\"") && body.contains("name=\"privileged\""));
        let mut jo = w.person("jo", Role::CaseManager, Some("usr_jo_not_on_the_roster")).await;
        let theirs = jo.get(&page).await;
        theirs.expect_status(StatusCode::OK);
        assert!(!theirs.body.contains("id=\"privileged-notes\"") && !theirs.body.contains("name=\"privileged\""));

        // Maria's page is now stale: her supervisor records the youth's readiness meanwhile.
        let stale_version = field(body, "expected_updated_at");
        let csrf = first.csrf();
        w.clock.advance(chrono::Duration::minutes(3));
        let mut supervisor = w.person("sup", Role::Supervisor, Some(SUPERVISOR_USER)).await;
        let theirs = supervisor.get(&page).await;
        let fields = [
            ("csrf_token", theirs.csrf()),
            ("expected_updated_at", field(&theirs.body, "expected_updated_at")),
            ("readiness", "ready_to_engage".to_owned()),
        ];
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        supervisor.post(&format!("{page}/readiness"), &fields).await.expect_status(StatusCode::SEE_OTHER);
        let changed = w.get(&case_id).await;
        assert_eq!(changed.updated_by, SUPERVISOR_USER);

        // Moving from the stale page is refused on the form, saying who and when; nothing moves.
        w.clock.advance(chrono::Duration::minutes(2));
        let move_fields = |version: &str| {
            vec![
                ("csrf_token".to_owned(), csrf.clone()),
                ("expected_updated_at".to_owned(), version.to_owned()),
                ("from_stage".to_owned(), "engagement".to_owned()),
                ("to_stage".to_owned(), "enrolled".to_owned()),
            ]
        };
        let as_pairs = |fields: &[(String, String)]| -> Vec<(String, String)> { fields.to_vec() };
        let stale = as_pairs(&move_fields(&stale_version));
        let stale: Vec<(&str, &str)> = stale.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let refused = maria.post(&format!("{page}/stage"), &stale).await;
        refused.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
        let changed_at = wf_gateway::domain::queue::time::clock_time(
            wf_gateway::domain::queue::micros(&changed.updated_at).expect("updated_at"),
            w.clock.now_micros(),
        );
        let said = format!("changed by {SUPERVISOR_NAME} at {changed_at}");
        assert!(refused.body.contains("error-summary") && refused.body.contains(&said), "{said}\n{}", refused.body);
        assert!(refused.body.contains("nothing was saved") && refused.body.contains("href=\"#to_stage\""));
        assert_eq!(w.get(&case_id).await.stage, CaseStage::Engagement as i32, "nothing moved");
        // A form that carries no version is refused too (never a silent overwrite).
        let bare = [("csrf_token", csrf.as_str()), ("from_stage", "engagement"), ("to_stage", "enrolled")];
        maria.post(&format!("{page}/stage"), &bare).await.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(w.get(&case_id).await.stage, CaseStage::Engagement as i32);

        // The page it answered with carries the current version: submitting it moves the case.
        let fresh = field(&refused.body, "expected_updated_at");
        assert_ne!(fresh, stale_version);
        let fresh = as_pairs(&move_fields(&fresh));
        let fresh: Vec<(&str, &str)> = fresh.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let moved = maria.post(&format!("{page}/stage"), &fresh).await;
        moved.expect_status(StatusCode::SEE_OTHER);
        assert_eq!(moved.location(), Some(format!("{page}?done=stage#stage").as_str()));
        let now = w.get(&case_id).await;
        assert_eq!((now.stage, now.updated_by.as_str()), (CaseStage::Enrolled as i32, MARIA_USER));
        let after = maria.get(&format!("{page}?done=stage")).await;
        assert!(after.body.contains("The stage is changed."));
        assert_eq!(offered_stages(&after.body), ["assessed"]);
        assert!(after.body.contains(&format!("changed by {MARIA_NAME} at ")), "{}", after.body);
        // A stage the lifecycle does not allow from here is the service's refusal, on the form.
        let skip = as_pairs(&move_fields(&field(&after.body, "expected_updated_at")));
        let mut skip: Vec<(&str, &str)> = skip.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        skip[3].1 = "active";
        let refused = maria.post(&format!("{page}/stage"), &skip).await;
        refused.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("allowed next stages: assessed"), "{}", refused.body);

        // A partner gets exactly the page of an id that does not exist; other roles are told why.
        let mut partner = w.person("harbor", Role::Partner, None).await;
        let hidden = partner.get(&page).await;
        let nothing = partner.get(&format!("/cases/{UNKNOWN}")).await;
        hidden.expect_status(StatusCode::NOT_FOUND);
        assert_eq!(hidden.body, nothing.body);
        let csrf_partner = hidden.csrf();
        partner
            .post(
                &format!("{page}/notes"),
                &[("csrf_token", &csrf_partner), ("note_text", "x"), ("note_category", "general")],
            )
            .await
            .expect_status(StatusCode::NOT_FOUND);
        for path in [format!("/cases/{UNKNOWN}"), "/cases/not-an-id".to_owned()] {
            let missing = maria.get(&path).await;
            missing.expect_status(StatusCode::NOT_FOUND);
            assert!(missing.body.contains(wf_gateway::api::errors::NOT_FOUND_MESSAGE), "{path}");
        }
        let mut auditor = w.person("auditor", Role::Auditor, None).await;
        auditor.get(&page).await.expect_status(StatusCode::FORBIDDEN);
        auditor.get("/caseload").await.expect_status(StatusCode::FORBIDDEN);
        w.server.stop().await;
    }
);

both_engines!(a_service_is_logged_and_undone_and_contacts_and_follow_ups_are_recorded, |engine| async move {
    let w = World::start(engine).await;
    let case_id = w.case("C-2").await;
    w.give(&case_id, CM_SLA_1).await;
    w.enroll(&case_id).await;
    let mut maria = w.person("maria", Role::CaseManager, Some(MARIA_USER)).await;
    let page = format!("/cases/{case_id}");
    let first = maria.get(&page).await;
    first.expect_status(StatusCode::OK);
    let csrf = first.csrf();
    let version = field(&first.body, "expected_updated_at");
    let today = wf_gateway::domain::partner::local_date(w.clock.now_micros());
    let time = wf_gateway::domain::partner::local_time(w.clock.now_micros());

    // Log a service: the form, then the page offers to undo it.
    let service = [
        ("csrf_token", csrf.as_str()),
        ("expected_updated_at", version.as_str()),
        ("service_type", "victim_advocacy"),
        ("provider_id", PARTNER),
        ("delivered_on", today.as_str()),
        ("units", "1"),
        ("unit_type", "sessions"),
        ("partner_service_id", ""),
    ];
    let missing_provider: Vec<(&str, &str)> = service.iter().copied().filter(|(k, _)| *k != "provider_id").collect();
    let refused = maria.post(&format!("{page}/services"), &missing_provider).await;
    refused.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("href=\"#provider_id\""), "{}", refused.body);
    let logged = maria.post(&format!("{page}/services"), &service).await;
    logged.expect_status(StatusCode::SEE_OTHER);
    let location = logged.location().expect("a redirect").to_owned();
    assert!(location.starts_with(&format!("{page}?done=service&undo=int_")), "{location}");
    let recorded = w.interventions(&case_id).await;
    assert_eq!(recorded.len(), 1);
    let intervention = recorded[0].intervention_id.clone();
    let offered = maria.get(&location).await;
    assert!(offered.body.contains("The service is logged.") && offered.body.contains("Undo"), "{}", offered.body);
    let undo = format!("{page}/services/{intervention}/undo");
    assert!(offered.body.contains(&format!("action=\"{undo}\"")));
    // The chip logs it again in three clicks: open "Log a service", the chip (the form prefilled), Save.
    let chip = format!("{page}?repeat={intervention}#log-service");
    assert!(offered.body.contains(&chip.replace('&', "&amp;")) || offered.body.contains(&chip), "{}", offered.body);
    let prefilled = maria.get(&format!("{page}?repeat={intervention}")).await;
    assert!(prefilled.body.contains("<option value=\"victim_advocacy\" selected>"), "{}", prefilled.body);
    assert!(prefilled.body.contains(&format!("<option value=\"{PARTNER}\" selected>")));

    // Undo: withdrawn, no longer listed.
    let undone = maria.post(&undo, &[("csrf_token", &csrf), ("expected_updated_at", &version)]).await;
    undone.expect_status(StatusCode::SEE_OTHER);
    assert_eq!(undone.location(), Some(format!("{page}?done=undo#interventions").as_str()));
    assert!(w.interventions(&case_id).await.is_empty());
    let again = maria.post(&undo, &[("csrf_token", &csrf)]).await;
    again.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("The service cannot be withdrawn: it is not among this case"), "{}", again.body);

    // A contact attempt.
    let contact = [
        ("csrf_token", csrf.as_str()),
        ("expected_updated_at", version.as_str()),
        ("attempted_on", today.as_str()),
        ("attempted_time", time.as_str()),
        ("channel", "phone_call"),
        ("outcome", "reached"),
    ];
    let recorded = maria.post(&format!("{page}/contact-attempts"), &contact).await;
    recorded.expect_status(StatusCode::SEE_OTHER);
    assert_eq!(recorded.location(), Some(format!("{page}?done=contact#contact-attempts").as_str()));
    let timeline = maria.get(&format!("{page}?done=contact")).await;
    assert!(timeline.body.contains("The contact attempt is recorded."));
    assert!(timeline.body.contains("Reached the youth (phone call)"), "{}", timeline.body);

    // The baseline follow-up (its window opened at enrollment) is recorded.
    let follow_ups = w.follow_ups(&case_id).await;
    let of_kind = |kind: FollowUpKind, all: &[cases::FollowUp]| -> cases::FollowUp {
        all.iter().find(|f| f.kind == kind as i32).cloned().unwrap_or_else(|| panic!("no {kind:?}: {all:?}"))
    };
    let baseline = of_kind(FollowUpKind::Baseline, &follow_ups);
    assert!(
        timeline.body.contains("Baseline follow-up") && timeline.body.contains("status--open"),
        "{}",
        timeline.body
    );
    let follow_up = |id: &str, date: &str| {
        vec![
            ("csrf_token".to_owned(), csrf.clone()),
            ("expected_updated_at".to_owned(), version.clone()),
            ("follow_up_id".to_owned(), id.to_owned()),
            ("follow_up_result".to_owned(), "completed".to_owned()),
            ("completed_on".to_owned(), date.to_owned()),
            ("feels_safe".to_owned(), "yes".to_owned()),
        ]
    };
    let pairs = follow_up(&baseline.follow_up_id, &today);
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let done = maria.post(&format!("{page}/follow-ups"), &pairs).await;
    done.expect_status(StatusCode::SEE_OTHER);
    let baseline = of_kind(FollowUpKind::Baseline, &w.follow_ups(&case_id).await);
    assert_eq!(baseline.status, FollowUpStatus::Completed as i32);
    let shown = maria.get(&format!("{page}?done=follow_up")).await;
    assert!(shown.body.contains("The follow-up is recorded.") && shown.body.contains("status--done"));

    // A plan goal, a recidivism event and notes (a privileged one for the owner) are added.
    let version_now = field(&shown.body, "expected_updated_at");
    type Post<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);
    let posts: [Post<'_>; 4] = [
        ("goals", vec![("goal_domain", "housing_stability"), ("goal_description", "A safe place to stay")], "plan"),
        (
            "recidivism",
            vec![
                ("recidivism_kind", "running_away"),
                ("recidivism_evidence", "case_manager_report"),
                ("occurred_on", today.as_str()),
            ],
            "recidivism",
        ),
        ("notes", vec![("note_text", "Met at the drop-in centre."), ("note_category", "contact")], "notes"),
        (
            "notes",
            vec![
                ("note_text", "Privileged: disclosed at supervision."),
                ("note_category", "supervision"),
                ("privileged", "1"),
            ],
            "privileged-notes",
        ),
    ];
    for (form, fields, section) in posts {
        let mut fields = fields;
        fields.extend([("csrf_token", csrf.as_str()), ("expected_updated_at", version_now.as_str())]);
        let answer = maria.post(&format!("{page}/{form}"), &fields).await;
        answer.expect_status(StatusCode::SEE_OTHER);
        assert!(
            answer.location().is_some_and(|to| to.ends_with(&format!("#{section}"))),
            "{form}: {:?}",
            answer.location()
        );
    }
    let shown = maria.get(&page).await;
    for recorded in ["Housing stability", "A safe place to stay", "Running away", "Met at the drop-in centre."] {
        assert!(shown.body.contains(recorded), "{recorded} is not shown");
    }
    let privileged = shown.body.find("id=\"privileged-notes\"").expect("the privileged section");
    let secret = shown.body.find("Privileged: disclosed at supervision.").expect("the privileged note");
    assert!(secret > privileged, "the privileged note shows in its own section only");
    let mut jo = w.person("jo", Role::CaseManager, Some("usr_jo_not_on_the_roster")).await;
    let theirs = jo.get(&page).await;
    assert!(theirs.body.contains("Met at the drop-in centre.") && !theirs.body.contains("disclosed at supervision"));
    let csrf_jo = theirs.csrf();
    let sneaky = [
        ("csrf_token", csrf_jo.as_str()),
        ("note_text", "Not theirs to mark privileged"),
        ("note_category", "general"),
        ("privileged", "1"),
    ];
    let refused = jo.post(&format!("{page}/notes"), &sneaky).await;
    refused.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("owner and their supervisor write privileged notes"));

    // Closed today: the 6-month follow-up cannot be completed yet; the form shows cases' refusal.
    let closing = [
        ("csrf_token", csrf.as_str()),
        ("expected_updated_at", &field(&maria.get(&page).await.body, "expected_updated_at")),
        ("closure_reason", "goals_met"),
        ("exit_living_situation", ""),
        ("exited_on", ""),
    ];
    maria.post(&format!("{page}/close"), &closing).await.expect_status(StatusCode::SEE_OTHER);
    let month6 = of_kind(FollowUpKind::Month6, &w.follow_ups(&case_id).await);
    let pairs = follow_up(&month6.follow_up_id, &today);
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let early = maria.post(&format!("{page}/follow-ups"), &pairs).await;
    early.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(early.body.contains("error-summary") && early.body.contains("href=\"#completed_on\""), "{}", early.body);
    assert!(
        early.body.contains("The follow-up cannot be recorded on this date") && early.body.contains("window opens on")
    );
    let month6 = of_kind(FollowUpKind::Month6, &w.follow_ups(&case_id).await);
    assert_ne!(month6.status, FollowUpStatus::Completed as i32);
    // The closed case offers reopening, and no stage the lifecycle does not allow.
    assert_eq!(offered_stages(&early.body), ["post_exit_follow_up"]);
    assert!(early.body.contains("Reopen the case"));
    w.server.stop().await;
});

both_engines!(every_case_form_needs_the_csrf_token_and_our_origin, |engine| async move {
    let w = World::start(engine).await;
    let case_id = w.case("C-3").await;
    w.give(&case_id, CM_SLA_1).await;
    let mut maria = w.person("maria", Role::CaseManager, Some(MARIA_USER)).await;
    let first = maria.get(&format!("/cases/{case_id}")).await;
    let csrf = first.csrf();
    let version = field(&first.body, "expected_updated_at");
    let before = w.get(&case_id).await;
    let undo = format!("services/{}/undo", wf_types::InterventionId::generate());
    let forms: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("stage", vec![("from_stage", "engagement"), ("to_stage", "enrolled")]),
        ("close", vec![("closure_reason", "unreachable")]),
        ("reopen", vec![("reopen_reason", "youth_returned")]),
        ("readiness", vec![("readiness", "ready_to_engage")]),
        (
            "contact-attempts",
            vec![
                ("attempted_on", "2026-01-01"),
                ("attempted_time", "10:00"),
                ("channel", "phone_call"),
                ("outcome", "reached"),
            ],
        ),
        (
            "services",
            vec![
                ("service_type", "victim_advocacy"),
                ("provider_id", PARTNER),
                ("delivered_on", "2026-01-01"),
                ("units", "1"),
                ("unit_type", "sessions"),
            ],
        ),
        (undo.as_str(), vec![]),
        ("goals", vec![("goal_domain", "housing_stability")]),
        (
            "follow-ups",
            vec![
                ("follow_up_id", "fu_00000000000000000000000000000000"),
                ("follow_up_result", "refused"),
                ("completed_on", "2026-01-01"),
            ],
        ),
        ("recidivism", vec![("recidivism_kind", "running_away"), ("recidivism_evidence", "case_manager_report")]),
        ("notes", vec![("note_text", "A note that must not be saved"), ("note_category", "general")]),
    ];
    for (form, fields) in &forms {
        let path = format!("/cases/{case_id}/{form}");
        fn with<'a>(
            fields: &[(&'a str, &'a str)],
            version: &'a str,
            token: Option<&'a str>,
        ) -> Vec<(&'a str, &'a str)> {
            let mut all = fields.to_vec();
            all.push(("expected_updated_at", version));
            all.extend(token.map(|token| ("csrf_token", token)));
            all
        }
        let attempts = [
            (with(fields, &version, None), Some(ORIGIN), None),
            (with(fields, &version, Some("forged")), Some(ORIGIN), None),
            (with(fields, &version, Some(&csrf)), Some("https://evil.example"), None),
            (with(fields, &version, Some(&csrf)), Some("null"), None),
            (with(fields, &version, Some(&csrf)), None, Some("cross-site")),
        ];
        for (fields, origin, site) in attempts {
            let answer = w.h.send(maria.form(&path, &fields, origin, site)).await;
            answer.expect_status(StatusCode::FORBIDDEN);
            assert!(answer.body.contains("This request was refused"), "{form}: {}", answer.body);
        }
    }
    // Nothing changed: same version, no record added.
    let after = w.get(&case_id).await;
    assert_eq!((after.updated_at, after.stage, after.readiness), (before.updated_at, before.stage, before.readiness));
    assert!(w.interventions(&case_id).await.is_empty());
    let page = maria.get(&format!("/cases/{case_id}")).await;
    assert!(!page.body.contains("A note that must not be saved") && page.body.contains("No notes yet."));
    // The same form from our page with the token goes through.
    maria
        .post(
            &format!("/cases/{case_id}/readiness"),
            &[("csrf_token", &csrf), ("expected_updated_at", &version), ("readiness", "ready_to_engage")],
        )
        .await
        .expect_status(StatusCode::SEE_OTHER);
    w.server.stop().await;
});

both_engines!(the_caseload_lists_only_the_persons_own_cases, |engine| async move {
    let w = World::start(engine).await;
    let theirs = w.case("C-5").await;
    let mine = w.case("C-4").await;
    w.give(&theirs, CM_SLA_3).await;
    w.give(&mine, CM_SLA_1).await;
    w.enroll(&mine).await;
    let mut maria = w.person("maria", Role::CaseManager, Some(MARIA_USER)).await;

    let home = maria.get("/").await;
    assert!(home.body.contains("href=\"/caseload\""), "the navigation offers the caseload");
    let caseload = maria.get("/caseload").await;
    caseload.expect_status(StatusCode::OK);
    assert_eq!(caseload.header("cache-control"), Some("no-store"));
    let body = &caseload.body;
    assert!(body.contains(&format!("href=\"/cases/{mine}\"")), "{body}");
    assert!(!body.contains(&format!("href=\"/cases/{theirs}\"")), "someone else's case is listed: {body}");
    assert!(body.contains("Enrolled") && body.contains("Baseline follow-up"), "stage and next due: {body}");
    assert!(body.contains("1 case"), "{body}");
    assert_nothing_personal(body);
    // A case manager sees no one else's caseload; a supervisor picks whose.
    maria.get(&format!("/caseload?owner={CM_SLA_3}")).await.expect_status(StatusCode::FORBIDDEN);
    maria.get(&format!("/caseload?owner={CM_SLA_1}")).await.expect_status(StatusCode::OK);
    let mut supervisor = w.person("sup", Role::Supervisor, Some(SUPERVISOR_USER)).await;
    let choose = supervisor.get("/caseload").await;
    choose.expect_status(StatusCode::OK);
    assert!(choose.body.contains("Choose a case manager") && choose.body.contains(&format!("value=\"{CM_SLA_3}\"")));
    let other = supervisor.get(&format!("/caseload?owner={CM_SLA_3}")).await;
    assert!(
        other.body.contains(&format!("href=\"/cases/{theirs}\""))
            && !other.body.contains(&format!("href=\"/cases/{mine}\""))
    );
    assert!(other.body.contains("Caseload of Demo Case Manager Three (CM-SLA-3)"), "{}", other.body);
    supervisor.get("/caseload?owner=nobody").await.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    // The home page's counts link to the same list, filtered: missing data (the baseline is due).
    let incomplete = maria.get("/cases?mine=true&incomplete=true").await;
    incomplete.expect_status(StatusCode::OK);
    assert!(incomplete.body.contains(&format!("href=\"/cases/{mine}\"")), "{}", incomplete.body);
    assert!(incomplete.body.contains("Cases missing required data"));
    let everyone = supervisor.get("/cases?incomplete=true").await;
    assert!(everyone.body.contains(&format!("href=\"/cases/{mine}\"")), "{}", everyone.body);
    assert!(!everyone.body.contains(&format!("href=\"/cases/{theirs}\"")), "not enrolled: nothing missing yet");
    maria.get("/cases?follow_up=soon").await.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    // Someone not on the roster holds no cases; partners and auditors have no caseload.
    let mut unlinked = w.person("jo", Role::CaseManager, None).await;
    let none = unlinked.get("/caseload").await;
    assert!(none.body.contains("not linked to an entry in the case-manager roster"), "{}", none.body);
    let mut partner = w.person("harbor", Role::Partner, None).await;
    assert!(!partner.get("/").await.body.contains("href=\"/caseload\""));
    partner.get("/caseload").await.expect_status(StatusCode::NOT_FOUND);
    w.server.stop().await;
});

both_engines!(the_case_page_says_who_viewed_the_case, |engine| async move {
    let w = World::start(engine).await;
    let case_id = w.case("V-1").await;
    w.give(&case_id, CM_SLA_1).await;
    let page = format!("/cases/{case_id}");
    let mut maria = w.person("maria", Role::CaseManager, Some(MARIA_USER)).await;
    maria.get(&page).await.expect_status(StatusCode::OK);
    let mut jo = w.person("jo", Role::CaseManager, Some("usr_jo_not_on_the_roster")).await;
    jo.get(&page).await.expect_status(StatusCode::OK);
    // The audit log takes the reads from the bus; then the supervisor's page lists both readers.
    let mut supervisor = w.person("sup", Role::Supervisor, Some(SUPERVISOR_USER)).await;
    let both = |body: &str| {
        body.contains("id=\"viewed-by\"")
            && body.contains(&format!("<strong>{MARIA_NAME}</strong>"))
            && body.contains("<strong>usr_jo_not_on_the_roster (case manager)</strong>")
    };
    let mut body = supervisor.get(&page).await.body;
    let deadline = std::time::Instant::now() + SETTLE;
    while !both(&body) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        body = supervisor.get(&page).await.body;
    }
    assert!(both(&body), "the viewed-by list never named both readers: {body}");
    let section = &body[body.find("id=\"viewed-by\"").unwrap()..];
    assert!(section.contains("case management"), "the purpose of the reads: {section}");
    // A partner reaches no staff case page, so no viewed-by list either.
    let mut partner = w.person("harbor", Role::Partner, None).await;
    partner.get(&page).await.expect_status(StatusCode::NOT_FOUND);
    w.server.stop().await;
});
