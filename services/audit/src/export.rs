//! A self-contained export of a range of the log, verifiable offline with the audit public key
//! alone: the entries with every canonical field, and the signed checkpoint whose head hash the
//! range's last entry must reproduce.
//!
//! Why that suffices: each entry hash covers its canonical fields and the previous hash, so a
//! range that recomputes link by link to the head hash of a valid signed checkpoint is exactly
//! what was appended, from its first entry (whose `previous_hash` is hashed in too) to the
//! checkpoint. An export therefore always runs up to a checkpoint's `tree_size`.
//!
//! # File format `wayfinder.audit.export.v1` (JSON)
//!
//! `{ "format", "from_sequence", "to_sequence", "public_key_pem" (informational; verify with a
//! key obtained independently), "checkpoint": CheckpointJson, "entries": [ExportEntry…] }`
//! with hashes and payloads in lowercase hex and instants in microseconds since the epoch.

use serde::{Deserialize, Serialize};

use crate::checkpoints::CheckpointJson;
use crate::domain::chain::{ChainHead, ChainProblem, ChainVerifier, Entry, EntryContent, TamperKind};
use crate::domain::checkpoint::CheckpointVerifier;

pub const EXPORT_FORMAT: &str = "wayfinder.audit.export.v1";

/// One entry with every field of its canonical encoding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportEntry {
    pub sequence: u64,
    pub event_id: String,
    pub event_type: String,
    pub schema_version: u32,
    pub aggregate_id: String,
    pub correlation_id: String,
    pub producer: String,
    pub actor: String,
    pub actor_role: String,
    pub purpose: String,
    pub release_id: String,
    pub fields: Vec<String>,
    pub occurred_at_micros: i64,
    pub recorded_at_micros: i64,
    pub payload: String,
    pub previous_hash: String,
    pub entry_hash: String,
}

impl ExportEntry {
    pub fn from_entry(entry: &Entry) -> Self {
        let content = &entry.content;
        Self {
            sequence: entry.sequence,
            event_id: content.event_id.clone(),
            event_type: content.event_type.clone(),
            schema_version: content.schema_version,
            aggregate_id: content.aggregate_id.clone(),
            correlation_id: content.correlation_id.clone(),
            producer: content.producer.clone(),
            actor: content.actor.clone(),
            actor_role: content.actor_role.clone(),
            purpose: content.purpose.clone(),
            release_id: content.release_id.clone(),
            fields: content.fields.clone(),
            occurred_at_micros: content.occurred_at_micros,
            recorded_at_micros: content.recorded_at_micros,
            payload: hex::encode(&content.payload),
            previous_hash: hex::encode(&entry.previous_hash),
            entry_hash: hex::encode(&entry.entry_hash),
        }
    }

