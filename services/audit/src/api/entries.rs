//! The log itself: `ListEntries`, `GetEntry` and `VerifyChain`, and one record's reads
//! (`ListRecordViews`).

use prost::Message as _;
use wf_db::Db;
use wf_events::EventPayload as _;
use wf_proto::audit::v1 as pb;
use wf_proto::events::v1::RecordAccessed;
use wf_server::ApiError;

use super::to_proto::{entry_to_proto, report_to_proto};
use crate::app::records;
use crate::app::verify::{self, VerifyOptions};
use crate::domain::checkpoint::CheckpointVerifier;
use crate::domain::query;
use crate::domain::records::Subject;
use crate::store::entries;

pub async fn list_entries(db: &Db, request: pb::ListEntriesRequest) -> Result<pb::ListEntriesResponse, ApiError> {
    let query = query::list_query(&request).map_err(ApiError::InvalidArgument)?;
    if request.youth_id.len() > 200 {
        return Err(ApiError::invalid("youth_id", "must be at most 200 characters"));
    }
    let links = records::links(db).await?;
    let limit = query.page_size as usize + 1;
    // Payloads are read even when the caller leaves them out: they say whose records an entry is about.
    let mut found = if request.youth_id.is_empty() {
        entries::list_entries(db, &query.filter, query.page_size + 1, false).await?
    } else {
        // The entries whose youth is this youth: the same records, named the same way, as
        // `AuditEntry.youth_id` and the disclosure report.
        let youth = links.records_of(&Subject::Youth(request.youth_id.clone()));
        records::entries_about(db, &query.filter, &youth, limit).await?
    };
    let next_page_token = if found.len() > query.page_size as usize {
        found.truncate(query.page_size as usize);
        found.last().map(|last| query::page_token(last.sequence)).unwrap_or_default()
    } else {
        String::new()
    };
    let entries = found
        .into_iter()
        .map(|entry| {
            let mut entry = entry_to_proto(entry, &links);
            if query.omit_payload {
                entry.payload.clear();
            }
            entry
        })
        .collect();
    Ok(pb::ListEntriesResponse { entries, next_page_token })
}

pub async fn get_entry(db: &Db, request: pb::GetEntryRequest) -> Result<pb::GetEntryResponse, ApiError> {
    use pb::get_entry_request::Key;
    let found = match request.key {
        Some(Key::Sequence(sequence)) if sequence >= 1 => entries::entry_by_sequence(db, sequence).await?,
        Some(Key::EventId(event_id)) if !event_id.is_empty() => entries::entry_by_event_id(db, &event_id).await?,
        _ => return Err(ApiError::invalid("key", "set sequence (from 1) or event_id")),
    };
    let entry = found.ok_or_else(|| ApiError::NotFound("audit entry".to_owned()))?;
    Ok(pb::GetEntryResponse { entry: Some(entry_to_proto(entry, &records::links(db).await?)) })
}

/// Verifies the stored log with the service's own key; the outcome is logged with the caller.
pub async fn verify_chain(
    db: &Db,
    key: &CheckpointVerifier,
    caller: &str,
    request: pb::VerifyChainRequest,
) -> Result<pb::VerifyChainResponse, ApiError> {
    if request.to_sequence != 0 && request.to_sequence < request.from_sequence {
        return Err(ApiError::invalid("to_sequence", "must be 0 (to the end) or not below from_sequence"));
    }
    let to = (request.to_sequence != 0).then_some(request.to_sequence);
    let options = VerifyOptions { from: request.from_sequence, to, key: Some(key.clone()), external: Vec::new() };
    let report = verify::verify_with(db, &options).await.map_err(ApiError::Internal)?;
    match &report.problem {
        None => tracing::info!(
            caller = %caller,
            from = report.from_sequence,
            verified_through = report.verified_through,
            "audit chain verified"
        ),
        Some(problem) => tracing::error!(
            caller = %caller,
            sequence = problem.sequence,
            problem = problem.kind.code(),
            detail = %problem.detail,
            "audit chain verification failed"
        ),
    }
    Ok(report_to_proto(&report))
}

/// `ListRecordViews`: the `record.accessed` entries of one record, as who read it, when and why.
pub async fn list_record_views(
    db: &Db,
    request: pb::ListRecordViewsRequest,
) -> Result<pb::ListRecordViewsResponse, ApiError> {
    let record_id = request.record_id.trim();
    if record_id.is_empty() {
        return Err(ApiError::invalid("record_id", "is required: the record's prefixed id, such as \"case_...\""));
    }
    if record_id.len() > 200 {
        return Err(ApiError::invalid("record_id", "must be at most 200 characters"));
    }
    let listed = pb::ListEntriesRequest {
        types: vec![RecordAccessed::TYPE.to_owned()],
        page_size: request.page_size,
        page_token: request.page_token.clone(),
        ..Default::default()
    };
    let mut query = query::list_query(&listed).map_err(ApiError::InvalidArgument)?;
    // A read is filed under the youth the record is of (the case's youth, a referral's), or under
    // the record itself while it has none: the candidates are the youth's entries (every id the
    // youth had, as the disclosure report finds them), kept when the read names this record.
    let links = records::links(db).await?;
    let limit = query.page_size as usize + 1;
    let mut found = match links.youth_of(record_id) {
        Some(youth) => {
            let youth = links.records_of(&Subject::Youth(links.canonical(&youth)));
            records::entries_about(db, &query.filter, &youth, limit).await?
        }
        None => {
            query.filter.aggregate_id = Some(record_id.to_owned());
            entries::list_entries(db, &query.filter, query.page_size + 1, false).await?
        }
    };
    let next_page_token = if found.len() > query.page_size as usize {
        found.truncate(query.page_size as usize);
        found.last().map(|last| query::page_token(last.sequence)).unwrap_or_default()
    } else {
        String::new()
    };
    let views = found
        .iter()
        .filter_map(|entry| RecordAccessed::decode(entry.content.payload.as_slice()).ok())
        .filter(|read| read.record_id == record_id)
        .map(|read| pb::RecordView {
            actor: read.actor,
            actor_role: read.actor_role,
            actor_organization_id: read.actor_organization_id,
            accessed_at: read.at,
            purpose: read.purpose,
            fields: read.fields,
            break_glass: read.break_glass,
        })
        .collect();
    Ok(pb::ListRecordViewsResponse { views, next_page_token })
}
