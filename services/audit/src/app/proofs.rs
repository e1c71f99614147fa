//! The checkpoint a request names, and RFC 6962 Merkle proofs against signed checkpoints: that
//! an entry is in the tree a checkpoint signed (inclusion), and that a later checkpoint's tree
//! extends an earlier one's (consistency).

use wf_db::Db;
use wf_server::ApiError;

use crate::domain::chain::{Entry, Hash};
use crate::domain::checkpoint::Checkpoint;
use crate::domain::merkle;
use crate::store::{checkpoints, entries};

/// The checkpoint of exactly `tree_size`, or the latest for 0; a size that names none is a
/// mistake in the request's `field`.
pub async fn exact_or_latest(db: &Db, tree_size: u64, field: &str) -> Result<Checkpoint, ApiError> {
    let found = if tree_size == 0 { checkpoints::latest(db).await } else { checkpoints::by_size(db, tree_size).await }?;
    found.map(|(checkpoint, _)| checkpoint).ok_or_else(|| {
        if tree_size == 0 {
            ApiError::NotFound("audit checkpoint (none signed yet)".to_owned())
        } else {
            ApiError::invalid(field, "names no checkpoint")
        }
    })
}

/// Entry `leaf_index + 1` and the audit path from its leaf to the root `checkpoint` signed.
#[derive(Debug, Clone)]
pub struct Inclusion {
    pub entry: Entry,
    pub leaf_hash: Hash,
    pub leaf_index: u64,
    pub audit_path: Vec<Hash>,
    pub checkpoint: Checkpoint,
}

/// Proves entry `sequence` (from 1) is in the checkpoint of `tree_size`, or for 0 in the first
/// checkpoint covering it.
pub async fn inclusion(db: &Db, sequence: u64, tree_size: u64) -> Result<Inclusion, ApiError> {
    let checkpoint = if tree_size == 0 {
        checkpoints::at_or_above(db, sequence)
            .await?
            .ok_or_else(|| ApiError::NotFound("audit checkpoint covering that entry (none signed yet)".to_owned()))?
    } else {
        let checkpoint = exact_or_latest(db, tree_size, "tree_size").await?;
        if checkpoint.tree_size < sequence {
            return Err(ApiError::invalid(
                "tree_size",
                "must be at least sequence (the checkpoint must cover the entry)",
            ));
        }
        checkpoint
    };
    let entry =
        entries::entry_by_sequence(db, sequence).await?.ok_or_else(|| ApiError::NotFound("audit entry".to_owned()))?;
    let leaves = checkpoints::leaves(db, checkpoint.tree_size).await?;
    let index = usize::try_from(sequence - 1).map_err(|_| ApiError::invalid("sequence", "is too large"))?;
    Ok(Inclusion {
        entry,
        leaf_hash: leaves[index],
        leaf_index: sequence - 1,
        audit_path: merkle::inclusion_proof(&leaves, index),
        checkpoint,
    })
}

/// The hashes proving the tree of `to` extends the tree of `from`.
#[derive(Debug, Clone)]
pub struct Consistency {
    pub proof: Vec<Hash>,
    pub from: Checkpoint,
    pub to: Checkpoint,
}

/// Proves the checkpoint of `to_tree_size` (0: the latest) extends that of `from_tree_size`.
pub async fn consistency(db: &Db, from_tree_size: u64, to_tree_size: u64) -> Result<Consistency, ApiError> {
    let from = exact_or_latest(db, from_tree_size, "from_tree_size").await?;
    let to = exact_or_latest(db, to_tree_size, "to_tree_size").await?;
    if to.tree_size < from.tree_size {
        return Err(ApiError::invalid("to_tree_size", "must not be below from_tree_size (0 = the latest checkpoint)"));
    }
    let leaves = checkpoints::leaves(db, to.tree_size).await?;
    let size = usize::try_from(from.tree_size).map_err(|_| ApiError::invalid("from_tree_size", "is too large"))?;
    Ok(Consistency { proof: merkle::consistency_proof(&leaves, size), from, to })
}
