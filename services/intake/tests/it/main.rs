//! Intake through its gRPC API, on SQLite and on PostgreSQL: storing, sealing,
//! idempotency, validation, scoping, access events, and status from events.

use std::sync::Arc;

use prost::Message;
use tonic::Code;
use wf_auth::Role;
use wf_events::Envelope;
use wf_proto::events::v1 as events;
use wf_proto::intake::v1 as pb;
use wf_proto::intake::v1::intake_service_client::IntakeServiceClient;
use wf_testkit::{AuthedChannel, Collector, Engine, TestDatabase, TestServer, both_engines};

mod awaiting;
mod carried_on;
mod coded_reads;
mod consent;
mod flow;
mod lifecycle;
mod listing;
mod mandated;
mod matching;
mod origin;
mod partner_views;
mod progress;
mod purposes;
mod receiving;
mod rotation;
mod scope;
mod screenings;
mod submitter;
mod update;
mod validation;
mod vault;
mod webhook;
mod workers;

type Client = IntakeServiceClient<AuthedChannel>;

struct Harness {
    server: TestServer,
    db: wf_db::Db,
    _database: TestDatabase,
    _dir: tempfile::TempDir,
    /// What intake publishes (it is the only producer here).
    collector: Collector,
}

impl Harness {
    async fn start(engine: Engine) -> Self {
        Self::start_with(engine, |_, _| {}).await
    }

    /// Starts intake with `configure` applied to its configuration (in the data folder it is given).
    async fn start_with(
        engine: Engine,
        configure: impl FnOnce(&mut wf_config::Config, &std::path::Path) + Send + 'static,
    ) -> Self {
        let database = TestDatabase::new(engine).await;
        let db = database.migrated(&wf_intake::migrations()).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let data_dir = dir.path().to_path_buf();
        let server = TestServer::start(db.clone(), dir.path(), move |mut ctx| async move {
            let mut config = (*ctx.config).clone();
            configure(&mut config, &data_dir);
            ctx.config = Arc::new(config);
            Ok(wf_intake::build(ctx).await? as Arc<dyn wf_server::Component>)
        })
        .await;
        let collector = server.collector("collector", &["referral.*", "record.*", "screening.*"]).await;
        Self { server, db, _database: database, _dir: dir, collector }
    }

    async fn client(&self, role: Role) -> Client {
        IntakeServiceClient::new(self.server.channel(&self.server.tokens.user(role)).await)
    }

    async fn partner(&self, partner_id: &str) -> Client {
        IntakeServiceClient::new(self.server.channel(&self.server.tokens.partner(partner_id)).await)
    }

    /// A client whose token names `subject` in `role`, and the organization `organization` (a hotline
    /// client's organization, which the test kit's tokens never carry).
    async fn client_as(&self, subject: &str, role: Role, organization: Option<&str>) -> Client {
        let keys = wf_auth::load_or_create_dev_keypair(&self.server.config.keys_dir()).expect("keys");
        let issuer =
            wf_auth::TokenIssuer::from_pem(&keys.private_pem, &keys.kid, "wayfinder", "wayfinder").expect("issuer");
        let kind = match role {
            Role::Service => wf_auth::TokenKind::Service,
            Role::Partner => wf_auth::TokenKind::Partner,
            _ => wf_auth::TokenKind::User,
        };
        let token =
            issuer.issue(kind, subject, role, organization, std::time::Duration::from_secs(600)).expect("token");
        IntakeServiceClient::new(self.server.channel(&token).await)
    }

    /// Access events recorded for people's reads (the returning-youth matcher's own reads, actor
    /// role "service", left out), waiting (bounded) until there are `count`.
    async fn people_accesses(&self, count: usize) -> Vec<events::RecordAccessed> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let found = self.people_accesses_now().await;
            if found.len() >= count {
                return found;
            }
            assert!(tokio::time::Instant::now() < deadline, "{} of {count} access events", found.len());
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// People's access events in the outbox now, oldest first.
    async fn people_accesses_now(&self) -> Vec<events::RecordAccessed> {
        let rows: Vec<(Vec<u8>,)> =
            wf_db::sqlx::query_as("SELECT envelope FROM event_outbox WHERE event_type = 'record.accessed' ORDER BY id")
                .fetch_all(self.db.pool())
                .await
                .expect("outbox");
        rows.iter()
            .map(|(bytes,)| Envelope::decode(bytes).expect("envelope").payload_as().expect("payload"))
            .filter(|access: &events::RecordAccessed| access.actor_role != "service")
            .collect()
    }

    /// How many events of `event_type` are in the outbox now (published or not).
    async fn outbox_count(&self, event_type: &str) -> i64 {
        let (count,): (i64,) = wf_db::sqlx::query_as("SELECT COUNT(*) FROM event_outbox WHERE event_type = $1")
            .bind(event_type)
            .fetch_one(self.db.pool())
            .await
            .expect("count");
        count
    }

