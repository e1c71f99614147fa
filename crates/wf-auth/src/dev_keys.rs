//! A token signing key pair on disk for the embedded mode and development.

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::Path;

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::AuthError;

/// PKCS#8 PEM private key, mode 0600.
pub const DEV_PRIVATE_KEY_FILE: &str = "jwt_ed25519.pem";
/// SPKI PEM public key.
pub const DEV_PUBLIC_KEY_FILE: &str = "jwt_ed25519.pub.pem";

/// The development signing key pair. `Debug` shows the key id only.
#[derive(Clone)]
pub struct DevKeys {
    /// First 16 hex characters of the SHA-256 of the raw public key (see [`key_id_for`]).
    pub kid: String,
    /// PKCS#8 PEM; zeroized on drop. Feed to [`crate::TokenIssuer::from_pem`].
    pub private_pem: Zeroizing<Vec<u8>>,
    /// SPKI PEM. Feed to [`crate::TokenVerifier::new`] as `(kid, public_pem)`.
    pub public_pem: Vec<u8>,
}

impl fmt::Debug for DevKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevKeys").field("kid", &self.kid).finish_non_exhaustive()
    }
}

/// The key id of an SPKI PEM Ed25519 public key: the first 16 hex characters of the SHA-256 of its
/// 32 raw bytes. Stable, so every process sharing the key agrees on it.
pub fn key_id_for(public_pem: &[u8]) -> Result<String, AuthError> {
    let invalid = || AuthError::InvalidVerificationKey { kid: "(derived)".to_owned() };
    let text = std::str::from_utf8(public_pem).map_err(|_| invalid())?;
    let key = VerifyingKey::from_public_key_pem(text).map_err(|_| invalid())?;
    Ok(kid_of(&key))
}

fn kid_of(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.as_bytes());
    hex::encode(&digest[..8])
}

/// Loads `dir/jwt_ed25519.pem` and `dir/jwt_ed25519.pub.pem`, creating them when absent (the private
/// key with mode 0600). An existing public key file that does not match the private key is an error.
pub fn load_or_create_dev_keypair(dir: &Path) -> Result<DevKeys, AuthError> {
    fs::create_dir_all(dir).map_err(|e| AuthError::io(dir, e))?;
    let private_path = dir.join(DEV_PRIVATE_KEY_FILE);
    let public_path = dir.join(DEV_PUBLIC_KEY_FILE);

    let signing_key = match read_optional(&private_path)? {
        Some(pem) => parse_private(&private_path, &pem)?,
        None => {
            let generated = SigningKey::generate(&mut rand::rngs::OsRng);
            let pem = generated.to_pkcs8_pem(LineEnding::LF).map_err(|_| AuthError::KeyFile {
                path: private_path.clone(),
                reason: "cannot encode generated key",
            })?;
            if create_owner_only(&private_path, pem.as_bytes())? {
                generated
            } else {
                // Another process created it first: use its key, not ours.
                let pem = read_optional(&private_path)?.ok_or_else(|| AuthError::KeyFile {
                    path: private_path.clone(),
                    reason: "file vanished while being created",
                })?;
                parse_private(&private_path, &pem)?
            }
        }
    };

    let verifying_key = signing_key.verifying_key();
    let public_pem = verifying_key
        .to_public_key_pem(LineEnding::LF)
        .map_err(|_| AuthError::KeyFile { path: public_path.clone(), reason: "cannot encode public key" })?;
    match read_optional(&public_path)? {
        Some(existing) => {
            let text = std::str::from_utf8(&existing)
                .map_err(|_| AuthError::KeyFile { path: public_path.clone(), reason: "not pem text" })?;
            let on_disk = VerifyingKey::from_public_key_pem(text).map_err(|_| AuthError::KeyFile {
                path: public_path.clone(),
                reason: "expected an spki pem ed25519 public key",
            })?;
            if on_disk != verifying_key {
                return Err(AuthError::KeyFile {
                    path: public_path,
                    reason: "public key does not match the private key next to it",
                });
            }
        }
        None => fs::write(&public_path, public_pem.as_bytes()).map_err(|e| AuthError::io(&public_path, e))?,
    }

    let private_pem = signing_key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|_| AuthError::KeyFile { path: private_path, reason: "cannot encode private key" })?;
    Ok(DevKeys {
        kid: kid_of(&verifying_key),
        private_pem: Zeroizing::new(private_pem.as_bytes().to_vec()),
        public_pem: public_pem.into_bytes(),
    })
}

