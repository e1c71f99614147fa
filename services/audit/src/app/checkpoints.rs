//! Making signed checkpoints: every `every_entries` entries, or every `every` when new entries
//! arrived, each stored (append-only table) and copied as one JSON line to a file outside the
//! database — a checkpoint only counts as evidence once a copy has left the database.
//!
//! Before signing, the entries since the previous checkpoint are verified against that
//! checkpoint's signed head hash, so a key holder never signs over a chain that was already
//! tampered with.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use wf_db::Db;
use wf_types::SharedClock;

use crate::domain::chain::{ChainVerifier, Hash};
use crate::domain::checkpoint::{Checkpoint, CheckpointSigner};
use crate::domain::merkle::{self, Frontier};
use crate::store::{checkpoint_file, checkpoints, entries};

/// Entries read per round trip while extending the tree.
const BATCH: u32 = 5_000;

/// When checkpoints are made and where their copies go.
#[derive(Debug, Clone)]
pub struct CheckpointPolicy {
    /// A checkpoint at every multiple of this many entries (default 1000).
    pub every_entries: u64,
    /// No entry waits longer than this for a checkpoint covering it (default 60 s).
    pub every: Duration,
    /// JSON-lines copy of every checkpoint (default `<data_dir>/audit-checkpoints.jsonl`).
    pub file: Option<PathBuf>,
}

impl CheckpointPolicy {
    pub const DEFAULT_EVERY_ENTRIES: u64 = 1000;
    pub const DEFAULT_EVERY: Duration = Duration::from_secs(60);
    pub const DEFAULT_FILE_NAME: &'static str = "audit-checkpoints.jsonl";

    pub fn for_data_dir(data_dir: &std::path::Path) -> Self {
        Self {
            every_entries: Self::DEFAULT_EVERY_ENTRIES,
            every: Self::DEFAULT_EVERY,
            file: Some(data_dir.join(Self::DEFAULT_FILE_NAME)),
        }
    }
}

/// Makes checkpoints for one database with one key.
#[derive(Debug, Clone)]
pub struct Checkpointer {
    db: Db,
    signer: Arc<CheckpointSigner>,
    policy: CheckpointPolicy,
    /// When an entry was recorded is compared with now, and checkpoints are signed at now.
    clock: SharedClock,
}

impl Checkpointer {
    pub fn new(db: Db, signer: Arc<CheckpointSigner>, policy: CheckpointPolicy, clock: SharedClock) -> Self {
        Self { db, signer, policy, clock }
    }

    pub fn policy(&self) -> &CheckpointPolicy {
        &self.policy
    }

    /// Makes every checkpoint that is due now; returns them in order.
    pub async fn tick(&self) -> anyhow::Result<Vec<Checkpoint>> {
        let (head, _) = entries::tail(&self.db).await?;
        let latest = checkpoints::latest(&self.db).await?;
        let mut covered = latest.as_ref().map_or(0, |(checkpoint, _)| checkpoint.tree_size);
        let mut made = Vec::new();
        let every = self.policy.every_entries.max(1);
        while head.last_sequence >= covered + every {
            let size = (covered / every + 1) * every;
            made.push(self.checkpoint_through(size).await?);
            covered = size;
        }
        if head.last_sequence > covered {
            // Due once the oldest entry no checkpoint covers has waited `every`.
            let every_micros = i64::try_from(self.policy.every.as_micros()).unwrap_or(i64::MAX);
            let oldest = entries::entry_by_sequence(&self.db, covered + 1).await?;
            let now = self.clock.now_micros();
            let waited = oldest.map(|entry| now.saturating_sub(entry.content.recorded_at_micros));
            if waited.is_some_and(|waited| waited >= every_micros) {
                made.push(self.checkpoint_through(head.last_sequence).await?);
            }
        }
        Ok(made)
    }

    /// Signs a checkpoint over entries `1..=tree_size` (or returns the one that exists).
    pub async fn checkpoint_through(&self, tree_size: u64) -> anyhow::Result<Checkpoint> {
        if let Some((existing, _)) = checkpoints::by_size(&self.db, tree_size).await? {
            return Ok(existing);
        }
        let previous = checkpoints::at_or_below(&self.db, tree_size).await?;
        let (mut verifier, mut frontier) = match &previous {
            Some((checkpoint, frontier)) => {
                anyhow::ensure!(
                    frontier.root() == checkpoint.root_hash,
                    "checkpoint {} has a stored frontier that does not match its signed root",
                    checkpoint.tree_size
                );
                (
                    ChainVerifier::starting_at(checkpoint.tree_size + 1, checkpoint.last_entry_hash.to_vec()),
                    frontier.clone(),
                )
            }
            None => (ChainVerifier::from_genesis(), Frontier::default()),
        };
        let mut last_hash: Option<Hash> = previous.as_ref().map(|(checkpoint, _)| checkpoint.last_entry_hash);
        while verifier.next_sequence() <= tree_size {
            let batch = entries::entries_between(&self.db, verifier.next_sequence(), tree_size, BATCH).await?;
            if batch.is_empty() {
                anyhow::bail!("cannot checkpoint {tree_size}: entry {} is missing", verifier.next_sequence());
            }
            verifier.verify(&batch).map_err(|problem| {
                anyhow::anyhow!("refusing to sign checkpoint {tree_size}: the chain does not verify ({problem})")
            })?;
            for entry in &batch {
                let hash: Hash = entry.entry_hash.as_slice().try_into().context("entry hash is not 32 bytes")?;
                frontier.push(merkle::leaf_hash(&hash));
                last_hash = Some(hash);
            }
        }
        let last_hash = last_hash.context("cannot checkpoint an empty log")?;
        let checkpoint = self.signer.sign(tree_size, frontier.root(), last_hash, self.clock.now_micros());
        if checkpoints::insert(&self.db, &checkpoint, &frontier).await? {
            if let Some(path) = &self.policy.file {
                checkpoint_file::append(path, &checkpoint)?;
            }
            tracing::debug!(tree_size, key_id = %checkpoint.key_id, "audit checkpoint signed");
            Ok(checkpoint)
        } else {
            // Another process signed this size first; theirs stands.
            checkpoints::by_size(&self.db, tree_size)
                .await?
                .map(|(checkpoint, _)| checkpoint)
                .context("checkpoint vanished after a conflicting insert")
        }
    }
}
