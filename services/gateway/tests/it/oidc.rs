//! Signing in through an OpenID Connect provider: a provider run by the test on a loopback port,
//! signing its ID tokens with a P-256 key the test generates, serving its keys as a JWKS URL (or a
//! file) and checking the PKCE verifier at its token endpoint. Every wrong token, state or browser
//! gets the one refusal and no session.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::State;
use axum::routing::{get, post};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use wf_types::Clock as _;

use super::*;

const CLIENT_ID: &str = "wayfinder-test";
const SUBJECT: &str = "a3f1c2d4-0000-4000-8000-00000000cafe";
const CODE: &str = "code-from-the-provider";

/// A signing key of the provider: its private half and its public JWK.
struct Key {
    kid: String,
    encoding: EncodingKey,
    jwk: serde_json::Value,
}

fn new_key(kid: &str) -> Key {
    use p256::pkcs8::EncodePrivateKey as _;
    let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let pem = secret.to_pkcs8_pem(p256::pkcs8::LineEnding::LF).unwrap();
    let mut jwk = serde_json::to_value(secret.public_key().to_jwk()).unwrap();
    jwk["kid"] = kid.into();
    jwk["use"] = "sig".into();
    jwk["alg"] = "ES256".into();
    Key { kid: kid.to_owned(), encoding: EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(), jwk }
}

#[derive(Default)]
struct ProviderState {
    /// The public keys served at /jwks.
    keys: Mutex<Vec<serde_json::Value>>,
    /// The PKCE challenge of the sign-in under way, and the ID token the token endpoint answers.
    next: Mutex<Option<(String, String)>>,
    token_calls: AtomicUsize,
    jwks_calls: AtomicUsize,
}

/// The provider: its address, and what it will answer.
struct Provider {
    issuer: String,
    state: Arc<ProviderState>,
    _task: tokio::task::JoinHandle<()>,
}

async fn token_endpoint(
    State(state): State<Arc<ProviderState>>,
    axum::Form(form): axum::Form<std::collections::HashMap<String, String>>,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    state.token_calls.fetch_add(1, Ordering::SeqCst);
    let Some((challenge, id_token)) = state.next.lock().unwrap().take() else {
        return (StatusCode::BAD_REQUEST, axum::Json(serde_json::json!({"error": "invalid_grant"}))).into_response();
    };
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    let right = form.get("grant_type").map(String::as_str) == Some("authorization_code")
        && form.get("code").map(String::as_str) == Some(CODE)
        && form.get("client_id").map(String::as_str) == Some(CLIENT_ID)
        && form.get("redirect_uri").map(String::as_str) == Some(&format!("{ORIGIN}/sign-in/oidc/callback"))
        && wf_gateway::domain::oidc::pkce_challenge(&verifier) == challenge;
    if !right {
        return (StatusCode::BAD_REQUEST, axum::Json(serde_json::json!({"error": "invalid_grant"}))).into_response();
    }
    axum::Json(serde_json::json!({"access_token": "opaque", "token_type": "Bearer", "id_token": id_token}))
        .into_response()
}

async fn jwks_endpoint(State(state): State<Arc<ProviderState>>) -> axum::Json<serde_json::Value> {
    state.jwks_calls.fetch_add(1, Ordering::SeqCst);
    axum::Json(serde_json::json!({"keys": state.keys.lock().unwrap().clone()}))
}

impl Provider {
    async fn start(keys: &[&Key]) -> Self {
        let state = Arc::new(ProviderState::default());
        *state.keys.lock().unwrap() = keys.iter().map(|key| key.jwk.clone()).collect();
        let router = axum::Router::new()
            .route("/token", post(token_endpoint))
            .route("/jwks", get(jwks_endpoint))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Self { issuer, state, _task: task }
    }

    fn settings(&self, jwks: serde_json::Value) -> serde_json::Value {
        let mut settings = serde_json::json!({
            "issuer": self.issuer,
            "client_id": CLIENT_ID,
            "authorization_endpoint": format!("{}/authorize", self.issuer),
            "token_endpoint": format!("{}/token", self.issuer),
            "algorithms": ["ES256"],
            "display_name": "Example Identity",
        });
        for (key, value) in jwks.as_object().unwrap() {
            settings[key] = value.clone();
        }
        settings
    }

    fn jwks_url(&self) -> serde_json::Value {
        serde_json::json!({"jwks_url": format!("{}/jwks", self.issuer)})
    }
}

async fn gateway(engine: Engine, settings: serde_json::Value) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let mut h = Harness::start_configured(engine, dir.path(), None, vec![("gateway.oidc", settings)]).await;
    h._dir = Some(dir);
    h
}

/// A sign-in started from the sign-in page: what the provider was sent, and the binding cookie.
struct Started {
    state: String,
    nonce: String,
    challenge: String,
    binding: String,
}

