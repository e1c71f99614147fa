//! The JSON API (`/api/v1`) against real intake, routing, cases and audit (the partner view's test
//! world): a partner reading another partner's referral, offer or case gets the very 404 body of an
//! unknown id; a role the table refuses is 403; a change by session needs the CSRF header and our
//! Origin; bearer tokens are verified (expired, wrongly signed, a service's: 401) and need no CSRF
//! token; validation errors name the field; and every route of the router is in the OpenAPI
//! document, which the schema check (scripts/test.sh) validates.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::Request;
use serde_json::{Value, json};
use wf_auth::TokenKind;
use wf_proto::common::v1 as common;
use wf_proto::intake::v1 as intake;
use wf_proto::routing::v1 as routing;
use wf_testkit::eventually;
use wf_types::Clock as _;

use super::partner::{HARBOR, HARBOR_BEDS, Submit, VALLEY, World};
use super::*;

const UNKNOWN_REFERRAL: &str = "ref_00000000000000000000000000000000";
const UNKNOWN_OFFER: &str = "off_00000000000000000000000000000000";
const UNKNOWN_CASE: &str = "case_00000000000000000000000000000000";
const ROSTER_USER: &str = "usr_demo_case_manager";

/// How a request authenticates.
#[derive(Clone)]
enum Auth {
    None,
    /// The session cookie and its CSRF token (sent on changes, with our Origin).
    Session {
        cookie: String,
        csrf: String,
    },
    Bearer(String),
}

/// A JSON client of the gateway.
struct Api<'a> {
    h: &'a Harness,
    auth: Auth,
}

impl<'a> Api<'a> {
    fn new(h: &'a Harness, auth: Auth) -> Self {
        Api { h, auth }
    }

    /// The session of a signed-in browser, with its CSRF token from `GET /api/v1/session`.
    async fn session(h: &'a Harness, browser: &Browser<'_>) -> Self {
        let cookie = browser.cookie.clone().expect("signed in");
        let api = Api { h, auth: Auth::Session { cookie: cookie.clone(), csrf: String::new() } };
        let me = api.get("/api/v1/session").await;
        me.expect_status(StatusCode::OK);
        let csrf = me.json()["csrf_token"].as_str().expect("a csrf token").to_owned();
        Api { h, auth: Auth::Session { cookie, csrf } }
    }

    fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Request<Body> {
        let mut builder =
            Request::builder().method(method).uri(path).extension(ConnectInfo(CLIENT.parse::<SocketAddr>().unwrap()));
        match &self.auth {
            Auth::None => {}
            Auth::Session { cookie, csrf } => {
                builder = builder.header(header::COOKIE, format!("__Host-wf-session={cookie}"));
                if method != "GET" {
                    builder = builder.header(header::ORIGIN, ORIGIN).header("x-csrf-token", csrf.as_str());
                }
            }
            Auth::Bearer(token) => builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}")),
        }
        match body {
            Some(body) => {
                builder.header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_string())).unwrap()
            }
            None => builder.body(Body::empty()).unwrap(),
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.h.send(self.request("GET", path, None)).await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.h.send(self.request("POST", path, Some(&body))).await
    }
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|err| panic!("not json ({err}): {}", self.body))
    }

    /// The error code and the fields its violations name.
    #[track_caller]
    fn error(&self, status: StatusCode) -> (String, Vec<String>) {
        self.expect_status(status);
        assert_eq!(self.header("cache-control"), Some("no-store"));
        let body = self.json();
        let error = &body["error"];
        let fields = error["field_violations"]
            .as_array()
            .expect("field_violations")
            .iter()
            .map(|v| v["field"].as_str().expect("field").to_owned())
            .collect();
        assert!(error["message"].is_string(), "{body}");
        (error["code"].as_str().expect("code").to_owned(), fields)
    }
}

/// Two answers are the one "not found": status and bytes.
#[track_caller]
fn same_not_found(foreign: &Answer, unknown: &Answer) {
    foreign.expect_status(StatusCode::NOT_FOUND);
    unknown.expect_status(StatusCode::NOT_FOUND);
    assert_eq!(foreign.body, unknown.body, "another partner's record must answer exactly as an unknown one");
    assert_eq!(foreign.error(StatusCode::NOT_FOUND).0, "not_found");
}

