//! Versioned AES-256-GCM field encryption.
//!
//! Sealed format (all integers big-endian):
//!
//! ```text
//! format (1 byte, 0x01) ‖ key version (u32) ‖ nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)
//! ```
//!
//! The 5-byte header is authenticated together with the caller's AAD, so neither the format byte nor the
//! version can be changed without decryption failing.
//!
//! # The AAD binds a value to its place
//!
//! Callers pass an AAD naming the record and the field, e.g. `b"ref_123/personal"`. Opening the value
//! with any other AAD fails, so an attacker with write access to the database cannot copy one young
//! person's encrypted details into another row (or into another field of the same row) and have the
//! service decrypt them there. Use a stable identifier that never changes for the life of the value.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::RngCore as _;
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::CryptoError;
use crate::secret_file::{read_secret_file, write_secret_file};

/// The only sealed format this crate writes.
pub const FORMAT_V1: u8 = 0x01;
/// File name of the development key ring inside the data directory.
pub const FIELD_KEYS_FILE: &str = "field_keys.json";

const HEADER_LEN: usize = 1 + 4;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Bytes a sealed value adds to its plaintext: header, nonce and tag.
pub const SEALED_OVERHEAD: usize = HEADER_LEN + NONCE_LEN + TAG_LEN;

/// A 256-bit field encryption key. Zeroized on drop; `Debug` never shows it.
#[derive(Clone)]
pub struct FieldKey([u8; 32]);

impl FieldKey {
    /// Wraps raw key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        FieldKey(bytes)
    }

    /// A fresh key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        FieldKey(bytes)
    }

    fn from_base64(version: u32, encoded: &str) -> Result<Self, CryptoError> {
        let decoded = Zeroizing::new(BASE64.decode(encoded.trim()).map_err(|_| CryptoError::KeyNotBase64 { version })?);
        let bytes: [u8; 32] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::KeyWrongLength { version, actual: decoded.len() })?;
        Ok(FieldKey(bytes))
    }

    fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(BASE64.encode(self.0))
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new((&self.0).into())
    }
}

impl Drop for FieldKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for FieldKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FieldKey([redacted])")
    }
}

