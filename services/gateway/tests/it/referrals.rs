//! The referral queue and a referral's page, against real intake, routing and cases (one test
//! server on the engine under test; the gateway shares its clock): the queue's order and every
//! filter round-tripping in the address, countdowns, the 400 of a bad filter, the one 404 page,
//! "why this partner", the triage, hold and close forms changing the referral (and showing the
//! services' refusals), a reveal recorded with its purpose and masked again on the next page, and
//! every form refused without the CSRF token or from another origin.

use std::collections::BTreeSet;
use std::time::Duration;

use wf_events::Envelope;
use wf_proto::common::v1 as common;
use wf_proto::events::v1 as events;
use wf_proto::intake::v1 as intake;
use wf_proto::intake::v1::intake_service_client::IntakeServiceClient;
use wf_testkit::{AuthedChannel, Collector, TestServer, TestService, eventually};
use wf_types::Clock as _;

use super::*;

/// The demo roster's CM-SLA-1, linked to the sign-in with this user id.
const ROSTER_USER: &str = "usr_demo_case_manager";
const CM_SLA_1: &str = "cm_4fb1caa9b6c74909826609ac98974fef";
const PARTNER: &str = "org_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d";
const UNKNOWN: &str = "ref_00000000000000000000000000000000";
const SETTLE: Duration = Duration::from_secs(20);

struct World {
    server: TestServer,
    h: Harness,
    clock: TestClock,
}

/// What a test submits: fictional, coded as a hotline would send it.
struct Submit {
    reference: &'static str,
    tier: common::TriageTier,
    site: common::Site,
    source: common::ReferralSource,
    needs: &'static [&'static str],
    practice: bool,
}

impl World {
    async fn start(engine: Engine) -> Self {
        let clock = TestClock::starting_now();
        let services = vec![
            TestService::new(wf_intake::migrations(), |ctx| async move { Ok(wf_intake::build(ctx).await? as _) }),
            TestService::new(wf_routing::migrations(), |ctx| async move { Ok(wf_routing::build(ctx).await? as _) }),
            TestService::new(wf_cases::migrations(), |ctx| async move { Ok(wf_cases::build(ctx).await? as _) }),
        ];
        let server = TestServer::start_many(engine, clock.shared(), services).await;
        let h = Harness::in_front_of(engine, &server, &clock).await;
        World { server, h, clock }
    }

    async fn intake_as(&self, role: Role) -> IntakeServiceClient<AuthedChannel> {
        IntakeServiceClient::new(self.server.channel(&self.server.tokens.user(role)).await)
    }

    async fn submit(&self, what: Submit) -> String {
        self.submit_aged(what, 16).await
    }

    /// As [`World::submit`], of a youth of estimated age `age`.
    async fn submit_aged(&self, what: Submit, age: i32) -> String {
        let personal = intake::PersonalDetails {
            legal_first_name: "Fictional".into(),
            legal_last_name: format!("Youth {}", what.reference),
            preferred_name: "Sky Testcase".into(),
            estimated_age: age,
            phones: vec![intake::Phone {
                number: "+1-555-0142".into(),
                kind: "mobile".into(),
                safe_to_text: true,
                ..Default::default()
            }],
            safe_contact: Some(intake::SafeContact {
                safe_channels: vec![common::ContactChannel::TextMessage as i32],
                safe_times: vec!["weekdays after 4 PM".into()],
                never_say: vec!["the program's name".into()],
                code_word: "blue kite".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let request = intake::SubmitReferralRequest {
            referral: Some(intake::Referral {
                source: what.source as i32,
                referring_organization_name: "Fictional Test Hotline".into(),
                external_reference: what.reference.into(),
                received_at: Some(wf_proto::time::timestamp_from_micros(self.clock.now_micros())),
                triage_tier: what.tier as i32,
                site: what.site as i32,
                needs: what.needs.iter().map(|need| (*need).to_owned()).collect(),
                preferred_language: "en".into(),
                practice: what.practice,
                personal: Some(personal),
                ..Default::default()
            }),
        };
        let mut hotline = self.intake_as(Role::Hotline).await;
        hotline.submit_referral(request).await.expect("submitted").into_inner().referral_id
    }

    /// The referral as staff read it (coded, no purpose).
    async fn referral(&self, id: &str) -> intake::GetReferralResponse {
        let request = intake::GetReferralRequest { referral_id: id.into(), purpose: String::new() };
        self.intake_as(Role::Supervisor).await.get_referral(request).await.expect("read").into_inner()
    }

    /// Waits until the referral satisfies `settled` (the services work through their events).
    async fn wait_for(&self, id: &str, what: &str, settled: impl Fn(&intake::GetReferralResponse) -> bool) {
        let done = eventually(SETTLE, || async { settled(&self.referral(id).await) }).await;
        assert!(done, "{id} never {what}: {:?}", self.referral(id).await);
    }

    async fn wait_for_status(&self, id: &str, status: intake::ReferralStatus) {
        self.wait_for(id, &format!("became {status:?}"), |r| r.status == status as i32).await;
    }

    async fn wait_for_owner(&self, id: &str) -> String {
        self.wait_for(id, "got an owner", |r| !r.case_manager_id.is_empty()).await;
        self.referral(id).await.case_manager_id
    }

    /// A sign-in of `role` (linked to the roster entry `user_id`), signed in and acknowledged.
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

/// The referrals of `ids` a page links to, as their positions in it (in page order).
fn listed<'a>(body: &str, ids: &[&'a str]) -> Vec<&'a str> {
    let mut found: Vec<(usize, &str)> =
        ids.iter().filter_map(|id| body.find(&format!("href=\"/referrals/{id}\"")).map(|at| (at, *id))).collect();
    found.sort();
    found.into_iter().map(|(_, id)| id).collect()
}

fn set<'a>(ids: impl IntoIterator<Item = &'a str>) -> BTreeSet<&'a str> {
    ids.into_iter().collect()
}

/// The table row of referral `id` on a queue page.
fn row_of<'a>(body: &'a str, id: &str) -> &'a str {
    let link = body.find(&format!("href=\"/referrals/{id}\"")).unwrap_or_else(|| panic!("{id} not listed"));
    let start = body[..link].rfind("<tr").unwrap_or(link);
    let end = body[start..].find("</tr>").map_or(body.len(), |end| start + end);
    &body[start..end]
}

fn title(body: &str) -> &str {
    let start = body.find("<title>").expect("a title") + "<title>".len();
    &body[start..start + body[start..].find("</title>").expect("title ends")]
}

