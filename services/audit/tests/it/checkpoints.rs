//! Signed checkpoints: made every N entries, copied to a file, verified with the public key; and
//! tampering that the chain alone cannot see (a re-hashed tail, a truncated log with its head
//! moved back) is caught and located by them.

use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use wf_audit::domain::chain::{Hash, entry_hash};
use wf_audit::domain::checkpoint::CheckpointSigner;
use wf_audit::domain::merkle;
use wf_audit::store::{checkpoints as stored_checkpoints, entries};
use wf_audit::{CheckpointPolicy, Checkpointer, TamperKind, VerifyOptions, read_checkpoint_file};
use wf_db::{Backend, Db};
use wf_events::EventHandler;
use wf_testkit::{Engine, both_engines};

use crate::common::{TestLog, accessed, offer_made, received, referral_id};

fn signer() -> Arc<CheckpointSigner> {
    Arc::new(CheckpointSigner::new(SigningKey::from_bytes(&[42; 32])))
}

fn checkpointer(test: &TestLog, every_entries: u64) -> Checkpointer {
    let policy = CheckpointPolicy {
        every_entries,
        // Long enough that only the entry count triggers during a test.
        every: Duration::from_secs(3600),
        file: Some(test.dir.join("checkpoints.jsonl")),
    };
    Checkpointer::new(test.db.clone(), signer(), policy, test.clock.clone())
}

async fn append_events(test: &TestLog, count: usize) {
    let handler = test.handler();
    let referral = referral_id();
    for index in 0..count {
        let event = match index % 3 {
            0 => received(&referral),
            1 => accessed(&referral, "usr_cm1"),
            _ => offer_made(&referral),
        };
        handler.handle(event).await.expect("handled");
    }
}

fn options(from: u64) -> VerifyOptions {
    VerifyOptions { from, to: None, key: Some(signer().verifier()), external: Vec::new() }
}

async fn drop_protection(test: &TestLog) {
    let drops: &[&str] = match test.backend() {
        Backend::Postgres => &[
            "DROP TRIGGER audit_entry_append_only ON audit_entry",
            "DROP TRIGGER audit_head_advances ON audit_head",
            "DROP TRIGGER audit_checkpoint_append_only ON audit_checkpoint",
        ],
        Backend::Sqlite => &[
            "DROP TRIGGER audit_entry_no_update",
            "DROP TRIGGER audit_entry_no_delete",
            "DROP TRIGGER audit_head_advances",
            "DROP TRIGGER audit_checkpoint_no_update",
        ],
    };
    for statement in drops {
        sqlx::query(statement).execute(test.db.pool()).await.expect("drop trigger");
    }
}

async fn checkpoints_every_n_entries_verify_and_leave_a_copy(engine: Engine) {
    let test = &TestLog::new(engine).await;
    append_events(test, 5).await;
    let made = checkpointer(test, 2).tick().await.expect("tick");
    assert_eq!(made.iter().map(|c| c.tree_size).collect::<Vec<_>>(), [2, 4]);
    assert!(checkpointer(test, 2).tick().await.expect("tick again").is_empty(), "nothing new is due");

    let copies = read_checkpoint_file(&test.dir.join("checkpoints.jsonl")).expect("file");
    assert_eq!(copies, made);
    let report = wf_audit::verify_with(&test.db, &options(1)).await.expect("verify");
    assert!(report.is_ok(), "{report:?}");
    assert_eq!((report.entries_verified, report.checkpoints_verified), (5, 2));

    // A run from 4 starts at the signed checkpoint before it.
    let report = wf_audit::verify_with(&test.db, &options(4)).await.expect("verify from 4");
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.from_sequence, 3);

    // Proofs against the signed root.
    let leaves = stored_checkpoints::leaves(&test.db, 4).await.expect("leaves");
    let root = made[1].root_hash;
    for index in 0..4 {
        let proof = merkle::inclusion_proof(&leaves, index);
        assert!(merkle::verify_inclusion(&leaves[index], index as u64, 4, &proof, &root));
    }
    let proof = merkle::consistency_proof(&leaves, 2);
    assert!(merkle::verify_consistency(2, 4, &proof, &made[0].root_hash, &root));
}
both_engines!(checkpoints_every_n_entries_verify_and_leave_a_copy, checkpoints_every_n_entries_verify_and_leave_a_copy);

