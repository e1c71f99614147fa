//! The personal-data vault: how personal details are sealed (AES-256-GCM, a key
//! version per value, bound to the referral id), where the keys come from, and
//! the re-encryption that lets an old key be retired.
//!
//! In `app/`, not `domain/`: sealing itself is crypto over plain data, but the live key ring follows a
//! file on disk and rotation and retirement own database transactions (their SQL is in `store::vault`).

use std::path::PathBuf;

use prost::Message;
use wf_config::Config;
use wf_crypto::{CryptoError, IdentityHasher, KeyRing};
use wf_db::{Db, DbError};
use wf_proto::intake::v1 as pb;

use crate::store::vault as store;

/// The AAD binding a sealed personal part to its referral: a value copied to another row fails to open.
pub fn personal_aad(referral_id: &str) -> Vec<u8> {
    format!("{referral_id}/personal").into_bytes()
}

pub fn seal_personal(
    keys: &KeyRing,
    referral_id: &str,
    personal: &pb::PersonalDetails,
) -> Result<Vec<u8>, CryptoError> {
    keys.encrypt(&personal.encode_to_vec(), &personal_aad(referral_id))
}

/// Where the field keys live: `field_key_file` (production; the JSON key ring or one
/// base64 key) or the development key ring in the data folder.
pub fn key_file(config: &Config) -> PathBuf {
    wf_crypto::field_key_path(config.field_key_file.as_deref(), &config.keys_dir())
}

/// Loads the returning-youth identity key (HMAC-SHA256): `identity_key_file` (base64 of 32 bytes) or,
/// absent, the development key `keys/identity_hmac.key` in the data folder (created on first use).
pub fn load_identity_key(config: &Config) -> anyhow::Result<IdentityHasher> {
    match &config.identity_key_file {
        Some(path) => {
            let text = zeroize::Zeroizing::new(
                std::fs::read_to_string(path)
                    .map_err(|err| anyhow::anyhow!("identity_key_file {}: {err}", path.display()))?,
            );
            IdentityHasher::from_base64(&text).map_err(|err| {
                anyhow::anyhow!("identity_key_file {}: {err} (expected the base64 of 32 random bytes)", path.display())
            })
        }
        None => Ok(IdentityHasher::load_or_create_dev(&config.keys_dir())?),
    }
}

/// Loads the field key ring; embedded mode creates the development ring on first use.
pub fn load_keys(config: &Config) -> anyhow::Result<KeyRing> {
    wf_crypto::load_field_keys(config.field_key_file.as_deref(), &config.keys_dir())
        .map_err(|err| anyhow::anyhow!("field keys: {err}"))
}

/// The field key ring while intake runs, following the key file through `wayfinder keys rotate`
/// and `retire` ([`LiveKeys`]).
pub fn live_keys(config: &Config) -> anyhow::Result<LiveKeys> {
    Ok(LiveKeys::follow(key_file(config), load_keys(config)?))
}

pub use wf_crypto::LiveKeys;

pub use crate::store::vault::key_usage;

/// Progress of a re-encryption run, reported after each committed batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResealProgress {
    pub resealed: u64,
    pub remaining: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ResealError {
    #[error(transparent)]
    Db(#[from] DbError),
    /// A value the ring cannot open: its key was removed, or the value was tampered with.
    #[error(
        "referral {referral_id}: sealed personal details cannot be opened ({source}); no value was changed in this batch"
    )]
    Unreadable { referral_id: String, source: CryptoError },
}

impl From<sqlx::Error> for ResealError {
    fn from(err: sqlx::Error) -> Self {
        ResealError::Db(err.into())
    }
}

/// Re-seals every personal part not under the current key, `batch` rows per transaction,
/// calling `progress` after each commit. Safe to interrupt and run again: each batch is
/// atomic, and rows already under the current key are never selected again.
pub async fn reseal_all(
    db: &Db,
    keys: &KeyRing,
    batch: i64,
    mut progress: impl FnMut(ResealProgress),
) -> Result<u64, ResealError> {
    let current = keys.current_version() as i32;
    let mut resealed = 0u64;
    loop {
        let mut tx = db.begin().await?;
        let rows = store::sealed_not_under(&mut tx, current, batch).await?;
        if rows.is_empty() {
            tx.commit().await?;
            return Ok(resealed);
        }
        for (id, sealed) in &rows {
            let fresh = keys
                .reseal(sealed, &personal_aad(id))
                .map_err(|source| ResealError::Unreadable { referral_id: id.clone(), source })?;
            store::set_sealed(&mut tx, id, &fresh, current).await?;
        }
        tx.commit().await?;
        resealed += rows.len() as u64;
        progress(ResealProgress { resealed, remaining: store::count_not_under(db, current).await? });
    }
}

/// Why a key version may not be retired yet.
pub async fn retire_blockers(db: &Db, version: u32) -> Result<Option<i64>, DbError> {
    let usage = key_usage(db).await?;
    Ok(usage.into_iter().find(|(v, _)| *v == version as i32).map(|(_, count)| count).filter(|count| *count > 0))
}

