use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use lapin::options::BasicPublishOptions;
use lapin::{BasicProperties, Connection, ConnectionProperties};
use wf_events::{EventBus, RabbitBus, Subscription};
use wf_testkit::{TestBroker, eventually, ready_count};

use crate::common::{CountingHandler, envelope, fast_backoff, spawn_consumer};

#[tokio::test]
async fn a_poison_message_is_dead_lettered_after_the_delivery_limit_then_replayed() {
    let broker = TestBroker::new(&["routing"]);
    let cfg = &broker.config;
    let bus = RabbitBus::connect(cfg.clone()).await.expect("connect");
    let subscription =
        Subscription::new("routing", &["referral.received"]).with_delivery_limit(3).with_backoff(fast_backoff());
    bus.declare(&subscription).await.expect("declare");
    let handler = Arc::new(CountingHandler::default());
    handler.fail_transient.store(true, Ordering::SeqCst);
    let consumer = spawn_consumer(&bus, subscription, handler.clone());

    let poison = envelope("referral.received");
    bus.publish(&poison).await.expect("publish");
    let dlq = cfg.dead_letter_queue_name("routing");
    assert!(eventually(Duration::from_secs(20), || async { ready_count(cfg, &dlq).await == 1 }).await, "dead-lettered");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(handler.calls_of(poison.event_id), 3, "exactly delivery_limit attempts");

    let letters = bus.list_dead_letters("routing", 10).await.expect("list");
    assert_eq!(letters.len(), 1);
    let letter = &letters[0];
    assert_eq!(letter.envelope.event_id, poison.event_id);
    assert_eq!(letter.envelope.event_type, "referral.received");
    assert_eq!(letter.service, "routing");
    assert!(!letter.reason.is_empty() && letter.reason != "unknown", "reason: {}", letter.reason);
    assert!(letter.attempts >= 1);
    // Listing leaves the letter where it was.
    assert!(eventually(Duration::from_secs(5), || async { ready_count(cfg, &dlq).await == 1 }).await, "still there");

    handler.fail_transient.store(false, Ordering::SeqCst);
    let replayed = bus.replay_dead_letters("routing", None).await.expect("replay");
    assert_eq!(replayed, 1);
    assert!(
        eventually(Duration::from_secs(10), || async { handler.calls_of(poison.event_id) == 4 }).await,
        "handled again"
    );
    consumer.stop().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(handler.calls_of(poison.event_id), 4, "replayed once");
    assert_eq!(ready_count(cfg, &dlq).await, 0);
    assert_eq!(ready_count(cfg, &cfg.queue_name("routing")).await, 0);

    bus.close().await;
}

#[tokio::test]
async fn a_permanent_failure_is_dead_lettered_at_once() {
    let broker = TestBroker::new(&["cases"]);
    let cfg = &broker.config;
    let bus = RabbitBus::connect(cfg.clone()).await.expect("connect");
    let subscription = Subscription::new("cases", &["referral.#"]).with_backoff(fast_backoff());
    bus.declare(&subscription).await.expect("declare");
    let handler = Arc::new(CountingHandler::default());
    handler.fail_permanent.store(true, Ordering::SeqCst);
    let consumer = spawn_consumer(&bus, subscription, handler.clone());

    let event = envelope("referral.routed");
    bus.publish(&event).await.expect("publish");
    let dlq = cfg.dead_letter_queue_name("cases");
    assert!(eventually(Duration::from_secs(10), || async { ready_count(cfg, &dlq).await == 1 }).await, "dead-lettered");
    consumer.stop().await;
    assert_eq!(handler.calls_of(event.event_id), 1);

    let letters = bus.list_dead_letters("cases", 10).await.expect("list");
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].envelope.event_id, event.event_id);
    assert_eq!(letters[0].reason, "rejected");

    bus.close().await;
}

#[tokio::test]
async fn an_undecodable_message_is_dead_lettered_and_selective_replay_skips_others() {
    let broker = TestBroker::new(&["audit"]);
    let cfg = &broker.config;
    let bus = RabbitBus::connect(cfg.clone()).await.expect("connect");
    let subscription = Subscription::new("audit", &["#"]).with_backoff(fast_backoff());
    bus.declare(&subscription).await.expect("declare");
    let handler = Arc::new(CountingHandler::default());
    handler.fail_permanent.store(true, Ordering::SeqCst);
    let consumer = spawn_consumer(&bus, subscription, handler.clone());

    // Garbage straight onto the queue.
    let conn = Connection::connect(&cfg.url, ConnectionProperties::default()).await.expect("connect");
    let channel = conn.create_channel().await.expect("channel");
    channel
        .basic_publish(
            "".into(),
            cfg.queue_name("audit").as_str().into(),
            BasicPublishOptions::default(),
            b"\xff\xff not protobuf",
            BasicProperties::default().with_message_id("garbage".into()),
        )
        .await
        .expect("publish garbage");
    let _ = conn.close(200, "OK".into()).await;
    let first = envelope("referral.received");
    let second = envelope("case.assigned");
    bus.publish(&first).await.expect("publish");
    bus.publish(&second).await.expect("publish");

    let dlq = cfg.dead_letter_queue_name("audit");
    assert!(eventually(Duration::from_secs(10), || async { ready_count(cfg, &dlq).await == 3 }).await, "dead-lettered");
    assert_eq!(handler.distinct(), 2, "the garbage never reached the handler");
    let letters = bus.list_dead_letters("audit", 2).await.expect("list");
    assert_eq!(letters.len(), 2, "limit is respected");
    assert!(eventually(Duration::from_secs(5), || async { ready_count(cfg, &dlq).await == 3 }).await, "all back");

    handler.fail_permanent.store(false, Ordering::SeqCst);
    let replayed = bus.replay_dead_letters("audit", Some(&[second.event_id.to_string()])).await.expect("replay");
    assert_eq!(replayed, 1);
    assert!(eventually(Duration::from_secs(10), || async { handler.calls_of(second.event_id) == 2 }).await);
    assert_eq!(handler.calls_of(first.event_id), 1);
    consumer.stop().await;
    assert!(eventually(Duration::from_secs(5), || async { ready_count(cfg, &dlq).await == 2 }).await, "others stay");

    bus.close().await;
}
