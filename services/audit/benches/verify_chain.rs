//! Acceptance 3: how fast the audit log verifies. Prints a report; asserts nothing about time.
//!
//! `cargo bench -p wf-audit --bench verify_chain` (optionally `-- <entries> <stored entries>`,
//! defaults 1,000,000 and 100,000):
//!
//! 1. the pure chain logic over in-memory entries (generated and verified in batches, so memory
//!    stays flat; only verification is timed), with the Merkle root computed on the way;
//! 2. the store-backed verification (`wf_audit::verify_with`, checkpoints included) of a SQLite
//!    log, after signing a checkpoint every 1000 entries.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use wf_audit::domain::chain::{ChainHead, ChainVerifier, Entry, EntryContent, Hash, seal};
use wf_audit::domain::checkpoint::CheckpointSigner;
use wf_audit::domain::merkle::{self, Frontier};
use wf_audit::store::entries;
use wf_audit::{CheckpointPolicy, Checkpointer, VerifyOptions};
use wf_db::Db;

const BATCH: usize = 10_000;

/// A realistic access entry (fictional ids; ~60 payload bytes like a `record.accessed`).
fn content(index: u64) -> EntryContent {
    EntryContent {
        event_id: format!("0190f5a2-7c1e-7000-8000-{index:012x}"),
        event_type: "record.accessed".to_owned(),
        schema_version: 1,
        aggregate_id: format!("ref_{index:08}"),
        correlation_id: format!("ref_{index:08}"),
        producer: "intake".to_owned(),
        actor: "usr_cm1".to_owned(),
        actor_role: "case_manager".to_owned(),
        purpose: "case_management".to_owned(),
        release_id: String::new(),
        fields: vec!["personal.legal_first_name".to_owned(), "personal.safe_contact".to_owned()],
        occurred_at_micros: 1_700_000_000_000_000 + index as i64,
        recorded_at_micros: 1_700_000_000_000_100 + index as i64,
        payload: vec![0x5a; 60],
    }
}

fn next_batch(head: &mut ChainHead, count: usize) -> Vec<Entry> {
    (0..count)
        .map(|_| {
            let entry = seal(head, content(head.last_sequence + 1)).expect("32-byte head");
            head.last_sequence = entry.sequence;
            head.last_hash.clone_from(&entry.entry_hash);
            entry
        })
        .collect()
}

fn rate(count: u64, elapsed: Duration) -> String {
    format!("{:.0} entries/s", count as f64 / elapsed.as_secs_f64())
}

fn in_memory(total: u64) {
    let mut head = ChainHead::genesis();
    let mut verifier = ChainVerifier::from_genesis();
    let mut frontier = Frontier::default();
    let (mut building, mut verifying) = (Duration::ZERO, Duration::ZERO);
    while head.last_sequence < total {
        let count = BATCH.min((total - head.last_sequence) as usize);
        let started = Instant::now();
        let batch = next_batch(&mut head, count);
        building += started.elapsed();
        let started = Instant::now();
        verifier.verify(&batch).expect("an untampered chain verifies");
        for entry in &batch {
            let hash: Hash = entry.entry_hash.as_slice().try_into().expect("32 bytes");
            frontier.push(merkle::leaf_hash(&hash));
        }
        std::hint::black_box(frontier.root());
        verifying += started.elapsed();
    }
    verifier.finish(&head).expect("ends at the head");
    println!("in-memory chain, {total} entries:");
    println!("  build (seal):              {:>8.3} s  {}", building.as_secs_f64(), rate(total, building));
    println!(
        "  verify (chain + Merkle):   {:>8.3} s  {}  — goal under 5 s: {}",
        verifying.as_secs_f64(),
        rate(total, verifying),
        if verifying < Duration::from_secs(5) { "met" } else { "NOT met" }
    );
}

async fn stored(total: u64) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("wf-audit-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let db = Db::connect(&wf_db::sqlite_url_in(&dir, "audit.db")).await?;
    db.migrate(&wf_audit::migrations()).await?;

    let started = Instant::now();
    let mut head = ChainHead::genesis();
    while head.last_sequence < total {
        let count = BATCH.min((total - head.last_sequence) as usize);
        let mut tx = db.begin().await?;
        for entry in next_batch(&mut head, count) {
            entries::append(&mut tx, &entry).await?;
        }
        tx.commit().await?;
    }
    let appending = started.elapsed();

    let signer = Arc::new(CheckpointSigner::new(SigningKey::from_bytes(&[7; 32])));
    let policy = CheckpointPolicy { every_entries: 1000, every: Duration::from_secs(3600), file: None };
    let started = Instant::now();
    let checkpoints =
        Checkpointer::new(db.clone(), signer.clone(), policy, wf_types::SystemClock::shared()).tick().await?.len();
    let signing = started.elapsed();

    let options = VerifyOptions { from: 1, to: None, key: Some(signer.verifier()), external: Vec::new() };
    let started = Instant::now();
    let report = wf_audit::verify_with(&db, &options).await?;
    let verifying = started.elapsed();
    assert!(report.is_ok(), "{report:?}");
    db.close().await;
    let _ = std::fs::remove_dir_all(&dir);

    println!("SQLite store, {total} entries:");
    println!("  append (batched tx):       {:>8.3} s  {}", appending.as_secs_f64(), rate(total, appending));
    println!("  sign {checkpoints} checkpoints:      {:>8.3} s  {}", signing.as_secs_f64(), rate(total, signing));
    println!(
        "  verify (chain + {} checkpoints): {:>8.3} s  {}",
        report.checkpoints_verified,
        verifying.as_secs_f64(),
        rate(report.entries_verified, verifying)
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; numbers are the only positional arguments.
    let numbers: Vec<u64> = std::env::args().skip(1).filter_map(|arg| arg.parse().ok()).collect();
    let total = numbers.first().copied().unwrap_or(1_000_000);
    let stored_total = numbers.get(1).copied().unwrap_or(100_000);
    in_memory(total);
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(stored(stored_total))
}