both_engines!(the_queue_sorts_by_tier_then_deadline_and_every_filter_round_trips, |engine| async move {
    use common::{ReferralSource as Source, Site, TriageTier as Tier};
    use intake::ReferralStatus as Status;
    let w = World::start(engine).await;
    let shelter: &[&str] = &["emergency_shelter"];
    // Nobody in the demo directory offers childcare: routing finds no match and escalates, so those
    // referrals get no case and no owner.
    let childcare: &[&str] = &["childcare"];
    let a = w
        .submit(Submit {
            reference: "Q-A",
            tier: Tier::Emergent,
            site: Site::SouthLosAngeles,
            source: Source::LawEnforcement,
            needs: shelter,
            practice: false,
        })
        .await;
    w.clock.advance(chrono::Duration::minutes(1));
    let b = w
        .submit(Submit {
            reference: "Q-B",
            tier: Tier::Urgent,
            site: Site::SouthLosAngeles,
            source: Source::Hotline,
            needs: &["medical_dental"],
            practice: false,
        })
        .await;
    w.clock.advance(chrono::Duration::minutes(1));
    let c = w
        .submit(Submit {
            reference: "Q-C",
            tier: Tier::Routine,
            site: Site::SanFernandoValley,
            source: Source::School,
            needs: childcare,
            practice: false,
        })
        .await;
    w.clock.advance(chrono::Duration::minutes(1));
    let d = w
        .submit(Submit {
            reference: "Q-D",
            tier: Tier::Emergent,
            site: Site::SanFernandoValley,
            source: Source::Hotline,
            needs: childcare,
            practice: false,
        })
        .await;
    let e = w
        .submit(Submit {
            reference: "Q-E",
            tier: Tier::Routine,
            site: Site::SanFernandoValley,
            source: Source::Hotline,
            needs: childcare,
            practice: true,
        })
        .await;
    let owner_a = w.wait_for_owner(&a).await;
    let owner_b = w.wait_for_owner(&b).await;
    for id in [&c, &d, &e] {
        w.wait_for_status(id, Status::Escalated).await;
    }
    let all = [a.as_str(), b.as_str(), c.as_str(), d.as_str(), e.as_str()];
    let mut maria = w.person("maria", Role::CaseManager, Some(ROSTER_USER)).await;

    // Emergent first (by deadline: A's 90 minutes end before D's), then urgent, then routine;
    // practice referrals only when asked for.
    let queue = maria.get("/referrals").await;
    queue.expect_status(StatusCode::OK);
    assert_eq!(listed(&queue.body, &all), [a.as_str(), d.as_str(), b.as_str(), c.as_str()]);
    assert_eq!(title(&queue.body), "(1) Emergent · Referral queue – Wayfinder", "D waits for an owner; A has one");
    // Tier as words, a shape and a colour; the due time as Los Angeles clock time and a countdown.
    let row_d = row_of(&queue.body, &d);
    assert!(row_d.contains("tier--emergent") && row_d.contains("▲") && row_d.contains("Emergent"), "{row_d}");
    assert!(row_d.contains("due in 1 h 30 min") && row_d.contains("<time datetime=\""), "{row_d}");
    assert!(row_d.contains("PDT") || row_d.contains("PST"), "{row_d}");
    assert!(
        row_d.contains("Unassigned") && row_d.contains("San Fernando Valley") && row_d.contains("Minor"),
        "{row_d}"
    );
    assert!(row_of(&queue.body, &a).contains("due in 1 h 27 min"), "{}", row_of(&queue.body, &a));
    // No names, contact details or narrative in the list.
    for personal in ["Fictional", "Sky Testcase", "555-0142", "blue kite"] {
        assert!(!queue.body.contains(personal), "the queue shows {personal}");
    }
    // The owner by name (the roster's), not by id.
    let roster = {
        use wf_proto::cases::v1 as cases;
        let channel = w.server.channel(&w.server.tokens.user(Role::Supervisor)).await;
        let mut client = cases::case_service_client::CaseServiceClient::new(channel);
        let request = cases::ListCaseManagersRequest { include_supervisors: true, ..Default::default() };
        client.list_case_managers(request).await.expect("roster").into_inner().case_managers
    };
    let name_a =
        roster.iter().find(|cm| cm.case_manager_id == owner_a).map(|cm| cm.display_name.clone()).expect("owner");
    assert!(row_of(&queue.body, &a).contains(&name_a), "{}", row_of(&queue.body, &a));

    // Every filter narrows the list and comes back selected in the form.
    let owned_by = |owner: &str| -> BTreeSet<&str> {
        [(a.as_str(), owner_a.as_str()), (b.as_str(), owner_b.as_str())]
            .into_iter()
            .filter(|(_, o)| *o == owner)
            .map(|(id, _)| id)
            .collect()
    };
    let owner_filter = format!("/referrals?owner={owner_a}");
    let owner_selected = format!("<option value=\"{owner_a}\" selected>");
    let cases: Vec<(&str, BTreeSet<&str>, &str)> = vec![
        ("/referrals?tier=emergent", set([a.as_str(), d.as_str()]), "<option value=\"emergent\" selected>"),
        ("/referrals?status=escalated", set([c.as_str(), d.as_str()]), "value=\"escalated\" checked"),
        (
            "/referrals?site=san_fernando_valley",
            set([c.as_str(), d.as_str()]),
            "<option value=\"san_fernando_valley\" selected>",
        ),
        ("/referrals?source=school", set([c.as_str()]), "<option value=\"school\" selected>"),
        (&owner_filter, owned_by(&owner_a), &owner_selected),
        ("/referrals?mine=1", owned_by(CM_SLA_1), "name=\"mine\" value=\"1\" checked"),
        ("/referrals?unassigned=1", set([c.as_str(), d.as_str()]), "name=\"unassigned\" value=\"1\" checked"),
        (
            "/referrals?practice=1",
            set([a.as_str(), b.as_str(), c.as_str(), d.as_str(), e.as_str()]),
            "name=\"practice\" value=\"1\" checked",
        ),
        ("/referrals?tier=emergent&unassigned=1", set([d.as_str()]), "name=\"unassigned\" value=\"1\" checked"),
        ("/referrals?status=closed", BTreeSet::new(), "value=\"closed\" checked"),
    ];
    for (path, expected, selected) in cases {
        let page = maria.get(path).await;
        page.expect_status(StatusCode::OK);
        assert_eq!(set(listed(&page.body, &all)), expected, "{path}");
        assert!(page.body.contains(selected), "{path}: the form does not show {selected}");
        assert_eq!(
            title(&page.body),
            "(1) Emergent · Referral queue – Wayfinder",
            "{path}: the title counts everyone's"
        );
    }
    // The quick link is the filter's address.
    let quick = queue.body.lines().find(|line| line.contains("quick-link--emergent")).expect("the quick link");
    let escaped = ["&amp;", "&#38;"].map(|amp| format!("href=\"/referrals?tier=emergent{amp}unassigned=1\""));
    assert!(escaped.iter().any(|href| quick.contains(href)), "{quick}");

    // A bad value: 400, naming the filter and what it allows, without repeating the value.
    let bad = maria.get("/referrals?tier=critical&site=mars").await;
    bad.expect_status(StatusCode::BAD_REQUEST);
    assert!(
        bad.body.contains("“tier” filter is not a triage tier; allowed: emergent, urgent, routine"),
        "{}",
        bad.body
    );
    assert!(
        bad.body.contains("“site” filter is not a site; allowed: south_los_angeles, san_fernando_valley, countywide")
    );
    assert!(!bad.body.contains("critical") && !bad.body.contains("mars"));
    assert!(listed(&bad.body, &all).is_empty());
    maria.get("/referrals?mine=1&unassigned=1").await.expect_status(StatusCode::BAD_REQUEST);

    // A hundred minutes later D is overdue (the session has ended meanwhile: sign in again).
    w.clock.advance(chrono::Duration::minutes(100));
    let mut maria = w.h.signed_in("maria").await;
    let later = maria.get("/referrals?tier=emergent&unassigned=1").await;
    assert!(row_of(&later.body, &d).contains("overdue by 10 min"), "{}", row_of(&later.body, &d));
    assert!(row_of(&later.body, &d).contains("deadline--overdue"));

    // A partner has its own screens: the queue is not one of them.
    let mut partner = w.person("harbor", Role::Partner, None).await;
    partner.get("/referrals").await.expect_status(StatusCode::NOT_FOUND);
    w.server.stop().await;
});

