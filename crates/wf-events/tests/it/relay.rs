//! The outbox relay over both engines: it publishes what committed, marks rows
//! sent only after a confirm, never skips a row that commits late, and several
//! relays on one PostgreSQL database publish each row once.

use std::sync::Arc;

use wf_db::{Backend, Db, MigrationSet};
use wf_events::{EventBus, InProcessBus, Relay, RelayOptions, Subscription, outbox};

use crate::common::{CountingHandler, database_url, envelope};

/// A database of the test's own: a SQLite file, or a fresh PostgreSQL database dropped at the end.
struct TestDb {
    db: Db,
    _dir: tempfile::TempDir,
    postgres: Option<(Db, String)>,
}

impl TestDb {
    async fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("dir");
        let (url, postgres) = match backend {
            Backend::Sqlite => (wf_db::sqlite_url_in(dir.path(), "relay.db"), None),
            Backend::Postgres => {
                let admin = Db::connect(&database_url()).await.expect("PostgreSQL answers");
                let name = format!("t_{}", uuid::Uuid::new_v4().simple());
                sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(admin.pool()).await.expect("create");
                let base = database_url();
                (format!("{}/{name}", &base[..base.rfind('/').expect("path")]), Some((admin, name)))
            }
        };
        let db = Db::connect(&url).await.expect("connect");
        let (pg, sqlite) = wf_events::migrations();
        db.migrate(&MigrationSet::new().with(pg, sqlite)).await.expect("migrate");
        Self { db, _dir: dir, postgres }
    }

    async fn finish(self) {
        self.db.close().await;
        if let Some((admin, name)) = self.postgres {
            sqlx::query(&format!("DROP DATABASE \"{name}\" WITH (FORCE)")).execute(admin.pool()).await.expect("drop");
        }
    }
}

async fn unsent(db: &Db) -> i64 {
    outbox::pending_count(db).await.expect("count")
}

async fn collecting_bus(dir: &tempfile::TempDir, bindings: &[&str]) -> (InProcessBus, Arc<CountingHandler>) {
    let bus_db = Db::connect(&wf_db::sqlite_url_in(dir.path(), "bus.db")).await.expect("bus db");
    let (pg, sqlite) = wf_events::migrations();
    bus_db.migrate(&MigrationSet::new().with(pg, sqlite)).await.expect("migrate");
    let bus = InProcessBus::new(bus_db);
    let handler = Arc::new(CountingHandler::default());
    if !bindings.is_empty() {
        let subscription = Subscription::new("collector", bindings);
        bus.declare(&subscription).await.expect("declare");
        let (consumer_bus, consumer) = (bus.clone(), handler.clone());
        tokio::spawn(async move {
            consumer_bus.consume(subscription, consumer, tokio_util::sync::CancellationToken::new()).await
        });
    }
    (bus, handler)
}

async fn committed_and_rolled_back(backend: Backend) {
    let test = TestDb::new(backend).await;
    let dir = tempfile::tempdir().expect("dir");
    let (bus, collected) = collecting_bus(&dir, &["#"]).await;
    let kept = envelope("referral.received");
    let dropped = envelope("referral.received");
    let mut tx = test.db.begin().await.expect("begin");
    outbox::enqueue(&mut tx, backend, &kept).await.expect("enqueue");
    tx.commit().await.expect("commit");
    let mut tx = test.db.begin().await.expect("begin");
    outbox::enqueue(&mut tx, backend, &dropped).await.expect("enqueue");
    tx.rollback().await.expect("rollback");

    let relay = Relay::new("test", test.db.clone(), Arc::new(bus), RelayOptions::default());
    let report = relay.round().await.expect("round");
    assert_eq!((report.claimed, report.sent), (1, 1));
    assert_eq!(collected.calls_of(kept.event_id), 1);
    assert_eq!(collected.calls_of(dropped.event_id), 0, "a rolled-back change announces nothing");
    assert_eq!(unsent(&test.db).await, 0);
    test.finish().await;
}

#[tokio::test]
async fn only_committed_events_are_published_on_sqlite() {
    committed_and_rolled_back(Backend::Sqlite).await;
}

#[tokio::test]
async fn only_committed_events_are_published_on_postgres() {
    committed_and_rolled_back(Backend::Postgres).await;
}

