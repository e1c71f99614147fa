//! Intake's workers on the shared clock: the mandated-report worker announces a written report
//! overdue once the test moves the clock past 36 hours, and stopping intake waits for the workers.
//!
//! Both stop tests fail with a detached worker (checked by dropping the worker's join handle in
//! `Component::run`): on SQLite the 200-notice check is still running when stop returns; on
//! PostgreSQL a check held at its claim by the test's open transaction lets stop return at once.

use std::sync::Arc;
use std::time::Duration;

use chrono::Duration as Hours;
use wf_auth::Role;
use wf_proto::events::v1 as events;
use wf_proto::intake::v1 as pb;
use wf_proto::intake::v1::intake_service_client::IntakeServiceClient;
use wf_testkit::{Engine, TestDatabase, TestServer, both_engines, eventually};
use wf_types::{Clock, TestClock};

use crate::{Client, with_reference};

/// Intake on `clock`, its workers polling every 20 ms so the test runs in seconds.
struct Clocked {
    server: TestServer,
    clock: TestClock,
    db: wf_db::Db,
    _database: TestDatabase,
    _dir: tempfile::TempDir,
}

impl Clocked {
    async fn start(engine: Engine) -> Self {
        let clock = TestClock::starting_now();
        let database = TestDatabase::new(engine).await;
        let db = database.migrated(&wf_intake::migrations()).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let options = wf_intake::Options {
            matching_interval: Duration::from_millis(20),
            mandated_report_interval: Duration::from_millis(20),
        };
        let server = TestServer::start_with_clock(db.clone(), dir.path(), clock.shared(), move |ctx| async move {
            Ok(wf_intake::build_with(ctx, options).await? as Arc<dyn wf_server::Component>)
        })
        .await;
        Self { server, clock, db, _database: database, _dir: dir }
    }

    async fn client(&self, role: Role) -> Client {
        IntakeServiceClient::new(self.server.channel(&self.server.tokens.user(role)).await)
    }

    /// Submits a minor's referral received an hour ago by the clock.
    async fn submit_minor(&self, reference: &str) -> pb::SubmitReferralResponse {
        let mut request = with_reference(reference);
        let received = self.clock.now() - Hours::hours(1);
        request.referral.as_mut().expect("referral").received_at = Some(wf_proto::time::timestamp(received));
        self.client(Role::Hotline).await.submit_referral(request).await.expect("submit").into_inner()
    }
}

async fn notices_claimed(db: &wf_db::Db) -> i64 {
    let (count,): (i64,) = wf_db::sqlx::query_as("SELECT COUNT(*) FROM mandated_report_overdue")
        .fetch_one(db.pool())
        .await
        .expect("count");
    count
}

both_engines!(the_worker_announces_a_written_report_overdue_once_the_clock_passes_36_hours, |engine| async move {
    let clocked = Clocked::start(engine).await;
    let collector = clocked.server.collector("overdue-watch", &["mandated_report.*"]).await;
    let referral = clocked.submit_minor("HL-MR-CLOCK").await;
    // The initial report is made; the written one is owed within 36 hours of it.
    let reported_at = clocked.clock.now() - Hours::minutes(30);
    let recorded = clocked
        .client(Role::CaseManager)
        .await
        .record_mandated_report(pb::RecordMandatedReportRequest {
            report: Some(pb::MandatedReport {
                referral_id: referral.referral_id.clone(),
                agency: pb::MandatedReportAgency::ChildWelfare as i32,
                reported_at: Some(wf_proto::time::timestamp(reported_at)),
                ..Default::default()
            }),
        })
        .await
        .expect("record")
        .into_inner();
    collector.wait_for("mandated_report.recorded", Duration::from_secs(10)).await;

    // 35 hours on: the worker has checked many times, and nothing is overdue yet.
    clocked.clock.advance(Hours::hours(35));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(collector.of_type("mandated_report.overdue").is_empty(), "nothing overdue before 36 hours");
    assert_eq!(notices_claimed(&clocked.db).await, 0);

    // Past 36 hours of the report: the worker, on the shared clock, announces the written report.
    clocked.clock.advance(Hours::hours(2));
    let overdue: events::MandatedReportOverdue =
        collector.wait_for("mandated_report.overdue", Duration::from_secs(10)).await.payload_as().expect("payload");
    assert_eq!(overdue.stage, "written");
    assert_eq!(overdue.referral_id, referral.referral_id);
    assert_eq!(overdue.mandated_report_id, recorded.mandated_report_id);
    let due = overdue.due.and_then(|t| wf_proto::time::datetime(&t)).expect("due");
    assert_eq!(due, wf_db::from_micros(wf_db::to_micros(reported_at + Hours::hours(36))));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(collector.of_type("mandated_report.overdue").len(), 1, "announced once");
    clocked.server.stop().await;
});

