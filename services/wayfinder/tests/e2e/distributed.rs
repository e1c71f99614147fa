//! Each service as its own process on PostgreSQL and RabbitMQ; every message on
//! the broker is captured and searched for the youth's personal data.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wf_auth::Role;
use wf_events::{Envelope, RabbitBus};
use wf_proto::intake::v1 as intake;
use wf_testkit::{Collector, TestBroker, TestDatabase, eventually};

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
    // One database (each service migrates and uses a schema of its own in it) and one broker prefix,
    // whose queues are every consuming service's and the capture queue.
    let database = TestDatabase::postgres().await;
    let database_url = database.url().to_owned();
    let mut queues: Vec<&str> = wf_events::topology::TOPOLOGY.iter().map(|(service, _)| *service).collect();
    queues.push("capture");
    let broker = TestBroker::new(&queues);
    let rabbit = &broker.config;

    // The capture queue exists before anything is published; it keeps every message on the exchange.
    let capture_bus = RabbitBus::connect(rabbit.clone()).await.expect("RabbitMQ answers");
    let capture = Collector::start(Arc::new(capture_bus), "capture", &["#"]).await;

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
            .env("AMQP_URL", &rabbit.url)
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
    assert!(
        eventually(support::PATIENCE, || async { capture.events().len() >= support::FLOW_EVENTS.len() }).await,
        "the capture queue did not receive the flow"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let captured = capture.finish().await;

    // Every message encoded as it travelled.
    let messages: Vec<Vec<u8>> = captured.iter().map(Envelope::encode).collect();
    let types: Vec<String> = captured.iter().map(|envelope| envelope.event_type.clone()).collect();
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
    let db = database.connect().await;
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
    assert!(
        eventually(support::PATIENCE, || async { dlq(&["list"]).contains(&second.referral_id) }).await,
        "the failing referral never reached the dead-letter queue"
    );
    assert!(dlq(&["list"]).contains(&second.referral_id), "listing leaves the letter in place");
    wf_db::sqlx::query(&rename("routing_decision_broken", "routing_decision")).execute(db.pool()).await.expect("fix");
    assert_eq!(dlq(&["replay"]).trim(), "replayed 1 dead letters to routing");
    support::wait_for_flow(&intake_url, &audit_url, &issuer, &second.referral_id).await;
    assert_eq!(dlq(&["list"]).trim(), "no dead letters for routing");
    db.close().await;

    drop(processes);
    // Every process declared the whole topology (every consuming service's queue), not only its own.
    broker.remove().await.expect("delete topology");
    database.remove().await.expect("drop db");
}
