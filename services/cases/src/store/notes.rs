//! Case notes. Every read names whether privileged notes may be included, so no query can return
//! them by accident.

use sqlx::Row;
use wf_db::{Db, DbError, Tx};

use super::sql_limit;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteRecord {
    pub note_id: String,
    pub case_id: String,
    pub author_id: String,
    pub written_at: i64,
    pub text: String,
    pub privileged: bool,
    pub category: String,
}

/// Whether a read may include privileged notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Privileged {
    Include,
    Exclude,
}

pub async fn insert(tx: &mut Tx, note: &NoteRecord) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO case_notes (note_id, case_id, author_id, written_at, text, privileged, category) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(note.note_id.clone())
    .bind(note.case_id.clone())
    .bind(note.author_id.clone())
    .bind(note.written_at)
    .bind(note.text.clone())
    .bind(i64::from(note.privileged))
    .bind(note.category.clone())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn list(
    db: &Db,
    case_id: &str,
    privileged: Privileged,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<NoteRecord>, DbError> {
    let filter = match privileged {
        Privileged::Include => "",
        Privileged::Exclude => "AND privileged = 0",
    };
    let rows = sqlx::query(&format!(
        "SELECT note_id, case_id, author_id, written_at, text, privileged, category FROM case_notes \
         WHERE case_id = $1 {filter} AND note_id > COALESCE($2, '') ORDER BY note_id LIMIT $3"
    ))
    .bind(case_id)
    .bind(after.map(str::to_owned))
    .bind(sql_limit(limit))
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(note_from_row).collect()
}

fn note_from_row(row: &sqlx::any::AnyRow) -> Result<NoteRecord, DbError> {
    let privileged: i64 = row.try_get("privileged")?;
    Ok(NoteRecord {
        note_id: row.try_get("note_id")?,
        case_id: row.try_get("case_id")?,
        author_id: row.try_get("author_id")?,
        written_at: row.try_get("written_at")?,
        text: row.try_get("text")?,
        privileged: privileged != 0,
        category: row.try_get("category")?,
    })
}
