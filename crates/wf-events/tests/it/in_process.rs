//! The in-process bus of the embedded mode: topic routing, publish-as-confirm,
//! retries, and dead letters that survive a restart and can be replayed.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use wf_db::Db;
use wf_events::{EventBus, InProcessBus, PublishError, Subscription};

use crate::common::{CountingHandler, envelope, events_migrations, fast_backoff};

async fn bus_db(dir: &tempfile::TempDir) -> Db {
    let db = Db::connect(&wf_db::sqlite_url_in(dir.path(), "bus.db")).await.expect("sqlite");
    db.migrate(&events_migrations()).await.expect("migrate");
    db
}

fn start(bus: &InProcessBus, subscription: Subscription, handler: Arc<CountingHandler>) -> CancellationToken {
    let stop = CancellationToken::new();
    let bus = bus.clone();
    let token = stop.clone();
    tokio::spawn(async move { bus.consume(subscription, handler, token).await });
    stop
}

#[tokio::test]
async fn publish_returns_once_every_bound_consumer_has_handled_the_event() {
    let dir = tempfile::tempdir().expect("dir");
    let bus = InProcessBus::new(bus_db(&dir).await);
    let routing = Arc::new(CountingHandler::default());
    let audit = Arc::new(CountingHandler::default());
    let cases = Arc::new(CountingHandler::default());
    for (name, bindings, handler) in [
        ("routing", &["referral.received"][..], &routing),
        ("audit", &["#"][..], &audit),
        ("cases", &["referral.routed"][..], &cases),
    ] {
        let subscription = Subscription::new(name, bindings);
        bus.declare(&subscription).await.expect("declare");
        start(&bus, subscription, handler.clone());
    }
    let event = envelope("referral.received");
    bus.publish(&event).await.expect("publish");
    // No waiting: publish is the confirm.
    assert_eq!(routing.calls_of(event.event_id), 1);
    assert_eq!(audit.calls_of(event.event_id), 1);
    assert_eq!(cases.calls_of(event.event_id), 0, "not bound");
    let unbound = bus.publish(&envelope("nobody.listens")).await;
    assert!(matches!(unbound, Ok(())), "audit binds #, so every type is routable");
}

#[tokio::test]
async fn an_event_nobody_binds_is_unroutable() {
    let dir = tempfile::tempdir().expect("dir");
    let bus = InProcessBus::new(bus_db(&dir).await);
    let subscription = Subscription::new("routing", &["referral.received"]);
    bus.declare(&subscription).await.expect("declare");
    let result = bus.publish(&envelope("case.assigned")).await;
    assert!(matches!(result, Err(PublishError::Unroutable { .. })), "{result:?}");
}

#[tokio::test]
async fn transient_failures_are_retried_then_dead_lettered_and_replayed_after_a_restart() {
    let dir = tempfile::tempdir().expect("dir");
    let handler = Arc::new(CountingHandler::default());
    handler.fail_transient.store(true, Ordering::SeqCst);
    let subscription =
        Subscription::new("routing", &["referral.received"]).with_delivery_limit(3).with_backoff(fast_backoff());
    let event = envelope("referral.received");
    {
        let bus = InProcessBus::new(bus_db(&dir).await);
        bus.declare(&subscription).await.expect("declare");
        let stop = start(&bus, subscription.clone(), handler.clone());
        bus.publish(&event).await.expect("publish completes once the message is dead-lettered");
        assert_eq!(handler.calls_of(event.event_id), 3, "exactly the delivery limit");
        stop.cancel();
    }

    // A new process on the same data folder still has the dead letter.
    let bus = InProcessBus::new(bus_db(&dir).await);
    bus.declare(&subscription).await.expect("declare");
    let letters = bus.list_dead_letters("routing", 10).await.expect("list");
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].envelope.event_id, event.event_id);
    assert_eq!(letters[0].attempts, 3);
    assert!(letters[0].reason.starts_with("delivery_limit"), "{}", letters[0].reason);
    assert_eq!(bus.list_dead_letters("routing", 10).await.expect("list").len(), 1, "listing removes nothing");

    handler.fail_transient.store(false, Ordering::SeqCst);
    let stop = start(&bus, subscription, handler.clone());
    let other = vec!["00000000-0000-0000-0000-000000000000".to_owned()];
    assert_eq!(bus.replay_dead_letters("routing", Some(&other)).await.expect("replay none"), 0);
    assert_eq!(bus.replay_dead_letters("routing", None).await.expect("replay"), 1);
    assert_eq!(handler.calls_of(event.event_id), 4, "handled once more, successfully");
    assert!(bus.list_dead_letters("routing", 10).await.expect("list").is_empty());
    stop.cancel();
}

#[tokio::test]
async fn a_permanent_failure_is_dead_lettered_at_once() {
    let dir = tempfile::tempdir().expect("dir");
    let bus = InProcessBus::new(bus_db(&dir).await);
    let handler = Arc::new(CountingHandler::default());
    handler.fail_permanent.store(true, Ordering::SeqCst);
    let subscription = Subscription::new("cases", &["#"]).with_delivery_limit(5).with_backoff(fast_backoff());
    bus.declare(&subscription).await.expect("declare");
    start(&bus, subscription, handler.clone());
    let event = envelope("referral.routed");
    tokio::time::timeout(Duration::from_secs(10), bus.publish(&event)).await.expect("in time").expect("publish");
    assert_eq!(handler.calls_of(event.event_id), 1);
    let letters = bus.list_dead_letters("cases", 10).await.expect("list");
    assert!(letters[0].reason.starts_with("rejected"), "{}", letters[0].reason);
}

#[tokio::test]
async fn a_publish_after_the_consumer_stopped_fails_instead_of_waiting_forever() {
    let dir = tempfile::tempdir().expect("dir");
    let bus = InProcessBus::new(bus_db(&dir).await);
    let handler = Arc::new(CountingHandler::default());
    let subscription = Subscription::new("routing", &["referral.received"]);
    bus.declare(&subscription).await.expect("declare");
    let stop = CancellationToken::new();
    let consumer = {
        let (bus, handler, stop, subscription) = (bus.clone(), handler.clone(), stop.clone(), subscription.clone());
        tokio::spawn(async move { bus.consume(subscription, handler, stop).await })
    };
    bus.publish(&envelope("referral.received")).await.expect("delivered while consuming");
    stop.cancel();
    consumer.await.expect("join").expect("consumer stops cleanly");

    // Shutdown order is not guaranteed: a relay may still publish. It must get an error
    // (the outbox row stays unsent), never hang.
    let late = tokio::time::timeout(Duration::from_secs(5), bus.publish(&envelope("referral.received")))
        .await
        .expect("publish returns");
    assert!(matches!(late, Err(PublishError::Connection(_))), "{late:?}");

    // A consumer started again receives new events.
    let again = start(&bus, subscription, handler.clone());
    let event = envelope("referral.received");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while bus.publish(&event).await.is_err() {
        assert!(tokio::time::Instant::now() < deadline, "the restarted consumer never took the queue");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(handler.calls_of(event.event_id), 1);
    again.cancel();
}
