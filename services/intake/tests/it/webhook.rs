//! The hotline webhook over real HTTP: signatures, freshness, malformed JSON,
//! validation, duplicates, size limit; nothing stored on any refusal.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use prost::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wf_intake::webhook;
use wf_proto::intake::v1 as pb;
use wf_testkit::{TestDatabase, TestServer, both_engines};

use super::example;

struct Hook {
    server: TestServer,
    db: wf_db::Db,
    addr: SocketAddr,
    secret: Vec<u8>,
    _database: TestDatabase,
    _dir: tempfile::TempDir,
}

impl Hook {
    async fn start(engine: wf_testkit::Engine) -> Self {
        let database = TestDatabase::new(engine).await;
        let db = database.migrated(&wf_intake::migrations()).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let bound = Arc::new(OnceLock::new());
        let record = bound.clone();
        let server = TestServer::start(db.clone(), dir.path(), move |ctx| async move {
            let intake = wf_intake::build(ctx).await?;
            record.set(intake.webhook_addr()).expect("built once");
            Ok(intake as Arc<dyn wf_server::Component>)
        })
        .await;
        let addr = *bound.get().expect("webhook bound");
        assert_ne!(addr.port(), 0);
        let secrets = wf_crypto::SharedSecrets::load_or_create_dev(&server.config.keys_dir()).expect("secrets");
        let secret = secrets.get(wf_crypto::DEV_WEBHOOK_KEY_ID).expect("dev secret").to_vec();
        Self { server, db, addr, secret, _database: database, _dir: dir }
    }

    /// Sends one HTTP/1.1 JSON request; answers (status, JSON body).
    async fn post(&self, headers: &[(&str, String)], body: &[u8]) -> (u16, serde_json::Value) {
        let (status, text) = self.post_as(Some("application/json"), headers, body).await;
        (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
    }

    /// Sends one HTTP/1.1 request with `content_type` (none when `None`); answers (status, body text).
    async fn post_as(&self, content_type: Option<&str>, headers: &[(&str, String)], body: &[u8]) -> (u16, String) {
        let mut stream = tokio::net::TcpStream::connect(self.addr).await.expect("connect");
        let content_type = content_type.map(|value| format!("Content-Type: {value}\r\n")).unwrap_or_default();
        let mut request = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\n{content_type}Content-Length: {}\r\nConnection: close\r\n",
            webhook::PATH,
            self.addr,
            body.len()
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).await.expect("write head");
        // The server may answer 413 and close before reading a large body.
        let _ = stream.write_all(body).await;
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response).await;
        let text = String::from_utf8_lossy(&response);
        let status: u16 =
            text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no status: {text}"));
        let body = text.split_once("\r\n\r\n").map(|(_, body)| body).unwrap_or("");
        (status, body.to_owned())
    }

    fn signed(&self, timestamp: i64, body: &[u8]) -> Vec<(&'static str, String)> {
        vec![
            ("X-Wayfinder-Key-Id", "dev".to_owned()),
            ("X-Wayfinder-Timestamp", timestamp.to_string()),
            ("X-Wayfinder-Signature", webhook::sign(&self.secret, timestamp, body)),
        ]
    }

    async fn stored(&self) -> (i64, i64) {
        let (referrals,): (i64,) =
            wf_db::sqlx::query_as("SELECT COUNT(*) FROM referral").fetch_one(self.db.pool()).await.expect("count");
        let (events,): (i64,) =
            // Only announcements of referrals: the background deadline check may add its own events.
            wf_db::sqlx::query_as("SELECT COUNT(*) FROM event_outbox WHERE event_type = 'referral.received'")
                .fetch_one(self.db.pool())
                .await
                .expect("count");
        (referrals, events)
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn example_json() -> Vec<u8> {
    wf_proto::json::to_json(&example()).expect("json").into_bytes()
}

both_engines!(refusals_store_nothing, |engine| async move {
    let hook = Hook::start(engine).await;
    let body = example_json();

    let mut forged = hook.signed(now(), &body);
    forged[2].1 = webhook::sign(b"not-the-secret-not-the-secret-xx", now(), &body);
    let (status, answer) = hook.post(&forged, &body).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (401, Some("x-wayfinder-signature does not match the body and timestamp"))
    );

    let stale = now() - 301;
    let (status, answer) = hook.post(&hook.signed(stale, &body), &body).await;
    assert_eq!(status, 401);
    assert!(answer["error"].as_str().unwrap_or_default().contains("allowed within 300 seconds"), "{answer}");
    let (status, _) = hook.post(&hook.signed(now() + 301, &body), &body).await;
    assert_eq!(status, 401, "too far in the future");

    let mut unknown = hook.signed(now(), &body);
    unknown[0].1 = "someone".into();
    assert_eq!(hook.post(&unknown, &body).await.0, 401);
    assert_eq!(hook.post(&hook.signed(now(), &body)[..2], &body).await.0, 401, "unsigned");

    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    assert_eq!(hook.post(&hook.signed(now(), &body), &tampered).await.0, 401);

    for (bad, field) in [
        (&b"{\"referral\": {\"source\": "[..], "body"),
        // The object holding the misspelt key, never the key itself (it may be a name).
        (&br#"{"referral": {"personal": {"legalFirstNam": "Testy"}}}"#[..], "referral.personal"),
        (&br#"{"referral": {"triageTier": "TRIAGE_TIER_SOMETIME"}}"#[..], "referral.triageTier"),
    ] {
        let (status, answer) = hook.post(&hook.signed(now(), bad), bad).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["field"].as_str(), Some(field), "{answer}");
        assert!(!answer["description"].as_str().unwrap_or_default().is_empty());
    }

    let mut invalid = example();
    invalid.referral.as_mut().expect("referral").site = 0;
    invalid.referral.as_mut().expect("referral").personal.as_mut().expect("personal").phones[0].number = "call".into();
    let invalid = wf_proto::json::to_json(&invalid).expect("json").into_bytes();
    let (status, answer) = hook.post(&hook.signed(now(), &invalid), &invalid).await;
    assert_eq!(status, 422, "{answer}");
    let fields: Vec<&str> =
        answer["violations"].as_array().expect("violations").iter().filter_map(|v| v["field"].as_str()).collect();
    assert_eq!(fields, vec!["referral.site", "referral.personal.phones[0].number"]);

    // Needs are service type codes of the closed list, through this door as through gRPC.
    let mut pizza = example();
    pizza.referral.as_mut().expect("referral").needs = vec!["pizza".into()];
    let pizza = wf_proto::json::to_json(&pizza).expect("json").into_bytes();
    let (status, answer) = hook.post(&hook.signed(now(), &pizza), &pizza).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["violations"][0]["field"].as_str(), Some("referral.needs[0]"), "{answer}");
    assert_eq!(answer["violations"][1]["field"].as_str(), Some("referral.needs"), "the allowed codes: {answer}");
    assert!(answer.to_string().contains("childcare") && !answer.to_string().contains("pizza"), "{answer}");

    let huge = vec![b' '; webhook::MAX_BODY_BYTES + 1];
    assert_eq!(hook.post(&hook.signed(now(), &huge), &huge).await.0, 413);

    assert_eq!(hook.stored().await, (0, 0), "nothing stored on any refusal");
    hook.server.stop().await;
});