both_engines!(a_referral_page_explains_its_routing_and_answers_one_404_for_what_cannot_be_seen, |engine| async move {
    use common::{ReferralSource as Source, Site, TriageTier as Tier};
    let w = World::start(engine).await;
    let a = w
        .submit(Submit {
            reference: "D-A",
            tier: Tier::Emergent,
            site: Site::SouthLosAngeles,
            source: Source::LawEnforcement,
            needs: &["emergency_shelter"],
            practice: false,
        })
        .await;
    let c = w
        .submit(Submit {
            reference: "D-C",
            tier: Tier::Routine,
            site: Site::SanFernandoValley,
            source: Source::School,
            needs: &["childcare"],
            practice: false,
        })
        .await;
    w.wait_for_owner(&a).await;
    w.wait_for_status(&c, intake::ReferralStatus::Escalated).await;
    let screening = intake::RecordScreeningRequest {
        referral_id: a.clone(),
        screening: Some(intake::Screening {
            tool: common::ScreeningTool::CseItBrief as i32,
            tool_version: "CSE-IT 2.0".into(),
            screened_at: Some(wf_proto::time::timestamp_from_micros(w.clock.now_micros())),
            screener_id: "usr_screener".into(),
            result: common::ScreeningResult::PossibleConcern as i32,
            score: 7,
            ..Default::default()
        }),
    };
    w.intake_as(Role::CaseManager).await.record_screening(screening).await.expect("screening recorded");
    let mut maria = w.person("maria", Role::CaseManager, Some(ROSTER_USER)).await;

    let page = maria.get(&format!("/referrals/{a}")).await;
    page.expect_status(StatusCode::OK);
    let body = &page.body;
    // Why this partner: the checklist of the chosen service, capacity when routing decided, the policy.
    assert!(body.contains("<details class=\"why\" id=\"why-this-partner\">"), "{body}");
    assert!(body.contains("Why this partner: Demo Harbor Youth Shelter: Demo Harbor Emergency Beds"), "{body}");
    assert!(body.contains("Capacity when routing decided: <strong>capacity 3/8 open</strong>"), "{body}");
    assert!(
        body.contains("Met:</span> Has an open place") && body.contains("Met:</span> Serves the youth&#39;s site"),
        "{body}"
    );
    assert!(body.contains("under routing policy <code>"), "{body}");
    // The offer timeline and the status history.
    assert!(body.contains("Offered to Demo Harbor Youth Shelter — answer due"), "{body}");
    assert!(body.contains("Waiting for the partner&#39;s answer — due in 1 h 30 min"), "{body}");
    assert!(body.contains("Status history") && body.contains("Received"), "{body}");
    // Screening results as bands, never the score.
    assert!(
        body.contains("CSE-IT (brief), CSE-IT 2.0: <span class=\"band band--possible\">Possible concern</span>"),
        "{body}"
    );
    // Masked: nothing personal until a reveal.
    for personal in ["Fictional", "Sky Testcase", "555-0142", "blue kite", "weekdays after 4 PM"] {
        assert!(!body.contains(personal), "the page shows {personal}");
    }
    assert!(body.contains("Reveal contact details") && body.contains("Save triage"));
    assert_eq!(page.header("cache-control"), Some("no-store"));

    // A decision that chose nobody says why.
    let unmatched = maria.get(&format!("/referrals/{c}")).await;
    assert!(unmatched.body.contains("Why no partner was chosen"), "{}", unmatched.body);
    assert!(unmatched.body.contains("Offers a service the youth needs: not met by"), "{}", unmatched.body);
    assert!(unmatched.body.contains("No offer made yet."));

    // Unknown and malformed ids answer the one "not found" page.
    for path in [format!("/referrals/{UNKNOWN}"), "/referrals/not-an-id".to_owned(), format!("/referrals/{UNKNOWN}/x")]
    {
        let missing = maria.get(&path).await;
        missing.expect_status(StatusCode::NOT_FOUND);
        assert!(missing.body.contains(wf_gateway::api::errors::NOT_FOUND_MESSAGE), "{path}");
    }
    // A partner gets exactly the page of an id that does not exist.
    let mut partner = w.person("harbor", Role::Partner, None).await;
    let theirs = partner.get(&format!("/referrals/{a}")).await;
    let nothing = partner.get(&format!("/referrals/{UNKNOWN}")).await;
    theirs.expect_status(StatusCode::NOT_FOUND);
    assert_eq!(theirs.body, nothing.body);
    let csrf = theirs.csrf();
    partner
        .post(&format!("/referrals/{a}/reveal"), &[("csrf_token", &csrf), ("purpose", "triage")])
        .await
        .expect_status(StatusCode::NOT_FOUND);

    // The program manager reads the referral and its routing, without forms or personal details.
    let mut manager = w.person("pm", Role::ProgramManager, None).await;
    let read_only = manager.get(&format!("/referrals/{a}")).await;
    read_only.expect_status(StatusCode::OK);
    assert!(read_only.body.contains("Why this partner"));
    assert!(!read_only.body.contains("Save triage") && !read_only.body.contains("Reveal contact details"));
    assert!(read_only.body.contains("Your role does not read personal details."));
    let csrf = read_only.csrf();
    manager
        .post(&format!("/referrals/{a}/reveal"), &[("csrf_token", &csrf), ("purpose", "supervision")])
        .await
        .expect_status(StatusCode::FORBIDDEN);
    manager
        .post(
            &format!("/referrals/{a}/triage"),
            &[("csrf_token", &csrf), ("triage_tier", "urgent"), ("triage_reason", "routine")],
        )
        .await
        .expect_status(StatusCode::FORBIDDEN);
    // Roles that read no referrals are told why; the navigation offers the queue only to staff.
    let mut auditor = w.person("auditor", Role::Auditor, None).await;
    let refused = auditor.get("/referrals").await;
    refused.expect_status(StatusCode::FORBIDDEN);
    assert!(!auditor.get("/").await.body.contains("href=\"/referrals\""));
    assert!(maria.get("/").await.body.contains("href=\"/referrals\""));
    w.server.stop().await;
});