    /// Waits (bounded) for the relay to publish `count` events of `event_type`.
    async fn published(&self, event_type: &str, count: usize) -> Vec<Envelope> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let found = self.collector.of_type(event_type);
            if found.len() >= count {
                return found;
            }
            assert!(tokio::time::Instant::now() < deadline, "{event_type}: {} of {count} published", found.len());
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// The field paths of an INVALID_ARGUMENT answer's violations, in order.
fn fields_of(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt;
    let details = status.get_error_details();
    let bad_request = details.bad_request().unwrap_or_else(|| panic!("no field violations in {status:?}"));
    bad_request.field_violations.iter().map(|v| v.field.clone()).collect()
}

fn example() -> pb::SubmitReferralRequest {
    let json = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/referral.json"))
        .expect("examples/referral.json");
    wf_proto::json::from_json(&json).expect("example parses")
}

fn with_reference(reference: &str) -> pb::SubmitReferralRequest {
    let mut request = example();
    request.referral.as_mut().expect("referral").external_reference = reference.to_owned();
    request
}

both_engines!(a_referral_is_stored_sealed_and_announced_without_personal_data, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut client = harness.client(Role::Hotline).await;
    let submitted = client.submit_referral(example()).await.expect("submit").into_inner();
    assert!(submitted.referral_id.starts_with("ref_") && submitted.youth_id.starts_with("yth_"));
    assert_eq!(submitted.status, pb::ReferralStatus::Received as i32);

    let announced = harness.published("referral.received", 1).await;
    let received: events::ReferralReceived = announced[0].payload_as().expect("payload");
    assert_eq!(received.referral_id, submitted.referral_id);
    assert!(received.is_minor, "born 2009: a minor");
    assert_eq!(announced[0].correlation_id, submitted.referral_id);

    // Nothing personal in the event or in the stored row: only the sealed bytes hold it.
    let personal = example().referral.and_then(|r| r.personal).expect("personal");
    let (coded, sealed): (Vec<u8>, Vec<u8>) =
        wf_db::sqlx::query_as("SELECT coded, personal_sealed FROM referral WHERE id = $1")
            .bind(&submitted.referral_id)
            .fetch_one(harness.db.pool())
            .await
            .expect("row");
    for needle in [personal.legal_last_name.as_str(), personal.phones[0].number.as_str(), "2009"] {
        for (what, bytes) in [("event", &announced[0].encode()), ("coded", &coded), ("sealed", &sealed)] {
            assert!(!bytes.windows(needle.len()).any(|w| w == needle.as_bytes()), "{what} contains {needle}");
        }
    }
    harness.server.stop().await;
});

both_engines!(resubmitting_answers_the_same_referral, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut client = harness.client(Role::Hotline).await;
    let first = client.submit_referral(example()).await.expect("first").into_inner();
    let second = client.submit_referral(example()).await.expect("second").into_inner();
    assert_eq!(second.referral_id, first.referral_id);
    assert_eq!(second.youth_id, first.youth_id);
    assert!(second.duplicate && !first.duplicate);
    let other = client.submit_referral(with_reference("HL-2026-0002")).await.expect("other").into_inner();
    assert_ne!(other.referral_id, first.referral_id);
    assert_eq!(harness.outbox_count("referral.received").await, 2, "a duplicate announces nothing");
    harness.server.stop().await;
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_submissions_of_one_referral_make_one_on_postgres() {
    let harness = Harness::start(Engine::Postgres).await;
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let mut client = harness.client(Role::Hotline).await;
        tasks.push(tokio::spawn(async move { client.submit_referral(example()).await.map(|r| r.into_inner()) }));
    }
    let mut ids = std::collections::HashSet::new();
    let mut fresh = 0;
    for task in tasks {
        let response = task.await.expect("join").expect("every submission answers");
        fresh += usize::from(!response.duplicate);
        ids.insert(response.referral_id);
    }
    assert_eq!(ids.len(), 1, "one referral id for 50 submissions");
    assert_eq!(fresh, 1, "exactly one submission created it");
    harness.server.stop().await;
}

both_engines!(invalid_referrals_are_refused_field_by_field_and_nothing_is_stored, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut client = harness.client(Role::Hotline).await;
    let mut request = example();
    let referral = request.referral.as_mut().expect("referral");
    referral.site = 0;
    referral.external_reference = String::new();
    referral.personal.as_mut().expect("personal").date_of_birth =
        Some(wf_proto::common::v1::Date { year: 2009, month: 13, day: 1 });
    let status = client.submit_referral(request).await.expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    for field in ["referral.site", "referral.external_reference", "referral.personal.date_of_birth"] {
        assert!(status.message().contains(field), "{field} named in: {}", status.message());
    }
    let (count,): (i64,) =
        wf_db::sqlx::query_as("SELECT COUNT(*) FROM referral").fetch_one(harness.db.pool()).await.expect("count");
    assert_eq!(count, 0);
    harness.server.stop().await;
});