both_engines!(a_signed_referral_is_stored_once_and_answers_its_id, |engine| async move {
    let hook = Hook::start(engine).await;
    let body = example_json();
    let (status, first) = hook.post(&hook.signed(now() - 60, &body), &body).await;
    assert_eq!(status, 201, "{first}");
    let id = first["referral_id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("ref_") && first["duplicate"] == false);

    // The hotline retries (new signature, same referral): same id, 200, nothing new stored.
    let (status, again) = hook.post(&hook.signed(now(), &body), &body).await;
    assert_eq!(
        (status, again["referral_id"].as_str(), again["duplicate"].as_bool()),
        (200, Some(id.as_str()), Some(true))
    );
    assert_eq!(hook.stored().await, (1, 1));

    let (submitted_by, coded): (String, Vec<u8>) =
        wf_db::sqlx::query_as("SELECT submitted_by, coded FROM referral WHERE id = $1")
            .bind(&id)
            .fetch_one(hook.db.pool())
            .await
            .expect("row");
    assert_eq!(submitted_by, "hotline:dev");
    let coded = pb::Referral::decode(coded.as_slice()).expect("coded");
    assert_eq!(coded.channel, pb::IntakeChannel::Webhook as i32);
    assert!(coded.personal.is_none(), "personal details only sealed");
    hook.server.stop().await;
});

both_engines!(the_webhook_names_the_field_and_expected_type_but_never_the_value, |engine| async move {
    let hook = Hook::start(engine).await;
    // Each body is signed, so only its content is refused; the value given must not come back.
    for (bad, field, secret) in [
        (
            &br#"{"referral": {"personal": {"phones": [{"number": "+1-555-0100", "safeToCall": "+1-555-0199"}]}}}"#[..],
            "referral.personal.phones[0].safeToCall",
            "555-0199",
        ),
        (&br#"{"referral": {"personal": {"legalFirstName": 1977}}}"#[..], "referral.personal.legalFirstName", "1977"),
        (&br#"{"referral": {"receivedAt": "Jane Fictional"}}"#[..], "referral.receivedAt", "Jane"),
        (&br#"{"referral": {"personal": {"JaneFictional": "x"}}}"#[..], "referral.personal", "Jane"),
        (&br#"{"JaneFictional": {}}"#[..], "body", "Jane"),
        (&br#"{"referral": {"triageTier": "JANE_FICTIONAL"}}"#[..], "referral.triageTier", "JANE"),
    ] {
        let (status, text) = hook.post_as(Some("application/json"), &hook.signed(now(), bad), bad).await;
        assert_eq!(status, 400, "{text}");
        let answer: serde_json::Value = serde_json::from_str(&text).expect("json answer");
        assert_eq!(answer["field"].as_str(), Some(field), "{text}");
        assert!(!text.contains(secret), "the answer repeats the value: {text}");
        assert!(!answer["description"].as_str().unwrap_or_default().is_empty(), "{text}");
    }
    // A value of the wrong type: the answer says what the field takes.
    let bad = br#"{"referral": {"personal": {"phones": [{"safeToCall": "yes please"}]}}}"#;
    let (_, answer) = hook.post(&hook.signed(now(), bad), bad).await;
    let description = answer["description"].as_str().unwrap_or_default();
    assert!(description.contains("expected") && description.contains("bool"), "{answer}");
    assert_eq!(hook.stored().await, (0, 0));
    hook.server.stop().await;
});

both_engines!(the_webhook_requires_a_json_content_type, |engine| async move {
    let hook = Hook::start(engine).await;
    let body = example_json();
    for content_type in [None, Some("text/plain"), Some("application/x-www-form-urlencoded")] {
        let (status, text) = hook.post_as(content_type, &hook.signed(now(), &body), &body).await;
        assert_eq!(status, 415, "{content_type:?}: {text}");
        assert!(text.contains("application/json"), "says what is allowed: {text}");
    }
    assert_eq!(hook.stored().await, (0, 0), "nothing stored");
    let (status, _) = hook.post_as(Some("application/json; charset=utf-8"), &hook.signed(now(), &body), &body).await;
    assert_eq!(status, 201, "a charset parameter is fine");
    hook.server.stop().await;
});