both_engines!(triage_hold_and_close_change_the_referral_and_show_what_the_services_refuse, |engine| async move {
    use common::{ReferralSource as Source, Site, TriageTier as Tier};
    use intake::ReferralStatus as Status;
    let w = World::start(engine).await;
    let c = w
        .submit(Submit {
            reference: "F-C",
            tier: Tier::Routine,
            site: Site::SanFernandoValley,
            source: Source::School,
            needs: &["childcare"],
            practice: false,
        })
        .await;
    w.wait_for_status(&c, Status::Escalated).await;
    let mut maria = w.person("maria", Role::CaseManager, Some(ROSTER_USER)).await;
    let page = format!("/referrals/{c}");
    let csrf = maria.get(&page).await.csrf();

    // Triage: a missing reason is the form's error; nothing changes.
    let missing = maria.post(&format!("{page}/triage"), &[("csrf_token", &csrf), ("triage_tier", "urgent")]).await;
    missing.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        missing.body.contains("error-summary") && missing.body.contains("Choose the reason for the tier"),
        "{}",
        missing.body
    );
    assert!(missing.body.contains("href=\"#triage_reason\""));
    assert_eq!(w.referral(&c).await.referral.unwrap().triage_tier, Tier::Routine as i32);
    // Saved: 303 back to the page, which confirms it.
    let fields = [("csrf_token", csrf.as_str()), ("triage_tier", "urgent"), ("triage_reason", "imminent_danger")];
    let saved = maria.post(&format!("{page}/triage"), &fields).await;
    saved.expect_status(StatusCode::SEE_OTHER);
    assert_eq!(saved.location(), Some(format!("{page}?done=triage#triage").as_str()));
    let coded = w.referral(&c).await.referral.unwrap();
    assert_eq!((coded.triage_tier, coded.triage_reason.as_str()), (Tier::Urgent as i32, "imminent_danger"));
    let confirmed = maria.get(&format!("{page}?done=triage")).await;
    assert!(
        confirmed.body.contains("The triage is saved.") && confirmed.body.contains("tier--urgent"),
        "{}",
        confirmed.body
    );
    // Through htmx: the page itself (its triage section is swapped in), no redirect.
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("triage_tier", "emergent"), ("triage_reason", "law_enforcement_recovery")])
        .finish();
    let htmx = maria
        .request("POST", &format!("{page}/triage"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, ORIGIN)
        .header("hx-request", "true")
        .header("x-csrf-token", &csrf)
        .body(Body::from(body))
        .unwrap();
    let swapped = maria.send(htmx).await;
    swapped.expect_status(StatusCode::OK);
    assert!(swapped.body.contains("id=\"triage\"") && swapped.body.contains("The triage is saved."));
    assert_eq!(w.referral(&c).await.referral.unwrap().triage_tier, Tier::Emergent as i32);

    // Hold with a reason, then resume.
    let held = maria
        .post(&format!("{page}/hold"), &[("csrf_token", &csrf), ("on_hold", "1"), ("hold_reason", "youth_missing")])
        .await;
    held.expect_status(StatusCode::SEE_OTHER);
    assert_eq!(held.location(), Some(format!("{page}?done=hold").as_str()));
    assert_eq!(w.referral(&c).await.status, Status::OnHold as i32);
    let on_hold = maria.get(&format!("{page}?done=hold")).await;
    assert!(on_hold.body.contains("The referral is on hold.") && on_hold.body.contains("Resume the referral"));
    assert!(!on_hold.body.contains("Save triage"), "no triage while on hold");
    // What intake refuses in this state is the form's error, in its words.
    let refused = maria.post(&format!("{page}/triage"), &fields).await;
    refused.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("The referral cannot be triaged now: "), "{}", refused.body);
    let no_reason = maria.post(&format!("{page}/hold"), &[("csrf_token", &csrf), ("on_hold", "1")]).await;
    no_reason.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    let resumed = maria.post(&format!("{page}/hold"), &[("csrf_token", &csrf), ("on_hold", "0")]).await;
    resumed.expect_status(StatusCode::SEE_OTHER);
    assert_eq!(w.referral(&c).await.status, Status::Escalated as i32);

    // Close: intake's field violation shows in the form's error summary, naming the field.
    let duplicate = maria.post(&format!("{page}/close"), &[("csrf_token", &csrf), ("close_reason", "duplicate")]).await;
    duplicate.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        duplicate.body.contains("The referral it duplicates is required when the reason is DUPLICATE"),
        "{}",
        duplicate.body
    );
    assert!(duplicate.body.contains("href=\"#duplicate_of_referral_id\""));
    assert_ne!(w.referral(&c).await.status, Status::Closed as i32);
    let closed = maria.post(&format!("{page}/close"), &[("csrf_token", &csrf), ("close_reason", "unreachable")]).await;
    closed.expect_status(StatusCode::SEE_OTHER);
    let after = w.referral(&c).await;
    assert_eq!(
        (after.status, after.closure_reason),
        (Status::Closed as i32, intake::ReferralClosureReason::Unreachable as i32)
    );
    let final_page = maria.get(&format!("{page}?done=close")).await;
    assert!(final_page.body.contains("Closed: Youth could not be reached"), "{}", final_page.body);
    assert!(!final_page.body.contains("Save triage") && !final_page.body.contains("Close the referral</button>"));
    w.server.stop().await;
});

