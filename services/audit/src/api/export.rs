//! `ExportRange`: pages of entries running up to a signed checkpoint, for an outside copy.

use wf_db::Db;
use wf_proto::audit::v1 as pb;
use wf_server::ApiError;
use wf_server::pagination::{PageLimits, page_token};

use super::to_proto::{checkpoint_to_proto, entry_to_proto};
use crate::app::export;

const PAGES: PageLimits = PageLimits::new(1000, 10_000);

/// Entries `from_sequence..=C.tree_size` where C is the first checkpoint covering
/// `to_sequence` (0: the latest checkpoint), so the range ends on a signed head.
pub async fn export_range(db: &Db, request: pb::ExportRangeRequest) -> Result<pb::ExportRangeResponse, ApiError> {
    let from = request.from_sequence.max(1);
    if request.to_sequence != 0 && request.to_sequence < from {
        return Err(ApiError::invalid(
            "to_sequence",
            "must be 0 (to the latest checkpoint) or not below from_sequence",
        ));
    }
    let mut violations = Vec::new();
    let page_size = PAGES.size(request.page_size, &mut violations);
    let after = page_token::<u64>(&request.page_token, &mut violations);
    ApiError::check(violations)?;
    let page = export::export_page(db, from, request.to_sequence, after, page_size).await?;
    Ok(pb::ExportRangeResponse {
        entries: {
            let links = crate::app::records::links(db).await?;
            page.entries.into_iter().map(|entry| entry_to_proto(entry, &links)).collect()
        },
        checkpoint: Some(checkpoint_to_proto(&page.checkpoint)),
        next_page_token: page.next_page_token,
    })
}
