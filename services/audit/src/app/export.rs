//! `ExportRange`: pages of entries running up to a signed checkpoint, for an outside copy (whose
//! file format is [`crate::domain::export`]).

use wf_db::Db;
use wf_server::ApiError;

use crate::domain::chain::Entry;
use crate::domain::checkpoint::Checkpoint;
use crate::store::{checkpoints, entries};

/// One page of an export and the checkpoint the whole range ends on.
#[derive(Debug, Clone)]
pub struct ExportPage {
    pub entries: Vec<Entry>,
    pub checkpoint: Checkpoint,
    /// Empty on the page that reaches the checkpoint.
    pub next_page_token: String,
}

/// Entries `from..=C.tree_size` where C is the first checkpoint covering `to_sequence` (0: the
/// latest checkpoint), so the range ends on a signed head; this page starts after `after` (the
/// last sequence of the previous page) and holds up to `page_size` entries.
pub async fn export_page(
    db: &Db,
    from: u64,
    to_sequence: u64,
    after: Option<u64>,
    page_size: usize,
) -> Result<ExportPage, ApiError> {
    let checkpoint = if to_sequence == 0 {
        checkpoints::latest(db).await?.map(|(checkpoint, _)| checkpoint)
    } else {
        checkpoints::at_or_above(db, to_sequence).await?
    };
    let checkpoint = checkpoint.ok_or_else(|| {
        ApiError::FailedPrecondition(
            "no signed checkpoint covers the end of that range yet: wait for the next checkpoint or lower to_sequence"
                .to_owned(),
        )
    })?;
    if checkpoint.tree_size < from {
        return Err(ApiError::invalid("from_sequence", "must not be beyond the latest checkpoint"));
    }
    let cursor = after.map_or(from, |last| from.max(last.saturating_add(1)));
    let limit = u32::try_from(page_size).unwrap_or(u32::MAX);
    let entries = entries::entries_between(db, cursor, checkpoint.tree_size, limit).await?;
    let next_page_token = match entries.last() {
        Some(last) if last.sequence < checkpoint.tree_size => last.sequence.to_string(),
        _ => String::new(),
    };
    Ok(ExportPage { entries, checkpoint, next_page_token })
}
