//! The hash chain: the canonical encoding of an entry, its hash, and verification of a run of
//! stored entries.
//!
//! # Canonical encoding, version 1
//!
//! An independent verifier needs only this section and SHA-256.
//!
//! Notation: `u32be(n)` is `n` as 4 bytes big-endian; `u64be(n)` as 8 bytes big-endian;
//! `i64be(n)` as 8 bytes big-endian two's complement; `utf8(s)` the UTF-8 bytes of `s`
//! (no terminator, no normalisation); `‖` concatenation.
//!
//! ```text
//! field(b)        = u32be(len(b)) ‖ b                         -- every field is length-prefixed
//! list(s1 … sn)   = u32be(n) ‖ field(utf8(s1)) ‖ … ‖ field(utf8(sn))
//!
//! canonical(entry) =
//!      field(utf8("wayfinder.audit.entry.v1"))                -- format tag
//!   ‖ field(u64be(sequence))                                  -- 1, 2, 3 …
//!   ‖ field(utf8(event_id))                                   -- UUID, lowercase hyphenated
//!   ‖ field(utf8(type))                                       -- e.g. "referral.received"
//!   ‖ field(u32be(schema_version))
//!   ‖ field(utf8(aggregate_id))
//!   ‖ field(utf8(correlation_id))                             -- referral id, may be empty
//!   ‖ field(utf8(producer))
//!   ‖ field(utf8(actor))
//!   ‖ field(utf8(actor_role))                                 -- empty fields are field(""),
//!   ‖ field(utf8(purpose))                                    --   i.e. 4 zero bytes
//!   ‖ field(utf8(release_id))
//!   ‖ field(list(fields))                                     -- field paths read, in order
//!   ‖ field(i64be(occurred_at))                               -- microseconds since the Unix epoch
//!   ‖ field(i64be(recorded_at))                               -- microseconds since the Unix epoch
//!   ‖ field(payload)                                          -- the protobuf payload bytes as received
//!
//! entry_hash(entry) = SHA-256( previous_hash ‖ canonical(entry) )
//! previous_hash     = entry_hash of entry sequence-1; for sequence 1, 32 zero bytes
//! ```
//!
//! `previous_hash` is always exactly 32 bytes, so it needs no prefix. The sequence is inside the
//! hashed bytes, so an entry cannot be moved to another position without its hash changing.
//! Test vector (spelled out byte by byte in the test `known_answer_vector`): previous_hash = 32
//! bytes of 0x11; sequence 7, event_id "e", type "t", schema_version 2, aggregate_id "a",
//! correlation_id "", producer "p", actor "u", actor_role "r", purpose "x", release_id "",
//! fields ["f1", "g"], occurred_at -1, recorded_at 258, payload 0xff →
//! entry_hash 7cc0e5a95bc2393dc8c3bba587add35272f25522cc0b7b6685c09441a85fd3ee.
//!
//! # Verification
//!
//! [`ChainVerifier`] walks entries in sequence order and stops at the first problem. Where the
//! problem is is exact; *why* ([`TamperKind`]) is inferred from what the stored entries still
//! prove about themselves, looking only within the run of entries it was given (a batch).

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// `previous_hash` of entry 1.
pub const GENESIS_PREVIOUS_HASH: Hash = [0; 32];

/// First field of every canonical encoding; a new encoding gets a new tag.
pub const FORMAT_TAG: &str = "wayfinder.audit.entry.v1";

/// What an entry records, before it has a place in the chain. Its JSON form (in exports) has
/// every field under its own name, the payload in lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EntryContent {
    pub event_id: String,
    pub event_type: String,
    pub schema_version: u32,
    pub aggregate_id: String,
    pub correlation_id: String,
    pub producer: String,
    /// One person or one service: a user id for access events, else the producing service.
    pub actor: String,
    pub actor_role: String,
    pub purpose: String,
    pub release_id: String,
    pub fields: Vec<String>,
    pub occurred_at_micros: i64,
    pub recorded_at_micros: i64,
    #[serde(with = "hex_bytes")]
    pub payload: Vec<u8>,
}

