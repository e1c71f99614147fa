//! Case-note text sealed at rest, like intake's vault: AES-256-GCM under the field key ring (the
//! same ring intake seals personal details with — `field_key_file`, or the development ring in the
//! data folder — so one rotation covers both), a key version per value, and an AAD binding the
//! sealed text to its note: note id, case, author and the privileged flag. A sealed text copied to
//! another note, or a privileged flag cleared in the database to expose a note, fails to open
//! (an error, never garbage and never the text).
//!
//! In `app/`, not `domain/`: the live key ring follows a file on disk, and sealing the notes
//! written before sealing existed owns database transactions (the SQL is in `store::notes`).

use wf_config::Config;
use wf_crypto::{CryptoError, KeyRing};
use wf_db::{Backend, Db, DbError};

use crate::store::notes::{self as store, StoredNote};

/// The field key ring while cases runs: `field_key_file`, or the development ring in the data
/// folder — exactly where intake's vault reads it — followed through `wayfinder keys rotate`.
pub fn note_keys(config: &Config) -> anyhow::Result<NoteKeys> {
    NoteKeys::open(config.field_key_file.as_deref(), &config.keys_dir())
        .map_err(|err| anyhow::anyhow!("field keys: {err}"))
}

/// The key ring case-note text is sealed with (the field key ring, as the file holds it now).
pub use wf_crypto::LiveKeys as NoteKeys;

/// What a sealed note text is bound to.
#[derive(Debug, Clone, Copy)]
pub struct NoteBinding<'a> {
    pub note_id: &'a str,
    pub case_id: &'a str,
    pub author_id: &'a str,
    pub privileged: bool,
}

impl<'a> From<&'a StoredNote> for NoteBinding<'a> {
    fn from(note: &'a StoredNote) -> Self {
        NoteBinding {
            note_id: &note.note_id,
            case_id: &note.case_id,
            author_id: &note.author_id,
            privileged: note.privileged,
        }
    }
}

/// The AAD of a note's text. Ids and the author are prefixed ids or login ids (no '/'), so the
/// parts cannot run into each other.
pub fn note_aad(binding: NoteBinding<'_>) -> Vec<u8> {
    let privileged = if binding.privileged { "privileged" } else { "ordinary" };
    format!("case_note/{}/{}/{}/{privileged}/text", binding.note_id, binding.case_id, binding.author_id).into_bytes()
}

/// Seals `text` for the note `binding` names, with the ring's current version.
pub fn seal_text(keys: &KeyRing, binding: NoteBinding<'_>, text: &str) -> Result<Vec<u8>, CryptoError> {
    keys.encrypt(text.as_bytes(), &note_aad(binding))
}