both_engines!(stopping_intake_waits_for_the_mandated_report_worker, |engine| async move {
    // Enough minors' referrals without a report that one check takes a while.
    let clocked = Clocked::start(engine).await;
    const REFERRALS: i64 = 200;
    for index in 0..REFERRALS {
        clocked.submit_minor(&format!("HL-MR-STOP-{index}")).await;
    }
    // Past every deadline: one check owes 200 "initial" notices. Intake is stopped as soon as the
    // worker has claimed the first.
    clocked.clock.advance(Hours::hours(37));
    let checking = eventually(Duration::from_secs(30), || async { notices_claimed(&clocked.db).await > 0 }).await;
    assert!(checking, "the worker checks");
    let Clocked { server, db, _database, _dir, .. } = clocked;
    server.stop().await;

    // The check under way was finished before stop returned, and nothing runs after it: a detached
    // worker would still be claiming notices.
    let at_stop = notices_claimed(&db).await;
    assert_eq!(at_stop, REFERRALS, "the check under way was finished before intake stopped");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(notices_claimed(&db).await, at_stop, "no check after intake stopped");
});

/// Nothing left for intake to write on its own: `referral_id` matched and every event relayed.
async fn quiet(db: &wf_db::Db, referral_id: &str) -> bool {
    let (matched,): (i64,) = wf_db::sqlx::query_as("SELECT COUNT(*) FROM referral_match_state WHERE referral_id = $1")
        .bind(referral_id)
        .fetch_one(db.pool())
        .await
        .expect("match state");
    let (unsent,): (i64,) = wf_db::sqlx::query_as("SELECT COUNT(*) FROM event_outbox WHERE sent_at IS NULL")
        .fetch_one(db.pool())
        .await
        .expect("outbox");
    matched == 1 && unsent == 0
}

/// Whether another session of this database waits on a lock (the worker, held at its claim).
async fn someone_waits_on_a_lock(db: &wf_db::Db) -> bool {
    let (waiting,): (i64,) = wf_db::sqlx::query_as(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .fetch_one(db.pool())
    .await
    .expect("pg_stat_activity");
    waiting > 0
}

/// On PostgreSQL only: there a row lock holds the worker alone (SQLite's one write lock would hold
/// every writer of intake, and say nothing about the worker).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_returns_only_once_the_check_under_way_has_finished_on_postgres() {
    let clocked = Clocked::start(Engine::Postgres).await;
    // Somewhere for intake's events to go, so the relay has nothing left to send.
    let _collector = clocked.server.collector("everything", &["referral.*", "record.*", "mandated_report.*"]).await;
    let referral = clocked.submit_minor("HL-MR-HELD").await;
    let settled = eventually(Duration::from_secs(30), || quiet(&clocked.db, &referral.referral_id)).await;
    assert!(settled, "the referral is matched and its events relayed");

    // The test holds the notice's key in an open transaction, so the worker's claim of it waits.
    let mut holding = clocked.db.begin().await.expect("begin");
    wf_db::sqlx::query("INSERT INTO mandated_report_overdue (referral_id, stage, sent_at) VALUES ($1, 'initial', 0)")
        .bind(&referral.referral_id)
        .execute(&mut *holding)
        .await
        .expect("hold the notice's key");
    clocked.clock.advance(Hours::hours(37));
    let held = eventually(Duration::from_secs(30), || someone_waits_on_a_lock(&clocked.db)).await;
    assert!(held, "the worker's check is under way, waiting at its claim");

    let Clocked { server, db, _database, _dir, .. } = clocked;
    let mut stopping = tokio::spawn(server.stop());
    tokio::time::sleep(Duration::from_millis(500)).await;
    // A detached worker would let stop return here, its check still waiting.
    assert!(!stopping.is_finished(), "stop waits for the worker's check under way");
    holding.rollback().await.expect("release the key");
    tokio::time::timeout(Duration::from_secs(10), &mut stopping)
        .await
        .expect("stop returns once the check has finished")
        .expect("stop");
    assert_eq!(notices_claimed(&db).await, 1, "the check under way was finished, not abandoned");
}
