//! Making signed checkpoints: every `every_entries` entries, or every `every` when new entries
//! arrived, each stored (append-only table) and copied as one JSON line to a file outside the
//! database — a checkpoint only counts as evidence once a copy has left the database.
//!
//! Before signing, the entries since the previous checkpoint are verified against that
//! checkpoint's signed head hash, so a key holder never signs over a chain that was already
//! tampered with.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use wf_db::Db;

use crate::domain::chain::{ChainVerifier, Hash};
use crate::domain::checkpoint::{Checkpoint, CheckpointSigner};
use crate::domain::merkle::{self, Frontier};
use crate::{checkpoint_store, store};

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

/// One checkpoint as a JSON object: the line format of the checkpoint file and of exports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointJson {
    pub tree_size: u64,
    /// Lowercase hex.
    pub root_hash: String,
    pub last_entry_hash: String,
    pub signed_at_micros: i64,
    pub key_id: String,
    pub signature: String,
    /// The exact signed text, for readers that do not rebuild it.
    pub signed_text: String,
}

impl CheckpointJson {
    pub fn from_checkpoint(checkpoint: &Checkpoint) -> Self {
        Self {
            tree_size: checkpoint.tree_size,
            root_hash: hex::encode(checkpoint.root_hash),
            last_entry_hash: hex::encode(checkpoint.last_entry_hash),
            signed_at_micros: checkpoint.signed_at_micros,
            key_id: checkpoint.key_id.clone(),
            signature: hex::encode(&checkpoint.signature),
            signed_text: checkpoint.signed_text(),
        }
    }

    pub fn to_checkpoint(&self) -> anyhow::Result<Checkpoint> {
        let hash = |name: &str, text: &str| -> anyhow::Result<Hash> {
            hex::decode(text)
                .ok()
                .and_then(|bytes| bytes.try_into().ok())
                .ok_or_else(|| anyhow::anyhow!("checkpoint {}: {name} must be 64 hex digits", self.tree_size))
        };
        Ok(Checkpoint {
            tree_size: self.tree_size,
            root_hash: hash("root_hash", &self.root_hash)?,
            last_entry_hash: hash("last_entry_hash", &self.last_entry_hash)?,
            signed_at_micros: self.signed_at_micros,
            key_id: self.key_id.clone(),
            signature: hex::decode(&self.signature)
                .with_context(|| format!("checkpoint {}: signature must be hex", self.tree_size))?,
        })
    }
}

/// Reads a checkpoint file written by [`Checkpointer`] (blank lines are skipped).
pub fn read_checkpoint_file(path: &std::path::Path) -> anyhow::Result<Vec<Checkpoint>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(number, line)| {
            serde_json::from_str::<CheckpointJson>(line)
                .with_context(|| format!("{} line {}: not a checkpoint", path.display(), number + 1))?
                .to_checkpoint()
        })
        .collect()
}

/// Makes checkpoints for one database with one key.
#[derive(Debug, Clone)]
pub struct Checkpointer {
    db: Db,
    signer: Arc<CheckpointSigner>,
    policy: CheckpointPolicy,
}

impl Checkpointer {
    pub fn new(db: Db, signer: Arc<CheckpointSigner>, policy: CheckpointPolicy) -> Self {
        Self { db, signer, policy }
    }

    /// Makes every checkpoint that is due now; returns them in order.
    pub async fn tick(&self) -> anyhow::Result<Vec<Checkpoint>> {
        let (head, _) = store::tail(&self.db).await?;
        let latest = checkpoint_store::latest(&self.db).await?;
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
            let oldest = store::entry_by_sequence(&self.db, covered + 1).await?;
            let waited = oldest.map(|entry| wf_db::now_micros().saturating_sub(entry.content.recorded_at_micros));
            if waited.is_some_and(|waited| waited >= every_micros) {
                made.push(self.checkpoint_through(head.last_sequence).await?);
            }
        }
        Ok(made)
    }

    /// Signs a checkpoint over entries `1..=tree_size` (or returns the one that exists).
    pub async fn checkpoint_through(&self, tree_size: u64) -> anyhow::Result<Checkpoint> {
        if let Some((existing, _)) = checkpoint_store::by_size(&self.db, tree_size).await? {
            return Ok(existing);
        }
        let previous = checkpoint_store::at_or_below(&self.db, tree_size).await?;
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
            let batch = store::entries_between(&self.db, verifier.next_sequence(), tree_size, BATCH).await?;
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
        let checkpoint = self.signer.sign(tree_size, frontier.root(), last_hash, wf_db::now_micros());
        if checkpoint_store::insert(&self.db, &checkpoint, &frontier).await? {
            self.copy_out(&checkpoint)?;
            tracing::info!(tree_size, key_id = %checkpoint.key_id, "audit checkpoint signed");
            Ok(checkpoint)
        } else {
            // Another process signed this size first; theirs stands.
            checkpoint_store::by_size(&self.db, tree_size)
                .await?
                .map(|(checkpoint, _)| checkpoint)
                .context("checkpoint vanished after a conflicting insert")
        }
    }

    fn copy_out(&self, checkpoint: &Checkpoint) -> anyhow::Result<()> {
        let Some(path) = &self.policy.file else { return Ok(()) };
        let mut line = serde_json::to_string(&CheckpointJson::from_checkpoint(checkpoint))?;
        line.push('\n');
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening the checkpoint file {}", path.display()))?;
        file.write_all(line.as_bytes())
            .and_then(|()| file.sync_data())
            .with_context(|| format!("appending to the checkpoint file {}", path.display()))
    }

    /// Ticks until `shutdown`, at most a second apart so the entry-count trigger is prompt.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let pause = self.policy.every.min(Duration::from_secs(1)).max(Duration::from_millis(50));
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                () = tokio::time::sleep(pause) => {}
            }
            if let Err(err) = self.tick().await {
                tracing::error!(error = %format!("{err:#}"), "audit checkpoint failed");
            }
        }
    }
}