fn parse_private(path: &Path, pem: &[u8]) -> Result<SigningKey, AuthError> {
    let bad = || AuthError::KeyFile { path: path.to_path_buf(), reason: "expected a pkcs#8 pem ed25519 private key" };
    let text = std::str::from_utf8(pem).map_err(|_| bad())?;
    SigningKey::from_pkcs8_pem(text).map_err(|_| bad())
}

fn read_optional(path: &Path) -> Result<Option<Zeroizing<Vec<u8>>>, AuthError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(Zeroizing::new(bytes))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(AuthError::io(path, e)),
    }
}

/// Creates `path` with mode 0600; `Ok(false)` when it already exists.
fn create_owner_only(path: &Path, contents: &[u8]) -> Result<bool, AuthError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(AuthError::io(path, e)),
    };
    if let Err(e) = file.write_all(contents).and_then(|()| file.sync_all()) {
        let _ = fs::remove_file(path);
        return Err(AuthError::io(path, e));
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{Role, TokenIssuer, TokenKind, TokenVerifier};

    struct TestDir(std::path::PathBuf);
    impl TestDir {
        fn new() -> Self {
            let path = std::env::temp_dir().join(format!("wf-auth-test-{}", uuid::Uuid::new_v4()));
            fs::create_dir_all(&path).unwrap();
            TestDir(path)
        }
    }
    impl Drop for TestDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn creates_once_then_loads_the_same_pair() {
        let dir = TestDir::new();
        let first = load_or_create_dev_keypair(&dir.0).unwrap();
        let second = load_or_create_dev_keypair(&dir.0).unwrap();
        assert_eq!(first.kid, second.kid);
        assert_eq!(first.kid.len(), 16);
        assert_eq!(first.public_pem, second.public_pem);
        assert_eq!(key_id_for(&first.public_pem).unwrap(), first.kid);
        assert!(!format!("{first:?}").contains("PRIVATE"));

        let pem = fs::read_to_string(dir.0.join(DEV_PRIVATE_KEY_FILE)).unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let public = fs::read_to_string(dir.0.join(DEV_PUBLIC_KEY_FILE)).unwrap();
        assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.0.join(DEV_PRIVATE_KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        // the pair works end to end
        let issuer = TokenIssuer::from_pem(&first.private_pem, &first.kid, "wayfinder", "wayfinder").unwrap();
        let verifier = TokenVerifier::new(
            vec![(first.kid.clone(), first.public_pem.clone())],
            "wayfinder",
            "wayfinder",
            &[TokenKind::User],
        )
        .unwrap();
        let token = issuer.issue(TokenKind::User, "usr_1", Role::Admin, None, Duration::from_secs(60)).unwrap();
        assert_eq!(verifier.verify(&token).unwrap().role, Role::Admin);
    }

    #[test]
    fn missing_public_key_is_recreated_and_mismatched_one_refused() {
        let dir = TestDir::new();
        let keys = load_or_create_dev_keypair(&dir.0).unwrap();
        fs::remove_file(dir.0.join(DEV_PUBLIC_KEY_FILE)).unwrap();
        assert_eq!(load_or_create_dev_keypair(&dir.0).unwrap().public_pem, keys.public_pem);

        let other = SigningKey::generate(&mut rand::rngs::OsRng);
        let other_pem = other.verifying_key().to_public_key_pem(LineEnding::LF).unwrap();
        fs::write(dir.0.join(DEV_PUBLIC_KEY_FILE), other_pem).unwrap();
        let err = load_or_create_dev_keypair(&dir.0).unwrap_err();
        assert!(err.to_string().contains("does not match"), "{err}");
    }
}
