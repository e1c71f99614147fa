//! The outbox relay over both engines: it publishes what committed, marks rows
//! sent only after a confirm, never skips a row that commits late, and several
//! relays on one PostgreSQL database publish each row once.

use std::collections::HashSet;
use std::sync::Arc;

use uuid::Uuid;
use wf_db::{Backend, Db};
use wf_events::{EventBus, InProcessBus, Relay, RelayOptions, outbox};
use wf_testkit::{Collector, Engine, TestDatabase, both_engines};

use crate::common::{envelope, events_migrations};

/// The database under test: the wf-events tables on `engine`.
async fn test_db(engine: Engine) -> (TestDatabase, Db) {
    let database = TestDatabase::new(engine).await;
    let db = database.migrated(&events_migrations()).await;
    (database, db)
}

async fn unsent(db: &Db) -> i64 {
    outbox::pending_count(db).await.expect("count")
}

/// An in-process bus of the test's own (its dead letters in a SQLite database).
async fn in_process_bus() -> (TestDatabase, Arc<InProcessBus>) {
    let database = TestDatabase::sqlite();
    let bus = Arc::new(InProcessBus::new(database.migrated(&events_migrations()).await));
    (database, bus)
}

/// How often the collector received the event `id`.
fn times(collector: &Collector, id: Uuid) -> usize {
    collector.events().iter().filter(|e| e.event_id == id).count()
}

async fn committed_and_rolled_back(engine: Engine) {
    let (_database, db) = test_db(engine).await;
    let backend = db.backend();
    let (_bus_db, bus) = in_process_bus().await;
    let collected = Collector::start(bus.clone(), "collector", &["#"]).await;
    let kept = envelope("referral.received");
    let dropped = envelope("referral.received");
    let mut tx = db.begin().await.expect("begin");
    outbox::enqueue(&mut tx, backend, &kept).await.expect("enqueue");
    tx.commit().await.expect("commit");
    let mut tx = db.begin().await.expect("begin");
    outbox::enqueue(&mut tx, backend, &dropped).await.expect("enqueue");
    tx.rollback().await.expect("rollback");

    let relay = Relay::new("test", db.clone(), bus, RelayOptions::default());
    let report = relay.round().await.expect("round");
    assert_eq!((report.claimed, report.sent), (1, 1));
    assert_eq!(times(&collected, kept.event_id), 1);
    assert_eq!(times(&collected, dropped.event_id), 0, "a rolled-back change announces nothing");
    assert_eq!(unsent(&db).await, 0);
}

both_engines!(only_committed_events_are_published, committed_and_rolled_back);

async fn unconfirmed_stays_unsent(engine: Engine) {
    let (_database, db) = test_db(engine).await;
    let backend = db.backend();
    let (_bus_db, bus) = in_process_bus().await;
    let event = envelope("referral.received");
    let mut tx = db.begin().await.expect("begin");
    outbox::enqueue(&mut tx, backend, &event).await.expect("enqueue");
    tx.commit().await.expect("commit");
    let relay = Relay::new("test", db.clone(), bus.clone(), RelayOptions::default());
    let report = relay.round().await.expect("round");
    assert_eq!((report.claimed, report.sent), (1, 0), "unroutable is not sent");
    let (attempts, error): (i32, Option<String>) =
        sqlx::query_as("SELECT attempts, last_error FROM event_outbox").fetch_one(db.pool()).await.expect("row");
    assert_eq!(attempts, 1);
    assert!(error.is_some_and(|e| e.contains("no queue is bound")));
    assert_eq!(unsent(&db).await, 1);

    // Once a queue is bound, the next round sends it.
    let collected = Collector::start(bus.clone(), "late", &["referral.*"]).await;
    assert_eq!(relay.round().await.expect("round").sent, 1);
    assert_eq!(times(&collected, event.event_id), 1);
    assert_eq!(unsent(&db).await, 0);
}

both_engines!(an_unconfirmed_publish_leaves_the_row_unsent, unconfirmed_stays_unsent);

#[tokio::test]
async fn a_row_that_commits_late_is_not_skipped() {
    let (_database, db) = test_db(Engine::Postgres).await;
    let (_bus_db, bus) = in_process_bus().await;
    let collected = Collector::start(bus.clone(), "collector", &["#"]).await;
    let late = envelope("referral.received");
    let early = envelope("referral.received");
    // `late` takes the lower id but commits after `early` has been published.
    let mut late_tx = db.begin().await.expect("begin");
    outbox::enqueue(&mut late_tx, Backend::Postgres, &late).await.expect("enqueue");
    let mut early_tx = db.begin().await.expect("begin");
    outbox::enqueue(&mut early_tx, Backend::Postgres, &early).await.expect("enqueue");
    early_tx.commit().await.expect("commit");
    let relay = Relay::new("test", db.clone(), bus, RelayOptions::default());
    assert_eq!(relay.round().await.expect("round").sent, 1);
    late_tx.commit().await.expect("commit");
    assert_eq!(relay.round().await.expect("round").sent, 1);
    assert_eq!((times(&collected, early.event_id), times(&collected, late.event_id)), (1, 1));
}

#[tokio::test]
async fn concurrent_relays_on_postgres_publish_each_row_once() {
    let (_database, db) = test_db(Engine::Postgres).await;
    let (_bus_db, bus) = in_process_bus().await;
    let collected = Collector::start(bus.clone(), "collector", &["#"]).await;
    let mut ids = Vec::new();
    for _ in 0..10 {
        let mut tx = db.begin().await.expect("begin");
        for _ in 0..50 {
            let event = envelope("referral.received");
            ids.push(event.event_id);
            outbox::enqueue(&mut tx, Backend::Postgres, &event).await.expect("enqueue");
        }
        tx.commit().await.expect("commit");
    }
    let bus: Arc<dyn EventBus> = bus;
    let options = RelayOptions { batch_size: 25, ..RelayOptions::default() };
    let relays: Vec<_> = (0..3)
        .map(|_| {
            let relay = Relay::new("test", db.clone(), bus.clone(), options.clone());
            tokio::spawn(async move { while relay.round().await.expect("round").claimed > 0 {} })
        })
        .collect();
    for relay in relays {
        relay.await.expect("join");
    }
    assert_eq!(unsent(&db).await, 0);
    let received = collected.events();
    assert_eq!(received.iter().map(|e| e.event_id).collect::<HashSet<_>>().len(), 500);
    assert!(ids.iter().all(|id| times(&collected, *id) == 1), "every row published exactly once");
}