/// Bytes as lowercase hex text. Read back, text that is not hex becomes its own bytes, so a
/// damaged export loads and then fails its hash (and is located) rather than failing to parse.
pub mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(hex::decode(&text).unwrap_or_else(|_| text.into_bytes()))
    }
}

/// An entry as stored. Hashes are kept as read (not `[u8; 32]`) so that a damaged value is
/// something to report, not something that cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub sequence: u64,
    pub content: EntryContent,
    pub previous_hash: Vec<u8>,
    pub entry_hash: Vec<u8>,
}

/// The end of the chain: the last sequence and its hash (0 and zeros when empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub last_sequence: u64,
    pub last_hash: Vec<u8>,
}

impl ChainHead {
    pub fn genesis() -> Self {
        Self { last_sequence: 0, last_hash: GENESIS_PREVIOUS_HASH.to_vec() }
    }
}

/// Where canonical bytes go: a buffer, or straight into a hasher (no allocation per entry).
trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl Sink for Sha256 {
    fn put(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

fn len32(len: usize) -> [u8; 4] {
    // An entry field over 4 GiB cannot be received (message size limits are far lower).
    u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes()
}

fn put_field(out: &mut impl Sink, bytes: &[u8]) {
    out.put(&len32(bytes.len()));
    out.put(bytes);
}

fn write_canonical(out: &mut impl Sink, sequence: u64, content: &EntryContent) {
    put_field(out, FORMAT_TAG.as_bytes());
    put_field(out, &sequence.to_be_bytes());
    put_field(out, content.event_id.as_bytes());
    put_field(out, content.event_type.as_bytes());
    put_field(out, &content.schema_version.to_be_bytes());
    put_field(out, content.aggregate_id.as_bytes());
    put_field(out, content.correlation_id.as_bytes());
    put_field(out, content.producer.as_bytes());
    put_field(out, content.actor.as_bytes());
    put_field(out, content.actor_role.as_bytes());
    put_field(out, content.purpose.as_bytes());
    put_field(out, content.release_id.as_bytes());
    // field(list(fields)): the list's byte length is known up front, so it is streamed too.
    let list_len = 4 + content.fields.iter().map(|field| 4 + field.len()).sum::<usize>();
    out.put(&len32(list_len));
    out.put(&len32(content.fields.len()));
    for field in &content.fields {
        put_field(out, field.as_bytes());
    }
    put_field(out, &content.occurred_at_micros.to_be_bytes());
    put_field(out, &content.recorded_at_micros.to_be_bytes());
    put_field(out, &content.payload);
}

/// `canonical(entry)` of the module documentation.
pub fn canonical_bytes(sequence: u64, content: &EntryContent) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + content.payload.len());
    write_canonical(&mut out, sequence, content);
    out
}

/// `SHA-256(previous_hash ‖ canonical(entry))`.
pub fn entry_hash(previous_hash: &Hash, sequence: u64, content: &EntryContent) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update(previous_hash);
    write_canonical(&mut hasher, sequence, content);
    hasher.finalize().into()
}

/// Places `content` right after `head`. A head whose hash is not 32 bytes cannot be extended:
/// that is damage for [`ChainVerifier`] to report, never something to hash over.
pub fn seal(head: &ChainHead, content: EntryContent) -> Option<Entry> {
    let previous: Hash = head.last_hash.as_slice().try_into().ok()?;
    let sequence = head.last_sequence + 1;
    let hash = entry_hash(&previous, sequence, &content);
    Some(Entry { sequence, content, previous_hash: previous.to_vec(), entry_hash: hash.to_vec() })
}

/// Whether the entry's stored hash is the hash of its stored fields at `sequence`.
fn hashes_as(entry: &Entry, sequence: u64) -> bool {
    match <&Hash>::try_from(entry.previous_hash.as_slice()) {
        Ok(previous) => entry_hash(previous, sequence, &entry.content).as_slice() == entry.entry_hash,
        Err(_) => false,
    }
}