async fn unconfirmed_stays_unsent(backend: Backend) {
    let test = TestDb::new(backend).await;
    let dir = tempfile::tempdir().expect("dir");
    let (bus, _) = collecting_bus(&dir, &[]).await;
    let event = envelope("referral.received");
    let mut tx = test.db.begin().await.expect("begin");
    outbox::enqueue(&mut tx, backend, &event).await.expect("enqueue");
    tx.commit().await.expect("commit");
    let bus = Arc::new(bus);
    let relay = Relay::new("test", test.db.clone(), bus.clone(), RelayOptions::default());
    let report = relay.round().await.expect("round");
    assert_eq!((report.claimed, report.sent), (1, 0), "unroutable is not sent");
    let (attempts, error): (i32, Option<String>) =
        sqlx::query_as("SELECT attempts, last_error FROM event_outbox").fetch_one(test.db.pool()).await.expect("row");
    assert_eq!(attempts, 1);
    assert!(error.is_some_and(|e| e.contains("no queue is bound")));
    assert_eq!(unsent(&test.db).await, 1);

    // Once a queue is bound, the next round sends it.
    let collected = Arc::new(CountingHandler::default());
    let subscription = Subscription::new("late", &["referral.*"]);
    bus.declare(&subscription).await.expect("declare");
    let (consumer_bus, consumer) = (bus.clone(), collected.clone());
    tokio::spawn(async move {
        consumer_bus.consume(subscription, consumer, tokio_util::sync::CancellationToken::new()).await
    });
    assert_eq!(relay.round().await.expect("round").sent, 1);
    assert_eq!(collected.calls_of(event.event_id), 1);
    assert_eq!(unsent(&test.db).await, 0);
    test.finish().await;
}

#[tokio::test]
async fn an_unconfirmed_publish_leaves_the_row_unsent_on_sqlite() {
    unconfirmed_stays_unsent(Backend::Sqlite).await;
}

#[tokio::test]
async fn an_unconfirmed_publish_leaves_the_row_unsent_on_postgres() {
    unconfirmed_stays_unsent(Backend::Postgres).await;
}

#[tokio::test]
async fn a_row_that_commits_late_is_not_skipped() {
    let test = TestDb::new(Backend::Postgres).await;
    let dir = tempfile::tempdir().expect("dir");
    let (bus, collected) = collecting_bus(&dir, &["#"]).await;
    let late = envelope("referral.received");
    let early = envelope("referral.received");
    // `late` takes the lower id but commits after `early` has been published.
    let mut late_tx = test.db.begin().await.expect("begin");
    outbox::enqueue(&mut late_tx, Backend::Postgres, &late).await.expect("enqueue");
    let mut early_tx = test.db.begin().await.expect("begin");
    outbox::enqueue(&mut early_tx, Backend::Postgres, &early).await.expect("enqueue");
    early_tx.commit().await.expect("commit");
    let relay = Relay::new("test", test.db.clone(), Arc::new(bus), RelayOptions::default());
    assert_eq!(relay.round().await.expect("round").sent, 1);
    late_tx.commit().await.expect("commit");
    assert_eq!(relay.round().await.expect("round").sent, 1);
    assert_eq!((collected.calls_of(early.event_id), collected.calls_of(late.event_id)), (1, 1));
    test.finish().await;
}

#[tokio::test]
async fn concurrent_relays_on_postgres_publish_each_row_once() {
    let test = TestDb::new(Backend::Postgres).await;
    let dir = tempfile::tempdir().expect("dir");
    let (bus, collected) = collecting_bus(&dir, &["#"]).await;
    let mut ids = Vec::new();
    for _ in 0..10 {
        let mut tx = test.db.begin().await.expect("begin");
        for _ in 0..50 {
            let event = envelope("referral.received");
            ids.push(event.event_id);
            outbox::enqueue(&mut tx, Backend::Postgres, &event).await.expect("enqueue");
        }
        tx.commit().await.expect("commit");
    }
    let bus: Arc<dyn EventBus> = Arc::new(bus);
    let options = RelayOptions { batch_size: 25, ..RelayOptions::default() };
    let relays: Vec<_> = (0..3)
        .map(|_| {
            let relay = Relay::new("test", test.db.clone(), bus.clone(), options.clone());
            tokio::spawn(async move { while relay.round().await.expect("round").claimed > 0 {} })
        })
        .collect();
    for relay in relays {
        relay.await.expect("join");
    }
    assert_eq!(unsent(&test.db).await, 0);
    assert_eq!(collected.distinct(), 500);
    assert!(ids.iter().all(|id| collected.calls_of(*id) == 1), "every row published exactly once");
    test.finish().await;
}
