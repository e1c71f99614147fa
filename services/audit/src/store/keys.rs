//! The checkpoint signing key: from `audit_signing_key_file` (an Ed25519 PKCS#8 PEM), else a
//! development key created once in `<data_dir>/keys/` (owner-only), like the token dev keys.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use wf_config::Config;

use crate::domain::checkpoint::{CheckpointSigner, CheckpointVerifier};

/// Development signing key file name inside the keys folder.
pub const DEV_SIGNING_KEY_FILE: &str = "audit_checkpoint_ed25519.pem";
/// Its public half, written next to it so verifiers can be handed the file.
pub const DEV_PUBLIC_KEY_FILE: &str = "audit_checkpoint_ed25519.pub.pem";

/// The signer the configuration names.
pub fn signer_from_config(config: &Config) -> anyhow::Result<CheckpointSigner> {
    match &config.audit_signing_key_file {
        Some(path) => load_signing_key(path).map(CheckpointSigner::new),
        None => load_or_create_dev_key(&config.keys_dir()).map(CheckpointSigner::new),
    }
}

pub fn load_signing_key(path: &Path) -> anyhow::Result<SigningKey> {
    let text =
        fs::read_to_string(path).with_context(|| format!("audit_signing_key_file: cannot read {}", path.display()))?;
    SigningKey::from_pkcs8_pem(&text).map_err(|_| {
        anyhow::anyhow!("audit_signing_key_file: {} is not an Ed25519 PKCS#8 PEM private key", path.display())
    })
}

/// A verifier from a public key PEM (SPKI, `-----BEGIN PUBLIC KEY-----`) or, for convenience,
/// a private key PEM (whose public half is used).
pub fn verifier_from_pem_file(path: &Path) -> anyhow::Result<CheckpointVerifier> {
    let text = fs::read_to_string(path).with_context(|| format!("cannot read key file {}", path.display()))?;
    if let Ok(key) = ed25519_dalek::VerifyingKey::from_public_key_pem(&text) {
        return Ok(CheckpointVerifier::new(key));
    }
    let key = SigningKey::from_pkcs8_pem(&text).map_err(|_| {
        anyhow::anyhow!("{} is neither an Ed25519 public key PEM nor a PKCS#8 private key PEM", path.display())
    })?;
    Ok(CheckpointVerifier::new(key.verifying_key()))
}

/// The public key as SPKI PEM text.
pub fn public_key_pem(verifier: &CheckpointVerifier) -> anyhow::Result<String> {
    verifier.key().to_public_key_pem(LineEnding::LF).map_err(|err| anyhow::anyhow!("cannot encode public key: {err}"))
}

fn load_or_create_dev_key(dir: &Path) -> anyhow::Result<SigningKey> {
    let path: PathBuf = dir.join(DEV_SIGNING_KEY_FILE);
    if path.exists() {
        return load_signing_key(&path);
    }
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|err| anyhow::anyhow!("cannot encode key: {err}"))?;
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(&path) {
        Ok(mut file) => {
            file.write_all(pem.as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("writing {}", path.display()))?;
        }
        // Another process created it first: use theirs.
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => return load_signing_key(&path),
        Err(err) => return Err(err).with_context(|| format!("creating {}", path.display())),
    }
    let public = public_key_pem(&CheckpointVerifier::new(key.verifying_key()))?;
    fs::write(dir.join(DEV_PUBLIC_KEY_FILE), public)
        .with_context(|| format!("writing public key in {}", dir.display()))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A throwaway key made for this test with `openssl genpkey -algorithm ed25519` and
    /// `openssl pkey -pubout` (the commands `deploy/secrets/README.md` gives); it signs nothing real.
    const OPENSSL_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----\n\
        MC4CAQAwBQYDK2VwBCIEIJixeMTQe8n4v2s72kwmWhW9+qJqYPH/riYr4sHBGVPX\n\
        -----END PRIVATE KEY-----\n";
    const OPENSSL_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\n\
        MCowBQYDK2VwAyEAY+m6hfVbzqpdBzgRSfxWtDPOg3ghc0WoyAuyL83s02s=\n\
        -----END PUBLIC KEY-----\n";

    #[test]
    fn openssl_keys_sign_and_verify_and_the_dev_key_is_created_once() {
        let dir = std::env::temp_dir().join(format!("wf-audit-keys-{}", uuid::Uuid::new_v4().simple()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("private.pem"), OPENSSL_PRIVATE).unwrap();
        fs::write(dir.join("public.pem"), OPENSSL_PUBLIC).unwrap();
        let signer = CheckpointSigner::new(load_signing_key(&dir.join("private.pem")).unwrap());
        let verifier = verifier_from_pem_file(&dir.join("public.pem")).unwrap();
        assert_eq!(verifier.check(&signer.sign(1, [0; 32], [1; 32], 2)), Ok(()));

        fs::write(dir.join("not-a-key.pem"), "hello").unwrap();
        let err = load_signing_key(&dir.join("not-a-key.pem")).unwrap_err().to_string();
        assert!(err.contains("audit_signing_key_file") && err.contains("PKCS#8"), "{err}");

        let keys_dir = dir.join("keys");
        let first = CheckpointSigner::new(load_or_create_dev_key(&keys_dir).unwrap());
        let second = CheckpointSigner::new(load_or_create_dev_key(&keys_dir).unwrap());
        assert_eq!(first.key_id(), second.key_id());
        let published = verifier_from_pem_file(&keys_dir.join(DEV_PUBLIC_KEY_FILE)).unwrap();
        assert_eq!(published.key_id(), first.key_id());
        let _ = fs::remove_dir_all(&dir);
    }
}