async fn start(h: &Harness, issuer: &str) -> Started {
    let mut browser = h.browser();
    let page = browser.get("/sign-in").await;
    assert!(page.body.contains("Sign in with Example Identity"), "{}", page.body);
    let answer = browser.post("/sign-in/oidc", &[("csrf_token", &page.csrf())]).await;
    answer.expect_status(StatusCode::SEE_OTHER);
    let location = url::Url::parse(answer.location().unwrap()).unwrap();
    assert!(location.as_str().starts_with(&format!("{issuer}/authorize?")), "{location}");
    let query = |name: &str| location.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap();
    assert_eq!(query("code_challenge_method"), "S256");
    assert_eq!(query("client_id"), CLIENT_ID);
    let binding = answer
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-wf-oidc="))
        .expect("a binding cookie");
    assert!(
        binding.contains("SameSite=Lax") && binding.contains("HttpOnly") && binding.contains("Secure"),
        "{binding}"
    );
    Started {
        state: query("state"),
        nonce: query("nonce"),
        challenge: query("code_challenge"),
        binding: binding.trim_start_matches("__Host-wf-oidc=").split(';').next().unwrap().to_owned(),
    }
}

/// The provider's callback as the browser makes it: only the binding cookie goes with it (the
/// session cookie is `SameSite=Strict`).
async fn callback(h: &Harness, state: &str, binding: Option<&str>) -> Answer {
    let mut builder = Request::builder()
        .method("GET")
        .uri(format!("/sign-in/oidc/callback?state={state}&code={CODE}"))
        .extension(ConnectInfo(CLIENT.parse::<SocketAddr>().unwrap()));
    if let Some(binding) = binding {
        builder = builder.header(header::COOKIE, format!("__Host-wf-oidc={binding}"));
    }
    h.send(builder.body(Body::empty()).unwrap()).await
}

fn claims(h: &Harness, issuer: &str, nonce: &str) -> serde_json::Value {
    let now = h.clock.now_micros() / 1_000_000;
    serde_json::json!({"iss": issuer, "sub": SUBJECT, "aud": CLIENT_ID, "exp": now + 300, "iat": now, "nonce": nonce})
}

fn sign(key: &Key, claims: &serde_json::Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding).unwrap()
}

#[track_caller]
fn signed_in(answer: &Answer) -> String {
    answer.expect_status(StatusCode::OK);
    assert!(answer.body.contains("http-equiv=\"refresh\" content=\"0; url=/\""), "{}", answer.body);
    match answer.set_cookie() {
        Some(SetCookie::Value(token)) => token,
        _ => panic!("no session cookie: {:?}", answer.headers),
    }
}

#[track_caller]
fn refused(answer: &Answer) {
    answer.expect_status(StatusCode::SEE_OTHER);
    assert_eq!(answer.location(), Some("/sign-in?failed=oidc"));
    assert!(answer.session_set_cookie().is_none(), "no session: {:?}", answer.headers);
}

async fn linked(h: &Harness, provider: &Provider) {
    h.add("oidc.person", Role::CaseManager).await;
    h.gateway.accounts().link_oidc("oidc.person", &provider.issuer, SUBJECT).await.unwrap();
}

both_engines!(a_linked_person_signs_in_through_the_provider_and_each_sign_in_is_used_once, |engine| async move {
    let key = new_key("k1");
    let provider = Provider::start(&[&key]).await;
    let h = gateway(engine, provider.settings(provider.jwks_url())).await;
    linked(&h, &provider).await;

    let started = start(&h, &provider.issuer).await;
    let token = sign(&key, &claims(&h, &provider.issuer, &started.nonce));
    *provider.state.next.lock().unwrap() = Some((started.challenge.clone(), token.clone()));
    let token_cookie = signed_in(&callback(&h, &started.state, Some(&started.binding)).await);
    assert_eq!(provider.state.token_calls.load(Ordering::SeqCst), 1, "the code was exchanged with its verifier");

    // The new session is the linked account's (the acknowledgment comes first).
    let mut browser = h.browser();
    browser.cookie = Some(token_cookie);
    let home = browser.get("/").await;
    home.expect_status(StatusCode::SEE_OTHER);
    assert_eq!(home.location(), Some("/acknowledge"));

    // The same state again (a replayed callback), even with a fresh token: refused.
    *provider.state.next.lock().unwrap() = Some((started.challenge.clone(), token));
    refused(&callback(&h, &started.state, Some(&started.binding)).await);
    let page = h.browser().get("/sign-in?failed=oidc").await;
    assert!(page.body.contains(wf_gateway::api::oidc::OIDC_FAILED), "{}", page.body);
});

