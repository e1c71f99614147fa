//! Appending: one entry per event, in order, linked, once.

use std::sync::Arc;

use wf_audit::Appended;
use wf_audit::domain::chain::{ChainHead, GENESIS_PREVIOUS_HASH};
use wf_audit::domain::query::EntryFilter;
use wf_audit::store::entries;
use wf_db::{Backend, Db};
use wf_events::{EventHandler, HandleError};
use wf_testkit::{Engine, both_engines};

use crate::common::{TestLog, accessed, offer_made, received, referral_id};

async fn all_entries(db: &Db) -> Vec<wf_audit::domain::chain::Entry> {
    entries::list_entries(db, &EntryFilter { from_sequence: 1, ..EntryFilter::default() }, 10_000, false)
        .await
        .expect("list entries")
}

async fn three_events_make_three_linked_entries(engine: Engine) {
    let test = &TestLog::new(engine).await;
    let handler = test.handler();
    let referral = referral_id();
    let events = [received(&referral), accessed(&referral, "usr_cm7"), offer_made(&referral)];
    for event in &events {
        handler.handle(event.clone()).await.expect("handled");
    }

    let entries = all_entries(&test.db).await;
    assert_eq!(entries.iter().map(|e| e.sequence).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(entries[0].previous_hash, GENESIS_PREVIOUS_HASH.to_vec());
    assert_eq!(entries[1].previous_hash, entries[0].entry_hash);
    assert_eq!(entries[2].previous_hash, entries[1].entry_hash);
    for (entry, event) in entries.iter().zip(&events) {
        assert_eq!(entry.content.event_id, event.event_id.to_string());
        assert_eq!(entry.content.event_type, event.event_type);
        assert_eq!(entry.content.payload, event.payload);
        assert_eq!(entry.content.correlation_id, referral);
        assert_eq!(entry.content.occurred_at_micros, wf_db::to_micros(event.occurred_at));
        assert!(entry.content.recorded_at_micros >= entry.content.occurred_at_micros);
    }
    let actors: Vec<(&str, &str)> =
        entries.iter().map(|e| (e.content.actor.as_str(), e.content.actor_role.as_str())).collect();
    assert_eq!(actors, [("intake", "service"), ("usr_cm7", "case_manager"), ("routing", "service")]);
    assert_eq!(entries[1].content.purpose, "case_management");
    assert_eq!(entries[1].content.fields, ["personal.legal_first_name"]);

    let report = wf_audit::verify(&test.db, 0).await.expect("verify");
    assert!(report.is_ok(), "{report:?}");
    assert_eq!((report.verified_through, report.entries_verified), (3, 3));

    let resumed = wf_audit::verify(&test.db, 2).await.expect("verify from 2");
    assert!(resumed.is_ok(), "{resumed:?}");
    assert_eq!((resumed.from_sequence, resumed.entries_verified), (2, 2));

    let partial = wf_audit::verify_range(&test.db, 1, Some(2)).await.expect("verify 1..=2");
    assert!(partial.is_ok(), "{partial:?}");
    assert_eq!(partial.verified_through, 2);

    let beyond = wf_audit::verify(&test.db, 10).await.expect("verify beyond the end");
    assert!(beyond.is_ok() && beyond.entries_verified == 0, "{beyond:?}");
}
both_engines!(three_events_make_three_linked_entries, three_events_make_three_linked_entries);

async fn a_redelivered_event_appends_nothing(engine: Engine) {
    let test = &TestLog::new(engine).await;
    let handler = test.handler();
    let event = received(&referral_id());
    handler.handle(event.clone()).await.expect("first delivery");
    handler.handle(event.clone()).await.expect("second delivery");
    let content = wf_audit::domain::entry::content_from(&event, 0).expect("content");
    assert_eq!(wf_audit::append(&test.db, test.clock.as_ref(), content).await.expect("append"), Appended::Duplicate(1));

    let entries = all_entries(&test.db).await;
    assert_eq!(entries.len(), 1);
    let next = received(&referral_id());
    handler.handle(next).await.expect("next event");
    assert_eq!(all_entries(&test.db).await.last().map(|e| e.sequence), Some(2));
    assert!(wf_audit::verify(&test.db, 1).await.expect("verify").is_ok());
}
both_engines!(a_redelivered_event_appends_nothing, a_redelivered_event_appends_nothing);

async fn unreadable_access_events_are_refused_permanently(engine: Engine) {
    let test = &TestLog::new(engine).await;
    let handler = test.handler();
    let mut event = accessed(&referral_id(), "usr_1");
    event.payload = vec![0x0a, 0x05, b'x'];
    assert!(matches!(handler.handle(event).await, Err(HandleError::Permanent(_))));
    assert!(all_entries(&test.db).await.is_empty());
}
both_engines!(unreadable_access_events_are_refused_permanently, unreadable_access_events_are_refused_permanently);

fn assert_refused(result: Result<sqlx::any::AnyQueryResult, sqlx::Error>, what: &str) {
    match result {
        Ok(_) => panic!("{what} was allowed"),
        Err(err) => assert!(err.to_string().contains("append-only"), "{what}: {err}"),
    }
}

async fn updates_and_deletes_are_refused_by_the_database(engine: Engine) {
    let test = &TestLog::new(engine).await;
    let handler = test.handler();
    handler.handle(received(&referral_id())).await.expect("handled");
    let before = all_entries(&test.db).await;
    let pool = test.db.pool();

    let update =
        sqlx::query("UPDATE audit_entry SET actor = 'usr_someone_else' WHERE sequence = 1").execute(pool).await;
    assert_refused(update, "update of an entry");
    let delete = sqlx::query("DELETE FROM audit_entry WHERE sequence = 1").execute(pool).await;
    assert_refused(delete, "delete of an entry");
    let delete_head = sqlx::query("DELETE FROM audit_head").execute(pool).await;
    assert_refused(delete_head, "delete of the head");
    if test.backend() == Backend::Postgres {
        assert_refused(sqlx::query("TRUNCATE audit_entry").execute(pool).await, "truncate");
    }

    // The head moves only onto the entry just appended, and entries must extend it.
    let rewind = sqlx::query("UPDATE audit_head SET last_sequence = 0").execute(pool).await;
    assert!(rewind.is_err(), "the head was moved backwards");
    let skip = sqlx::query(
        "INSERT INTO audit_entry (sequence, event_id, event_type, schema_version, aggregate_id, correlation_id, \
         producer, actor, actor_role, purpose, release_id, fields, occurred_at, recorded_at, payload, \
         previous_hash, entry_hash) VALUES (5, 'e', 't', 1, 'a', '', 'p', 'p', 'service', '', '', '[]', 0, 0, $1, $2, $3)",
    )
    .bind(Vec::<u8>::new())
    .bind(GENESIS_PREVIOUS_HASH.to_vec())
    .bind(GENESIS_PREVIOUS_HASH.to_vec())
    .execute(pool)
    .await;
    assert!(skip.is_err(), "an entry that skips sequences was accepted");

    assert_eq!(all_entries(&test.db).await, before);
    assert!(wf_audit::verify(&test.db, 1).await.expect("verify").is_ok());
}
both_engines!(updates_and_deletes_are_refused_by_the_database, updates_and_deletes_are_refused_by_the_database);

#[tokio::test]
async fn concurrent_appends_on_postgres_have_no_gaps() {
    let test = TestLog::new(Engine::Postgres).await;
    let handler = Arc::new(test.handler());
    let mut tasks = tokio::task::JoinSet::new();
    for _task in 0..20 {
        let handler = handler.clone();
        tasks.spawn(async move {
            let mut ids = Vec::new();
            for _ in 0..10 {
                let event = received(&referral_id());
                ids.push(event.event_id.to_string());
                handler.handle(event).await.expect("handled");
            }
            ids
        });
    }
    let mut sent = Vec::new();
    while let Some(ids) = tasks.join_next().await {
        sent.extend(ids.expect("task"));
    }

    let entries = all_entries(&test.db).await;
    assert_eq!(entries.iter().map(|e| e.sequence).collect::<Vec<_>>(), (1..=200).collect::<Vec<u64>>());
    let mut logged: Vec<String> = entries.iter().map(|e| e.content.event_id.clone()).collect();
    logged.sort();
    sent.sort();
    assert_eq!(logged, sent);
    let report = wf_audit::verify(&test.db, 1).await.expect("verify");
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.entries_verified, 200);
    let (head, max_sequence) = entries::tail(&test.db).await.expect("tail");
    assert_eq!(
        head,
        ChainHead { last_sequence: 200, last_hash: entries.last().map(|e| e.entry_hash.clone()).unwrap_or_default() }
    );
    assert_eq!(max_sequence, 200);
}