/// Why verification stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TamperKind {
    /// An entry's fields or hash were changed after it was appended.
    Modified,
    /// Entries are missing: a gap in the sequence, a truncated end, or a deletion followed by
    /// renumbering.
    Deleted,
    /// An entry that was never appended through the chain is present.
    Inserted,
    /// Entries are present but in the wrong positions.
    Reordered,
    /// An entry does not link to its predecessor and nothing else explains why.
    BrokenLink,
    /// A checkpoint's signature does not hold: the checkpoint itself was forged or altered.
    BadSignature,
}

impl TamperKind {
    /// The coded problem reported by `VerifyChain`.
    pub fn code(self) -> &'static str {
        match self {
            TamperKind::Modified => "modified",
            TamperKind::Deleted => "deleted",
            TamperKind::Inserted => "inserted",
            TamperKind::Reordered => "reordered",
            TamperKind::BrokenLink => "broken_link",
            TamperKind::BadSignature => "bad_signature",
        }
    }
}

impl fmt::Display for TamperKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The first problem found: where, what kind, and a short explanation (sequences only, no data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainProblem {
    pub sequence: u64,
    pub kind: TamperKind,
    pub detail: String,
}

impl ChainProblem {
    pub fn new(sequence: u64, kind: TamperKind, detail: String) -> Self {
        Self { sequence, kind, detail }
    }
}

impl fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at sequence {}: {}", self.kind, self.sequence, self.detail)
    }
}

/// The outcome of a verification run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// First sequence checked.
    pub from_sequence: u64,
    /// Highest sequence that checked out (0 when none did).
    pub verified_through: u64,
    pub entries_verified: u64,
    /// `None` when every entry checked out.
    pub problem: Option<ChainProblem>,
    /// Signed checkpoints whose signature, head hash and Merkle root checked out.
    pub checkpoints_verified: u64,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.problem.is_none()
    }
}

/// Walks entries in order, remembering the last good hash, so a long chain can be checked in
/// batches without holding it in memory.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    start: u64,
    next_sequence: u64,
    previous_hash: Vec<u8>,
}

impl ChainVerifier {
    pub fn from_genesis() -> Self {
        Self::starting_at(1, GENESIS_PREVIOUS_HASH.to_vec())
    }

    /// Continues a chain at `sequence`, trusting `previous_hash` as the stored hash of the entry
    /// before it (only a run from genesis, or later a checkpoint, anchors independently).
    pub fn starting_at(sequence: u64, previous_hash: Vec<u8>) -> Self {
        let sequence = sequence.max(1);
        Self { start: sequence, next_sequence: sequence, previous_hash }
    }

    /// The sequence the next entry must have.
    pub fn next_sequence(&self) -> u64 {
        self.next_sequence
    }

    /// Checks a whole run of entries.
    pub fn verify(&mut self, entries: &[Entry]) -> Result<(), ChainProblem> {
        self.verify_window(entries, entries.len())
    }

    /// Checks `window[..consume]`; entries after `consume` are look-ahead for explaining a problem
    /// and are checked by the next call.
    pub fn verify_window(&mut self, window: &[Entry], consume: usize) -> Result<(), ChainProblem> {
        for index in 0..consume.min(window.len()) {
            let entry = &window[index];
            let good = entry.sequence == self.next_sequence
                && entry.previous_hash == self.previous_hash
                && hashes_as(entry, entry.sequence);
            if !good {
                return Err(self.explain(window, index));
            }
            self.previous_hash.clone_from(&entry.entry_hash);
            self.next_sequence += 1;
        }
        Ok(())
    }

    /// Compares the end of the verified run with the recorded head of the chain.
    pub fn finish(&self, head: &ChainHead) -> Result<(), ChainProblem> {
        let last = self.next_sequence - 1;
        if head.last_sequence < last {
            return Err(ChainProblem::new(
                head.last_sequence + 1,
                TamperKind::Inserted,
                format!("entries {}..={last} lie beyond the recorded head", head.last_sequence + 1),
            ));
        }
        if head.last_sequence > last {
            return Err(ChainProblem::new(
                self.next_sequence,
                TamperKind::Deleted,
                format!("entries {}..={} are missing: the log was truncated", self.next_sequence, head.last_sequence),
            ));
        }
        if last >= self.start && head.last_hash != self.previous_hash {
            return Err(ChainProblem::new(
                last,
                TamperKind::Modified,
                "the last entry's hash differs from the recorded head".to_owned(),
            ));
        }
        Ok(())
    }