    /// The entry; text that is not hex becomes bytes that fail the hash (and so is reported).
    pub fn to_entry(&self) -> Entry {
        let bytes = |text: &str| hex::decode(text).unwrap_or_else(|_| text.as_bytes().to_vec());
        Entry {
            sequence: self.sequence,
            content: EntryContent {
                event_id: self.event_id.clone(),
                event_type: self.event_type.clone(),
                schema_version: self.schema_version,
                aggregate_id: self.aggregate_id.clone(),
                correlation_id: self.correlation_id.clone(),
                producer: self.producer.clone(),
                actor: self.actor.clone(),
                actor_role: self.actor_role.clone(),
                purpose: self.purpose.clone(),
                release_id: self.release_id.clone(),
                fields: self.fields.clone(),
                occurred_at_micros: self.occurred_at_micros,
                recorded_at_micros: self.recorded_at_micros,
                payload: bytes(&self.payload),
            },
            previous_hash: bytes(&self.previous_hash),
            entry_hash: bytes(&self.entry_hash),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportFile {
    pub format: String,
    pub from_sequence: u64,
    pub to_sequence: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_pem: Option<String>,
    pub checkpoint: CheckpointJson,
    pub entries: Vec<ExportEntry>,
}

/// What an offline verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportReport {
    pub from_sequence: u64,
    pub to_sequence: u64,
    pub entries: u64,
    pub checkpoint_tree_size: u64,
}

/// Verifies `file` with `key` alone; the error names the first entry (or the checkpoint) at fault.
pub fn verify_export(file: &ExportFile, key: &CheckpointVerifier) -> Result<ExportReport, ChainProblem> {
    let problem = |sequence, kind, detail: String| ChainProblem::new(sequence, kind, detail);
    if file.format != EXPORT_FORMAT {
        return Err(problem(0, TamperKind::BrokenLink, format!("format must be {EXPORT_FORMAT}")));
    }
    let checkpoint = file
        .checkpoint
        .to_checkpoint()
        .map_err(|err| problem(file.checkpoint.tree_size, TamperKind::BadSignature, err.to_string()))?;
    key.check(&checkpoint).map_err(|err| {
        problem(checkpoint.tree_size, TamperKind::BadSignature, format!("checkpoint {}: {err}", checkpoint.tree_size))
    })?;
    let entries: Vec<Entry> = file.entries.iter().map(ExportEntry::to_entry).collect();
    let Some(first) = entries.first() else {
        return Err(problem(file.from_sequence, TamperKind::Deleted, "the export holds no entries".to_owned()));
    };
    if first.sequence != file.from_sequence {
        return Err(problem(
            file.from_sequence,
            TamperKind::Deleted,
            format!("the export starts at {} instead of {}", first.sequence, file.from_sequence),
        ));
    }
    // The first entry's own previous hash is the anchor: it is hashed into the entry itself.
    let mut verifier = ChainVerifier::starting_at(first.sequence, first.previous_hash.clone());
    verifier.verify(&entries)?;
    // The signed head closes the range: entries up to tree_size must all be present.
    let head = ChainHead { last_sequence: checkpoint.tree_size, last_hash: checkpoint.last_entry_hash.to_vec() };
    verifier.finish(&head).map_err(|mut problem| {
        problem.detail = format!("against signed checkpoint {}: {}", checkpoint.tree_size, problem.detail);
        problem
    })?;
    Ok(ExportReport {
        from_sequence: file.from_sequence,
        to_sequence: file.to_sequence,
        entries: entries.len() as u64,
        checkpoint_tree_size: checkpoint.tree_size,
    })
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;

    use super::*;
    use crate::domain::chain::seal;
    use crate::domain::checkpoint::CheckpointSigner;
    use crate::domain::merkle::{self, Frontier};

    fn export(from: u64) -> (ExportFile, CheckpointVerifier) {
        let signer = CheckpointSigner::new(SigningKey::from_bytes(&[3; 32]));
        let mut head = ChainHead::genesis();
        let mut frontier = Frontier::default();
        let mut entries = Vec::new();
        for index in 1..=6u64 {
            let content = EntryContent {
                event_id: format!("e{index}"),
                event_type: "record.accessed".into(),
                actor: "usr_cm1".into(),
                payload: vec![index as u8],
                ..Default::default()
            };
            let entry = seal(&head, content).unwrap();
            head = ChainHead { last_sequence: entry.sequence, last_hash: entry.entry_hash.clone() };
            frontier.push(merkle::leaf_hash(&entry.entry_hash));
            entries.push(entry);
        }
        let checkpoint = signer.sign(6, frontier.root(), head.last_hash.clone().try_into().unwrap(), 1);
        let file = ExportFile {
            format: EXPORT_FORMAT.into(),
            from_sequence: from,
            to_sequence: 6,
            public_key_pem: None,
            checkpoint: CheckpointJson::from_checkpoint(&checkpoint),
            entries: entries[(from - 1) as usize..].iter().map(ExportEntry::from_entry).collect(),
        };
        (file, signer.verifier())
    }

    #[test]
    fn an_untouched_export_verifies() {
        let (file, key) = export(3);
        let json = serde_json::to_string(&file).unwrap();
        let read: ExportFile = serde_json::from_str(&json).unwrap();
        assert_eq!(verify_export(&read, &key).unwrap().entries, 4);
    }

    fn fault(file: &ExportFile, key: &CheckpointVerifier) -> (u64, TamperKind) {
        let problem = verify_export(file, key).unwrap_err();
        (problem.sequence, problem.kind)
    }

    #[test]
    fn each_kind_of_tampering_is_located() {
        let (file, key) = export(2);
        let mut modified = file.clone();
        modified.entries[2].actor = "usr_other".into();
        assert_eq!(fault(&modified, &key), (4, TamperKind::Modified));

        let mut deleted = file.clone();
        deleted.entries.remove(1);
        assert_eq!(fault(&deleted, &key).0, 3);

        let mut swapped = file.clone();
        swapped.entries.swap(1, 2);
        assert_eq!(fault(&swapped, &key), (3, TamperKind::Reordered));

        let mut truncated = file.clone();
        truncated.entries.pop();
        assert_eq!(fault(&truncated, &key), (6, TamperKind::Deleted));

        let mut forged = file.clone();
        forged.checkpoint.signed_at_micros += 1;
        assert_eq!(fault(&forged, &key), (6, TamperKind::BadSignature));

        let other = CheckpointSigner::new(SigningKey::from_bytes(&[4; 32])).verifier();
        assert_eq!(fault(&file, &other), (6, TamperKind::BadSignature));
    }
}
