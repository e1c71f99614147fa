//! The checkpoint worker as the running service drives it: on the service's clock, and joined
//! on shutdown.

use std::time::Duration;

use wf_audit::CheckpointPolicy;
use wf_audit::domain::chain::{ChainHead, EntryContent, seal};
use wf_audit::store::{checkpoints, entries};
use wf_db::Db;
use wf_testkit::{Engine, TestDatabase, TestServer, both_engines, eventually};
use wf_types::{Clock, SharedClock, SystemClock, TestClock};

use crate::common::{accessed, referral_id};

async fn serve(db: &Db, dir: &std::path::Path, clock: SharedClock, policy: CheckpointPolicy) -> TestServer {
    TestServer::start_with_clock(db.clone(), dir, clock, |ctx| async move {
        Ok(wf_audit::build_with(ctx, policy).await? as _)
    })
    .await
}

async fn latest_size(db: &Db) -> u64 {
    checkpoints::latest(db).await.expect("latest checkpoint").map_or(0, |(checkpoint, _)| checkpoint.tree_size)
}

/// `count` entries appended in one transaction, as a log that has been running a while.
async fn a_long_log(db: &Db, count: u64) {
    let mut head = ChainHead::genesis();
    let mut tx = db.begin().await.expect("begin");
    for index in 1..=count {
        let content = EntryContent {
            event_id: format!("0190f5a2-7c1e-7000-8000-{index:012x}"),
            event_type: "record.accessed".to_owned(),
            producer: "intake".to_owned(),
            actor: "usr_cm1".to_owned(),
            payload: vec![1, 2, 3],
            ..Default::default()
        };
        let entry = seal(&head, content).expect("32-byte head");
        entries::append(&mut tx, &entry).await.expect("append");
        head = ChainHead { last_sequence: entry.sequence, last_hash: entry.entry_hash };
    }
    tx.commit().await.expect("commit");
}

/// Stopping the service while the worker is in the middle of a pass (one checkpoint per entry
/// over a long log, each stored and copied to the file) waits for that pass: when `stop`
/// returns, every checkpoint due is signed, stored and in the file. A worker `run` did not join
/// would still be signing.
async fn stopping_the_service_waits_for_the_checkpoint_pass_in_progress(engine: Engine) {
    const ENTRIES: u64 = 1000;
    let database = TestDatabase::new(engine).await;
    let db = database.migrated(&wf_audit::migrations()).await;
    a_long_log(&db, ENTRIES).await;
    let dir = tempfile::tempdir().expect("data folder");
    let file = dir.path().join("checkpoints.jsonl");
    let policy = CheckpointPolicy { every_entries: 1, every: Duration::from_secs(3600), file: Some(file.clone()) };
    let server = serve(&db, dir.path(), SystemClock::shared(), policy).await;

    assert!(eventually(Duration::from_secs(30), || async { latest_size(&db).await > 0 }).await, "the pass began");
    let signed_before_stop = latest_size(&db).await;
    assert!(signed_before_stop < ENTRIES, "the pass was still running when the service was stopped");
    server.stop().await;

    assert_eq!(latest_size(&db).await, ENTRIES, "stop returned before the pass finished");
    let copies = wf_audit::read_checkpoint_file(&file).expect("checkpoint file");
    assert_eq!(copies.len() as u64, ENTRIES, "every stored checkpoint was copied out");
    // Nothing runs on after stop: the log and its checkpoints stay as they are.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(wf_audit::read_checkpoint_file(&file).expect("checkpoint file").len(), copies.len());
    db.close().await;
}
both_engines!(
    stopping_the_service_waits_for_the_checkpoint_pass_in_progress,
    stopping_the_service_waits_for_the_checkpoint_pass_in_progress
);

/// The time trigger reads the service's clock: entries wait, unsigned, until the clock has
/// moved past `every`; the checkpoint is then signed at the clock's time.
async fn a_checkpoint_is_due_once_the_service_clock_passes_the_interval(engine: Engine) {
    let database = TestDatabase::new(engine).await;
    let db = database.migrated(&wf_audit::migrations()).await;
    let dir = tempfile::tempdir().expect("data folder");
    let clock = TestClock::starting_now();
    let policy = CheckpointPolicy { every_entries: 1000, every: Duration::from_secs(60), file: None };
    let server = serve(&db, dir.path(), clock.shared(), policy).await;

    let referral = referral_id();
    for actor in ["usr_cm1", "usr_cm2", "usr_cm3"] {
        server.publish(&accessed(&referral, actor)).await;
    }
    let recorded = entries::entry_by_sequence(&db, 3).await.expect("read").expect("appended");
    assert_eq!(recorded.content.recorded_at_micros, clock.now_micros(), "recorded at the service's clock");
    // A worker pause is at most a second: two of them pass with the clock standing still.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(latest_size(&db).await, 0, "nothing is due before the interval");

    clock.advance(chrono::Duration::seconds(61));
    assert!(eventually(Duration::from_secs(10), || async { latest_size(&db).await == 3 }).await, "signed when due");
    let (checkpoint, _) = checkpoints::latest(&db).await.expect("latest").expect("signed");
    assert_eq!(checkpoint.signed_at_micros, clock.now_micros());
    server.stop().await;
    db.close().await;
}
both_engines!(
    a_checkpoint_is_due_once_the_service_clock_passes_the_interval,
    a_checkpoint_is_due_once_the_service_clock_passes_the_interval
);
