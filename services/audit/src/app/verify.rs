//! Verification of the stored log: pages through the table in batches (memory stays flat however
//! long the log is), feeds them to the pure [`ChainVerifier`], and checks every signed checkpoint
//! on the way: its signature, the head hash it signed, and the Merkle root recomputed from the
//! entries.
//!
//! The chain alone cannot catch an attacker who rewrites an entry and re-hashes everything after
//! it (including the head). A checkpoint can: the first checkpoint covering the rewrite no longer
//! matches, and the problem is located to the entries between the last checkpoint that holds and
//! that one.

use wf_db::Db;

use crate::domain::chain::{ChainProblem, ChainVerifier, Entry, Hash, TamperKind, VerifyReport};
use crate::domain::checkpoint::{Checkpoint, CheckpointVerifier};
use crate::domain::merkle::{self, Frontier};
use crate::store::checkpoints as stored_checkpoints;
use crate::store::entries;

/// Entries read per round trip.
pub const BATCH_SIZE: u32 = 10_000;

/// What to verify and against what.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// First sequence (0 or 1: from genesis). A later start is anchored at the last checkpoint
    /// before it, so the run may begin a little earlier than asked.
    pub from: u64,
    /// Last sequence (`None`: to the end, including the check against the recorded head).
    pub to: Option<u64>,
    /// Checks checkpoint signatures; without it only their head hashes and roots are compared.
    pub key: Option<CheckpointVerifier>,
    /// Checkpoint copies kept outside the database (the checkpoint file); they take precedence,
    /// and a stored checkpoint that differs from its copy is a problem.
    pub external: Vec<Checkpoint>,
}

/// Verifies the chain from `from` (0 or 1: from genesis) to its end.
pub async fn verify(db: &Db, from: u64) -> anyhow::Result<VerifyReport> {
    verify_range(db, from, None).await
}

/// Verifies entries `from..=to`, checking checkpoint roots and head hashes but not signatures.
pub async fn verify_range(db: &Db, from: u64, to: Option<u64>) -> anyhow::Result<VerifyReport> {
    verify_with(db, &VerifyOptions { from, to, ..Default::default() }).await
}

fn failed(start: u64, problem: ChainProblem, checkpoints_verified: u64) -> VerifyReport {
    let mut report = ChainVerifier::starting_at(start, Vec::new()).report(Some(problem));
    report.checkpoints_verified = checkpoints_verified;
    report
}

/// The stored checkpoints merged with the outside copies, ascending; or the first discrepancy.
async fn checkpoints(db: &Db, external: &[Checkpoint]) -> anyhow::Result<Result<Vec<Checkpoint>, ChainProblem>> {
    let mut all = stored_checkpoints::all(db).await?;
    for copy in external {
        match all.iter_mut().find(|stored| stored.tree_size == copy.tree_size) {
            Some(stored) if stored != copy => {
                return Ok(Err(ChainProblem::new(
                    copy.tree_size,
                    TamperKind::BadSignature,
                    format!("stored checkpoint {} differs from its copy outside the database", copy.tree_size),
                )));
            }
            Some(_) => {}
            // A checkpoint row that was deleted still binds the log through its copy.
            None => all.push(copy.clone()),
        }
    }
    all.sort_by_key(|checkpoint| checkpoint.tree_size);
    Ok(Ok(all))
}

