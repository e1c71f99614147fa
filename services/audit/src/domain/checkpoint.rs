//! Signed checkpoints: a commitment to the first `tree_size` entries of the log.
//!
//! # Signed text, version 1
//!
//! The Ed25519 signature is over the UTF-8 bytes of exactly these six lines, each ending in
//! `\n` (hashes in lowercase hex, the time in microseconds since the Unix epoch):
//!
//! ```text
//! wayfinder.audit.checkpoint.v1
//! tree_size <decimal>
//! root <hex of the RFC 6962 Merkle root over leaves 1..=tree_size>
//! head <hex of entry_hash of entry tree_size>
//! signed_at <decimal>
//! key_id <key id>
//! ```
//!
//! Leaf `i` of the tree is `SHA-256(0x00 ‖ entry_hash(entry i))` (see [`super::merkle`]): the
//! entry hash already commits to the entry's canonical bytes and the whole chain before it, and
//! a verifier that holds the entries needs nothing else to recompute it.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

use super::chain::Hash;

/// First line of the signed text; a new format gets a new tag.
pub const CHECKPOINT_TAG: &str = "wayfinder.audit.checkpoint.v1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub tree_size: u64,
    pub root_hash: Hash,
    pub last_entry_hash: Hash,
    pub signed_at_micros: i64,
    pub key_id: String,
    pub signature: Vec<u8>,
}

/// The text of the module documentation for these values.
pub fn signed_text(tree_size: u64, root: &Hash, head: &Hash, signed_at_micros: i64, key_id: &str) -> String {
    format!(
        "{CHECKPOINT_TAG}\ntree_size {tree_size}\nroot {}\nhead {}\nsigned_at {signed_at_micros}\nkey_id {key_id}\n",
        hex::encode(root),
        hex::encode(head)
    )
}

impl Checkpoint {
    pub fn signed_text(&self) -> String {
        signed_text(self.tree_size, &self.root_hash, &self.last_entry_hash, self.signed_at_micros, &self.key_id)
    }
}

/// Why a checkpoint's signature does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("signed by key {found}, but the verifying key is {expected}")]
    UnknownKey { found: String, expected: String },
    #[error("the signature does not match the checkpoint")]
    Invalid,
}

/// Signs checkpoints with the audit key.
pub struct CheckpointSigner {
    key: SigningKey,
    key_id: String,
}

impl std::fmt::Debug for CheckpointSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckpointSigner").field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

impl CheckpointSigner {
    pub fn new(key: SigningKey) -> Self {
        let key_id = key_id(&key.verifying_key());
        Self { key, key_id }
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn verifier(&self) -> CheckpointVerifier {
        CheckpointVerifier::new(self.key.verifying_key())
    }

    pub fn sign(&self, tree_size: u64, root_hash: Hash, last_entry_hash: Hash, signed_at_micros: i64) -> Checkpoint {
        let text = signed_text(tree_size, &root_hash, &last_entry_hash, signed_at_micros, &self.key_id);
        let signature = self.key.sign(text.as_bytes()).to_bytes().to_vec();
        Checkpoint { tree_size, root_hash, last_entry_hash, signed_at_micros, key_id: self.key_id.clone(), signature }
    }
}

/// Checks checkpoint signatures with the audit public key alone.
#[derive(Debug, Clone)]
pub struct CheckpointVerifier {
    key: VerifyingKey,
    key_id: String,
}

impl CheckpointVerifier {
    pub fn new(key: VerifyingKey) -> Self {
        Self { key_id: key_id(&key), key }
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }

    pub fn check(&self, checkpoint: &Checkpoint) -> Result<(), SignatureError> {
        if checkpoint.key_id != self.key_id {
            return Err(SignatureError::UnknownKey { found: checkpoint.key_id.clone(), expected: self.key_id.clone() });
        }
        let signature = Signature::from_slice(&checkpoint.signature).map_err(|_| SignatureError::Invalid)?;
        self.key.verify(checkpoint.signed_text().as_bytes(), &signature).map_err(|_| SignatureError::Invalid)
    }
}

/// A short, stable id for a public key: the first 16 hex digits of SHA-256 of its 32 bytes.
pub fn key_id(key: &VerifyingKey) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(key.as_bytes());
    format!("audit-{}", hex::encode(&digest[..8]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(seed: u8) -> CheckpointSigner {
        CheckpointSigner::new(SigningKey::from_bytes(&[seed; 32]))
    }

    #[test]
    fn a_signed_checkpoint_verifies_with_the_public_key_alone() {
        let signer = signer(7);
        let checkpoint = signer.sign(3, [1; 32], [2; 32], 1_700_000_000_000_000);
        let verifier = CheckpointVerifier::new(signer.verifier().key().to_owned());
        assert_eq!(verifier.check(&checkpoint), Ok(()));
        assert!(checkpoint.signed_text().starts_with("wayfinder.audit.checkpoint.v1\ntree_size 3\nroot 0101"));
        assert!(checkpoint.signed_text().ends_with(&format!("key_id {}\n", signer.key_id())));
    }

    #[test]
    fn any_changed_field_breaks_the_signature() {
        let signer = signer(7);
        let checkpoint = signer.sign(3, [1; 32], [2; 32], 5);
        let verifier = signer.verifier();
        let changes: [fn(&mut Checkpoint); 5] = [
            |c| c.tree_size += 1,
            |c| c.root_hash[0] ^= 1,
            |c| c.last_entry_hash[31] ^= 1,
            |c| c.signed_at_micros += 1,
            |c| c.signature[0] ^= 1,
        ];
        for change in changes {
            let mut forged = checkpoint.clone();
            change(&mut forged);
            assert_eq!(verifier.check(&forged), Err(SignatureError::Invalid), "{forged:?}");
        }
    }

    #[test]
    fn another_key_is_named() {
        let checkpoint = signer(7).sign(1, [0; 32], [0; 32], 0);
        let other = signer(8).verifier();
        assert!(matches!(other.check(&checkpoint), Err(SignatureError::UnknownKey { .. })));
    }
}
