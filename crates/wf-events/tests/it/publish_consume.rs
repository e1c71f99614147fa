use std::sync::Arc;
use std::time::Duration;

use wf_events::{EventBus, PublishError, RabbitBus, Subscription};
use wf_testkit::{TestBroker, eventually, ready_count};

use crate::common::{CountingHandler, envelope, spawn_consumer};

#[tokio::test]
async fn publishes_200_concurrently_and_each_is_handled_once() {
    let broker = TestBroker::new(&["cases"]);
    let cfg = &broker.config;
    let bus = RabbitBus::connect(cfg.clone()).await.expect("connect");
    let subscription = Subscription::new("cases", &["referral.*"]);
    bus.declare(&subscription).await.expect("declare");
    let handler = Arc::new(CountingHandler::default());
    let consumer = spawn_consumer(&bus, subscription, handler.clone());

    let envelopes: Vec<_> = (0..200).map(|_| envelope("referral.received")).collect();
    let results = futures::future::join_all(envelopes.iter().map(|e| bus.publish(e))).await;
    for result in &results {
        assert!(result.is_ok(), "publish failed: {result:?}");
    }

    assert!(eventually(Duration::from_secs(30), || async { handler.distinct() == 200 }).await, "all handled");
    consumer.stop().await;
    for envelope in &envelopes {
        assert_eq!(handler.calls_of(envelope.event_id), 1, "event {} handled once", envelope.event_id);
    }
    // Everything was acked: nothing comes back after the consumer's channel closed.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(ready_count(cfg, &cfg.queue_name("cases")).await, 0);

    bus.close().await;
}

#[tokio::test]
async fn an_event_nobody_binds_is_unroutable() {
    let broker = TestBroker::new(&["routing"]);
    let cfg = &broker.config;
    let bus = RabbitBus::connect(cfg.clone()).await.expect("connect");
    bus.declare(&Subscription::new("routing", &["referral.received"])).await.expect("declare");

    let unroutable = envelope("nobody.binds.this");
    match bus.publish(&unroutable).await {
        Err(PublishError::Unroutable { routing_key }) => {
            assert_eq!(routing_key, "nobody.binds.this")
        }
        other => panic!("expected Unroutable, got {other:?}"),
    }
    // Unroutable and routable publishes in flight together are told apart.
    let routable: Vec<_> = (0..20).map(|_| envelope("referral.received")).collect();
    let stray: Vec<_> = (0..20).map(|_| envelope("nobody.binds.this")).collect();
    let (ok, returned) = tokio::join!(
        futures::future::join_all(routable.iter().map(|e| bus.publish(e))),
        futures::future::join_all(stray.iter().map(|e| bus.publish(e))),
    );
    assert!(ok.iter().all(Result::is_ok), "routable publishes: {ok:?}");
    assert!(
        returned.iter().all(|r| matches!(r, Err(PublishError::Unroutable { .. }))),
        "unroutable publishes: {returned:?}"
    );
    assert!(
        eventually(Duration::from_secs(5), || async { ready_count(cfg, &cfg.queue_name("routing")).await == 20 }).await
    );

    bus.close().await;
}

#[tokio::test]
async fn publish_reconnects_after_the_connection_is_closed() {
    let broker = TestBroker::new(&["audit"]);
    let cfg = &broker.config;
    let bus = RabbitBus::connect(cfg.clone()).await.expect("connect");
    bus.declare(&Subscription::new("audit", &["#"])).await.expect("declare");
    bus.publish(&envelope("referral.received")).await.expect("first publish");
    bus.close().await;
    bus.publish(&envelope("referral.received")).await.expect("publish after close reconnects");
    assert!(
        eventually(Duration::from_secs(5), || async { ready_count(cfg, &cfg.queue_name("audit")).await == 2 }).await
    );
    bus.close().await;
}