/// All field keys a deployment knows, by version, and the version new values are sealed with.
///
/// Old versions stay in the ring so existing rows remain readable until the re-encryption job has
/// resealed them ([`KeyRing::needs_rotation`], [`KeyRing::reseal`]).
#[derive(Clone)]
pub struct KeyRing {
    current_version: u32,
    keys: BTreeMap<u32, FieldKey>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("current_version", &self.current_version)
            .field("versions", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl KeyRing {
    /// Builds a ring from keys already in memory. Version 0 is reserved.
    pub fn new(keys: BTreeMap<u32, FieldKey>, current_version: u32) -> Result<Self, CryptoError> {
        if keys.contains_key(&0) {
            return Err(CryptoError::ReservedKeyVersion);
        }
        if !keys.contains_key(&current_version) {
            return Err(CryptoError::CurrentVersionMissing(current_version));
        }
        Ok(KeyRing { current_version, keys })
    }

    /// Builds a ring from configuration: `(version, base64 of 32 bytes)` pairs and the current version.
    pub fn from_config(entries: &[(u32, String)], current: u32) -> Result<Self, CryptoError> {
        let mut keys = BTreeMap::new();
        for (version, encoded) in entries {
            if *version == 0 {
                return Err(CryptoError::ReservedKeyVersion);
            }
            let key = FieldKey::from_base64(*version, encoded)?;
            if keys.insert(*version, key).is_some() {
                return Err(CryptoError::DuplicateKeyVersion(*version));
            }
        }
        KeyRing::new(keys, current)
    }

    /// Loads `dir/field_keys.json`, creating it (mode 0600) with a fresh version 1 when absent.
    ///
    /// For development and the embedded mode only; production keys come from configuration.
    pub fn load_or_create_dev(dir: &Path) -> Result<Self, CryptoError> {
        let path = dir.join(FIELD_KEYS_FILE);
        if let Some(ring) = Self::read_dev_file(&path)? {
            return Ok(ring);
        }
        let ring = KeyRing::new(BTreeMap::from([(1, FieldKey::generate())]), 1)?;
        if write_secret_file(&path, ring.to_dev_json()?.as_bytes(), true)? {
            return Ok(ring);
        }
        // Another process created the file first: use its key, not ours.
        Self::read_dev_file(&path)?.ok_or_else(|| CryptoError::KeyFile {
            path: path.clone(),
            reason: "file vanished while being created".to_owned(),
        })
    }

    /// Adds version n+1 to the development key ring in `dir`, makes it current and saves it.
    ///
    /// Existing values stay readable; re-sealing them under the new key is the re-encryption job's work.
    pub fn rotate_dev(dir: &Path) -> Result<Self, CryptoError> {
        Self::load_or_create_dev(dir)?;
        Self::rotate_file(&dir.join(FIELD_KEYS_FILE))
    }

    /// Loads a key file in either format: the JSON key ring (`{"current_version": n, "keys": {"1": "<base64>"}}`,
    /// as the development file) or a single base64 key, which is version 1.
    pub fn load_file(path: &Path) -> Result<Self, CryptoError> {
        let bytes = Zeroizing::new(read_secret_file(path)?.ok_or_else(|| CryptoError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        })?);
        if is_json_ring(&bytes) {
            return Self::read_dev_file(path)?.ok_or_else(|| CryptoError::KeyFile {
                path: path.to_path_buf(),
                reason: "file vanished while being read".to_owned(),
            });
        }
        let text = std::str::from_utf8(&bytes).map_err(|_| CryptoError::KeyFile {
            path: path.to_path_buf(),
            reason: "neither a JSON key ring nor one base64 key".to_owned(),
        })?;
        Self::from_config(&[(1, text.trim().to_owned())], 1)
            .map_err(|e| CryptoError::KeyFile { path: path.to_path_buf(), reason: e.to_string() })
    }

    /// Adds version n+1 to the JSON key ring at `path`, makes it current and saves it (atomically, 0600).
    /// A single-key file cannot grow: convert it to the key-ring format first.
    pub fn rotate_file(path: &Path) -> Result<Self, CryptoError> {
        let mut ring = Self::load_ring_file(path)?;
        let next = ring.keys.keys().next_back().copied().unwrap_or(0).checked_add(1).ok_or_else(|| {
            CryptoError::KeyFile { path: path.to_path_buf(), reason: "no key version left".to_owned() }
        })?;
        ring.keys.insert(next, FieldKey::generate());
        ring.current_version = next;
        write_secret_file(path, ring.to_dev_json()?.as_bytes(), false)?;
        Ok(ring)
    }

    /// Removes key `version` from the JSON key ring at `path`. The current version is never removed.
    /// Callers check first that no stored value still names `version` (it could never be opened again).
    pub fn retire_from_file(path: &Path, version: u32) -> Result<Self, CryptoError> {
        let mut ring = Self::load_ring_file(path)?;
        let bad = |reason: String| CryptoError::Retire { path: path.to_path_buf(), reason };
        if version == ring.current_version {
            return Err(bad(format!("version {version} is the current key; rotate first, then retire it")));
        }
        if ring.keys.remove(&version).is_none() {
            let known: Vec<String> = ring.keys.keys().map(u32::to_string).collect();
            return Err(bad(format!("has no key version {version}; versions present: {}", known.join(", "))));
        }
        write_secret_file(path, ring.to_dev_json()?.as_bytes(), false)?;
        Ok(ring)
    }

    fn load_ring_file(path: &Path) -> Result<Self, CryptoError> {
        let bytes = Zeroizing::new(read_secret_file(path)?.unwrap_or_default());
        if !is_json_ring(&bytes) {
            return Err(CryptoError::KeyFile {
                path: path.to_path_buf(),
                reason: "holds a single key; rotation needs the key-ring format \
                         {\"current_version\": 1, \"keys\": {\"1\": \"<base64>\"}}"
                    .to_owned(),
            });
        }
        Self::load_file(path)
    }

    /// The version new values are sealed with.
    pub fn current_version(&self) -> u32 {
        self.current_version
    }

    /// Every version the ring can open, ascending.
    pub fn versions(&self) -> impl Iterator<Item = u32> + '_ {
        self.keys.keys().copied()
    }

    /// Seals `plaintext` with the current key and a random 96-bit nonce, bound to `aad`
    /// (record and field, e.g. `b"ref_123/personal"`; see the module documentation).
    pub fn encrypt(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let version = self.current_version;
        let key = self.keys.get(&version).ok_or(CryptoError::UnknownKeyVersion(version))?;

        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);