/// A token signed with the development key's id but crafted here: `exp` in the past, or signed with
/// another key.
fn crafted_token(w: &World, signing_pem: &[u8], exp_offset: i64) -> String {
    let keys = wf_auth::load_or_create_dev_keypair(&w.server.config.keys_dir()).unwrap();
    let now = chrono::Utc::now().timestamp();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.typ = Some(TokenKind::User.typ().to_owned());
    header.kid = Some(keys.kid.clone());
    let claims = json!({
        "sub": ROSTER_USER, "iss": "wayfinder", "aud": "wayfinder", "role": "case_manager",
        "iat": now - 600, "exp": now + exp_offset, "jti": "c7a4c1b2-0000-4000-8000-000000000001",
    });
    let key = jsonwebtoken::EncodingKey::from_ed_pem(signing_pem).unwrap();
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

both_engines!(a_partner_gets_the_unknown_ids_404_for_another_partners_referral_offer_and_case, |engine| async move {
    let w = World::start(engine).await;
    let (mine, theirs) = w.two_offers("A").await;
    let browser = w.person("harbor.staff", Role::Partner, Some(HARBOR), None).await;
    let harbor = Api::session(&w.h, &browser).await;
    let bearer = Api::new(&w.h, Auth::Bearer(w.server.tokens.partner(HARBOR)));

    for api in [&harbor, &bearer] {
        // Its own offers only.
        let listed = api.get("/api/v1/offers").await;
        listed.expect_status(StatusCode::OK);
        assert_eq!(listed.header("cache-control"), Some("no-store"));
        let ids: Vec<String> = listed.json()["offers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["offer_id"].as_str().unwrap().to_owned())
            .collect();
        assert!(ids.contains(&mine.offer_id) && !ids.contains(&theirs.offer_id), "{ids:?}");
        api.get(&format!("/api/v1/offers/{}", mine.offer_id)).await.expect_status(StatusCode::OK);

        // Another partner's offer, referral: the bytes of an unknown id (and of a malformed one).
        let foreign = api.get(&format!("/api/v1/offers/{}", theirs.offer_id)).await;
        same_not_found(&foreign, &api.get(&format!("/api/v1/offers/{UNKNOWN_OFFER}")).await);
        same_not_found(&foreign, &api.get("/api/v1/offers/not-an-offer").await);
        let foreign_referral = api.get(&format!("/api/v1/referrals/{}", theirs.referral_id)).await;
        same_not_found(&foreign_referral, &api.get(&format!("/api/v1/referrals/{UNKNOWN_REFERRAL}")).await);
        assert_eq!(foreign.body, foreign_referral.body, "one not-found body for every record");
        // Answering another partner's offer: not found, and nothing changes.
        let accept = api.post(&format!("/api/v1/offers/{}/accept", theirs.offer_id), json!({})).await;
        same_not_found(&accept, &api.post(&format!("/api/v1/offers/{UNKNOWN_OFFER}/accept"), json!({})).await);
        let decline = json!({"reason": "no_capacity"});
        let refused = api.post(&format!("/api/v1/offers/{}/decline", theirs.offer_id), decline.clone()).await;
        same_not_found(&refused, &api.post(&format!("/api/v1/offers/{UNKNOWN_OFFER}/decline"), decline).await);
        // The reveal is staff's: a partner gets the same not found.
        let reveal =
            api.post(&format!("/api/v1/referrals/{}/reveal", mine.referral_id), json!({"purpose": "triage"})).await;
        assert_eq!(reveal.body, foreign.body);
    }
    assert_eq!(w.offer(&theirs.offer_id).await.status, routing::OfferStatus::Pending as i32, "nothing changed");

    // A partner lists what intake shows it; who holds a case is never its filter (intake's refusal,
    // named as the queue's parameter).
    harbor.get("/api/v1/referrals").await.expect_status(StatusCode::OK);
    let (_, fields) = harbor.get("/api/v1/referrals?unassigned=1").await.error(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields, vec!["unassigned".to_owned()]);

    // Routing's own violation names the field: a sentence is not a code.
    let sentence = json!({"reason": "other", "detail": "Too far away"});
    let (code, fields) = harbor
        .post(&format!("/api/v1/offers/{}/decline", mine.offer_id), sentence)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!((code.as_str(), fields), ("invalid_argument", vec!["detail".to_owned()]));

    // Accepted through the API, the case is served; another partner's case is an unknown one.
    let accepted = harbor.post(&format!("/api/v1/offers/{}/accept", mine.offer_id), json!({})).await;
    accepted.expect_status(StatusCode::OK);
    assert_eq!(accepted.json()["status"], "accepted");
    let mut valley = w.routing_as(&w.server.tokens.partner(VALLEY)).await;
    valley.accept_offer(routing::AcceptOfferRequest { offer_id: theirs.offer_id.clone() }).await.expect("accepted");
    let case = w.served_case(HARBOR, &mine.referral_id).await;
    let their_case = w.served_case(VALLEY, &theirs.referral_id).await;
    for api in [&harbor, &bearer] {
        // The referral of the case it serves: the offer's coded facts, never a personal detail.
        let own_referral = api.get(&format!("/api/v1/referrals/{}", mine.referral_id)).await;
        own_referral.expect_status(StatusCode::OK);
        for personal in ["Fictional", "Sky Testcase", "555-0142", "blue kite"] {
            assert!(!own_referral.body.contains(personal), "the served referral shows {personal}");
        }
        let foreign_referral = api.get(&format!("/api/v1/referrals/{}", theirs.referral_id)).await;
        same_not_found(&foreign_referral, &api.get(&format!("/api/v1/referrals/{UNKNOWN_REFERRAL}")).await);
        let own = api.get(&format!("/api/v1/cases/{case}")).await;
        own.expect_status(StatusCode::OK);
        assert_eq!(own.json()["case_id"], case.as_str());
        assert!(own.json()["youth_id"].is_null() && own.json()["owner"].is_null(), "a partner's view: {}", own.body);
        let foreign = api.get(&format!("/api/v1/cases/{their_case}")).await;
        same_not_found(&foreign, &api.get(&format!("/api/v1/cases/{UNKNOWN_CASE}")).await);
        let foreign = api.get(&format!("/api/v1/cases/{their_case}/interventions")).await;
        same_not_found(&foreign, &api.get(&format!("/api/v1/cases/{UNKNOWN_CASE}/interventions")).await);
        let service = json!({
            "service_type": "emergency_shelter", "delivered_on": "2026-01-05", "units": 1, "unit_type": "nights",
        });
        let foreign = api.post(&format!("/api/v1/cases/{their_case}/interventions"), service.clone()).await;
        same_not_found(&foreign, &api.post(&format!("/api/v1/cases/{UNKNOWN_CASE}/interventions"), service).await);
        let listed = api.get("/api/v1/cases").await;
        listed.expect_status(StatusCode::OK);
        assert!(listed.body.contains(&case) && !listed.body.contains(&their_case), "{}", listed.body);
        // Notes are staff's: a partner's refusal is not found too.
        same_not_found(
            &api.get(&format!("/api/v1/cases/{case}/notes")).await,
            &api.get(&format!("/api/v1/cases/{UNKNOWN_CASE}")).await,
        );
    }

    // A service delivered on its own case, and its capacity, through the API.
    let today = wf_gateway::domain::partner::local_date(w.clock.now_micros());
    let recorded = harbor
        .post(
            &format!("/api/v1/cases/{case}/interventions"),
            json!({"service_type": "emergency_shelter", "delivered_on": today, "units": 2, "unit_type": "nights",
                   "partner_service_id": HARBOR_BEDS}),
        )
        .await;
    recorded.expect_status(StatusCode::CREATED);
    assert!(recorded.json()["id"].as_str().unwrap().starts_with("int_"));
    let listed = harbor.get(&format!("/api/v1/cases/{case}/interventions")).await;
    assert_eq!(listed.json()["interventions"][0]["units"], 2.0, "{}", listed.body);
    let capacity = harbor
        .post(&format!("/api/v1/capacity/{HARBOR_BEDS}"), json!({"unit": "bed", "available": 9, "maximum": 8}))
        .await;
    assert_eq!(capacity.error(StatusCode::UNPROCESSABLE_ENTITY).1, vec!["available".to_owned()]);
    let capacity = harbor
        .post(&format!("/api/v1/capacity/{HARBOR_BEDS}"), json!({"unit": "bed", "available": 2, "maximum": 8}))
        .await;
    capacity.expect_status(StatusCode::OK);
    assert!(harbor.get("/api/v1/capacity").await.body.contains(HARBOR_BEDS));
    let foreign = harbor
        .post(
            &format!("/api/v1/capacity/{}", super::partner::VALLEY_MENTORING),
            json!({"unit": "slot", "available": 0, "maximum": 1}),
        )
        .await;
    same_not_found(
        &foreign,
        &harbor
            .post(
                "/api/v1/capacity/svc_00000000000000000000000000000000",
                json!({"unit": "slot", "available": 0, "maximum": 1}),
            )
            .await,
    );

    // Staff have their own addresses for these records: a partner's do not exist for them.
    let staff = Api::new(&w.h, Auth::Bearer(w.server.tokens.user(Role::CaseManager)));
    same_not_found(&staff.get("/api/v1/offers").await, &staff.get(&format!("/api/v1/offers/{UNKNOWN_OFFER}")).await);
});

both_engines!(roles_csrf_origin_and_bearer_tokens_are_checked_before_anything_changes, |engine| async move {
    let w = World::start(engine).await;
    let id = w
        .submit(Submit {
            reference: "API-1",
            tier: common::TriageTier::Routine,
            site: common::Site::SouthLosAngeles,
            needs: &["childcare"],
        })
        .await;
    let escalated = eventually(std::time::Duration::from_secs(30), || async {
        referral(&w, &id).await.status == intake::ReferralStatus::Escalated as i32
    })
    .await;
    assert!(escalated, "nobody serves childcare: routing escalates");
    let maria_browser = w.person("maria", Role::CaseManager, None, Some(ROSTER_USER)).await;
    let maria = Api::session(&w.h, &maria_browser).await;
    let Auth::Session { cookie, csrf } = maria.auth.clone() else { unreachable!() };
    let triage = format!("/api/v1/referrals/{id}/triage");
    let body = json!({"triage_tier": "emergent", "triage_reason": "imminent_danger"});

    // A change by session: without the header, with a forged one, from another origin, from another site.
    let send = |origin: Option<&str>, csrf: Option<&str>, fetch_site: Option<&str>| {
        let mut builder = Request::builder()
            .method("POST")
            .uri(&triage)
            .extension(ConnectInfo(CLIENT.parse::<SocketAddr>().unwrap()))
            .header(header::COOKIE, format!("__Host-wf-session={cookie}"))
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(origin) = origin {
            builder = builder.header(header::ORIGIN, origin);
        }
        if let Some(csrf) = csrf {
            builder = builder.header("x-csrf-token", csrf);
        }
        if let Some(site) = fetch_site {
            builder = builder.header("sec-fetch-site", site);
        }
        builder.body(Body::from(body.to_string())).unwrap()
    };
    for (request, what) in [
        (send(Some(ORIGIN), None, None), "without the CSRF header"),
        (send(Some(ORIGIN), Some("forged"), None), "with a forged CSRF token"),
        (send(Some("https://evil.example"), Some(&csrf), None), "from another origin"),
        (send(None, Some(&csrf), Some("cross-site")), "from another site"),
    ] {
        let answer = w.h.send(request).await;
        assert_eq!(answer.error(StatusCode::FORBIDDEN).0, "permission_denied", "{what}");
    }
    assert_eq!(
        referral(&w, &id).await.referral.unwrap().triage_tier,
        common::TriageTier::Routine as i32,
        "nothing changed"
    );
    let done = w.h.send(send(None, Some(&csrf), Some("same-origin"))).await;
    done.expect_status(StatusCode::OK);
    assert_eq!(referral(&w, &id).await.referral.unwrap().triage_tier, common::TriageTier::Emergent as i32);

    // Validation: each field named, by the gateway's own check and by the body's reading.
    let (code, fields) = maria
        .post(&triage, json!({"triage_tier": "soon", "triage_reason": "imminent_danger"}))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!((code.as_str(), fields), ("invalid_argument", vec!["triage_tier".to_owned()]));
    let (_, fields) =
        maria.post(&triage, json!({"triage_tier": "urgent"})).await.error(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields, vec!["triage_reason".to_owned()]);
    let (_, fields) = maria
        .post(&triage, json!({"triage_tier": "urgent", "triage_reason": "bored"}))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields, vec!["triage_reason".to_owned()]);
    let broken =
        w.h.send({
            let mut request = maria.request("POST", &triage, None);
            request.headers_mut().insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
            *request.body_mut() = Body::from("{\"triage_tier\": ");
            request
        })
        .await;
    assert_eq!(broken.error(StatusCode::UNPROCESSABLE_ENTITY).1, vec!["triage_tier".to_owned()]);
    assert!(broken.body.contains("not well-formed JSON"), "{}", broken.body);
    let (_, fields) = maria.get("/api/v1/referrals?tier=soon").await.error(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields, vec!["tier".to_owned()]);
    let (_, fields) = maria
        .post(&format!("/api/v1/referrals/{id}/reveal"), json!({"purpose": "curiosity"}))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields, vec!["purpose".to_owned()]);
    let (_, fields) = maria
        .post(
            &format!("/api/v1/referrals/{id}/consent-releases"),
            json!({
                "recipient_organization_id": HARBOR, "categories": ["contact"], "purpose": "service_referral",
                "signed_at": "2026-01-02T10:00:00Z", "expires_at": "2025-01-02T10:00:00Z",
                "signers": [{"role": "youth", "legal_basis": "adult"}],
            }),
        )
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(fields.iter().any(|f| f == "expires_at"), "intake's violation on the body's field: {fields:?}");

    // The queue, in its order, with the queue's filters; a reveal with a purpose.
    let queue = maria.get("/api/v1/referrals?tier=emergent").await;
    queue.expect_status(StatusCode::OK);
    assert_eq!(queue.json()["referrals"][0]["referral_id"], id.as_str());
    let revealed = maria.post(&format!("/api/v1/referrals/{id}/reveal"), json!({"purpose": "safety_planning"})).await;
    revealed.expect_status(StatusCode::OK);
    let personal = &revealed.json()["personal"];
    assert_eq!(
        (personal["purpose"].as_str(), personal["safe_contact"]["code_word"].as_str()),
        (Some("safety_planning"), Some("blue kite"))
    );
    assert!(maria.get(&format!("/api/v1/referrals/{id}")).await.json()["personal"].is_null(), "masked again");

    // Roles the table refuses: 403 with the reason.
    for role in [Role::Evaluator, Role::Hotline, Role::Auditor] {
        let api = Api::new(&w.h, Auth::Bearer(w.server.tokens.user(role)));
        assert_eq!(api.get("/api/v1/referrals").await.error(StatusCode::FORBIDDEN).0, "permission_denied", "{role}");
        assert_eq!(
            api.get(&format!("/api/v1/referrals/{id}")).await.error(StatusCode::FORBIDDEN).0,
            "permission_denied"
        );
    }
    let manager = Api::new(&w.h, Auth::Bearer(w.server.tokens.user(Role::ProgramManager)));
    manager.get(&format!("/api/v1/referrals/{id}")).await.expect_status(StatusCode::OK);
    assert_eq!(manager.post(&triage, body.clone()).await.error(StatusCode::FORBIDDEN).0, "permission_denied");
    assert_eq!(
        manager
            .post(&format!("/api/v1/referrals/{id}/reveal"), json!({"purpose": "triage"}))
            .await
            .error(StatusCode::FORBIDDEN)
            .0,
        "permission_denied"
    );

    // Bearer tokens: a valid one needs no CSRF token; expired, wrongly signed, a service's, none: 401.
    let bearer = Api::new(&w.h, Auth::Bearer(w.server.tokens.user(Role::CaseManager)));
    bearer
        .post(&triage, json!({"triage_tier": "urgent", "triage_reason": "routine"}))
        .await
        .expect_status(StatusCode::OK);
    assert_eq!(referral(&w, &id).await.referral.unwrap().triage_tier, common::TriageTier::Urgent as i32);
    let keys = wf_auth::load_or_create_dev_keypair(&w.server.config.keys_dir()).unwrap();
    let other = tempfile::tempdir().unwrap();
    let stranger = wf_auth::load_or_create_dev_keypair(other.path()).unwrap();
    let fresh = crafted_token(&w, &keys.private_pem, 600);
    Api::new(&w.h, Auth::Bearer(fresh)).get("/api/v1/session").await.expect_status(StatusCode::OK);
    for (token, what) in [
        (crafted_token(&w, &keys.private_pem, -120), "expired"),
        (crafted_token(&w, &stranger.private_pem, 600), "wrongly signed"),
        (w.server.tokens.token(TokenKind::Service, "intake", Role::Service), "a service token"),
        ("not.a.token".to_owned(), "malformed"),
    ] {
        let api = Api::new(&w.h, Auth::Bearer(token));
        for answer in [api.get("/api/v1/session").await, api.post(&triage, body.clone()).await] {
            assert_eq!(answer.error(StatusCode::UNAUTHORIZED).0, "unauthenticated", "{what}");
            assert_eq!(answer.header("www-authenticate"), Some("Bearer realm=\"wayfinder\""), "{what}");
        }
    }
    let nobody = Api::new(&w.h, Auth::None);
    assert_eq!(nobody.get("/api/v1/referrals").await.error(StatusCode::UNAUTHORIZED).0, "unauthenticated");
    assert_eq!(nobody.post(&triage, body.clone()).await.error(StatusCode::UNAUTHORIZED).0, "unauthenticated");
    assert_eq!(
        referral(&w, &id).await.referral.unwrap().triage_tier,
        common::TriageTier::Urgent as i32,
        "no refused request changed anything"
    );

    // A session that ended is 401 (and its cookie cleared).
    let ended = Api::new(&w.h, Auth::Session { cookie: "no-such-session".to_owned(), csrf: String::new() });
    let answer = ended.get("/api/v1/session").await;
    assert_eq!(answer.error(StatusCode::UNAUTHORIZED).0, "unauthenticated");
    assert!(answer.session_set_cookie().is_some_and(|c| c.contains("Max-Age=0")));

    // The reveal is audited with its purpose, as the page's is.
    let collector = w.server.collector("gateway-api-accesses", &["record.accessed"]).await;
    maria
        .post(&format!("/api/v1/referrals/{id}/reveal"), json!({"purpose": "case_management"}))
        .await
        .expect_status(StatusCode::OK);
    let recorded = eventually(std::time::Duration::from_secs(20), || async {
        collector
            .of_type("record.accessed")
            .iter()
            .filter_map(|e| e.payload_as::<wf_proto::events::v1::RecordAccessed>().ok())
            .any(|a| {
                a.record_id == id
                    && a.purpose == "case_management"
                    && a.actor == ROSTER_USER
                    && a.fields.iter().any(|f| f == "personal")
            })
    })
    .await;
    assert!(recorded, "the reveal was not recorded with its purpose");
});

