//! Acceptance 3b: the consumer dies after its transaction committed but before the ack.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use tokio::sync::oneshot;
use wf_db::{Db, DbError};
use wf_events::{Envelope, EventBus, EventHandler, HandleError, RabbitBus, Subscription};
use wf_testkit::{TestBroker, TestDatabase, eventually, ready_count};

use crate::common::{envelope, fast_backoff, spawn_consumer};

const CONSUMER: &str = "cases";

/// Inbox + effect in one transaction; the first call "crashes" right after its commit.
struct CrashingHandler {
    db: Db,
    calls: AtomicU32,
    crashed: AtomicBool,
    crash_signal: Mutex<Option<oneshot::Sender<()>>>,
}

#[async_trait::async_trait]
impl EventHandler for CrashingHandler {
    async fn handle(&self, envelope: Envelope) -> Result<(), HandleError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut tx = self.db.begin().await?;
        let recorded = sqlx::query("INSERT INTO inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(CONSUMER)
            .bind(envelope.event_id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(DbError::from)?
            .rows_affected();
        if recorded == 0 {
            // A redelivery: already applied.
            tx.rollback().await.map_err(DbError::from)?;
            return Ok(());
        }
        sqlx::query("INSERT INTO effects (event_id) VALUES ($1)")
            .bind(envelope.event_id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(DbError::from)?;
        sqlx::query("UPDATE effect_count SET n = n + 1").execute(&mut *tx).await.map_err(DbError::from)?;
        tx.commit().await.map_err(DbError::from)?;
        if !self.crashed.swap(true, Ordering::SeqCst) {
            if let Some(signal) = self.crash_signal.lock().unwrap().take() {
                let _ = signal.send(());
            }
            // Committed but never returns: the process "dies" here, before the ack.
            std::future::pending::<()>().await;
        }
        Ok(())
    }
}

async fn scalar(db: &Db, sql: &str) -> i64 {
    let row: (i64,) = sqlx::query_as(sql).fetch_one(db.pool()).await.expect(sql);
    row.0
}

#[tokio::test]
async fn a_consumer_killed_between_commit_and_ack_applies_the_effect_once() {
    let database = TestDatabase::postgres().await;
    let db = database.connect().await;
    for ddl in [
        "CREATE TABLE inbox (consumer TEXT NOT NULL, event_id TEXT NOT NULL, PRIMARY KEY (consumer, event_id))",
        "CREATE TABLE effects (event_id TEXT PRIMARY KEY)",
        "CREATE TABLE effect_count (n BIGINT NOT NULL)",
        "INSERT INTO effect_count (n) VALUES (0)",
    ] {
        sqlx::query(ddl).execute(db.pool()).await.expect(ddl);
    }

    let broker = TestBroker::new(&[CONSUMER]);
    let cfg = &broker.config;
    let subscription = Subscription::new(CONSUMER, &["referral.routed"]).with_backoff(fast_backoff());
    let (signal, crashed) = oneshot::channel();
    let handler = Arc::new(CrashingHandler {
        db: db.clone(),
        calls: AtomicU32::new(0),
        crashed: AtomicBool::new(false),
        crash_signal: Mutex::new(Some(signal)),
    });

    let first_bus = RabbitBus::connect(cfg.clone()).await.expect("connect");
    first_bus.declare(&subscription).await.expect("declare");
    let first = spawn_consumer(&first_bus, subscription.clone(), handler.clone());
    let event = envelope("referral.routed");
    first_bus.publish(&event).await.expect("publish");

    tokio::time::timeout(Duration::from_secs(10), crashed).await.expect("handler ran").expect("signal");
    // Kill the consumer: abort it and drop its connection, so the message is never acked.
    first.task.abort();
    let _ = first.task.await;
    first_bus.close().await;
    assert_eq!(scalar(&db, "SELECT n FROM effect_count").await, 1, "the first attempt committed");

    // A new consumer gets the redelivery; the inbox makes it a no-op.
    let second_bus = RabbitBus::connect(cfg.clone()).await.expect("reconnect");
    let second = spawn_consumer(&second_bus, subscription, handler.clone());
    assert!(
        eventually(Duration::from_secs(15), || async { handler.calls.load(Ordering::SeqCst) >= 2 }).await,
        "the message was redelivered"
    );
    second.stop().await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    assert_eq!(handler.calls.load(Ordering::SeqCst), 2);
    assert_eq!(scalar(&db, "SELECT n FROM effect_count").await, 1, "no duplicate effect");
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM effects").await, 1);
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM inbox").await, 1);
    assert_eq!(ready_count(cfg, &cfg.queue_name(CONSUMER)).await, 0, "the queue is empty");
    assert_eq!(ready_count(cfg, &cfg.dead_letter_queue_name(CONSUMER)).await, 0);

    second_bus.close().await;
    db.close().await;
}