        let header = header(version);
        let aad_full = [header.as_slice(), aad].concat();
        let ciphertext = key
            .cipher()
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: &aad_full })
            .map_err(|_| CryptoError::Encryption)?;

        let mut sealed = Vec::with_capacity(HEADER_LEN + NONCE_LEN + ciphertext.len());
        sealed.extend_from_slice(&header);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// Opens a value sealed by [`KeyRing::encrypt`] with any key version in the ring.
    ///
    /// Any change to the sealed bytes or a different `aad` yields [`CryptoError::Authentication`];
    /// a version the ring does not hold yields [`CryptoError::UnknownKeyVersion`].
    pub fn decrypt(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let version = Self::key_version_of(sealed)?;
        let key = self.keys.get(&version).ok_or(CryptoError::UnknownKeyVersion(version))?;
        let (header, rest) = sealed.split_at(HEADER_LEN);
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let aad_full = [header, aad].concat();
        key.cipher()
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad_full })
            .map_err(|_| CryptoError::Authentication)
    }

    /// The key version a sealed value names (unauthenticated until [`KeyRing::decrypt`] succeeds).
    pub fn key_version_of(sealed: &[u8]) -> Result<u32, CryptoError> {
        if sealed.len() < SEALED_OVERHEAD {
            return Err(CryptoError::Malformed("too short"));
        }
        if sealed[0] != FORMAT_V1 {
            return Err(CryptoError::Malformed("unknown format byte"));
        }
        let version = u32::from_be_bytes([sealed[1], sealed[2], sealed[3], sealed[4]]);
        Ok(version)
    }

    /// Whether a sealed value should be re-sealed under the current key.
    /// A malformed value also answers `true`, so the re-encryption job surfaces it.
    pub fn needs_rotation(&self, sealed: &[u8]) -> bool {
        Self::key_version_of(sealed).map_or(true, |version| version != self.current_version)
    }

    /// Opens a value and seals it again under the current key, with the same AAD.
    pub fn reseal(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let plaintext = Zeroizing::new(self.decrypt(sealed, aad)?);
        self.encrypt(&plaintext, aad)
    }

    fn read_dev_file(path: &Path) -> Result<Option<Self>, CryptoError> {
        let Some(bytes) = read_secret_file(path)? else {
            return Ok(None);
        };
        let bytes = Zeroizing::new(bytes);
        let bad = |reason: String| CryptoError::KeyFile { path: path.to_path_buf(), reason };
        let mut file: DevKeyFile =
            serde_json::from_slice(&bytes).map_err(|e| bad(format!("invalid json at line {}", e.line())))?;
        let entries: Vec<(u32, String)> = std::mem::take(&mut file.keys).into_iter().collect();
        let ring = Self::from_config(&entries, file.current_version);
        for (_, mut encoded) in entries {
            encoded.zeroize();
        }
        ring.map(Some).map_err(|e| bad(e.to_string()))
    }

    fn to_dev_json(&self) -> Result<Zeroizing<String>, CryptoError> {
        let encoded: Vec<(u32, Zeroizing<String>)> =
            self.keys.iter().map(|(version, key)| (*version, key.to_base64())).collect();
        let file = DevKeyFileRef {
            current_version: self.current_version,
            keys: encoded.iter().map(|(version, key)| (*version, key.as_str())).collect(),
        };
        let json = serde_json::to_string_pretty(&file)
            .map_err(|e| CryptoError::KeyFile { path: FIELD_KEYS_FILE.into(), reason: e.to_string() })?;
        Ok(Zeroizing::new(json + "\n"))
    }
}

fn is_json_ring(bytes: &[u8]) -> bool {
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

fn header(version: u32) -> [u8; HEADER_LEN] {
    let v = version.to_be_bytes();
    [FORMAT_V1, v[0], v[1], v[2], v[3]]
}

#[derive(Deserialize)]
struct DevKeyFile {
    current_version: u32,
    keys: BTreeMap<u32, String>,
}

#[derive(Serialize)]
struct DevKeyFileRef<'a> {
    current_version: u32,
    keys: BTreeMap<u32, &'a str>,
}

#[cfg(test)]
mod tests;
