//! The embedded system in this process: the flow, the command line against it,
//! and one trace across every hop.

use std::collections::HashSet;
use std::process::Command;

use opentelemetry_sdk::trace::SpanData;
use tokio_util::sync::CancellationToken;
use wf_auth::Role;
use wf_proto::intake::v1 as intake;

use crate::support;

fn attribute(span: &SpanData, key: &str) -> Option<String> {
    span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referral_travels_the_embedded_system_in_one_trace() {
    let spans = wf_telemetry::init_for_tests();
    let data_dir = tempfile::tempdir().expect("temp dir");
    // A data folder must be its owner's alone (tempfile makes folders 0755 under the usual umask).
    let private = <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o700);
    std::fs::set_permissions(data_dir.path(), private).expect("chmod 700");
    let mut config = wf_config::Config::load(None, Some(data_dir.path())).expect("config");
    config.grpc_addr = "127.0.0.1:0".parse().expect("addr");
    let system = wayfinder::system::build(config, wf_config::SERVICES).await.expect("system builds");
    let url = system.grpc_url();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(system.run(shutdown.clone()));

    let issuer = support::issuer(&data_dir.path().join("keys"));
    // The same caller as the command line's hotline (`cli-hotline`): a resubmission answers the
    // original only to the caller that submitted it.
    let mut client = intake::intake_service_client::IntakeServiceClient::new(
        support::authed_as(&url, &issuer, "cli-hotline", Role::Hotline).await,
    );
    let request = support::example_referral();
    let submitted = client.submit_referral(request.clone()).await.expect("submit").into_inner();
    assert!(!submitted.duplicate);
    assert!(submitted.referral_id.starts_with("ref_"));
    let entries = support::wait_for_flow(&url, &url, &issuer, &submitted.referral_id).await;
    let chained: HashSet<u64> = entries.iter().map(|e| e.sequence).collect();
    assert_eq!(chained.len(), entries.len(), "audit sequences are unique");

    // The command line finds the system through the data folder alone.
    let cli = env!("CARGO_BIN_EXE_wayfinder");
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/referral.json");
    let output = Command::new(cli)
        .args(["submit", "--file", example, "--data-dir"])
        .arg(data_dir.path())
        .output()
        .expect("cli runs");
    assert!(output.status.success(), "submit failed: {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        submitted.referral_id,
        "resubmission answers the same id"
    );

    let output = Command::new(cli)
        .args(["status", &submitted.referral_id, "--json", "--data-dir"])
        .arg(data_dir.path())
        .output()
        .expect("cli runs");
    assert!(output.status.success(), "status failed: {}", String::from_utf8_lossy(&output.stderr));
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).expect("status prints JSON");
    assert_eq!(status["referral_id"], submitted.referral_id.as_str());
    let steps: Vec<&str> = status["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter(|s| s["at"].is_string())
        .map(|s| s["step"].as_str().unwrap_or_default())
        .collect();
    for step in ["received", "routed", "offered", "assigned"] {
        assert!(steps.contains(&step), "no {step} step in {steps:?}");
    }
    assert!(status["partner"]["organization"].is_string(), "{status:#}");
    assert!(status["case"]["case_manager"].is_string(), "{status:#}");
    assert!(status["audit"]["entries"].as_u64().is_some_and(|n| n >= 3), "{status:#}");

    // Dead letters through the data folder alone: a broken routing table dead-letters the
    // next referral; after the fix a replay sends it through.
    let routing_db =
        wf_db::Db::connect(&wf_db::sqlite_url_in(data_dir.path(), "routing.db")).await.expect("routing.db");
    let rename = |from: &str, to: &str| format!("ALTER TABLE {from} RENAME TO {to}");
    wf_db::sqlx::query(&rename("routing_decision", "routing_decision_broken"))
        .execute(routing_db.pool())
        .await
        .expect("break");
    let second =
        client.submit_referral(support::with_reference(request, "HL-2026-0002")).await.expect("submit").into_inner();
    let dlq = |args: &[&str]| {
        let output = Command::new(cli)
            .arg("dlq")
            .args(args)
            .args(["--service", "routing", "--data-dir"])
            .arg(data_dir.path())
            .output()
            .expect("dlq runs");
        assert!(output.status.success(), "dlq {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    assert!(
        wf_testkit::eventually(support::PATIENCE, || async { dlq(&["list"]).contains(&second.referral_id) }).await,
        "the failing referral never became a dead letter"
    );
    wf_db::sqlx::query(&rename("routing_decision_broken", "routing_decision"))
        .execute(routing_db.pool())
        .await
        .expect("fix");
    routing_db.close().await;
    assert_eq!(dlq(&["replay"]).trim(), "replayed 1 dead letters to routing");
    support::wait_for_flow(&url, &url, &issuer, &second.referral_id).await;
    assert_eq!(dlq(&["list"]).trim(), "no dead letters for routing");

    // One trace: submit → relay → routing → cases → audit.
    let finished = spans.get_finished_spans().expect("spans");
    let submit_span = finished
        .iter()
        .find(|s| s.name == "grpc.request" && attribute(s, "rpc.method").is_some_and(|m| m.contains("SubmitReferral")))
        .expect("the submit RPC has a server span");
    let trace_id = submit_span.span_context.trace_id();
    let in_trace: Vec<&SpanData> = finished.iter().filter(|s| s.span_context.trace_id() == trace_id).collect();
    assert!(in_trace.iter().any(|s| s.name == "event.publish"), "the relay's publish is in the trace");
    let consumers: HashSet<String> =
        in_trace.iter().filter(|s| s.name == "event.consume").filter_map(|s| attribute(s, "consumer")).collect();
    for consumer in ["routing", "cases", "audit"] {
        assert!(consumers.contains(consumer), "{consumer} consumed within the trace; saw {consumers:?}");
    }

    shutdown.cancel();
    running.await.expect("join").expect("clean shutdown");
    assert!(!data_dir.path().join("endpoints.json").exists(), "endpoints file removed on shutdown");
}