fn accesses_of(collector: &Collector, referral_id: &str) -> Vec<events::RecordAccessed> {
    collector
        .of_type("record.accessed")
        .iter()
        .filter_map(|envelope: &Envelope| envelope.payload_as::<events::RecordAccessed>().ok())
        .filter(|access| access.record_id == referral_id)
        .collect()
}

both_engines!(a_reveal_records_its_purpose_and_the_next_page_is_masked_again, |engine| async move {
    use common::{ReferralSource as Source, Site, TriageTier as Tier};
    let w = World::start(engine).await;
    let a = w
        .submit(Submit {
            reference: "R-A",
            tier: Tier::Emergent,
            site: Site::SouthLosAngeles,
            source: Source::LawEnforcement,
            needs: &["emergency_shelter"],
            practice: false,
        })
        .await;
    let collector = w.server.collector("gateway-test-accesses", &["record.accessed"]).await;
    let mut maria = w.person("maria", Role::CaseManager, Some(ROSTER_USER)).await;
    let page = format!("/referrals/{a}");
    let masked = maria.get(&page).await;
    let csrf = masked.csrf();

    // A purpose is required (and must be one of the list).
    for fields in [vec![("csrf_token", csrf.as_str())], vec![("csrf_token", csrf.as_str()), ("purpose", "curiosity")]] {
        let refused = maria.post(&format!("{page}/reveal"), &fields).await;
        refused.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("Choose why you need the personal details"), "{}", refused.body);
        assert!(!refused.body.contains("555-0142"));
    }

    let revealed =
        maria.post(&format!("{page}/reveal"), &[("csrf_token", &csrf), ("purpose", "safety_planning")]).await;
    revealed.expect_status(StatusCode::OK);
    assert_eq!(revealed.header("cache-control"), Some("no-store"));
    let body = &revealed.body;
    assert!(body.contains("Shown for: <strong>Safety planning</strong>"), "{body}");
    for shown in
        ["Sky Testcase", "Fictional Youth R-A", "+1-555-0142", "blue kite", "weekdays after 4 PM", "Text message"]
    {
        assert!(body.contains(shown), "the reveal does not show {shown}");
    }
    // The safe-contact instructions come before any contact detail.
    let instructions = body.find("Safe-contact instructions: read before any contact").expect("instructions");
    assert!(instructions < body.find("+1-555-0142").expect("phone"));
    assert!(body.contains("Safe to text") && body.contains("Not safe to call"));

    // On the record: this person, this referral, the personal part, the purpose given.
    let recorded = eventually(SETTLE, || async {
        accesses_of(&collector, &a).iter().any(|access| access.purpose == "safety_planning")
    })
    .await;
    assert!(recorded, "no record.accessed with the purpose: {:?}", accesses_of(&collector, &a));
    let access = accesses_of(&collector, &a).into_iter().find(|access| access.purpose == "safety_planning").unwrap();
    assert_eq!((access.actor.as_str(), access.actor_role.as_str()), (ROSTER_USER, "case_manager"));
    assert!(access.fields.iter().any(|field| field == "personal"), "{:?}", access.fields);
    assert!(
        accesses_of(&collector, &a)
            .iter()
            .all(|access| access.purpose == "safety_planning" || !access.fields.iter().any(|f| f == "personal")),
        "only the reveal read the personal part"
    );

    // The next page shows them masked again.
    let again = maria.get(&page).await;
    again.expect_status(StatusCode::OK);
    for personal in ["Sky Testcase", "+1-555-0142", "blue kite"] {
        assert!(!again.body.contains(personal), "masked again: {personal}");
    }
    assert!(again.body.contains("Reveal contact details"));
    collector.finish().await;
    w.server.stop().await;
});

both_engines!(every_referral_form_needs_the_csrf_token_and_our_origin, |engine| async move {
    use common::{ReferralSource as Source, Site, TriageTier as Tier};
    use intake::ReferralStatus as Status;
    let w = World::start(engine).await;
    let c = w
        .submit(Submit {
            reference: "X-C",
            tier: Tier::Routine,
            site: Site::SanFernandoValley,
            source: Source::School,
            needs: &["childcare"],
            practice: false,
        })
        .await;
    w.wait_for_status(&c, Status::Escalated).await;
    let collector = w.server.collector("gateway-test-refusals", &["record.accessed"]).await;
    let mut maria = w.person("maria", Role::CaseManager, Some(ROSTER_USER)).await;
    let csrf = maria.get(&format!("/referrals/{c}")).await.csrf();
    let forms: [(&str, Vec<(&str, &str)>); 9] = [
        ("claim", vec![("back", "/referrals")]),
        ("triage", vec![("triage_tier", "emergent"), ("triage_reason", "imminent_danger")]),
        ("hold", vec![("on_hold", "1"), ("hold_reason", "youth_missing")]),
        ("close", vec![("close_reason", "unreachable")]),
        ("reveal", vec![("purpose", "safety_planning")]),
        ("releases", vec![("release_category", "contact"), ("release_purpose", "service_referral")]),
        ("releases/rel_00000000000000000000000000000000/revoke", vec![("revoke_reason", "youth_request")]),
        ("mandated-reports", vec![("report_agency", "child_welfare"), ("report_reported_at", "2026-01-01T10:00")]),
        ("matches/pm_00000000000000000000000000000000/confirm", vec![]),
    ];
    for (form, fields) in &forms {
        let path = format!("/referrals/{c}/{form}");
        fn with<'a>(fields: &[(&'a str, &'a str)], token: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
            let mut all = fields.to_vec();
            all.extend(token.map(|token| ("csrf_token", token)));
            all
        }
        let attempts = [
            (with(fields, None), Some(ORIGIN), None),
            (with(fields, Some("forged")), Some(ORIGIN), None),
            (with(fields, Some(&csrf)), Some("https://evil.example"), None),
            (with(fields, Some(&csrf)), Some("null"), None),
            (with(fields, Some(&csrf)), None, Some("cross-site")),
        ];
        for (fields, origin, site) in attempts {
            let answer = w.h.send(maria.form(&path, &fields, origin, site)).await;
            answer.expect_status(StatusCode::FORBIDDEN);
            assert!(answer.body.contains("This request was refused"), "{form}: {}", answer.body);
            assert!(!answer.body.contains("555-0142"), "{form}");
        }
    }
    // Nothing changed, and nothing personal was read.
    let after = w.referral(&c).await;
    assert_eq!(after.status, Status::Escalated as i32);
    assert_eq!(after.referral.unwrap().triage_tier, Tier::Routine as i32);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        accesses_of(&collector, &c).iter().all(|access| access.purpose != "safety_planning"),
        "a refused reveal read the personal details"
    );
    // The same forms from our page with the token go through.
    maria
        .post(
            &format!("/referrals/{c}/hold"),
            &[("csrf_token", &csrf), ("on_hold", "1"), ("hold_reason", "youth_missing")],
        )
        .await
        .expect_status(StatusCode::SEE_OTHER);
    collector.finish().await;
    w.server.stop().await;
});

