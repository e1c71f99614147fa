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

use std::time::{Duration, Instant};

use wf_events::Envelope;

use crate::support::{
    History, Pipeline, effects_count, envelope, postgres_restart, rabbit_start, rabbit_stop, unsent_count,
    wait_for_postgres, wait_for_rabbit, wait_until_postgres_refuses, write_events,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_events_survive_a_broker_restart() {
    const EVENTS: usize = 10_000;
    const STOP_AFTER_EFFECTS: i64 = 2_000;
    let started = Instant::now();
    let pipeline = Pipeline::start().await;
    let (producer, consumer_db, guard) = (&pipeline.producer, &pipeline.consumer_db, &pipeline.guard);

    // The producer writes while the relay and the consumer run.
    let events: Vec<Envelope> = (0..EVENTS).map(|_| envelope()).collect();
    let writer = tokio::spawn({
        let producer = producer.clone();
        let relay_handle = pipeline.relay_handle.clone();
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
        let effects = effects_count(consumer_db).await;
        if effects >= STOP_AFTER_EFFECTS {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {effects} effects after 120 s (outbox unsent: {})",
            unsent_count(producer).await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let effects_at_stop = effects_count(consumer_db).await;
    let unsent_at_stop = unsent_count(producer).await;
    eprintln!(
        "[fault] t={:.1}s rabbitmqctl stop_app (effects={effects_at_stop}, outbox_unsent={unsent_at_stop})",
        started.elapsed().as_secs_f64()
    );
    guard.rabbit_outage(true);
    rabbit_stop().await.expect("rabbitmqctl stop_app");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let effects_during = effects_count(consumer_db).await;
    eprintln!("[fault] t={:.1}s rabbitmqctl start_app (effects={effects_during})", started.elapsed().as_secs_f64());
    rabbit_start().await.expect("rabbitmqctl start_app");
    let waited = wait_for_rabbit(Duration::from_secs(120)).await.expect("RabbitMQ answers after start_app");
    guard.rabbit_outage(false);
    eprintln!(
        "[fault] t={:.1}s broker answers again (polled {waited:?}; effects={})",
        started.elapsed().as_secs_f64(),
        effects_count(consumer_db).await
    );
    assert!(
        (effects_at_stop as usize) < EVENTS,
        "the broker must stop mid-stream (effects at stop: {effects_at_stop})"
    );

    let (history, written) = writer.await.expect("writer task");
    written.expect("all producer writes commit");

    pipeline.drain_and_check(&history, EVENTS, started, &format!("effects at stop={effects_at_stop}")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_recovers_after_postgres_restarts() {
    const EVENTS: usize = 1_000;
    let started = Instant::now();
    // The relay is started once: it must ride out the restart on its own.
    let pipeline = Pipeline::start().await;
    let (producer, consumer_db, guard) = (&pipeline.producer, &pipeline.consumer_db, &pipeline.guard);
    let relay_handle = &pipeline.relay_handle;

    let events: Vec<Envelope> = (0..EVENTS).map(|_| envelope()).collect();
    let (first, second) = events.split_at(EVENTS / 2);
    let mut history = History::default();
    write_events(producer, relay_handle, first, 100, Duration::from_secs(30), &mut history)
        .await
        .expect("first half written");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let unsent = unsent_count(producer).await;
        if unsent == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "first half not published within 60 s: outbox_unsent={unsent}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let effects_at_restart = effects_count(consumer_db).await;
    eprintln!(
        "[fault] t={:.1}s first half published; restarting PostgreSQL (effects={effects_at_restart})",
        started.elapsed().as_secs_f64()
    );

    // Fault: restart PostgreSQL; write the second half while it is down, retrying until it is back.
    guard.postgres_outage(true);
    let restart = tokio::spawn(postgres_restart());
    let down_seen = wait_until_postgres_refuses(Duration::from_secs(15)).await;
    eprintln!("[fault] t={:.1}s PostgreSQL refusing connections: {down_seen}", started.elapsed().as_secs_f64());
    write_events(producer, relay_handle, second, 100, Duration::from_secs(120), &mut history)
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

    pipeline.drain_and_check(&history, EVENTS, started, &format!("effects at restart={effects_at_restart}")).await;
}
