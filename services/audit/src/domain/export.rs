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

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::chain::{ChainHead, ChainProblem, ChainVerifier, Entry, EntryContent, Hash, TamperKind, hex_bytes};
use super::checkpoint::{Checkpoint, CheckpointVerifier};

pub const EXPORT_FORMAT: &str = "wayfinder.audit.export.v1";

/// One checkpoint as a JSON object: the line format of the checkpoint file and of exports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointJson {
    pub tree_size: u64,
    /// Lowercase hex.
    pub root_hash: String,
    pub last_entry_hash: String,
    pub signed_at_micros: i64,
    pub key_id: String,
    pub signature: String,
    /// The exact signed text, for readers that do not rebuild it.
    pub signed_text: String,
}

impl CheckpointJson {
    pub fn from_checkpoint(checkpoint: &Checkpoint) -> Self {
        Self {
            tree_size: checkpoint.tree_size,
            root_hash: hex::encode(checkpoint.root_hash),
            last_entry_hash: hex::encode(checkpoint.last_entry_hash),
            signed_at_micros: checkpoint.signed_at_micros,
            key_id: checkpoint.key_id.clone(),
            signature: hex::encode(&checkpoint.signature),
            signed_text: checkpoint.signed_text(),
        }
    }

    pub fn to_checkpoint(&self) -> anyhow::Result<Checkpoint> {
        let hash = |name: &str, text: &str| -> anyhow::Result<Hash> {
            hex::decode(text)
                .ok()
                .and_then(|bytes| bytes.try_into().ok())
                .ok_or_else(|| anyhow::anyhow!("checkpoint {}: {name} must be 64 hex digits", self.tree_size))
        };
        Ok(Checkpoint {
            tree_size: self.tree_size,
            root_hash: hash("root_hash", &self.root_hash)?,
            last_entry_hash: hash("last_entry_hash", &self.last_entry_hash)?,
            signed_at_micros: self.signed_at_micros,
            key_id: self.key_id.clone(),
            signature: hex::decode(&self.signature)
                .with_context(|| format!("checkpoint {}: signature must be hex", self.tree_size))?,
        })
    }
}

/// One entry with every field of its canonical encoding: its sequence, the content's fields
/// ([`EntryContent`]'s JSON form) and both hashes, bytes in lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportEntry {
    pub sequence: u64,
    #[serde(flatten)]
    pub content: EntryContent,
    #[serde(with = "hex_bytes")]
    pub previous_hash: Vec<u8>,
    #[serde(with = "hex_bytes")]
    pub entry_hash: Vec<u8>,
}

impl ExportEntry {
    pub fn from_entry(entry: &Entry) -> Self {
        Self {
            sequence: entry.sequence,
            content: entry.content.clone(),
            previous_hash: entry.previous_hash.clone(),
            entry_hash: entry.entry_hash.clone(),
        }
    }

    /// The entry; text that was not hex is kept as bytes that fail the hash (and so is reported).
    pub fn to_entry(&self) -> Entry {
        Entry {
            sequence: self.sequence,
            content: self.content.clone(),
            previous_hash: self.previous_hash.clone(),
            entry_hash: self.entry_hash.clone(),
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
    fn an_entry_is_one_flat_json_object_in_the_documented_order() {
        let (file, _) = export(1);
        let json = serde_json::to_value(&file.entries[0]).unwrap();
        let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        let mut expected = vec![
            "sequence",
            "event_id",
            "event_type",
            "schema_version",
            "aggregate_id",
            "correlation_id",
            "producer",
            "actor",
            "actor_role",
            "purpose",
            "release_id",
            "fields",
            "occurred_at_micros",
            "recorded_at_micros",
            "payload",
            "previous_hash",
            "entry_hash",
        ];
        // A JSON value may sort its keys: the names are compared here, their order on the text below.
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        expected.sort_unstable();
        assert_eq!(sorted, expected);
        assert_eq!(json["payload"], "01");
        assert_eq!(json["previous_hash"], hex::encode([0u8; 32]));
        let text = serde_json::to_string(&file.entries[0]).unwrap();
        assert!(text.starts_with("{\"sequence\":1,\"event_id\":\"e1\""), "{text}");
        assert!(text.ends_with(&format!("\"entry_hash\":\"{}\"}}", hex::encode(&file.entries[0].entry_hash))));
        let mut damaged = json.clone();
        damaged["payload"] = "not hex".into();
        let read: ExportEntry = serde_json::from_value(damaged).unwrap();
        assert_eq!(read.content.payload, b"not hex");
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
        modified.entries[2].content.actor = "usr_other".into();
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