/// The value of the `<option>` labelled `label` in `body`.
fn option_value(body: &str, label: &str) -> String {
    let end = body.find(&format!("\">{label}</option>")).unwrap_or_else(|| panic!("no option {label}"));
    let start = body[..end].rfind("value=\"").expect("a value") + "value=\"".len();
    body[start..end].to_owned()
}

/// The consent chips of a page (the list, not the form).
fn chips(body: &str) -> &str {
    let start = body.find("<ul class=\"release-chips\">").unwrap_or_else(|| panic!("no chips: {body}"));
    &body[start..start + body[start..].find("</ul>").expect("chips end")]
}

both_engines!(consent_releases_are_recorded_shown_as_chips_and_revoked, |engine| async move {
    use common::{ReferralSource as Source, Site, TriageTier as Tier};
    let w = World::start(engine).await;
    let a = w
        .submit(Submit {
            reference: "C-A",
            tier: Tier::Urgent,
            site: Site::SouthLosAngeles,
            source: Source::Hotline,
            needs: &["emergency_shelter"],
            practice: false,
        })
        .await;
    let mut maria = w.person("maria", Role::CaseManager, Some(ROSTER_USER)).await;
    let page = format!("/referrals/{a}");
    let first = maria.get(&page).await;
    first.expect_status(StatusCode::OK);
    assert!(first.body.contains("No release recorded: no partner receives any personal information."));
    let csrf = first.csrf();
    let harbor = option_value(&first.body, "Demo Harbor Youth Shelter");
    let today = |days: i64| {
        let at = w.clock.now_micros() + days * 86_400_000_000;
        jiff::Timestamp::from_microsecond(at).expect("t").in_tz("America/Los_Angeles").expect("zone")
    };
    let signed = today(0).strftime("%Y-%m-%dT%H:%M").to_string();
    let expires = today(90).strftime("%Y-%m-%d").to_string();

    // The form's own checks, each on its field; nothing is recorded.
    let empty = maria.post(&format!("{page}/releases"), &[("csrf_token", &csrf)]).await;
    empty.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["release_recipient_organization_id", "release_category", "release_purpose", "release_expires_on"] {
        assert!(empty.body.contains(&format!("href=\"#{field}\"")), "{field}: {}", empty.body);
    }
    // Intake's rule: a minor signs alone only on a legal basis (this youth is 16 and has no guardian
    // on the referral). Its refusal is the form's error, and what was chosen is kept.
    let mut fields = vec![
        ("csrf_token", csrf.as_str()),
        ("release_recipient_organization_id", harbor.as_str()),
        ("release_category", "contact"),
        ("release_category", "identity"),
        ("release_purpose", "service_referral"),
        ("release_signed_at", signed.as_str()),
        ("release_expires_on", expires.as_str()),
        ("release_youth_signed", "1"),
    ];
    let alone = maria.post(&format!("{page}/releases"), &fields).await;
    alone.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(alone.body.contains("a minor signs alone only with a legal_basis"), "{}", alone.body);
    assert!(alone.body.contains("href=\"#release_youth_signed\""), "{}", alone.body);
    assert!(alone.body.contains(&format!("<option value=\"{harbor}\" selected>")), "the recipient is kept");
    assert!(alone.body.contains("value=\"contact\" id=\"release_category-contact\" checked"), "{}", alone.body);
    assert!(alone.body.contains("No release recorded"));

    fields.push(("release_youth_basis", "minor_consent_sensitive_services"));
    let saved = maria.post(&format!("{page}/releases"), &fields).await;
    saved.expect_status(StatusCode::SEE_OTHER);
    assert_eq!(saved.location(), Some(format!("{page}?done=release#consent").as_str()));
    let shown = maria.get(&format!("{page}?done=release")).await;
    assert!(shown.body.contains("The consent release is recorded."));
    let chip = chips(&shown.body);
    assert!(chip.contains("release-chip--active") && chip.contains(">Active<"), "{chip}");
    assert!(chip.contains("Demo Harbor Youth Shelter"), "{chip}");
    assert!(chip.contains("Identity (names, date of birth); Contact details and safe-contact instructions"), "{chip}");
    assert!(chip.contains("For Providing the service the partner accepted."), "{chip}");
    assert!(chip.contains("Until <time datetime=\""), "{chip}");
    let listed = || async {
        let request = intake::ListConsentReleasesRequest { referral_id: a.clone(), ..Default::default() };
        w.intake_as(Role::CaseManager).await.list_consent_releases(request).await.expect("list").into_inner().releases
    };
    let releases = listed().await;
    assert_eq!(releases.len(), 1);
    let release = &releases[0];
    assert_eq!(release.recipient_organization_id, harbor);
    assert!(release.active);
    assert_eq!(release.signers[0].legal_basis, "minor_consent_sensitive_services");

    // Another referral's page cannot revoke it: not found, and the release still holds.
    let other = w
        .submit(Submit {
            reference: "C-B",
            tier: Tier::Routine,
            site: Site::SanFernandoValley,
            source: Source::School,
            needs: &["childcare"],
            practice: false,
        })
        .await;
    maria
        .post(
            &format!("/referrals/{other}/releases/{}/revoke", release.release_id),
            &[("csrf_token", &csrf), ("revoke_reason", "youth_request")],
        )
        .await
        .expect_status(StatusCode::NOT_FOUND);
    assert!(listed().await[0].active, "a release is revoked only from its own referral's page");
    // Revoke: a reason from the list is required; then the chip says so and no longer offers it.
    let revoke = format!("{page}/releases/{}/revoke", release.release_id);
    let no_reason = maria.post(&revoke, &[("csrf_token", &csrf)]).await;
    no_reason.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_reason.body.contains("Choose why the release is revoked"), "{}", no_reason.body);
    let revoked = maria.post(&revoke, &[("csrf_token", &csrf), ("revoke_reason", "youth_request")]).await;
    revoked.expect_status(StatusCode::SEE_OTHER);
    let after = maria.get(&format!("{page}?done=revoke")).await;
    let chip = chips(&after.body);
    assert!(
        chip.contains(">Revoked<") && chip.contains("release-chip--ended") && !chip.contains("Revoke</button>"),
        "{chip}"
    );
    let releases = listed().await;
    assert!(!releases[0].active && releases[0].revoked_at.is_some());
    // Another referral's release, or a malformed id, is not found.
    maria
        .post(
            &format!("{page}/releases/not-a-release/revoke"),
            &[("csrf_token", &csrf), ("revoke_reason", "youth_request")],
        )
        .await
        .expect_status(StatusCode::NOT_FOUND);
    w.server.stop().await;
});