both_engines!(personal_details_need_a_purpose_and_every_read_is_an_access_event, |engine| async move {
    let harness = Harness::start(engine).await;
    let submitted = harness.client(Role::Hotline).await.submit_referral(example()).await.expect("submit").into_inner();
    let mut staff = harness.client(Role::CaseManager).await;
    let get = |purpose: &str| pb::GetReferralRequest {
        referral_id: submitted.referral_id.clone(),
        purpose: purpose.to_owned(),
    };
    let plain = staff.get_referral(get("")).await.expect("read").into_inner();
    assert!(plain.referral.as_ref().expect("referral").personal.is_none(), "no purpose, no personal details");
    let full = staff.get_referral(get("triage")).await.expect("read").into_inner();
    let personal = full.referral.and_then(|r| r.personal).expect("personal details with a purpose");
    assert_eq!(personal.legal_first_name, "Demo");

    // A program manager reads the coded record but never personal details.
    let manager = harness.client(Role::ProgramManager).await.get_referral(get("triage")).await.expect("read");
    assert!(manager.into_inner().referral.expect("referral").personal.is_none());

    // Every read is on the record; exactly one of them opened the vault, with its purpose.
    let accesses = harness.people_accesses(3).await;
    let read: Vec<(&str, &str, Vec<&str>)> = accesses
        .iter()
        .map(|a| (a.actor_role.as_str(), a.purpose.as_str(), a.fields.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(
        read,
        vec![
            ("case_manager", "", vec!["referral.coded"]),
            ("case_manager", "triage", vec!["referral.coded", "personal"]),
            ("program_manager", "triage", vec!["referral.coded"]),
        ]
    );
    assert!(accesses.iter().all(|a| a.record_id == submitted.referral_id));
    harness.server.stop().await;
});

both_engines!(partners_see_only_their_own_referrals_and_others_are_not_found, |engine| async move {
    let harness = Harness::start(engine).await;
    let partner_a = "org_0193a1b2c3d4e5f60718293a4b5c6d01";
    let partner_b = "org_0193a1b2c3d4e5f60718293a4b5c6d02";
    let mut a = harness.partner(partner_a).await;
    let mut b = harness.partner(partner_b).await;
    let mut request = example();
    request.referral.as_mut().expect("referral").referring_organization_id = partner_a.to_owned();
    let submitted = a.submit_referral(request).await.expect("submit").into_inner();
    let read = |id: &str| pb::GetReferralRequest { referral_id: id.to_owned(), purpose: "service_referral".into() };
    let own = a.get_referral(read(&submitted.referral_id)).await.expect("own referral").into_inner();
    assert!(own.referral.expect("referral").personal.is_none(), "partners need a release (step 2)");
    let status = b.get_referral(read(&submitted.referral_id)).await.expect_err("not theirs");
    assert_eq!(status.code(), Code::NotFound);
    let missing = b.get_referral(read("ref_0193a1b2c3d4e5f60718293a4b5c6d7e")).await.expect_err("absent");
    assert_eq!((missing.code(), missing.message().contains("not found")), (status.code(), true), "same answer");
    let listed = b.list_referrals(pb::ListReferralsRequest::default()).await.expect("list").into_inner();
    assert!(listed.referrals.is_empty());
    harness.server.stop().await;
});

both_engines!(routing_and_case_events_move_the_status_forward_once, |engine| async move {
    let harness = Harness::start(engine).await;
    let submitted = harness.client(Role::Hotline).await.submit_referral(example()).await.expect("submit").into_inner();
    let id = submitted.referral_id.clone();
    let partner = "org_0193a1b2c3d4e5f60718293a4b5c6d7f";
    let offer = "off_0193a1b2c3d4e5f60718293a4b5c6d7e";
    let routed = flow::routed(&id, partner);
    let made = flow::offer_made(&id, offer, partner, 60);
    let accepted = flow::offer_accepted(&id, offer, partner, 10);
    let assigned = flow::case_assigned(&id);
    // Out of order and redelivered: the status ends assigned (matched, owned), each change recorded once.
    for envelope in [&assigned, &accepted, &routed, &assigned, &made, &accepted] {
        harness.server.publish(envelope).await;
    }
    let referral = flow::read(&harness, &id).await;
    assert_eq!(referral.status, pb::ReferralStatus::Assigned as i32);
    assert_eq!(referral.case_id, flow::CASE);
    let statuses: Vec<i32> = referral.history.iter().map(|c| c.status).collect();
    assert_eq!(statuses.len(), 5, "received, routed, offered, assigned, accepted: {statuses:?}");
    harness.server.stop().await;
});

#[test]
fn the_example_referral_round_trips_through_protobuf() {
    let request = example();
    assert_eq!(pb::SubmitReferralRequest::decode(request.encode_to_vec().as_slice()).expect("decode"), request);
}
