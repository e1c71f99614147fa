//! Intake and evaluation on one in-process bus: a referral submitted through intake reaches the
//! analytic data set with its baseline codes (carried by `referral.received`), under a random
//! study id; its practice twin does not.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use wf_auth::{AuthInterceptor, BearerToken, Role, TokenKind, TokenVerifier};
use wf_events::InProcessBus;
use wf_proto::intake::v1 as intake;
use wf_proto::intake::v1::intake_service_client::IntakeServiceClient;
use wf_server::{Component, Server, ServiceContext, SubscriptionDefaults, Topology};
use wf_testkit::{Engine, TestDatabase, TestTokens, both_engines};

async fn channel(addr: SocketAddr, token: &str) -> InterceptedService<Channel, BearerToken> {
    let channel = Channel::from_shared(format!("http://{addr}")).expect("url").connect().await.expect("connect");
    InterceptedService::new(channel, BearerToken::new(token).expect("bearer"))
}

fn example_referral() -> intake::SubmitReferralRequest {
    let json = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/referral.json"))
        .expect("examples/referral.json");
    wf_proto::json::from_json(&json).expect("example parses")
}

both_engines!(baseline_codes_travel_from_intake_to_the_data_set, |engine: Engine| async move {
    let dir = tempfile::tempdir().expect("data folder");
    let intake_database = TestDatabase::new(engine).await;
    let evaluation_database = TestDatabase::new(engine).await;
    let intake_db = intake_database.migrated(&wf_intake::migrations()).await;
    let evaluation_db = evaluation_database.migrated(&wf_evaluation::migrations()).await;
    let bus_db = wf_db::Db::connect(&wf_db::sqlite_url_in(dir.path(), "bus.db")).await.expect("bus db");
    let (events_pg, events_sqlite) = wf_events::migrations();
    bus_db.migrate(&wf_db::MigrationSet::new().with(events_pg, events_sqlite)).await.expect("bus migrations");
    let config =
        Arc::new(wf_config::Config::from_figment(wf_config::Config::defaults_only(dir.path())).expect("config"));
    let bus = Arc::new(InProcessBus::new(bus_db));
    let context = |db| ServiceContext::new(db, bus.clone(), config.clone());
    let intake_service: Arc<dyn Component> = wf_intake::build(context(intake_db)).await.expect("intake");
    let evaluation_service: Arc<dyn Component> =
        wf_evaluation::build(context(evaluation_db.clone())).await.expect("evaluation");
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
        vec![intake_service, evaluation_service],
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
    let mut practice = example_referral();
    if let Some(referral) = practice.referral.as_mut() {
        referral.practice = true;
        referral.external_reference = format!("{}-practice", referral.external_reference);
    }
    // Submitted first: the in-process bus has handed it to the evaluation before the real one.
    hotline.submit_referral(practice).await.expect("submit practice");
    let real = hotline.submit_referral(example_referral()).await.expect("submit").into_inner();

    let deadline = Instant::now() + Duration::from_secs(20);
    let rows = loop {
        let events = wf_evaluation::store::events(&evaluation_db).await.expect("events");
        let ids = wf_evaluation::store::study_ids(&evaluation_db).await.expect("study ids");
        let built = wf_evaluation::domain::dataset::build(&events, &ids, wf_db::now_micros());
        if !events.is_empty() || Instant::now() > deadline {
            break built.rows;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(rows.len(), 1, "only the non-practice referral is in the data set");
    // The practice referral went first; give any straggler time, then: it was never stored.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(wf_evaluation::store::events(&evaluation_db).await.expect("events").len(), 1);
    let row = &rows[0];
    assert!(row.study_id.starts_with("stu_"));
    assert!(!row.study_id.contains(&real.referral_id[4..]));
    assert_eq!(row.prior_participation, "child_welfare_case_plan");
    assert_eq!(row.participation, "mandated");
    assert_eq!(row.age_first_exploited, Some(14));
    assert_eq!(row.former_ward_child_welfare, "yes");
    assert_eq!(row.former_ward_juvenile_justice, "no");
    assert_eq!(row.any_income, "yes");
    assert_eq!(row.employed, "yes");
    assert_eq!(row.living_situation, "with_friends_temporary");
    assert_eq!(row.last_grade_completed, "grades_9_11");
    assert_eq!(row.school_status, "attending_irregularly");
    assert_eq!(row.ever_arrested, "yes");
    assert_eq!((row.arrests, row.prostitution_arrests), (1, 1));
    assert_eq!(row.system_involvement, vec!["child_welfare".to_owned()]);

    shutdown.cancel();
    running.await.expect("join").expect("clean shutdown");
});
