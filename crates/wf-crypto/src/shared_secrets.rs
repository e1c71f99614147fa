//! Shared signing secrets by key id (the hotline webhook's HMAC keys), from a JSON
//! object `{"<key id>": "<secret>"}`. Development generates one in the data folder.

use std::collections::BTreeMap;
use std::path::Path;

use rand::RngCore as _;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

use crate::CryptoError;
use crate::secret_file::{read_secret_file, write_secret_file};

/// File name of the development webhook secrets inside the keys folder.
pub const WEBHOOK_SECRETS_FILE: &str = "webhook_secrets.json";
/// Key id of the generated development secret.
pub const DEV_WEBHOOK_KEY_ID: &str = "dev";
/// Shortest secret accepted: 32 characters (the generated ones are 64 hex digits, 256 bits).
pub const MIN_SECRET_LEN: usize = 32;

/// Secrets by key id; values zeroized on drop and never shown by `Debug`.
pub struct SharedSecrets(BTreeMap<String, Zeroizing<Vec<u8>>>);

impl std::fmt::Debug for SharedSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedSecrets").field("key_ids", &self.0.keys().collect::<Vec<_>>()).finish()
    }
}

impl SharedSecrets {
    /// Reads a secrets file; every key id needs a secret of at least [`MIN_SECRET_LEN`] characters.
    pub fn load(path: &Path) -> Result<Self, CryptoError> {
        let bad = |reason: String| CryptoError::KeyFile { path: path.to_path_buf(), reason };
        let bytes = Zeroizing::new(read_secret_file(path)?.ok_or_else(|| bad("does not exist".to_owned()))?);
        let map: BTreeMap<String, String> = serde_json::from_slice(&bytes)
            .map_err(|e| bad(format!("invalid json at line {}: expected {{\"key id\": \"secret\"}}", e.line())))?;
        if map.is_empty() {
            return Err(bad("holds no key id".to_owned()));
        }
        let mut secrets = BTreeMap::new();
        for (id, secret) in map {
            let secret = Zeroizing::new(secret);
            if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
                return Err(bad(format!("key id {id:?} must be letters, digits, _ or -")));
            }
            if secret.len() < MIN_SECRET_LEN {
                return Err(bad(format!("secret of key id {id} is shorter than {MIN_SECRET_LEN} characters")));
            }
            secrets.insert(id, Zeroizing::new(secret.as_bytes().to_vec()));
        }
        Ok(SharedSecrets(secrets))
    }

    /// Loads `dir/webhook_secrets.json`, creating it (mode 0600) with one random secret under key id `dev`.
    pub fn load_or_create_dev(dir: &Path) -> Result<Self, CryptoError> {
        let path = dir.join(WEBHOOK_SECRETS_FILE);
        if path.exists() {
            return Self::load(&path);
        }
        let mut raw = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(raw.as_mut());
        let secret: Zeroizing<String> = Zeroizing::new(raw.iter().map(|b| format!("{b:02x}")).collect());
        let json = Zeroizing::new(format!("{{\n  \"{DEV_WEBHOOK_KEY_ID}\": \"{}\"\n}}\n", secret.as_str()));
        // Losing a creation race is fine: the winner's file is read below.
        write_secret_file(&path, json.as_bytes(), true)?;
        Self::load(&path)
    }

    /// The secret of `key_id`, if configured.
    pub fn get(&self, key_id: &str) -> Option<&[u8]> {
        self.0.get(key_id).map(|secret| secret.as_slice())
    }

    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_dir::TestDir;

    #[test]
    fn development_secret_is_created_once_and_kept() {
        let dir = TestDir::new();
        let first = SharedSecrets::load_or_create_dev(dir.path()).unwrap();
        let second = SharedSecrets::load_or_create_dev(dir.path()).unwrap();
        assert_eq!(first.get(DEV_WEBHOOK_KEY_ID).unwrap().len(), 64);
        assert_eq!(first.get(DEV_WEBHOOK_KEY_ID), second.get(DEV_WEBHOOK_KEY_ID));
        assert!(!format!("{first:?}").contains(std::str::from_utf8(first.get("dev").unwrap()).unwrap()));
    }

    #[test]
    fn short_secrets_and_bad_ids_are_refused() {
        let dir = TestDir::new();
        let path = dir.path().join("s.json");
        std::fs::write(&path, r#"{"hotline-a": "short"}"#).unwrap();
        assert!(SharedSecrets::load(&path).unwrap_err().to_string().contains("shorter than 32"));
        std::fs::write(&path, r#"{"a b": "0123456789abcdef0123456789abcdef"}"#).unwrap();
        assert!(SharedSecrets::load(&path).unwrap_err().to_string().contains("must be letters"));
        std::fs::write(&path, r#"{"hotline-a": "0123456789abcdef0123456789abcdef"}"#).unwrap();
        assert_eq!(SharedSecrets::load(&path).unwrap().key_ids().collect::<Vec<_>>(), vec!["hotline-a"]);
    }
}