/// Verifies per `options`.
pub async fn verify_with(db: &Db, options: &VerifyOptions) -> anyhow::Result<VerifyReport> {
    let from = options.from.max(1);
    // One snapshot of where the chain ends; entries appended while we run are left for next time.
    let (head, max_stored) = entries::tail(db).await?;
    let end = head.last_sequence.max(max_stored);
    let (to, to_the_end) = match options.to {
        Some(to) if to < end => (to, false),
        _ => (end, true),
    };
    let checkpoints = match checkpoints(db, &options.external).await? {
        Ok(checkpoints) => checkpoints,
        Err(problem) => return Ok(failed(from, problem, 0)),
    };

    // Where to start, what to trust there, and whether Merkle roots can be recomputed.
    let anchor = checkpoints.iter().rev().find(|checkpoint| checkpoint.tree_size < from).cloned();
    let (mut verifier, mut frontier) = match &anchor {
        _ if from == 1 => (ChainVerifier::from_genesis(), Some(Frontier::default())),
        Some(anchor) => {
            if let Some(key) = &options.key
                && let Err(err) = key.check(anchor)
            {
                let problem = ChainProblem::new(anchor.tree_size, TamperKind::BadSignature, err.to_string());
                return Ok(failed(anchor.tree_size, problem, 0));
            }
            // The stored frontier is only usable when it reproduces the signed root.
            let frontier = stored_checkpoints::by_size(db, anchor.tree_size)
                .await?
                .map(|(_, frontier)| frontier)
                .filter(|frontier| frontier.root() == anchor.root_hash);
            (ChainVerifier::starting_at(anchor.tree_size + 1, anchor.last_entry_hash.to_vec()), frontier)
        }
        None => match entries::entry_hash_at(db, from - 1).await? {
            Some(stored) => (ChainVerifier::starting_at(from, stored), None),
            None if from - 1 > end => return Ok(ChainVerifier::starting_at(from, Vec::new()).report(None)),
            None => {
                let problem = ChainProblem::new(
                    from - 1,
                    TamperKind::Deleted,
                    format!("entry {} to start from is missing", from - 1),
                );
                return Ok(failed(from, problem, 0));
            }
        },
    };
    let start = verifier.next_sequence();
    // Index of the next checkpoint to reach (a plain index: no iterator borrowed across awaits).
    let mut pending = checkpoints.partition_point(|checkpoint| checkpoint.tree_size < start);
    let mut last_good = start - 1;
    let mut checkpoints_verified = u64::from(anchor.is_some() && from > 1 && options.key.is_some());
    let with_count = |mut report: VerifyReport, count: u64| {
        report.checkpoints_verified = count;
        report
    };

    let mut cursor = start;
    while cursor <= to {
        // One extra row is look-ahead for explaining a problem at the batch's last entry.
        let window = entries::entries_between(db, cursor, to, BATCH_SIZE + 1).await?;
        let last_batch = window.len() <= BATCH_SIZE as usize;
        let consume = window.len().min(BATCH_SIZE as usize);
        if let Err(problem) = verifier.verify_window(&window, consume) {
            return Ok(with_count(verifier.report(Some(problem)), checkpoints_verified));
        }
        for entry in &window[..consume] {
            let hash: Hash = entry.entry_hash.as_slice().try_into().unwrap_or_default();
            if let Some(frontier) = frontier.as_mut() {
                frontier.push(merkle::leaf_hash(&hash));
            }
            while let Some(checkpoint) = checkpoints.get(pending).filter(|c| c.tree_size == entry.sequence) {
                pending += 1;
                if let Some(problem) = check(checkpoint, entry, frontier.as_ref(), options.key.as_ref(), last_good) {
                    return Ok(with_count(verifier.report(Some(problem)), checkpoints_verified));
                }
                last_good = checkpoint.tree_size;
                checkpoints_verified += 1;
            }
        }
        if last_batch {
            break;
        }
        cursor = verifier.next_sequence();
    }
    if !to_the_end && verifier.next_sequence() <= to {
        // Stopped early: entries up to `to` are missing.
        let missing = verifier.next_sequence();
        let problem = ChainProblem::new(missing, TamperKind::Deleted, format!("entries {missing}..={to} are missing"));
        return Ok(with_count(verifier.report(Some(problem)), checkpoints_verified));
    }
    if to_the_end {
        if let Err(problem) = verifier.finish(&head) {
            return Ok(with_count(verifier.report(Some(problem)), checkpoints_verified));
        }
        // A checkpoint beyond the end: the log was cut back, head and all.
        if let Some(checkpoint) = checkpoints.get(pending) {
            let missing = verifier.next_sequence();
            let problem = ChainProblem::new(
                missing,
                TamperKind::Deleted,
                format!(
                    "checkpoint {} was signed over entries up to {}, but the log ends at {}",
                    checkpoint.tree_size,
                    checkpoint.tree_size,
                    missing - 1
                ),
            );
            return Ok(with_count(verifier.report(Some(problem)), checkpoints_verified));
        }
    }
    Ok(with_count(verifier.report(None), checkpoints_verified))
}

/// Checks one checkpoint when the walk reaches its last entry.
fn check(
    checkpoint: &Checkpoint,
    entry: &Entry,
    frontier: Option<&Frontier>,
    key: Option<&CheckpointVerifier>,
    last_good: u64,
) -> Option<ChainProblem> {
    if let Some(key) = key
        && let Err(err) = key.check(checkpoint)
    {
        return Some(ChainProblem::new(
            checkpoint.tree_size,
            TamperKind::BadSignature,
            format!("checkpoint {}: {err}", checkpoint.tree_size),
        ));
    }
    let head_differs = entry.entry_hash != checkpoint.last_entry_hash;
    let root_differs = frontier.is_some_and(|frontier| frontier.root() != checkpoint.root_hash);
    (head_differs || root_differs).then(|| {
        ChainProblem::new(
            last_good + 1,
            TamperKind::Modified,
            format!(
                "entries {}..={} no longer match signed checkpoint {}: rewritten and re-hashed",
                last_good + 1,
                checkpoint.tree_size,
                checkpoint.tree_size
            ),
        )
    })
}
