//! Entries, checkpoints and verification reports on the wire, and back (for verifying what an API
//! returned: the command line's exports).

use wf_proto::audit::v1 as pb;
use wf_proto::time::timestamp_from_micros as timestamp;

use crate::domain::chain::{Entry, EntryContent, VerifyReport};
use crate::domain::checkpoint::Checkpoint;
use crate::domain::records::RecordLinks;

/// The wire form of an entry, with the youth whose records it is about as `links` (the whole log,
/// read now) say; the youth is not part of the stored, hashed entry.
pub fn entry_to_proto(entry: Entry, links: &RecordLinks) -> pb::AuditEntry {
    let youth_id = links.youth_of_entry(&entry).unwrap_or_default();
    let content = entry.content;
    pb::AuditEntry {
        sequence: entry.sequence,
        event_id: content.event_id,
        r#type: content.event_type,
        aggregate_id: content.aggregate_id,
        correlation_id: content.correlation_id,
        producer: content.producer,
        actor: content.actor,
        occurred_at: Some(timestamp(content.occurred_at_micros)),
        recorded_at: Some(timestamp(content.recorded_at_micros)),
        entry_hash: entry.entry_hash,
        previous_hash: entry.previous_hash,
        payload: content.payload,
        schema_version: content.schema_version,
        actor_role: content.actor_role,
        purpose: content.purpose,
        release_id: content.release_id,
        fields: content.fields,
        youth_id,
    }
}

/// Microseconds of a wire timestamp (exact for timestamps made from microseconds).
pub fn micros_of(at: Option<&prost_types::Timestamp>) -> i64 {
    at.map_or(0, |at| at.seconds.saturating_mul(1_000_000).saturating_add(i64::from(at.nanos / 1000)))
}

/// The stored form of a wire entry, for verifying what an API returned (exports).
pub fn entry_from_proto(entry: pb::AuditEntry) -> Entry {
    Entry {
        sequence: entry.sequence,
        content: EntryContent {
            event_id: entry.event_id,
            event_type: entry.r#type,
            schema_version: entry.schema_version,
            aggregate_id: entry.aggregate_id,
            correlation_id: entry.correlation_id,
            producer: entry.producer,
            actor: entry.actor,
            actor_role: entry.actor_role,
            purpose: entry.purpose,
            release_id: entry.release_id,
            fields: entry.fields,
            occurred_at_micros: micros_of(entry.occurred_at.as_ref()),
            recorded_at_micros: micros_of(entry.recorded_at.as_ref()),
            payload: entry.payload,
        },
        previous_hash: entry.previous_hash,
        entry_hash: entry.entry_hash,
    }
}

pub fn report_to_proto(report: &VerifyReport) -> pb::VerifyChainResponse {
    pb::VerifyChainResponse {
        ok: report.is_ok(),
        verified_through: report.verified_through,
        first_bad_sequence: report.problem.as_ref().map_or(0, |p| p.sequence),
        problem: report.problem.as_ref().map_or_else(String::new, |p| p.kind.code().to_owned()),
        entries_verified: report.entries_verified,
        checkpoints_verified: report.checkpoints_verified,
    }
}

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
        signed_at_micros: micros_of(checkpoint.created_at.as_ref()),
        key_id: checkpoint.key_id.clone(),
        signature: checkpoint.signature.clone(),
    })
}