/// Opens a stored note's text; a value whose key is gone or whose bytes or binding were altered
/// is an error. A note written before sealing existed (not yet sealed) is read as stored.
pub fn open_text(keys: &KeyRing, note: &StoredNote) -> Result<String, SealError> {
    let Some(sealed) = &note.sealed_text else {
        return Ok(note.legacy_text.clone());
    };
    let plain = keys
        .decrypt(sealed, &note_aad(note.into()))
        .map_err(|source| SealError::Unreadable { note_id: note.note_id.clone(), source })?;
    String::from_utf8(plain).map_err(|_| SealError::Unreadable {
        note_id: note.note_id.clone(),
        source: CryptoError::Malformed("note text is not UTF-8"),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error(transparent)]
    Db(#[from] DbError),
    /// A text the ring cannot open: its key was removed, or the row was tampered with.
    #[error("case note {note_id}: sealed text cannot be opened ({source})")]
    Unreadable { note_id: String, source: CryptoError },
    /// A text the ring cannot seal (only for absurd inputs).
    #[error("case note {note_id}: text cannot be sealed ({source})")]
    Unsealable { note_id: String, source: CryptoError },
}

impl From<sqlx::Error> for SealError {
    fn from(err: sqlx::Error) -> Self {
        SealError::Db(err.into())
    }
}

/// How many stored note texts each key version seals, ascending by version (for
/// `wayfinder keys status` and `keys retire`: a version still listed here must not be retired).
pub async fn key_usage(db: &Db) -> Result<Vec<(i32, i64)>, DbError> {
    store::key_usage(db).await
}

/// Seals every note still stored in the clear (written before sealing existed), `batch` notes per
/// transaction; returns how many it sealed. On SQLite the file is then vacuumed and the
/// write-ahead log truncated, so the old plaintext pages do not linger in `cases.db` or
/// `cases.db-wal`. Safe to run at every start: with nothing to seal it changes nothing.
pub async fn seal_plaintext_notes(db: &Db, keys: &KeyRing, batch: i64) -> Result<u64, SealError> {
    let mut sealed = 0u64;
    loop {
        let mut tx = db.begin().await?;
        let notes = store::plaintext_notes(&mut tx, batch).await?;
        if notes.is_empty() {
            tx.commit().await?;
            break;
        }
        for note in &notes {
            let value = seal_text(keys, note.into(), &note.legacy_text)
                .map_err(|source| SealError::Unsealable { note_id: note.note_id.clone(), source })?;
            store::set_sealed(&mut tx, &note.note_id, &value, keys.current_version() as i32).await?;
        }
        tx.commit().await?;
        sealed += notes.len() as u64;
    }
    if sealed > 0 {
        if db.backend() == Backend::Sqlite {
            sqlx::query("VACUUM").execute(db.pool()).await?;
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(db.pool()).await?;
        }
        tracing::info!(sealed, "case notes stored in the clear are sealed now");
    }
    Ok(sealed)
}

/// Re-seals every note text not under the ring's current version, `batch` per transaction,
/// calling `progress(resealed, remaining)` after each commit (for `wayfinder keys rotate`, beside
/// intake's vault). Safe to interrupt and run again.
pub async fn reseal_all(
    db: &Db,
    keys: &KeyRing,
    batch: i64,
    mut progress: impl FnMut(u64, u64),
) -> Result<u64, SealError> {
    let current = keys.current_version() as i32;
    let mut resealed = 0u64;
    loop {
        let mut tx = db.begin().await?;
        let notes = store::sealed_not_under(&mut tx, current, batch).await?;
        if notes.is_empty() {
            tx.commit().await?;
            return Ok(resealed);
        }
        for note in &notes {
            let Some(sealed) = &note.sealed_text else { continue };
            let fresh = keys
                .reseal(sealed, &note_aad(note.into()))
                .map_err(|source| SealError::Unreadable { note_id: note.note_id.clone(), source })?;
            store::set_sealed(&mut tx, &note.note_id, &fresh, current).await?;
        }
        tx.commit().await?;
        resealed += notes.len() as u64;
        progress(resealed, store::count_not_under(db, current).await? as u64);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use wf_crypto::FieldKey;

    use super::*;

    fn ring() -> KeyRing {
        KeyRing::new(BTreeMap::from([(1, FieldKey::generate())]), 1).unwrap()
    }

    fn note(sealed: Vec<u8>, privileged: bool) -> StoredNote {
        StoredNote {
            note_id: "note_1".into(),
            case_id: "case_1".into(),
            author_id: "usr_a".into(),
            written_at: 0,
            sealed_text: Some(sealed),
            legacy_text: String::new(),
            key_version: Some(1),
            privileged,
            category: "general".into(),
        }
    }

    #[test]
    fn a_sealed_text_opens_only_on_its_own_note_with_its_own_flag() {
        let keys = ring();
        let binding = NoteBinding { note_id: "note_1", case_id: "case_1", author_id: "usr_a", privileged: true };
        let sealed = seal_text(&keys, binding, "the words").unwrap();
        assert!(!sealed.windows(9).any(|w| w == b"the words"));
        assert_eq!(open_text(&keys, &note(sealed.clone(), true)).unwrap(), "the words");
        // The privileged flag cleared in the database: the text does not open.
        assert!(open_text(&keys, &note(sealed.clone(), false)).is_err());
        // Moved to another case or author: neither.
        let moved = StoredNote { case_id: "case_2".into(), ..note(sealed.clone(), true) };
        assert!(open_text(&keys, &moved).is_err());
        let reauthored = StoredNote { author_id: "usr_b".into(), ..note(sealed, true) };
        assert!(open_text(&keys, &reauthored).is_err());
    }
}