/// Opens a stored personal part. A value whose key is gone or whose bytes were altered is an
/// error, never garbage: AES-GCM authenticates every value against its key version and referral.
pub fn open_personal(keys: &KeyRing, referral_id: &str, sealed: &[u8]) -> anyhow::Result<pb::PersonalDetails> {
    let plain = keys
        .decrypt(sealed, &personal_aad(referral_id))
        .map_err(|err| anyhow::anyhow!("referral {referral_id}: sealed personal details cannot be opened: {err}"))?;
    Ok(pb::PersonalDetails::decode(plain.as_slice())?)
}

/// Opens a referral's sealed personal details in memory.
pub fn open_sealed(
    keys: &KeyRing,
    referral_id: &str,
    sealed: Option<&[u8]>,
) -> anyhow::Result<Option<pb::PersonalDetails>> {
    let Some(sealed) = sealed else { return Ok(None) };
    let plain = keys.decrypt(sealed, &personal_aad(referral_id))?;
    Ok(Some(pb::PersonalDetails::decode(plain.as_slice())?))
}

/// `wayfinder keys rotate`: adds key version n+1 to the key-ring file (the development ring,
/// or `field_key_file` in the JSON key-ring format), then re-seals every value to it.
pub async fn rotate(
    config: &Config,
    db: &Db,
    batch: i64,
    progress: impl FnMut(ResealProgress),
) -> anyhow::Result<(u32, u64)> {
    if config.field_key_file.is_none() {
        KeyRing::load_or_create_dev(&config.keys_dir())?;
    }
    let path = key_file(config);
    let ring = KeyRing::rotate_file(&path).map_err(|err| anyhow::anyhow!("rotating {}: {err}", path.display()))?;
    let resealed = reseal_all(db, &ring, batch, progress).await?;
    Ok((ring.current_version(), resealed))
}

/// `wayfinder keys retire --version N`: removes key N from the key-ring file, refusing while
/// any stored value is still sealed with it (it could never be opened again).
pub async fn retire(config: &Config, db: &Db, version: u32) -> anyhow::Result<KeyRing> {
    if let Some(count) = retire_blockers(db, version).await? {
        anyhow::bail!(
            "key version {version} still seals {count} stored value(s); run `wayfinder keys rotate` \
             (or let it finish) to re-encrypt them to the current key, then retire again"
        );
    }
    let path = key_file(config);
    KeyRing::retire_from_file(&path, version).map_err(|err| anyhow::anyhow!("retiring key version {version}: {err}"))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn config_in(dir: &Path) -> Config {
        Config::from_figment(Config::defaults_only(dir)).expect("configuration")
    }

    #[test]
    fn the_identity_key_comes_from_identity_key_file_when_configured() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = config_in(dir.path());
        let path = dir.path().join("identity.key");
        // base64 of 32 bytes of 7.
        std::fs::write(&path, "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n").expect("write");
        config.identity_key_file = Some(path.clone());
        let hasher = load_identity_key(&config).expect("configured key");
        assert_eq!(hasher.hash_hex("name_dob:x"), IdentityHasher::new([7; 32]).hash_hex("name_dob:x"));
        assert!(!config.keys_dir().join(wf_crypto::IDENTITY_KEY_FILE).exists(), "no development key made");

        std::fs::write(&path, "c2hvcnQ=").expect("write");
        let err = load_identity_key(&config).expect_err("4 bytes").to_string();
        assert!(err.contains("identity_key_file") && err.contains("32 random bytes"), "{err}");
        config.identity_key_file = Some(dir.path().join("absent.key"));
        assert!(load_identity_key(&config).expect_err("missing").to_string().contains("identity_key_file"));

        config.identity_key_file = None;
        let dev = load_identity_key(&config).expect("development key");
        assert!(config.keys_dir().join(wf_crypto::IDENTITY_KEY_FILE).exists());
        assert_eq!(dev.hash_hex("x"), load_identity_key(&config).expect("same key").hash_hex("x"));
    }

    #[test]
    fn live_keys_follow_a_rotated_and_retired_key_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = config_in(dir.path());
        let live = live_keys(&config).expect("keys");
        let personal = pb::PersonalDetails { legal_first_name: "Fictional".into(), ..Default::default() };
        let old = seal_personal(&live.current(), "ref_1", &personal).expect("seal");
        assert_eq!(KeyRing::key_version_of(&old).expect("version"), 1);

        // What `wayfinder keys rotate` does to the file, from another process.
        let rotated = KeyRing::rotate_file(&key_file(&config)).expect("rotate");
        let resealed = rotated.reseal(&old, &personal_aad("ref_1")).expect("reseal");
        assert_eq!(open_personal(&live.current(), "ref_1", &resealed).expect("opens version 2"), personal);
        let fresh = seal_personal(&live.current(), "ref_2", &personal).expect("seal");
        assert_eq!(KeyRing::key_version_of(&fresh).expect("version"), 2, "new values use the new key");

        KeyRing::retire_from_file(&key_file(&config), 1).expect("retire");
        assert_eq!(live.current().versions().collect::<Vec<_>>(), vec![2]);
        assert!(open_personal(&live.current(), "ref_1", &old).is_err(), "a retired key is gone");

        let fixed = LiveKeys::fixed(KeyRing::load_file(&key_file(&config)).expect("ring"));
        KeyRing::rotate_file(&key_file(&config)).expect("rotate");
        assert_eq!(fixed.current().current_version(), 2, "a fixed ring never reloads");
    }
}