both_engines!(every_wrong_token_gets_the_one_refusal_and_no_session, |engine| async move {
    let key = new_key("k1");
    let stranger = new_key("k1");
    let provider = Provider::start(&[&key]).await;
    let h = gateway(engine, provider.settings(provider.jwks_url())).await;
    linked(&h, &provider).await;
    let now = h.clock.now_micros() / 1_000_000;

    type Forge = Box<dyn Fn(&str) -> String>;
    let with = |change: fn(&mut serde_json::Value, i64), key: &'static Key| -> Forge {
        let issuer = provider.issuer.clone();
        Box::new(move |nonce: &str| {
            let mut claims = serde_json::json!({"iss": issuer, "sub": SUBJECT, "aud": CLIENT_ID, "exp": now + 300,
                "iat": now, "nonce": nonce});
            change(&mut claims, now);
            sign(key, &claims)
        })
    };
    let key: &'static Key = Box::leak(Box::new(key));
    let stranger: &'static Key = Box::leak(Box::new(stranger));
    let public_key_bytes = serde_json::to_vec(&key.jwk).unwrap();
    let (hs_issuer, none_issuer) = (provider.issuer.clone(), provider.issuer.clone());
    let cases: Vec<(&str, Forge)> = vec![
        ("another issuer", with(|c, _| c["iss"] = "https://id.example.net".into(), key)),
        ("another audience", with(|c, _| c["aud"] = "another-client".into(), key)),
        ("no audience", with(|c, _| drop(c.as_object_mut().unwrap().remove("aud")), key)),
        ("no subject", with(|c, _| drop(c.as_object_mut().unwrap().remove("sub")), key)),
        ("no expiry", with(|c, _| drop(c.as_object_mut().unwrap().remove("exp")), key)),
        ("expired beyond the leeway", with(|c, now| c["exp"] = (now - 6).into(), key)),
        ("issued in the future", with(|c, now| c["iat"] = (now + 60).into(), key)),
        ("another sign-in's nonce", with(|c, _| c["nonce"] = "not-this-one".into(), key)),
        ("no nonce", with(|c, _| drop(c.as_object_mut().unwrap().remove("nonce")), key)),
        ("another subject", with(|c, _| c["sub"] = "someone-else".into(), key)),
        ("signed by a key that is not the provider's (same kid)", with(|_, _| {}, stranger)),
        (
            "HS256 with the public key as the secret",
            Box::new(move |nonce: &str| {
                let claims = serde_json::json!({"iss": hs_issuer, "sub": SUBJECT, "aud": CLIENT_ID,
                    "exp": now + 300, "nonce": nonce});
                let mut header = Header::new(Algorithm::HS256);
                header.kid = Some("k1".into());
                jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&public_key_bytes)).unwrap()
            }),
        ),
        (
            "alg none",
            Box::new(move |nonce: &str| {
                use base64::Engine as _;
                let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
                let claims = serde_json::json!({"iss": none_issuer, "sub": SUBJECT, "aud": CLIENT_ID,
                    "exp": now + 300, "nonce": nonce});
                format!("{}.{}.", b64.encode(br#"{"alg":"none","kid":"k1"}"#), b64.encode(claims.to_string()))
            }),
        ),
    ];
    for (what, forge) in cases {
        let started = start(&h, &provider.issuer).await;
        *provider.state.next.lock().unwrap() = Some((started.challenge.clone(), forge(&started.nonce)));
        let answer = callback(&h, &started.state, Some(&started.binding)).await;
        assert_eq!(answer.location(), Some("/sign-in?failed=oidc"), "{what}: {answer:?}");
        refused(&answer);
    }
    // Four seconds past `exp` is inside the 5 s leeway; the good token still signs in.
    let started = start(&h, &provider.issuer).await;
    h.clock.advance(chrono::Duration::seconds(304));
    let token = sign(key, &claims_at(&provider.issuer, &started.nonce, now));
    *provider.state.next.lock().unwrap() = Some((started.challenge.clone(), token));
    signed_in(&callback(&h, &started.state, Some(&started.binding)).await);
});

fn claims_at(issuer: &str, nonce: &str, now: i64) -> serde_json::Value {
    serde_json::json!({"iss": issuer, "sub": SUBJECT, "aud": CLIENT_ID, "exp": now + 300, "iat": now, "nonce": nonce})
}

