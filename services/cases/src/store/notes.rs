//! Case notes. The text is stored sealed (`app::sealing`); `text` keeps only the plaintext of a
//! note written before sealing existed, until it is sealed. Every read names which authors'
//! privileged notes it may include, so no query can return them by accident.

use sqlx::Row;
use wf_db::{Db, DbError, Tx};

use super::sql_limit;

/// A note as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredNote {
    pub note_id: String,
    pub case_id: String,
    pub author_id: String,
    pub written_at: i64,
    /// The sealed text; `None` only for a note written before sealing existed.
    pub sealed_text: Option<Vec<u8>>,
    /// The plaintext of such a note; empty once sealed.
    pub legacy_text: String,
    pub key_version: Option<i32>,
    pub privileged: bool,
    pub category: String,
}

/// Whose privileged notes a read may include.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Privileged {
    /// Those written by these authors (login ids); an empty list includes none.
    From(Vec<String>),
    Exclude,
}

const COLUMNS: &str = "note_id, case_id, author_id, written_at, sealed_text, text, key_version, privileged, category";

/// Inserts a sealed note (its `legacy_text` is not stored).
pub async fn insert(tx: &mut Tx, note: &StoredNote) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO case_notes (note_id, case_id, author_id, written_at, sealed_text, text, key_version, privileged, \
         category) VALUES ($1, $2, $3, $4, $5, '', $6, $7, $8)",
    )
    .bind(note.note_id.clone())
    .bind(note.case_id.clone())
    .bind(note.author_id.clone())
    .bind(note.written_at)
    .bind(note.sealed_text.clone())
    .bind(note.key_version.map(i64::from))
    .bind(i64::from(note.privileged))
    .bind(note.category.clone())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Up to `limit` notes of a case after `after`, in id order: every ordinary note, and the
/// privileged notes `privileged` allows.
pub async fn list(
    db: &Db,
    case_id: &str,
    privileged: &Privileged,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<StoredNote>, DbError> {
    let authors: &[String] = match privileged {
        Privileged::From(authors) => authors,
        Privileged::Exclude => &[],
    };
    // $1..$3 are the case, the page and the limit; the authors follow.
    let filter = if authors.is_empty() {
        "privileged = 0".to_owned()
    } else {
        let placeholders: Vec<String> = (0..authors.len()).map(|i| format!("${}", i + 4)).collect();
        format!("(privileged = 0 OR author_id IN ({}))", placeholders.join(", "))
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM case_notes WHERE case_id = $1 AND note_id > COALESCE($2, '') AND {filter} \
         ORDER BY note_id LIMIT $3"
    );
    let mut query = sqlx::query(&sql).bind(case_id).bind(after.map(str::to_owned)).bind(sql_limit(limit));
    for author in authors {
        query = query.bind(author.clone());
    }
    let rows = query.fetch_all(db.pool()).await?;
    rows.iter().map(note_from_row).collect()
}

/// Up to `limit` notes still stored in the clear.
pub async fn plaintext_notes(tx: &mut Tx, limit: i64) -> Result<Vec<StoredNote>, DbError> {
    let rows =
        sqlx::query(&format!("SELECT {COLUMNS} FROM case_notes WHERE sealed_text IS NULL ORDER BY note_id LIMIT $1"))
            .bind(limit)
            .fetch_all(&mut **tx)
            .await?;
    rows.iter().map(note_from_row).collect()
}

/// Up to `limit` sealed notes under a key version other than `version`.
pub async fn sealed_not_under(tx: &mut Tx, version: i32, limit: i64) -> Result<Vec<StoredNote>, DbError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM case_notes WHERE sealed_text IS NOT NULL AND key_version <> $1 ORDER BY note_id LIMIT $2"
    ))
    .bind(i64::from(version))
    .bind(limit)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(note_from_row).collect()
}

pub async fn count_not_under(db: &Db, version: i32) -> Result<i64, DbError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM case_notes WHERE sealed_text IS NOT NULL AND key_version <> $1")
        .bind(i64::from(version))
        .fetch_one(db.pool())
        .await?;
    Ok(row.try_get("n")?)
}

/// Stores `sealed` as the note's text under `version`, and clears any plaintext.
pub async fn set_sealed(tx: &mut Tx, note_id: &str, sealed: &[u8], version: i32) -> Result<(), DbError> {
    sqlx::query("UPDATE case_notes SET sealed_text = $1, key_version = $2, text = '' WHERE note_id = $3")
        .bind(sealed.to_vec())
        .bind(i64::from(version))
        .bind(note_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Every note of a case, read inside a transaction (a merge moves them).
pub async fn of_case_in(tx: &mut Tx, case_id: &str) -> Result<Vec<StoredNote>, DbError> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM case_notes WHERE case_id = $1 ORDER BY note_id"))
        .bind(case_id.to_owned())
        .fetch_all(&mut **tx)
        .await?;
    rows.iter().map(note_from_row).collect()
}

/// Moves the note to `case_id` with its text `sealed` again for that case under `version`.
pub async fn move_sealed(
    tx: &mut Tx,
    note_id: &str,
    case_id: &str,
    sealed: &[u8],
    version: i32,
) -> Result<(), DbError> {
    sqlx::query("UPDATE case_notes SET case_id = $1, sealed_text = $2, key_version = $3, text = '' WHERE note_id = $4")
        .bind(case_id.to_owned())
        .bind(sealed.to_vec())
        .bind(i64::from(version))
        .bind(note_id.to_owned())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Sealed note texts per key version, ascending.
pub async fn key_usage(db: &Db) -> Result<Vec<(i32, i64)>, DbError> {
    let rows = sqlx::query(
        "SELECT key_version, COUNT(*) AS n FROM case_notes WHERE key_version IS NOT NULL \
         GROUP BY key_version ORDER BY key_version",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let version: i64 = row.try_get("key_version")?;
            Ok((i32::try_from(version).unwrap_or(i32::MAX), row.try_get("n")?))
        })
        .collect()
}

fn note_from_row(row: &sqlx::any::AnyRow) -> Result<StoredNote, DbError> {
    let privileged: i64 = row.try_get("privileged")?;
    let key_version: Option<i64> = row.try_get("key_version")?;
    Ok(StoredNote {
        note_id: row.try_get("note_id")?,
        case_id: row.try_get("case_id")?,
        author_id: row.try_get("author_id")?,
        written_at: row.try_get("written_at")?,
        sealed_text: row.try_get("sealed_text")?,
        legacy_text: row.try_get("text")?,
        key_version: key_version.map(|v| i32::try_from(v).unwrap_or(i32::MAX)),
        privileged: privileged != 0,
        category: row.try_get("category")?,
    })
}
