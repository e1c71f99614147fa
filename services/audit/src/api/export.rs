//! `ExportRange`: pages of entries running up to a signed checkpoint, for an outside copy.

use tonic::Status;
use wf_db::Db;
use wf_proto::audit::v1 as pb;
use wf_server::{ApiError, FieldViolation};

use super::checkpoints::checkpoint_to_proto;
use super::entry_to_proto;
use crate::{checkpoint_store, store};

const DEFAULT_PAGE_SIZE: u32 = 1000;
const MAX_PAGE_SIZE: u32 = 10_000;

fn invalid(field: &str, message: &str) -> Status {
    ApiError::InvalidArgument(vec![FieldViolation::new(field, message)]).into()
}

/// Entries `from_sequence..=C.tree_size` where C is the first checkpoint covering
/// `to_sequence` (0: the latest checkpoint), so the range ends on a signed head.
pub async fn export_range(db: &Db, request: pb::ExportRangeRequest) -> Result<pb::ExportRangeResponse, Status> {
    let from = request.from_sequence.max(1);
    if request.to_sequence != 0 && request.to_sequence < from {
        return Err(invalid("to_sequence", "must be 0 (to the latest checkpoint) or not below from_sequence"));
    }
    let page_size = match request.page_size {
        0 => DEFAULT_PAGE_SIZE,
        size if size < 0 => return Err(invalid("page_size", "must not be negative (0 = 1000, at most 10000)")),
        size => (size as u32).min(MAX_PAGE_SIZE),
    };
    let checkpoint = if request.to_sequence == 0 {
        checkpoint_store::latest(db).await.map_err(ApiError::from)?.map(|(checkpoint, _)| checkpoint)
    } else {
        checkpoint_store::at_or_above(db, request.to_sequence).await.map_err(ApiError::from)?
    };
    let checkpoint = checkpoint.ok_or_else(|| {
        Status::failed_precondition(
            "no signed checkpoint covers the end of that range yet: wait for the next checkpoint or lower to_sequence",
        )
    })?;
    if checkpoint.tree_size < from {
        return Err(invalid("from_sequence", "must not be beyond the latest checkpoint"));
    }
    let mut cursor = from;
    if !request.page_token.is_empty() {
        let last: u64 =
            request.page_token.parse().map_err(|_| invalid("page_token", "is not a token from a previous response"))?;
        cursor = cursor.max(last.saturating_add(1));
    }
    let entries = store::entries_between(db, cursor, checkpoint.tree_size, page_size).await.map_err(ApiError::from)?;
    let next_page_token = match entries.last() {
        Some(last) if last.sequence < checkpoint.tree_size => last.sequence.to_string(),
        _ => String::new(),
    };
    Ok(pb::ExportRangeResponse {
        entries: entries.into_iter().map(entry_to_proto).collect(),
        checkpoint: Some(checkpoint_to_proto(&checkpoint)),
        next_page_token,
    })
}