both_engines!(the_callback_needs_the_browser_that_started_it_and_a_linked_enabled_account, |engine| async move {
    let key = new_key("k1");
    let provider = Provider::start(&[&key]).await;
    let h = gateway(engine, provider.settings(provider.jwks_url())).await;

    // Another browser (no binding cookie, or another one) cannot finish this sign-in.
    for binding in [None, Some("not-the-binding")] {
        let started = start(&h, &provider.issuer).await;
        *provider.state.next.lock().unwrap() =
            Some((started.challenge.clone(), sign(&key, &claims(&h, &provider.issuer, &started.nonce))));
        refused(&callback(&h, &started.state, binding).await);
        assert_eq!(provider.state.token_calls.load(Ordering::SeqCst), 0, "the code is never exchanged");
    }
    // A state nobody started.
    refused(&callback(&h, "made-up-state", Some("made-up")).await);

    // A valid token for a subject linked to no account, then for a disabled account.
    let started = start(&h, &provider.issuer).await;
    *provider.state.next.lock().unwrap() =
        Some((started.challenge.clone(), sign(&key, &claims(&h, &provider.issuer, &started.nonce))));
    refused(&callback(&h, &started.state, Some(&started.binding)).await);
    linked(&h, &provider).await;
    h.gateway.accounts().disable("oidc.person").await.unwrap();
    let started = start(&h, &provider.issuer).await;
    *provider.state.next.lock().unwrap() =
        Some((started.challenge.clone(), sign(&key, &claims(&h, &provider.issuer, &started.nonce))));
    refused(&callback(&h, &started.state, Some(&started.binding)).await);

    // A sign-in that took longer than ten minutes.
    h.gateway.accounts().enable("oidc.person").await.unwrap();
    let started = start(&h, &provider.issuer).await;
    h.clock.advance(chrono::Duration::minutes(11));
    *provider.state.next.lock().unwrap() =
        Some((started.challenge.clone(), sign(&key, &claims(&h, &provider.issuer, &started.nonce))));
    refused(&callback(&h, &started.state, Some(&started.binding)).await);

    // One subject, one account.
    h.add("someone.else", Role::CaseManager).await;
    let err = h.gateway.accounts().link_oidc("someone.else", &provider.issuer, SUBJECT).await.unwrap_err();
    assert!(matches!(err, wf_gateway::AccountError::SubjectTaken(_)), "{err}");
});

both_engines!(a_rotated_key_is_fetched_again_from_the_jwks_url_at_most_once_a_minute, |engine| async move {
    let old = new_key("2026-11");
    let new = new_key("2026-12");
    let provider = Provider::start(&[&old]).await;
    let h = gateway(engine, provider.settings(provider.jwks_url())).await;
    linked(&h, &provider).await;
    assert_eq!(provider.state.jwks_calls.load(Ordering::SeqCst), 1, "fetched at start");

    // The provider rotates: its tokens name a key the gateway has not seen yet.
    *provider.state.keys.lock().unwrap() = vec![new.jwk.clone()];
    let started = start(&h, &provider.issuer).await;
    *provider.state.next.lock().unwrap() =
        Some((started.challenge.clone(), sign(&new, &claims(&h, &provider.issuer, &started.nonce))));
    signed_in(&callback(&h, &started.state, Some(&started.binding)).await);
    assert_eq!(provider.state.jwks_calls.load(Ordering::SeqCst), 2, "fetched again once");

    // A token naming a key nobody has: no second fetch within the minute, refused.
    let unknown = new_key("never-published");
    let started = start(&h, &provider.issuer).await;
    *provider.state.next.lock().unwrap() =
        Some((started.challenge.clone(), sign(&unknown, &claims(&h, &provider.issuer, &started.nonce))));
    refused(&callback(&h, &started.state, Some(&started.binding)).await);
    assert_eq!(provider.state.jwks_calls.load(Ordering::SeqCst), 2);
});

both_engines!(keys_from_a_file_verify_and_without_a_provider_its_addresses_are_not_found, |engine| async move {
    let key = new_key("file-key");
    let provider = Provider::start(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, serde_json::json!({"keys": [key.jwk]}).to_string()).unwrap();
    let h = gateway(engine, provider.settings(serde_json::json!({"jwks_file": jwks}))).await;
    linked(&h, &provider).await;
    let started = start(&h, &provider.issuer).await;
    *provider.state.next.lock().unwrap() =
        Some((started.challenge.clone(), sign(&key, &claims(&h, &provider.issuer, &started.nonce))));
    signed_in(&callback(&h, &started.state, Some(&started.binding)).await);
    assert_eq!(provider.state.jwks_calls.load(Ordering::SeqCst), 0, "the URL is never used");

    // A gateway without a provider: no button, and both addresses are not found.
    let plain = Harness::start(engine).await;
    let mut browser = plain.browser();
    let page = browser.get("/sign-in").await;
    assert!(!page.body.contains("/sign-in/oidc"), "{}", page.body);
    browser.post("/sign-in/oidc", &[("csrf_token", &page.csrf())]).await.expect_status(StatusCode::NOT_FOUND);
    callback(&plain, "any", Some("any")).await.expect_status(StatusCode::NOT_FOUND);
});
