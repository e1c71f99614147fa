//! Each service as its own process on PostgreSQL and RabbitMQ; every message on
//! the broker is captured and searched for the youth's personal data.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use wf_auth::Role;
use wf_events::{Envelope, EventBus, EventHandler, HandleError, RabbitBus, RabbitConfig, Subscription};
use wf_proto::intake::v1 as intake;

use crate::support;

struct Processes(Vec<(String, Child)>);

impl Drop for Processes {
    fn drop(&mut self) {
        for (_, child) in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Collects every message published to the exchange, encoded as it travelled.
struct Capture(Arc<Mutex<Vec<Vec<u8>>>>);

#[async_trait::async_trait]
impl EventHandler for Capture {
    async fn handle(&self, envelope: Envelope) -> Result<(), HandleError> {
        self.0.lock().expect("capture lock").push(envelope.encode());
        Ok(())
    }
}

fn base_url(url: &str) -> &str {
    &url[..url.rfind('/').expect("database url has a path")]
}

async fn wait_for_endpoints(dir: &Path, processes: &mut Processes) -> String {
    let file = dir.join("endpoints.json");
    let started = Instant::now();
    loop {
        if let Ok(bytes) = std::fs::read(&file)
            && let Ok(endpoints) = serde_json::from_slice::<wayfinder::system::Endpoints>(&bytes)
        {
            return endpoints.grpc;
        }
        for (name, child) in &mut processes.0 {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("{name} exited early with {status}");
            }
        }
        assert!(started.elapsed() < support::PATIENCE, "{} never appeared", file.display());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referral_travels_separate_processes_on_postgres_and_rabbitmq_and_the_broker_sees_nothing_personal() {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let pg = std::env::var("WF_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let amqp = std::env::var("WF_TEST_AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    let db_name = format!("t_{id}");
    let admin = wf_db::Db::connect(&pg).await.expect("PostgreSQL answers");
    wf_db::sqlx::query(&format!("CREATE DATABASE \"{db_name}\"")).execute(admin.pool()).await.expect("create db");
    let database_url = format!("{}/{db_name}", base_url(&pg));
    let rabbit = RabbitConfig::new(amqp.clone()).with_prefix(format!("t{id}.events"), format!("t{id}"));

    // The capture queue exists before anything is published.
    let capture_bus = RabbitBus::connect(rabbit.clone()).await.expect("RabbitMQ answers");
    let capture_subscription = Subscription::new("capture", &["#"]);
    capture_bus.declare(&capture_subscription).await.expect("declare capture queue");

    let root = tempfile::tempdir().expect("temp dir");
    let keys_dir = root.path().join("keys");
    let issuer = support::issuer(&keys_dir);
    let public_key = keys_dir.join(wf_auth::DEV_PUBLIC_KEY_FILE);
    let cli = env!("CARGO_BIN_EXE_wayfinder");
    let data_dir = |service: &str| -> PathBuf { root.path().join(service) };

    let migrate = Command::new(cli)
        .args(["migrate", "--data-dir"])
        .arg(data_dir("migrate"))
        .env("DATABASE_URL", &database_url)
        .output()
        .expect("migrate runs");
    assert!(migrate.status.success(), "migrate failed: {}", String::from_utf8_lossy(&migrate.stderr));

    let mut processes = Processes(Vec::new());
    // Every service, from the shared list, so a new one is started (and cleaned up) here too.
    for service in wf_config::SERVICES.iter().copied() {
        let child = Command::new(cli)
            .args(["serve", service, "--grpc-addr", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir(service))
            .env("DATABASE_URL", &database_url)
            .env("AMQP_URL", &amqp)
            .env("WAYFINDER_EVENTS__EXCHANGE", &rabbit.exchange)
            .env("WAYFINDER_EVENTS__QUEUE_PREFIX", &rabbit.queue_prefix)
            .env("WAYFINDER_AUTH__JWT_PUBLIC_KEY_FILE", &public_key)
            .env("WAYFINDER_AUTO_MIGRATE", "false")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("service starts");
        processes.0.push((service.to_owned(), child));
    }
    let intake_url = wait_for_endpoints(&data_dir("intake"), &mut processes).await;
    let audit_url = wait_for_endpoints(&data_dir("audit"), &mut processes).await;
    let routing_url = wait_for_endpoints(&data_dir("routing"), &mut processes).await;
    wait_for_endpoints(&data_dir("cases"), &mut processes).await;
    wait_for_endpoints(&data_dir("evaluation"), &mut processes).await;

    let mut client = intake::intake_service_client::IntakeServiceClient::new(
        support::authed(&intake_url, &issuer, Role::Hotline).await,
    );
    let request = support::example_referral();
    let submitted = client.submit_referral(request.clone()).await.expect("submit").into_inner();
    let entries = support::wait_for_flow(&intake_url, &audit_url, &issuer, &submitted.referral_id).await;
    assert!(entries.iter().all(|e| e.correlation_id == submitted.referral_id));

    // Drain the capture queue: at least the three flow events.
    let captured = Arc::new(Mutex::new(Vec::new()));
    let stop = CancellationToken::new();
    let consumer = {
        let bus = capture_bus.clone();
        let handler = Arc::new(Capture(captured.clone()));
        let stop = stop.clone();
        tokio::spawn(async move { bus.consume(capture_subscription, handler, stop).await })
    };
    let started = Instant::now();
    while captured.lock().expect("lock").len() < support::FLOW_EVENTS.len() {
        assert!(started.elapsed() < support::PATIENCE, "the capture queue did not receive the flow");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.cancel();
    consumer.await.expect("join").expect("capture consumer");

    let messages = captured.lock().expect("lock").clone();
    let types: Vec<String> =
        messages.iter().map(|bytes| Envelope::decode(bytes).expect("envelope").event_type).collect();
    for expected in support::FLOW_EVENTS {
        assert!(types.iter().any(|t| t == expected), "{expected} crossed the broker; saw {types:?}");
    }
    for value in support::personal_strings(&request) {
        for bytes in &messages {
            assert!(
                !bytes.windows(value.len()).any(|window| window == value.as_bytes()),
                "a broker message contains personal data ({} characters)",
                value.len()
            );
        }
    }

    // A broken release: routing cannot store decisions, so the next referral is
    // dead-lettered; after the fix, `wayfinder dlq replay` sends it through.
    let db = wf_db::Db::connect(&database_url).await.expect("test database");
    let rename = |from: &str, to: &str| format!("ALTER TABLE routing.{from} RENAME TO {to}");
    wf_db::sqlx::query(&rename("routing_decision", "routing_decision_broken")).execute(db.pool()).await.expect("break");
    let second = client
        .submit_referral(support::with_reference(request.clone(), "HL-2026-0002"))
        .await
        .expect("submit")
        .into_inner();
    let admin_token = support::token(&issuer, Role::Admin);
    let dlq = |args: &[&str]| {
        let output = Command::new(cli)
            .arg("dlq")
            .args(args)
            .args(["--service", "routing", "--server", &routing_url, "--token", &admin_token])
            .output()
            .expect("dlq runs");
        assert!(output.status.success(), "dlq {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let started = Instant::now();
    while !dlq(&["list"]).contains(&second.referral_id) {
        assert!(started.elapsed() < support::PATIENCE, "the failing referral never reached the dead-letter queue");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(dlq(&["list"]).contains(&second.referral_id), "listing leaves the letter in place");
    wf_db::sqlx::query(&rename("routing_decision_broken", "routing_decision")).execute(db.pool()).await.expect("fix");
    assert_eq!(dlq(&["replay"]).trim(), "replayed 1 dead letters to routing");
    support::wait_for_flow(&intake_url, &audit_url, &issuer, &second.referral_id).await;
    assert_eq!(dlq(&["list"]).trim(), "no dead letters for routing");
    db.close().await;

    drop(processes);
    // Every process declared the whole topology (every consuming service's queue), not only its own.
    let mut queues: Vec<&str> = wf_events::topology::TOPOLOGY.iter().map(|(service, _)| *service).collect();
    queues.push("capture");
    wf_events::rabbitmq::delete_topology(&rabbit, &queues).await.expect("delete topology");
    wf_db::sqlx::query(&format!("DROP DATABASE \"{db_name}\" WITH (FORCE)"))
        .execute(admin.pool())
        .await
        .expect("drop db");
}
