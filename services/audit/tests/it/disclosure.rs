//! Acceptance 4: intake and audit hosted together on one in-process bus. The demo referral is
//! submitted, its personal details are read with a purpose N times through intake, and the
//! youth's disclosure report lists exactly those N reads (plus nothing else).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use wf_auth::{AuthInterceptor, BearerToken, Role, TokenKind, TokenVerifier};
use wf_events::InProcessBus;
use wf_proto::audit::v1 as pb;
use wf_proto::audit::v1::audit_service_client::AuditServiceClient;
use wf_proto::common::v1::ReportFormat;
use wf_proto::intake::v1 as intake;
use wf_proto::intake::v1::intake_service_client::IntakeServiceClient;
use wf_server::{Component, Server, ServiceContext, SubscriptionDefaults, Topology};
use wf_testkit::{Engine, TestDatabase, TestTokens};

const READS: usize = 3;

async fn channel(addr: SocketAddr, token: &str) -> InterceptedService<Channel, BearerToken> {
    let channel = Channel::from_shared(format!("http://{addr}")).expect("url").connect().await.expect("connect");
    InterceptedService::new(channel, BearerToken::new(token).expect("bearer"))
}

fn demo_referral() -> intake::SubmitReferralRequest {
    let json = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/referral.json"))
        .expect("examples/referral.json");
    wf_proto::json::from_json(&json).expect("example parses")
}

async fn every_read_of_the_demo_youth_is_disclosed(engine: Engine) {
    let dir = tempfile_dir();
    let intake_database = TestDatabase::new(engine).await;
    let audit_database = TestDatabase::new(engine).await;
    let intake_db = intake_database.migrated(&wf_intake::migrations()).await;
    let audit_db = audit_database.migrated(&wf_audit::migrations()).await;
    let bus_db = wf_db::Db::connect(&wf_db::sqlite_url_in(&dir, "bus.db")).await.expect("bus db");
    let (events_pg, events_sqlite) = wf_events::migrations();
    bus_db.migrate(&wf_db::MigrationSet::new().with(events_pg, events_sqlite)).await.expect("bus migrations");

    let config = Arc::new(wf_config::Config::from_figment(wf_config::Config::defaults_only(&dir)).expect("config"));
    let bus = Arc::new(InProcessBus::new(bus_db));
    let context = |db| ServiceContext::new(db, bus.clone(), config.clone());
    let intake_service: Arc<dyn Component> = wf_intake::build(context(intake_db)).await.expect("intake");
    let audit_service: Arc<dyn Component> = wf_audit::build(context(audit_db)).await.expect("audit");
    let tokens = TestTokens::in_dir(&config.keys_dir());
    let keys = wf_auth::load_or_create_dev_keypair(&config.keys_dir()).expect("keys");
    let verifier = TokenVerifier::new(
        vec![(keys.kid.clone(), keys.public_pem.clone())],
        &config.auth.issuer,
        &config.auth.audience,
        &[TokenKind::User, TokenKind::Service],
    )
    .expect("verifier");
    let server = Server::bind(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        vec![intake_service, audit_service],
        bus.clone(),
        AuthInterceptor::new(Arc::new(verifier)),
        Topology::Hosted,
        SubscriptionDefaults::from_config(&config.events),
    )
    .await
    .expect("bind");
    let addr = server.local_addr();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(server.run(shutdown.clone()));

    let mut hotline = IntakeServiceClient::new(channel(addr, &tokens.user(Role::Hotline)).await);
    let submitted = hotline.submit_referral(demo_referral()).await.expect("submit").into_inner();
    let mut case_manager = IntakeServiceClient::new(channel(addr, &tokens.user(Role::CaseManager)).await);
    let mut youth_id = String::new();
    for _ in 0..READS {
        let read = intake::GetReferralRequest {
            referral_id: submitted.referral_id.clone(),
            purpose: "case_management".to_owned(),
        };
        let referral = case_manager.get_referral(read).await.expect("read").into_inner();
        assert!(referral.referral.and_then(|r| r.personal).is_some(), "personal details were read");
        youth_id = referral.youth_id;
    }
    assert!(youth_id.starts_with("yth_"), "{youth_id}");
    // Reading without a purpose returns no personal details and is no disclosure.
    let plain = intake::GetReferralRequest { referral_id: submitted.referral_id.clone(), purpose: String::new() };
    case_manager.get_referral(plain).await.expect("read without purpose");

    let mut auditor = AuditServiceClient::new(channel(addr, &tokens.user(Role::Auditor)).await);
    // The reads travel intake's outbox and the bus to audit: wait (bounded) until all arrived.
    let started = Instant::now();
    let report = loop {
        let request = pb::DisclosureReportRequest {
            subject: Some(pb::disclosure_report_request::Subject::YouthId(youth_id.clone())),
            format: ReportFormat::Csv as i32,
            occurred: None,
            purpose: "survivor_request".to_owned(),
        };
        let report = auditor.disclosure_report(request).await.expect("report").into_inner();
        if report.entry_count as usize >= READS {
            break report;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "reads did not reach audit: {}", report.entry_count);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(report.entry_count as usize, READS);
    let csv = String::from_utf8(report.content).expect("utf-8");
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), READS, "{csv}");
    for row in rows {
        assert!(
            row.contains(",read,test-case_manager,case_manager,,case_management,none (program staff),personal,no"),
            "{row}"
        );
    }
    // The same reads through the query by youth (which also finds the referral's other events).
    let by_youth = pb::ListEntriesRequest {
        youth_id: youth_id.clone(),
        types: vec!["record.accessed".to_owned()],
        ..Default::default()
    };
    let reads = auditor.list_entries(by_youth).await.expect("by youth").into_inner().entries;
    assert_eq!(reads.len(), READS);
    let everything = pb::ListEntriesRequest { youth_id: youth_id.clone(), ..Default::default() };
    let everything = auditor.list_entries(everything).await.expect("by youth").into_inner().entries;
    assert!(everything.iter().any(|e| e.r#type == "referral.received"), "{everything:?}");
    // Nothing personal in the report: only ids, roles, purposes and field paths.
    assert!(!csv.contains("Demo") && !csv.contains("555-0100"), "{csv}");

    shutdown.cancel();
    running.await.expect("server task").expect("server stops cleanly");
    let _ = std::fs::remove_dir_all(&dir);
}
wf_testkit::both_engines!(every_read_of_the_demo_youth_is_disclosed, every_read_of_the_demo_youth_is_disclosed);

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("wf-audit-disclosure-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}
