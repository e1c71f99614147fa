//! Fault suite (acceptance 3a and 3d of the foundation issue): the outbox → relay → RabbitMQ →
//! inbox path loses nothing and applies nothing twice while the broker or the database restarts.
//!
//! These tests stop and restart the shared local RabbitMQ (`rabbitmqctl stop_app`/`start_app`)
//! and PostgreSQL (`pg_ctlcluster … restart`): run them alone, after every other test, with
//!
//! ```sh
//! cargo test -p wf-tests --test fault -- --test-threads=1 --nocapture
//! ```
//!
//! Each test records a history (attempted, acknowledged, published, delivered, lost, unexpected,
//! duplicated effects), uses databases, an exchange and queues of its own, removes them at the
//! end, and leaves both services answering, also when it fails ([`support::FaultGuard`]).
//!
//! Broker: `WF_TEST_AMQP_URL` (default `amqp://guest:guest@127.0.0.1:5672/%2f`); database:
//! `WF_TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`). Set `RUST_LOG`
//! (e.g. `wf_events=info`) to see the bus and relay logs.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use wf_events::{Envelope, EventBus, RabbitBus};

use crate::support::{
    CONSUMER, Counters, EFFECT_DDL, EffectHandler, FaultGuard, History, Verdict, create_database, effects_count,
    envelope, postgres_restart, rabbit_config, rabbit_start, rabbit_stop, ready_count, spawn_consumer, spawn_relay,
    subscription, unsent_count, wait_for_effects, wait_for_postgres, wait_for_quiet, wait_for_rabbit,
    wait_until_postgres_refuses, write_events,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_events_survive_a_broker_restart() {
    const EVENTS: usize = 10_000;
    const STOP_AFTER_EFFECTS: i64 = 2_000;
    let started = Instant::now();
    let guard = FaultGuard::new().await;
    let producer = create_database(&guard, &[]).await;
    let consumer_db = create_database(&guard, &[EFFECT_DDL]).await;
    let cfg = rabbit_config(&guard);
    let bus = RabbitBus::connect(cfg.clone()).await.expect("connect to RabbitMQ");
    bus.declare(&subscription()).await.expect("declare the subscription");

    let counters = Arc::new(Counters::default());
    let handler = Arc::new(EffectHandler { db: consumer_db.clone(), counters: counters.clone() });
    let consumer = spawn_consumer(&bus, handler);
    let (relay, relay_handle) = spawn_relay(&producer, &bus);

    // The producer writes while the relay and the consumer run.
    let events: Vec<Envelope> = (0..EVENTS).map(|_| envelope()).collect();
    let writer = tokio::spawn({
        let producer = producer.clone();
        let relay_handle = relay_handle.clone();
        async move {
            let mut history = History::default();
            let result =
                write_events(&producer, &relay_handle, &events, 100, Duration::from_secs(120), &mut history).await;
            (history, result)
        }
    });

    // Fault: stop the broker once ~2,000 effects are applied, for 3 s.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let effects = effects_count(&consumer_db).await;
        if effects >= STOP_AFTER_EFFECTS {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {effects} effects after 120 s (outbox unsent: {})",
            unsent_count(&producer).await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let effects_at_stop = effects_count(&consumer_db).await;
    let unsent_at_stop = unsent_count(&producer).await;
    eprintln!(
        "[fault] t={:.1}s rabbitmqctl stop_app (effects={effects_at_stop}, outbox_unsent={unsent_at_stop})",
        started.elapsed().as_secs_f64()
    );
    guard.rabbit_outage(true);
    rabbit_stop().await.expect("rabbitmqctl stop_app");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let effects_during = effects_count(&consumer_db).await;
    eprintln!("[fault] t={:.1}s rabbitmqctl start_app (effects={effects_during})", started.elapsed().as_secs_f64());
    rabbit_start().await.expect("rabbitmqctl start_app");
    let waited = wait_for_rabbit(Duration::from_secs(120)).await.expect("RabbitMQ answers after start_app");
    guard.rabbit_outage(false);
    eprintln!(
        "[fault] t={:.1}s broker answers again (polled {waited:?}; effects={})",
        started.elapsed().as_secs_f64(),
        effects_count(&consumer_db).await
    );
    assert!(
        (effects_at_stop as usize) < EVENTS,
        "the broker must stop mid-stream (effects at stop: {effects_at_stop})"
    );

    let (history, written) = writer.await.expect("writer task");
    written.expect("all producer writes commit");

    wait_for_effects(&producer, &consumer_db, &counters, EVENTS as i64, Duration::from_secs(180), started).await;
    wait_for_quiet(&producer, &cfg, &counters, Duration::from_secs(60)).await;
    relay.stop("relay").await;
    eprintln!(
        "[stop] handlers in progress before stopping the consumer: {}",
        counters.in_progress.load(std::sync::atomic::Ordering::SeqCst)
    );
    consumer.stop("consumer").await.expect("consume returns Ok on shutdown");
    // Anything unacked returns to the queue once the consumer's channel is closed.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let queue_ready = ready_count(&cfg, &cfg.queue_name(CONSUMER)).await;
    let dead_letters = ready_count(&cfg, &cfg.dead_letter_queue_name(CONSUMER)).await;

    let verdict = Verdict::compute(&history, &producer, &consumer_db).await;
    verdict.print(&counters, &history);
    eprintln!(
        "[result] t={:.1}s effects at stop={effects_at_stop} queue_ready={queue_ready} dead_letters={dead_letters}",
        started.elapsed().as_secs_f64()
    );
    verdict.assert_clean(EVENTS);
    let max_applied: Option<i32> =
        sqlx::query_scalar("SELECT MAX(applied) FROM effect").fetch_one(consumer_db.pool()).await.expect("max");
    assert_eq!(max_applied, Some(1), "every effect applied exactly once");
    assert_eq!(queue_ready, 0, "the queue is empty after the consumer stopped");
    assert_eq!(dead_letters, 0, "no dead letters");

    bus.close().await;
    producer.close().await;
    consumer_db.close().await;
    guard.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_recovers_after_postgres_restarts() {
    const EVENTS: usize = 1_000;
    let started = Instant::now();
    let guard = FaultGuard::new().await;
    let producer = create_database(&guard, &[]).await;
    let consumer_db = create_database(&guard, &[EFFECT_DDL]).await;
    let cfg = rabbit_config(&guard);
    let bus = RabbitBus::connect(cfg.clone()).await.expect("connect to RabbitMQ");
    bus.declare(&subscription()).await.expect("declare the subscription");

    let counters = Arc::new(Counters::default());
    let handler = Arc::new(EffectHandler { db: consumer_db.clone(), counters: counters.clone() });
    let consumer = spawn_consumer(&bus, handler);
    // Started once; it must ride out the restart on its own.
    let (relay, relay_handle) = spawn_relay(&producer, &bus);

    let events: Vec<Envelope> = (0..EVENTS).map(|_| envelope()).collect();
    let (first, second) = events.split_at(EVENTS / 2);
    let mut history = History::default();
    write_events(&producer, &relay_handle, first, 100, Duration::from_secs(30), &mut history)
        .await
        .expect("first half written");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let unsent = unsent_count(&producer).await;
        if unsent == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "first half not published within 60 s: outbox_unsent={unsent}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let effects_at_restart = effects_count(&consumer_db).await;
    eprintln!(
        "[fault] t={:.1}s first half published; restarting PostgreSQL (effects={effects_at_restart})",
        started.elapsed().as_secs_f64()
    );

    // Fault: restart PostgreSQL; write the second half while it is down, retrying until it is back.
    guard.postgres_outage(true);
    let restart = tokio::spawn(postgres_restart());
    let down_seen = wait_until_postgres_refuses(Duration::from_secs(15)).await;
    eprintln!("[fault] t={:.1}s PostgreSQL refusing connections: {down_seen}", started.elapsed().as_secs_f64());
    write_events(&producer, &relay_handle, second, 100, Duration::from_secs(120), &mut history)
        .await
        .expect("second half written once PostgreSQL is back");
    restart.await.expect("restart task").expect("pg_ctlcluster restart");
    let waited = wait_for_postgres(Duration::from_secs(120)).await.expect("PostgreSQL answers after the restart");
    guard.postgres_outage(false);
    eprintln!(
        "[fault] t={:.1}s second half written, PostgreSQL answers (polled {waited:?}); failed write attempts={}, \
         unknown commits={}",
        started.elapsed().as_secs_f64(),
        history.failed_attempts,
        history.unknown_attempts
    );

    wait_for_effects(&producer, &consumer_db, &counters, EVENTS as i64, Duration::from_secs(180), started).await;
    wait_for_quiet(&producer, &cfg, &counters, Duration::from_secs(60)).await;
    relay.stop("relay").await;
    consumer.stop("consumer").await.expect("consume returns Ok on shutdown");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let queue_ready = ready_count(&cfg, &cfg.queue_name(CONSUMER)).await;
    let dead_letters = ready_count(&cfg, &cfg.dead_letter_queue_name(CONSUMER)).await;

    let verdict = Verdict::compute(&history, &producer, &consumer_db).await;
    verdict.print(&counters, &history);
    eprintln!(
        "[result] t={:.1}s effects at restart={effects_at_restart} queue_ready={queue_ready} \
         dead_letters={dead_letters}",
        started.elapsed().as_secs_f64()
    );
    verdict.assert_clean(EVENTS);
    let max_applied: Option<i32> =
        sqlx::query_scalar("SELECT MAX(applied) FROM effect").fetch_one(consumer_db.pool()).await.expect("max");
    assert_eq!(max_applied, Some(1), "every effect applied exactly once");
    assert_eq!(queue_ready, 0, "the queue is empty after the consumer stopped");
    assert_eq!(dead_letters, 0, "no dead letters");

    bus.close().await;
    producer.close().await;
    consumer_db.close().await;
    guard.finish().await;
}