    /// A report for a run that stopped with `problem` (or finished without one).
    pub fn report(&self, problem: Option<ChainProblem>) -> VerifyReport {
        let mut through = self.next_sequence - 1;
        if let Some(problem) = &problem {
            through = through.min(problem.sequence.saturating_sub(1));
        }
        let entries_verified = (through + 1).saturating_sub(self.start);
        VerifyReport {
            from_sequence: self.start,
            verified_through: if entries_verified == 0 { 0 } else { through },
            entries_verified,
            problem,
            checkpoints_verified: 0,
        }
    }

    /// Explains why `window[index]` failed, using what the other entries still prove.
    fn explain(&self, window: &[Entry], index: usize) -> ChainProblem {
        let expected = self.next_sequence;
        let entry = &window[index];
        let later = &window[index + 1..];

        if entry.sequence > expected {
            return if later.iter().any(|other| other.sequence == expected) {
                ChainProblem::new(
                    expected,
                    TamperKind::Reordered,
                    format!("entry {expected} appears after entry {}", entry.sequence),
                )
            } else {
                ChainProblem::new(
                    expected,
                    TamperKind::Deleted,
                    format!("entries {expected}..={} are missing", entry.sequence - 1),
                )
            };
        }
        if entry.sequence < expected {
            return ChainProblem::new(
                entry.sequence,
                TamperKind::Inserted,
                format!("a second entry claims sequence {}", entry.sequence),
            );
        }

        if !hashes_as(entry, expected) {
            // The content may still be intact but hashed for another position.
            let reach = window.len() as u64 + 1;
            let original = (expected.saturating_sub(reach).max(1)..=expected + reach)
                .find(|&candidate| candidate != expected && hashes_as(entry, candidate));
            return match original {
                None => ChainProblem::new(
                    expected,
                    TamperKind::Modified,
                    "stored fields do not match the entry hash".to_owned(),
                ),
                Some(original) if original > expected => {
                    let predecessor_present = window
                        .iter()
                        .any(|other| other.sequence != entry.sequence && other.entry_hash == entry.previous_hash);
                    if predecessor_present {
                        ChainProblem::new(
                            expected,
                            TamperKind::Reordered,
                            format!("holds the entry appended as {original}"),
                        )
                    } else {
                        ChainProblem::new(
                            expected,
                            TamperKind::Deleted,
                            format!(
                                "holds the entry appended as {original}: earlier entries were deleted and the rest renumbered"
                            ),
                        )
                    }
                }
                Some(original) => ChainProblem::new(
                    original,
                    TamperKind::Inserted,
                    format!("entry {expected} was appended as {original}: entries were inserted before it"),
                ),
            };
        }

        // Consistent in itself, but it does not follow the entry before it.
        if later.first().is_some_and(|next| next.previous_hash == self.previous_hash) {
            return ChainProblem::new(
                expected,
                TamperKind::Inserted,
                format!("entry {} links past it to entry {}", expected + 1, expected - 1),
            );
        }
        let links_elsewhere =
            window.iter().any(|other| other.sequence != entry.sequence && other.entry_hash == entry.previous_hash);
        if links_elsewhere {
            return ChainProblem::new(
                expected,
                TamperKind::Reordered,
                "links to an entry at another position".to_owned(),
            );
        }
        if expected > self.start {
            return ChainProblem::new(
                expected - 1,
                TamperKind::Modified,
                format!("entry {expected} links to a different version of it: rewritten and re-hashed"),
            );
        }
        ChainProblem::new(expected, TamperKind::BrokenLink, format!("does not link to entry {}", expected - 1))
    }
}

#[cfg(test)]
mod tests;