/// The referral as staff read it over gRPC (coded).
async fn referral(w: &World, id: &str) -> intake::GetReferralResponse {
    let token = w.server.tokens.user(Role::Supervisor);
    let mut intake = intake::intake_service_client::IntakeServiceClient::new(w.server.channel(&token).await);
    let request = intake::GetReferralRequest { referral_id: id.to_owned(), purpose: String::new() };
    intake.get_referral(request).await.expect("read").into_inner()
}

/// The `/api…` paths the router serves, read from its debug form (axum prints each route's path).
fn routed_paths(router: &axum::Router) -> BTreeSet<String> {
    let debug = format!("{router:?}");
    let mut paths = BTreeSet::new();
    for piece in debug.split('"').skip(1).step_by(2) {
        if piece.starts_with("/api/") {
            paths.insert(piece.to_owned());
        }
    }
    paths
}

#[tokio::test]
async fn every_api_route_is_in_the_openapi_document_and_nothing_else_is() {
    let h = Harness::start(Engine::Sqlite).await;
    let document = h.send(Request::builder().uri("/api/openapi.json").body(Body::empty()).unwrap()).await;
    document.expect_status(StatusCode::OK);
    assert_eq!(document.header("content-type"), Some("application/json"));
    let document = document.json();
    assert_eq!(document["openapi"], "3.1.0");
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(
        (schemes["session"]["in"].as_str(), schemes["bearer"]["scheme"].as_str()),
        (Some("cookie"), Some("bearer"))
    );
    let documented: BTreeSet<String> = document["paths"].as_object().unwrap().keys().cloned().collect();

    // The router's paths are the document's, but for the catch-all answering not found.
    let mut routed = routed_paths(&h.router);
    assert!(routed.remove("/api/v1/{*rest}"), "the not-found catch-all: {routed:?}");
    assert!(routed.len() >= 25, "the router's paths were not read: {routed:?}");
    assert_eq!(routed, documented, "routes and document drifted apart");

    // Each documented operation is routed with its method (401 without credentials, never 404 or 405),
    // and no undocumented method is.
    for (path, item) in document["paths"].as_object().unwrap() {
        let concrete = path.replace(['{', '}'], "");
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            let request = Request::builder()
                .method(method)
                .uri(&concrete)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{}"))
                .unwrap();
            let answer = h.send(request).await;
            let expected = match (item.get(method.to_lowercase()).is_some(), path.as_str()) {
                (true, "/api/openapi.json") => StatusCode::OK,
                (true, _) => StatusCode::UNAUTHORIZED,
                (false, _) => StatusCode::METHOD_NOT_ALLOWED,
            };
            assert_eq!(answer.status, expected, "{method} {path}: {}", answer.body);
            assert_eq!(answer.header("cache-control"), Some("no-store"), "{method} {path}");
        }
    }
    // Anything else under /api/v1 is the one not found.
    let unknown = h.send(Request::builder().uri("/api/v1/nothing-here").body(Body::empty()).unwrap()).await;
    assert_eq!(unknown.error(StatusCode::NOT_FOUND).0, "not_found");
}

