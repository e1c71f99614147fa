//! The checkpoint and proof RPCs of `AuditService`.

use tonic::Status;
use wf_db::Db;
use wf_proto::audit::v1 as pb;
use wf_server::{ApiError, FieldViolation};

use super::{entry_to_proto, timestamp};
use crate::checkpoint_store;
use crate::domain::checkpoint::Checkpoint;
use crate::domain::merkle;
use crate::store;

const DEFAULT_PAGE_SIZE: u32 = 100;
const MAX_PAGE_SIZE: u32 = 1000;

pub fn checkpoint_to_proto(checkpoint: &Checkpoint) -> pb::Checkpoint {
    pb::Checkpoint {
        tree_size: checkpoint.tree_size,
        root_hash: checkpoint.root_hash.to_vec(),
        last_entry_hash: checkpoint.last_entry_hash.to_vec(),
        created_at: Some(timestamp(checkpoint.signed_at_micros)),
        signature: checkpoint.signature.clone(),
        key_id: checkpoint.key_id.clone(),
        signed_text: checkpoint.signed_text(),
    }
}

/// The checkpoint a wire message describes; `None` when a hash is not 32 bytes.
pub fn checkpoint_from_proto(checkpoint: &pb::Checkpoint) -> Option<Checkpoint> {
    Some(Checkpoint {
        tree_size: checkpoint.tree_size,
        root_hash: checkpoint.root_hash.clone().try_into().ok()?,
        last_entry_hash: checkpoint.last_entry_hash.clone().try_into().ok()?,
        signed_at_micros: super::micros_of(checkpoint.created_at.as_ref()),
        key_id: checkpoint.key_id.clone(),
        signature: checkpoint.signature.clone(),
    })
}

fn invalid(field: &str, message: &str) -> Status {
    ApiError::InvalidArgument(vec![FieldViolation::new(field, message)]).into()
}

fn not_found(what: &str) -> Status {
    ApiError::NotFound(what.to_owned()).into()
}

/// The checkpoint of exactly `tree_size`, or the latest for 0.
async fn exact_or_latest(db: &Db, tree_size: u64, field: &str) -> Result<Checkpoint, Status> {
    let found = if tree_size == 0 {
        checkpoint_store::latest(db).await
    } else {
        checkpoint_store::by_size(db, tree_size).await
    }
    .map_err(ApiError::from)?;
    found.map(|(checkpoint, _)| checkpoint).ok_or_else(|| {
        if tree_size == 0 {
            not_found("audit checkpoint (none signed yet)")
        } else {
            invalid(field, "names no checkpoint")
        }
    })
}

pub async fn get(db: &Db, request: pb::GetCheckpointRequest) -> Result<pb::GetCheckpointResponse, Status> {
    let checkpoint = exact_or_latest(db, request.tree_size, "tree_size").await?;
    Ok(pb::GetCheckpointResponse { checkpoint: Some(checkpoint_to_proto(&checkpoint)) })
}

fn micros(field: &str, at: Option<&prost_types::Timestamp>) -> Result<Option<i64>, Status> {
    let Some(at) = at else { return Ok(None) };
    u32::try_from(at.nanos)
        .ok()
        .and_then(|nanos| chrono::DateTime::from_timestamp(at.seconds, nanos))
        .map(|at| Some(wf_db::to_micros(at)))
        .ok_or_else(|| invalid(field, "is not a valid timestamp"))
}

pub async fn list(db: &Db, request: pb::ListCheckpointsRequest) -> Result<pb::ListCheckpointsResponse, Status> {
    let page_size = match request.page_size {
        0 => DEFAULT_PAGE_SIZE,
        size if size < 0 => return Err(invalid("page_size", "must not be negative (0 = 100, at most 1000)")),
        size => (size as u32).min(MAX_PAGE_SIZE),
    };
    let after = if request.page_token.is_empty() {
        0
    } else {
        request
            .page_token
            .parse::<u64>()
            .map_err(|_| invalid("page_token", "is not a token from a previous response"))?
    };
    let range = request.created.as_ref();
    let from = micros("created.start", range.and_then(|r| r.start.as_ref()))?;
    let before = micros("created.end", range.and_then(|r| r.end.as_ref()))?;
    let mut checkpoints =
        checkpoint_store::list(db, after, from, before, page_size + 1).await.map_err(ApiError::from)?;
    let next_page_token = if checkpoints.len() > page_size as usize {
        checkpoints.truncate(page_size as usize);
        checkpoints.last().map(|last| last.tree_size.to_string()).unwrap_or_default()
    } else {
        String::new()
    };
    Ok(pb::ListCheckpointsResponse {
        checkpoints: checkpoints.iter().map(checkpoint_to_proto).collect(),
        next_page_token,
    })
}

pub async fn inclusion(
    db: &Db,
    request: pb::GetInclusionProofRequest,
) -> Result<pb::GetInclusionProofResponse, Status> {
    if request.sequence == 0 {
        return Err(invalid("sequence", "must be at least 1"));
    }
    let checkpoint = if request.tree_size == 0 {
        checkpoint_store::at_or_above(db, request.sequence)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| not_found("audit checkpoint covering that entry (none signed yet)"))?
    } else {
        let checkpoint = exact_or_latest(db, request.tree_size, "tree_size").await?;
        if checkpoint.tree_size < request.sequence {
            return Err(invalid("tree_size", "must be at least sequence (the checkpoint must cover the entry)"));
        }
        checkpoint
    };
    let entry = store::entry_by_sequence(db, request.sequence)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(|| not_found("audit entry"))?;
    let leaves = checkpoint_store::leaves(db, checkpoint.tree_size).await.map_err(ApiError::from)?;
    let index = usize::try_from(request.sequence - 1).map_err(|_| invalid("sequence", "is too large"))?;
    let proof = merkle::inclusion_proof(&leaves, index);
    Ok(pb::GetInclusionProofResponse {
        leaf_hash: leaves[index].to_vec(),
        entry: Some(entry_to_proto(entry)),
        leaf_index: request.sequence - 1,
        audit_path: proof.iter().map(|hash| hash.to_vec()).collect(),
        checkpoint: Some(checkpoint_to_proto(&checkpoint)),
    })
}

pub async fn consistency(
    db: &Db,
    request: pb::GetConsistencyProofRequest,
) -> Result<pb::GetConsistencyProofResponse, Status> {
    if request.from_tree_size == 0 {
        return Err(invalid("from_tree_size", "must name a checkpoint (at least 1)"));
    }
    let from = exact_or_latest(db, request.from_tree_size, "from_tree_size").await?;
    let to = exact_or_latest(db, request.to_tree_size, "to_tree_size").await?;
    if to.tree_size < from.tree_size {
        return Err(invalid("to_tree_size", "must not be below from_tree_size (0 = the latest checkpoint)"));
    }
    let leaves = checkpoint_store::leaves(db, to.tree_size).await.map_err(ApiError::from)?;
    let size = usize::try_from(from.tree_size).map_err(|_| invalid("from_tree_size", "is too large"))?;
    let proof = merkle::consistency_proof(&leaves, size);
    Ok(pb::GetConsistencyProofResponse {
        proof: proof.iter().map(|hash| hash.to_vec()).collect(),
        from_checkpoint: Some(checkpoint_to_proto(&from)),
        to_checkpoint: Some(checkpoint_to_proto(&to)),
    })
}
