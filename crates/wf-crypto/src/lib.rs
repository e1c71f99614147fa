//! Cryptography for personal data at rest.
//!
//! - [`KeyRing`] seals individual fields with AES-256-GCM under versioned keys, so keys can be rotated
//!   while old rows stay readable; every sealed value is bound to its record and field through the AAD.
//! - [`IdentityHasher`] turns a normalized identity ([`normalize_identity`]) into a keyed HMAC-SHA256
//!   digest, so records about the same young person can be matched without storing names in clear.
//!
//! - [`LiveKeys`] is the field key ring a running service seals with, following its file through
//!   rotation and retirement.
//!
//! Keys never appear in `Debug` output, and are zeroized when dropped.

mod error;
mod identity;
mod keyring;
mod live;
mod secret_file;
mod shared_secrets;

pub use error::CryptoError;
pub use identity::{IDENTITY_KEY_FILE, IdentityHasher, normalize_identity};
pub use keyring::{FIELD_KEYS_FILE, FORMAT_V1, FieldKey, KeyRing, SEALED_OVERHEAD};
pub use live::{LiveKeys, field_key_path, load_field_keys};
pub use shared_secrets::{DEV_WEBHOOK_KEY_ID, MIN_SECRET_LEN, SharedSecrets, WEBHOOK_SECRETS_FILE};

#[cfg(test)]
mod test_dir {
    use std::path::{Path, PathBuf};

    /// A unique temporary directory, removed when dropped.
    pub(crate) struct TestDir(PathBuf);

    impl TestDir {
        pub(crate) fn new() -> Self {
            use rand::RngCore as _;
            let path = std::env::temp_dir().join(format!("wf-crypto-test-{:016x}", rand::rngs::OsRng.next_u64()));
            std::fs::create_dir_all(&path).expect("create test dir");
            TestDir(path)
        }

        pub(crate) fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TestDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