both_engines!(a_minors_mandated_report_runs_on_a_36_hour_clock, |engine| async move {
    use common::{ReferralSource as Source, Site, TriageTier as Tier};
    let w = World::start(engine).await;
    let a = w
        .submit(Submit {
            reference: "M-A",
            tier: Tier::Routine,
            site: Site::SanFernandoValley,
            source: Source::School,
            needs: &["childcare"],
            practice: false,
        })
        .await;
    w.clock.advance(chrono::Duration::hours(2));
    let mut maria = w.person("maria", Role::CaseManager, Some(ROSTER_USER)).await;
    let page = format!("/referrals/{a}");
    let first = maria.get(&page).await;
    let csrf = first.csrf();
    assert!(first.body.contains("Initial report due: by <time"), "{}", first.body);
    assert!(first.body.contains("(due in 1 day 10 h)"), "36 hours from receipt: {}", first.body);

    // The agency and the time are required, each named.
    let empty =
        maria.post(&format!("{page}/mandated-reports"), &[("csrf_token", &csrf), ("report_reported_at", "")]).await;
    empty.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.body.contains("href=\"#report_agency\"") && empty.body.contains("href=\"#report_reported_at\""));

    let now =
        jiff::Timestamp::from_microsecond(w.clock.now_micros()).expect("t").in_tz("America/Los_Angeles").expect("z");
    let reported = now.strftime("%Y-%m-%dT%H:%M").to_string();
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("report_agency", "child_welfare"),
        ("report_reported_at", reported.as_str()),
        ("report_agency_reference", "DCFS-2026-0001"),
    ];
    let saved = maria.post(&format!("{page}/mandated-reports"), &fields).await;
    saved.expect_status(StatusCode::SEE_OTHER);
    assert_eq!(saved.location(), Some(format!("{page}?done=report#mandated").as_str()));
    let after = maria.get(&format!("{page}?done=report")).await;
    assert!(after.body.contains("The mandated report is recorded."));
    assert!(after.body.contains("Written report due: by <time"), "{}", after.body);
    assert!(after.body.contains("(due in 1 day 12 h)"), "36 hours from the initial report: {}", after.body);
    assert!(after.body.contains("Child welfare (DCFS hotline), reported") && after.body.contains("DCFS-2026-0001"));

    let reports = {
        let request = intake::ListMandatedReportsRequest { referral_id: a.clone(), ..Default::default() };
        w.intake_as(Role::CaseManager).await.list_mandated_reports(request).await.expect("reports").into_inner().reports
    };
    assert_eq!(reports.len(), 1);
    let written = format!("{page}/mandated-reports/{}/written", reports[0].mandated_report_id);
    let bad = maria.post(&written, &[("csrf_token", &csrf), ("written_report_at", "yesterday")]).await;
    bad.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("href=\"#written_report_at\""), "{}", bad.body);
    // Intake refuses a written report before the initial one; the form says so.
    let before = (now - jiff::SignedDuration::from_hours(1)).strftime("%Y-%m-%dT%H:%M").to_string();
    let early = maria.post(&written, &[("csrf_token", &csrf), ("written_report_at", before.as_str())]).await;
    early.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(early.body.contains("is before the initial report"), "{}", early.body);
    let done = maria.post(&written, &[("csrf_token", &csrf), ("written_report_at", reported.as_str())]).await;
    done.expect_status(StatusCode::SEE_OTHER);
    let finished = maria.get(&page).await;
    assert!(finished.body.contains("Reported, with the written report"), "{}", finished.body);
    assert!(finished.body.contains("Written report sent <time"));

    // An adult's referral has no mandated report section.
    let adult = Submit {
        reference: "M-B",
        tier: Tier::Routine,
        site: Site::SanFernandoValley,
        source: Source::School,
        needs: &["childcare"],
        practice: false,
    };
    let b = w.submit_aged(adult, 21).await;
    assert!(!maria.get(&format!("/referrals/{b}")).await.body.contains("id=\"mandated\""));
    w.server.stop().await;
});

