//! Tampering done straight in the database (after dropping the append-only triggers, as an
//! attacker with owner rights could) is found by `verify` at the right sequence.

use wf_audit::TamperKind;
use wf_audit::domain::chain::{Entry, Hash, entry_hash};
use wf_audit::store::entries;
use wf_db::{Backend, Db};
use wf_events::EventHandler;
use wf_testkit::{Engine, both_engines};

use crate::common::{TestLog, accessed, offer_made, received, referral_id};

/// Five entries, with the triggers that refuse UPDATE and DELETE removed.
async fn five_entries_without_protection(test: &TestLog) {
    let handler = test.handler();
    let referral = referral_id();
    for event in [
        received(&referral),
        accessed(&referral, "usr_cm1"),
        offer_made(&referral),
        accessed(&referral, "usr_cm2"),
        offer_made(&referral),
    ] {
        handler.handle(event).await.expect("handled");
    }
    let report = wf_audit::verify(&test.db, 1).await.expect("verify");
    assert!(report.is_ok(), "{report:?}");
    let drops: &[&str] = match test.backend() {
        Backend::Postgres => &["DROP TRIGGER audit_entry_append_only ON audit_entry"],
        Backend::Sqlite => &["DROP TRIGGER audit_entry_no_update", "DROP TRIGGER audit_entry_no_delete"],
    };
    for statement in drops {
        sqlx::query(statement).execute(test.db.pool()).await.expect("drop trigger");
    }
}

async fn entry(db: &Db, sequence: u64) -> Entry {
    entries::entry_by_sequence(db, sequence).await.expect("read").expect("entry exists")
}

/// Rewrites every column of row `sequence` (except the sequence itself) with `entry`'s values.
async fn overwrite(db: &Db, sequence: u64, entry: &Entry) {
    let update = sqlx::query(
        "UPDATE audit_entry SET event_id = $1, event_type = $2, schema_version = $3, aggregate_id = $4, \
         correlation_id = $5, producer = $6, actor = $7, actor_role = $8, purpose = $9, release_id = $10, \
         fields = $11, occurred_at = $12, recorded_at = $13, payload = $14, previous_hash = $15, \
         entry_hash = $16 WHERE sequence = $17",
    );
    entries::bind_entry(update, entry)
        .expect("bind")
        .bind(sequence as i64)
        .execute(db.pool())
        .await
        .expect("overwrite");
}

async fn assert_found(db: &Db, sequence: u64, kind: TamperKind) {
    let report = wf_audit::verify(db, 1).await.expect("verify");
    let problem = report.problem.as_ref().unwrap_or_else(|| panic!("tampering not found: {report:?}"));
    assert_eq!((problem.sequence, problem.kind), (sequence, kind), "{problem}");
    assert_eq!(report.verified_through, sequence - 1);
}

async fn a_modified_payload_byte_is_found(engine: Engine) {
    let test = &TestLog::new(engine).await;
    five_entries_without_protection(test).await;
    // Entry 4 is an access event, whose payload is never empty.
    let mut payload = entry(&test.db, 4).await.content.payload;
    let last = payload.len() - 1;
    payload[last] ^= 0x01;
    sqlx::query("UPDATE audit_entry SET payload = $1 WHERE sequence = 4")
        .bind(payload)
        .execute(test.db.pool())
        .await
        .expect("tamper");
    assert_found(&test.db, 4, TamperKind::Modified).await;
}
both_engines!(a_modified_payload_byte_is_found, a_modified_payload_byte_is_found);

async fn a_rewritten_and_rehashed_entry_is_found(engine: Engine) {
    let test = &TestLog::new(engine).await;
    five_entries_without_protection(test).await;
    let mut forged = entry(&test.db, 2).await;
    forged.content.actor = "usr_innocent".to_owned();
    let previous: Hash = forged.previous_hash.as_slice().try_into().expect("32 bytes");
    forged.entry_hash = entry_hash(&previous, 2, &forged.content).to_vec();
    overwrite(&test.db, 2, &forged).await;
    assert_found(&test.db, 2, TamperKind::Modified).await;
}
both_engines!(a_rewritten_and_rehashed_entry_is_found, a_rewritten_and_rehashed_entry_is_found);

async fn a_deleted_row_is_found(engine: Engine) {
    let test = &TestLog::new(engine).await;
    five_entries_without_protection(test).await;
    sqlx::query("DELETE FROM audit_entry WHERE sequence = 3").execute(test.db.pool()).await.expect("tamper");
    assert_found(&test.db, 3, TamperKind::Deleted).await;
}
both_engines!(a_deleted_row_is_found, a_deleted_row_is_found);

async fn a_deleted_last_row_is_found(engine: Engine) {
    let test = &TestLog::new(engine).await;
    five_entries_without_protection(test).await;
    sqlx::query("DELETE FROM audit_entry WHERE sequence = 5").execute(test.db.pool()).await.expect("tamper");
    assert_found(&test.db, 5, TamperKind::Deleted).await;
}
both_engines!(a_deleted_last_row_is_found, a_deleted_last_row_is_found);

async fn swapped_rows_are_found(engine: Engine) {
    let test = &TestLog::new(engine).await;
    five_entries_without_protection(test).await;
    let (second, third) = (entry(&test.db, 2).await, entry(&test.db, 3).await);
    // event_id is UNIQUE: park row 2 on a placeholder id first.
    sqlx::query("UPDATE audit_entry SET event_id = 'swap' WHERE sequence = 2")
        .execute(test.db.pool())
        .await
        .expect("park");
    overwrite(&test.db, 3, &second).await;
    overwrite(&test.db, 2, &third).await;
    assert_found(&test.db, 2, TamperKind::Reordered).await;
}
both_engines!(swapped_rows_are_found, swapped_rows_are_found);

async fn an_inserted_row_is_found(engine: Engine) {
    let test = &TestLog::new(engine).await;
    five_entries_without_protection(test).await;
    let drop = match test.backend() {
        Backend::Postgres => "DROP TRIGGER audit_entry_extends_head ON audit_entry",
        Backend::Sqlite => "DROP TRIGGER audit_entry_extends_head",
    };
    sqlx::query(drop).execute(test.db.pool()).await.expect("drop trigger");
    // Make room at 3 (one row at a time, highest first: the sequence is the primary key) …
    for sequence in (3..=5).rev() {
        sqlx::query("UPDATE audit_entry SET sequence = $1 WHERE sequence = $2")
            .bind(sequence + 1)
            .bind(sequence)
            .execute(test.db.pool())
            .await
            .expect("renumber");
    }
    // … and put a well-formed entry there that links to entry 2, as a forger would.
    let second = entry(&test.db, 2).await;
    let head = wf_audit::domain::chain::ChainHead { last_sequence: 2, last_hash: second.entry_hash.clone() };
    let mut content = second.content.clone();
    content.event_id = uuid::Uuid::now_v7().to_string();
    content.actor = "usr_forged".to_owned();
    let forged = wf_audit::domain::chain::seal(&head, content).expect("seal");
    // The row alone (`entries::append` would also move the head, which its trigger refuses).
    let mut tx = test.db.begin().await.expect("begin");
    entries::insert(&mut tx, &forged).await.expect("insert forged row");
    tx.commit().await.expect("commit");
    assert_found(&test.db, 3, TamperKind::Inserted).await;
}
both_engines!(an_inserted_row_is_found, an_inserted_row_is_found);