async fn rewrite_from(db: &Db, first: u64, last: u64) {
    let mut previous: Hash =
        entries::entry_hash_at(db, first - 1).await.expect("read").expect("exists").try_into().expect("32 bytes");
    for sequence in first..=last {
        let mut entry = entries::entry_by_sequence(db, sequence).await.expect("read").expect("exists");
        if sequence == first {
            entry.content.actor = "usr_innocent".to_owned();
        }
        let hash = entry_hash(&previous, sequence, &entry.content);
        sqlx::query("UPDATE audit_entry SET actor = $1, previous_hash = $2, entry_hash = $3 WHERE sequence = $4")
            .bind(entry.content.actor.clone())
            .bind(previous.to_vec())
            .bind(hash.to_vec())
            .bind(sequence as i64)
            .execute(db.pool())
            .await
            .expect("rewrite");
        previous = hash;
    }
    sqlx::query("UPDATE audit_head SET last_hash = $1 WHERE id = 1")
        .bind(previous.to_vec())
        .execute(db.pool())
        .await
        .expect("move head");
}

async fn a_rehashed_tail_is_found_by_the_checkpoint(engine: Engine) {
    let test = &TestLog::new(engine).await;
    append_events(test, 6).await;
    checkpointer(test, 2).tick().await.expect("tick");
    drop_protection(test).await;
    rewrite_from(&test.db, 3, 6).await;

    let report = wf_audit::verify_with(&test.db, &options(1)).await.expect("verify");
    let problem = report.problem.expect("found");
    assert_eq!((problem.sequence, problem.kind), (3, TamperKind::Modified), "{problem}");
    assert_eq!(report.verified_through, 2);
    assert_eq!(report.checkpoints_verified, 1);
}
both_engines!(a_rehashed_tail_is_found_by_the_checkpoint, a_rehashed_tail_is_found_by_the_checkpoint);

async fn a_truncated_log_with_its_head_moved_back_is_found(engine: Engine) {
    let test = &TestLog::new(engine).await;
    append_events(test, 4).await;
    checkpointer(test, 4).tick().await.expect("tick");
    drop_protection(test).await;
    let third = entries::entry_hash_at(&test.db, 3).await.expect("read").expect("exists");
    sqlx::query("DELETE FROM audit_entry WHERE sequence = 4").execute(test.db.pool()).await.expect("delete");
    sqlx::query("UPDATE audit_head SET last_sequence = 3, last_hash = $1 WHERE id = 1")
        .bind(third)
        .execute(test.db.pool())
        .await
        .expect("move head");

    let report = wf_audit::verify_with(&test.db, &options(1)).await.expect("verify");
    let problem = report.problem.expect("found");
    assert_eq!((problem.sequence, problem.kind), (4, TamperKind::Deleted), "{problem}");
}
both_engines!(a_truncated_log_with_its_head_moved_back_is_found, a_truncated_log_with_its_head_moved_back_is_found);

async fn a_forged_checkpoint_is_found(engine: Engine) {
    let test = &TestLog::new(engine).await;
    append_events(test, 4).await;
    checkpointer(test, 2).tick().await.expect("tick");
    drop_protection(test).await;
    sqlx::query("UPDATE audit_checkpoint SET signed_at = signed_at + 1 WHERE tree_size = 4")
        .execute(test.db.pool())
        .await
        .expect("forge");
    let report = wf_audit::verify_with(&test.db, &options(1)).await.expect("verify");
    let problem = report.problem.expect("found");
    assert_eq!((problem.sequence, problem.kind), (4, TamperKind::BadSignature), "{problem}");

    // The copy outside the database disagrees with the stored one.
    let mut with_copy = options(1);
    with_copy.external = read_checkpoint_file(&test.dir.join("checkpoints.jsonl")).expect("file");
    let problem = wf_audit::verify_with(&test.db, &with_copy).await.expect("verify").problem.expect("found");
    assert_eq!((problem.sequence, problem.kind), (4, TamperKind::BadSignature), "{problem}");
}
both_engines!(a_forged_checkpoint_is_found, a_forged_checkpoint_is_found);