both_engines!(a_possible_returning_youth_is_confirmed_or_rejected_from_the_banner, |engine| async move {
    use common::{ReferralSource as Source, Site, TriageTier as Tier};
    let w = World::start(engine).await;
    let submit = |reference: &'static str| Submit {
        reference,
        tier: Tier::Routine,
        site: Site::SanFernandoValley,
        source: Source::School,
        needs: &["childcare"],
        practice: false,
    };
    let first = w.submit(submit("P-A")).await;
    // The same phone number: the matcher finds the earlier youth.
    let second = w.submit(submit("P-B")).await;
    let pending = |referral: String| {
        let w = &w;
        async move {
            let request = intake::ListPossibleMatchesRequest { referral_id: referral, ..Default::default() };
            w.intake_as(Role::CaseManager)
                .await
                .list_possible_matches(request)
                .await
                .expect("matches")
                .into_inner()
                .matches
        }
    };
    let found = eventually(SETTLE, || async { !pending(second.clone()).await.is_empty() }).await;
    assert!(found, "no possible match for the second referral");
    let mut maria = w.person("maria", Role::CaseManager, Some(ROSTER_USER)).await;
    let page = format!("/referrals/{second}");
    let shown = maria.get(&page).await;
    assert!(shown.body.contains("Possible returning youth"), "{}", shown.body);
    assert!(shown.body.contains("it matches on phone number"), "{}", shown.body);
    assert!(shown.body.contains("Nothing is merged on this page."));
    let csrf = shown.csrf();
    let matched = pending(second.clone()).await.remove(0);
    // From another referral's page the match is not found, and stays undecided.
    maria
        .post(&format!("/referrals/{first}/matches/{}/confirm", matched.possible_match_id), &[("csrf_token", &csrf)])
        .await
        .expect_status(StatusCode::NOT_FOUND);
    assert_eq!(pending(second.clone()).await[0].status, intake::PossibleMatchStatus::Pending as i32);
    let reject = format!("{page}/matches/{}/reject", matched.possible_match_id);
    let rejected = maria.post(&reject, &[("csrf_token", &csrf)]).await;
    rejected.expect_status(StatusCode::SEE_OTHER);
    let after = maria.get(&format!("{page}?done=rejected")).await;
    assert!(after.body.contains("The match is rejected"));
    assert!(!after.body.contains("Possible returning youth"), "the banner is gone");
    assert_eq!(pending(second.clone()).await[0].status, intake::PossibleMatchStatus::Rejected as i32);
    // Deciding again is the banner's error (intake refuses a decided match), never a silent change.
    let again = maria.post(&reject.replace("/reject", "/confirm"), &[("csrf_token", &csrf)]).await;
    assert!(
        again.status == StatusCode::UNPROCESSABLE_ENTITY || again.status == StatusCode::CONFLICT,
        "{:?}: {}",
        again.status,
        again.body
    );
    assert_eq!(pending(second.clone()).await[0].status, intake::PossibleMatchStatus::Rejected as i32);

    // A third referral of the same youth, confirmed: it carries the first youth's id.
    let third = w.submit(submit("P-C")).await;
    let found = eventually(SETTLE, || async { !pending(third.clone()).await.is_empty() }).await;
    assert!(found, "no possible match for the third referral");
    let first_youth = w.referral(&first).await.youth_id;
    let candidate = pending(third.clone()).await.into_iter().find(|m| m.candidate_youth_id == first_youth);
    let candidate = candidate.expect("a match with the first youth");
    let confirm = format!("/referrals/{third}/matches/{}/confirm", candidate.possible_match_id);
    maria.post(&confirm, &[("csrf_token", &csrf)]).await.expect_status(StatusCode::SEE_OTHER);
    assert_eq!(w.referral(&third).await.youth_id, first_youth);
    // An unknown decision is not found.
    maria
        .post(&format!("/referrals/{third}/matches/{}/merge", candidate.possible_match_id), &[("csrf_token", &csrf)])
        .await
        .expect_status(StatusCode::NOT_FOUND);
    w.server.stop().await;
});

both_engines!(a_case_manager_claims_a_case_nobody_holds_from_the_queue, |engine| async move {
    use common::{ReferralSource as Source, Site, TriageTier as Tier};
    use wf_proto::cases::v1 as cases;
    let w = World::start(engine).await;
    let mut roster_client = {
        let channel = w.server.channel(&w.server.tokens.user(Role::Supervisor)).await;
        cases::case_service_client::CaseServiceClient::new(channel)
    };
    let request = cases::ListCaseManagersRequest { include_inactive: true, ..Default::default() };
    let everyone = roster_client.list_case_managers(request).await.expect("roster").into_inner().case_managers;
    // Only Maria (CM-SLA-1) takes cases, and only one.
    for mut cm in everyone.into_iter().filter(|cm| !cm.supervisor) {
        if cm.case_manager_id == CM_SLA_1 {
            cm.max_caseload = 1;
        } else {
            cm.active = false;
        }
        let upsert = cases::UpsertCaseManagerRequest { case_manager: Some(cm) };
        roster_client.upsert_case_manager(upsert).await.expect("roster entry changed");
    }
    let submit = |reference: &'static str| Submit {
        reference,
        tier: Tier::Urgent,
        site: Site::SouthLosAngeles,
        source: Source::Hotline,
        needs: &["emergency_shelter"],
        practice: false,
    };
    let first = w.submit(submit("CL-A")).await;
    assert_eq!(w.wait_for_owner(&first).await, CM_SLA_1);
    let second = w.submit(submit("CL-B")).await;
    w.wait_for(&second, "got a case nobody holds", |r| !r.case_id.is_empty() && r.case_manager_id.is_empty()).await;

    let mut maria = w.person("maria", Role::CaseManager, Some(ROSTER_USER)).await;
    let queue = maria.get("/referrals?unassigned=1").await;
    let row = row_of(&queue.body, &second);
    assert!(row.contains(&format!("action=\"/referrals/{second}/claim\"")), "{row}");
    assert!(!row_of(&queue.body, &second).contains("Demo Case Manager"), "nobody holds it yet");
    let csrf = queue.csrf();
    let claim = format!("/referrals/{second}/claim");
    let back = "/referrals?unassigned=1";

    // At her cap: refused, the queue says why, nothing changes.
    let refused = maria.post(&claim, &[("csrf_token", &csrf), ("back", back)]).await;
    refused.expect_status(StatusCode::CONFLICT);
    assert!(refused.body.contains("was not claimed: you cannot take the case"), "{}", refused.body);
    assert!(w.referral(&second).await.case_manager_id.is_empty());

    // With room: claimed, and back to the same queue address.
    let mut maria_entry = {
        let request = cases::ListCaseManagersRequest { include_inactive: true, ..Default::default() };
        let all = roster_client.list_case_managers(request).await.expect("roster").into_inner().case_managers;
        all.into_iter().find(|cm| cm.case_manager_id == CM_SLA_1).expect("Maria's entry")
    };
    maria_entry.max_caseload = 2;
    let upsert = cases::UpsertCaseManagerRequest { case_manager: Some(maria_entry) };
    roster_client.upsert_case_manager(upsert).await.expect("cap raised");
    let claimed = maria.post(&claim, &[("csrf_token", &csrf), ("back", back)]).await;
    claimed.expect_status(StatusCode::SEE_OTHER);
    assert_eq!(claimed.location(), Some(back));
    assert_eq!(w.wait_for_owner(&second).await, CM_SLA_1);
    // A back address elsewhere is not followed.
    let elsewhere = maria.post(&claim, &[("csrf_token", &csrf), ("back", "https://evil.example/")]).await;
    assert!(elsewhere.location().is_none_or(|to| to.starts_with("/referrals")), "{:?}", elsewhere.location());
    // A held case offers no claim, and the program manager (no roster entry) is offered none.
    assert!(!row_of(&maria.get("/referrals").await.body, &second).contains("/claim\""));
    w.server.stop().await;
});
