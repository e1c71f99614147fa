//! The checkpoint and proof RPCs of `AuditService`.

use wf_db::Db;
use wf_proto::audit::v1 as pb;
use wf_server::ApiError;
use wf_server::pagination::{PageLimits, next_page, page_token};

use super::to_proto::{checkpoint_to_proto, entry_to_proto};
use crate::app::proofs;
use crate::store::checkpoints;

const PAGES: PageLimits = PageLimits::new(100, 1000);

pub async fn get(db: &Db, request: pb::GetCheckpointRequest) -> Result<pb::GetCheckpointResponse, ApiError> {
    let checkpoint = proofs::exact_or_latest(db, request.tree_size, "tree_size").await?;
    Ok(pb::GetCheckpointResponse { checkpoint: Some(checkpoint_to_proto(&checkpoint)) })
}

/// Microseconds of a wire timestamp, refusing one out of range.
fn micros(field: &str, at: Option<&prost_types::Timestamp>) -> Result<Option<i64>, ApiError> {
    let Some(at) = at else { return Ok(None) };
    u32::try_from(at.nanos)
        .ok()
        .and_then(|nanos| chrono::DateTime::from_timestamp(at.seconds, nanos))
        .map(|at| Some(wf_db::to_micros(at)))
        .ok_or_else(|| ApiError::invalid(field, "is not a valid timestamp"))
}

pub async fn list(db: &Db, request: pb::ListCheckpointsRequest) -> Result<pb::ListCheckpointsResponse, ApiError> {
    let mut violations = Vec::new();
    let page_size = PAGES.size(request.page_size, &mut violations);
    let after = page_token::<u64>(&request.page_token, &mut violations).unwrap_or(0);
    ApiError::check(violations)?;
    let range = request.created.as_ref();
    let from = micros("created.start", range.and_then(|r| r.start.as_ref()))?;
    let before = micros("created.end", range.and_then(|r| r.end.as_ref()))?;
    let limit = u32::try_from(page_size + 1).unwrap_or(u32::MAX);
    let mut found = checkpoints::list(db, after, from, before, limit).await?;
    let next_page_token = next_page(&mut found, page_size, |last| last.tree_size.to_string());
    Ok(pb::ListCheckpointsResponse { checkpoints: found.iter().map(checkpoint_to_proto).collect(), next_page_token })
}

pub async fn inclusion(
    db: &Db,
    request: pb::GetInclusionProofRequest,
) -> Result<pb::GetInclusionProofResponse, ApiError> {
    if request.sequence == 0 {
        return Err(ApiError::invalid("sequence", "must be at least 1"));
    }
    let proof = proofs::inclusion(db, request.sequence, request.tree_size).await?;
    Ok(pb::GetInclusionProofResponse {
        leaf_hash: proof.leaf_hash.to_vec(),
        entry: Some(entry_to_proto(proof.entry, &crate::app::records::links(db).await?)),
        leaf_index: proof.leaf_index,
        audit_path: proof.audit_path.iter().map(|hash| hash.to_vec()).collect(),
        checkpoint: Some(checkpoint_to_proto(&proof.checkpoint)),
    })
}

pub async fn consistency(
    db: &Db,
    request: pb::GetConsistencyProofRequest,
) -> Result<pb::GetConsistencyProofResponse, ApiError> {
    if request.from_tree_size == 0 {
        return Err(ApiError::invalid("from_tree_size", "must name a checkpoint (at least 1)"));
    }
    let proof = proofs::consistency(db, request.from_tree_size, request.to_tree_size).await?;
    Ok(pb::GetConsistencyProofResponse {
        proof: proof.proof.iter().map(|hash| hash.to_vec()).collect(),
        from_checkpoint: Some(checkpoint_to_proto(&proof.from)),
        to_checkpoint: Some(checkpoint_to_proto(&proof.to)),
    })
}
