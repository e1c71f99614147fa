use std::path::PathBuf;

/// Everything that can go wrong while loading keys, sealing or opening a value.
///
/// Messages never contain key material or plaintext.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The sealed value names a key version the ring does not hold.
    #[error("sealed value uses unknown key version {0}")]
    UnknownKeyVersion(u32),
    /// The value was altered, the AAD does not match, or the wrong key was used.
    #[error("sealed value failed authentication")]
    Authentication,
    /// The sealed value is too short or has an unknown format byte.
    #[error("sealed value is malformed: {0}")]
    Malformed(&'static str),
    /// Encryption itself failed (only for absurdly large inputs).
    #[error("encryption failed")]
    Encryption,
    /// A configured key is not valid base64.
    #[error("field key version {version} is not valid base64")]
    KeyNotBase64 { version: u32 },
    /// A configured key does not decode to 32 bytes.
    #[error("field key version {version} must be 32 bytes, got {actual}")]
    KeyWrongLength { version: u32, actual: usize },
    /// The same version appears twice in the configuration.
    #[error("field key version {0} is configured more than once")]
    DuplicateKeyVersion(u32),
    /// Version 0 is reserved so that a zeroed header never looks valid.
    #[error("field key version 0 is reserved; versions start at 1")]
    ReservedKeyVersion,
    /// The configured current version has no key.
    #[error("current field key version {0} is not among the configured keys")]
    CurrentVersionMissing(u32),
    /// The identity hashing secret is malformed.
    #[error("identity hashing key must be 32 bytes of base64")]
    BadIdentityKey,
    /// A key file exists but cannot be understood.
    /// A key version cannot be removed from a key file (current, or not there).
    #[error("key file {path}: {reason}")]
    Retire { path: PathBuf, reason: String },

    #[error("key file {path} is malformed: {reason}")]
    KeyFile { path: PathBuf, reason: String },
    /// Reading or writing a key file failed.
    #[error("cannot access key file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl CryptoError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        CryptoError::Io { path: path.to_path_buf(), source }
    }
}