both_engines!(a_stage_change_needs_the_version_it_was_made_on, |engine| async move {
    let w = World::start(engine).await;
    let id = w
        .submit(Submit {
            reference: "API-STAGE",
            tier: common::TriageTier::Urgent,
            site: common::Site::SouthLosAngeles,
            needs: &["emergency_shelter"],
        })
        .await;
    let assigned =
        eventually(std::time::Duration::from_secs(30), || async { !referral(&w, &id).await.case_id.is_empty() }).await;
    assert!(assigned, "the referral got a case");
    let case = referral(&w, &id).await.case_id;
    let maria_browser = w.person("maria", Role::CaseManager, None, Some(ROSTER_USER)).await;
    let maria = Api::session(&w.h, &maria_browser).await;
    let read = maria.get(&format!("/api/v1/cases/{case}")).await;
    read.expect_status(StatusCode::OK);
    let version = read.json()["updated_at"].as_str().expect("updated_at").to_owned();
    let stage = format!("/api/v1/cases/{case}/stage");

    // Without the version it was read at: refused, naming the field; nothing changes.
    let (code, _) = maria
        .post(&stage, json!({"to_stage": "enrolled", "reason": "youth_ready"}))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code, "invalid_argument");
    // An older version (someone changed the case since): 409, never a silent overwrite.
    let older = (chrono::DateTime::parse_from_rfc3339(&version).unwrap() - chrono::Duration::seconds(1)).to_rfc3339();
    let stale = maria
        .post(&stage, json!({"to_stage": "enrolled", "reason": "youth_ready", "expected_updated_at": older}))
        .await;
    assert_eq!(stale.error(StatusCode::CONFLICT).0, "aborted", "{}", stale.body);
    let still = maria.get(&format!("/api/v1/cases/{case}")).await.json();
    assert_eq!(still["stage"], read.json()["stage"], "nothing changed");
    // The version it was read at: done.
    let done = maria
        .post(&stage, json!({"to_stage": "enrolled", "reason": "youth_ready", "expected_updated_at": version}))
        .await;
    done.expect_status(StatusCode::OK);
    assert_eq!(done.json()["stage"], "enrolled", "{}", done.body);
    w.server.stop().await;
});
