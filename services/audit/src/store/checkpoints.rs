//! The SQL of checkpoints (`audit_checkpoint`), and the leaf hashes proofs are built from.

use sqlx::Row;
use sqlx::any::AnyRow;
use wf_db::{Db, DbError};

use super::to_db;

use crate::domain::chain::Hash;
use crate::domain::checkpoint::Checkpoint;
use crate::domain::merkle::{self, Frontier};

const COLUMNS: &str = "tree_size, root_hash, last_entry_hash, signed_at, key_id, signature, frontier";

fn damaged(what: &str) -> DbError {
    DbError::Config { message: format!("audit_checkpoint: {what} is damaged") }
}

fn from_row(row: &AnyRow) -> Result<(Checkpoint, Frontier), DbError> {
    let tree_size: i64 = row.try_get("tree_size")?;
    let tree_size = u64::try_from(tree_size).map_err(|_| damaged("tree_size"))?;
    let hash = |column: &str| -> Result<Hash, DbError> {
        let bytes: Vec<u8> = row.try_get(column)?;
        bytes.try_into().map_err(|_| damaged(column))
    };
    let frontier_bytes: Vec<u8> = row.try_get("frontier")?;
    let nodes = frontier_bytes
        .chunks(32)
        .map(|chunk| Hash::try_from(chunk).map_err(|_| damaged("frontier")))
        .collect::<Result<Vec<_>, _>>()?;
    let frontier = Frontier::from_parts(tree_size, nodes).ok_or_else(|| damaged("frontier"))?;
    Ok((
        Checkpoint {
            tree_size,
            root_hash: hash("root_hash")?,
            last_entry_hash: hash("last_entry_hash")?,
            signed_at_micros: row.try_get("signed_at")?,
            key_id: row.try_get("key_id")?,
            signature: row.try_get("signature")?,
        },
        frontier,
    ))
}

/// Stores `checkpoint`; `false` when one of that size already exists.
pub async fn insert(db: &Db, checkpoint: &Checkpoint, frontier: &Frontier) -> Result<bool, DbError> {
    let result = sqlx::query(&format!(
        "INSERT INTO audit_checkpoint ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tree_size) DO NOTHING"
    ))
    .bind(to_db(checkpoint.tree_size))
    .bind(checkpoint.root_hash.to_vec())
    .bind(checkpoint.last_entry_hash.to_vec())
    .bind(checkpoint.signed_at_micros)
    .bind(checkpoint.key_id.clone())
    .bind(checkpoint.signature.clone())
    .bind(frontier.nodes().concat())
    .execute(db.pool())
    .await?;
    Ok(result.rows_affected() == 1)
}

async fn one(db: &Db, condition: &str, value: u64) -> Result<Option<(Checkpoint, Frontier)>, DbError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM audit_checkpoint WHERE {condition} ORDER BY tree_size DESC LIMIT 1"
    ))
    .bind(to_db(value))
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn by_size(db: &Db, tree_size: u64) -> Result<Option<(Checkpoint, Frontier)>, DbError> {
    one(db, "tree_size = $1", tree_size).await
}

/// The largest checkpoint with `tree_size <= size`.
pub async fn at_or_below(db: &Db, size: u64) -> Result<Option<(Checkpoint, Frontier)>, DbError> {
    one(db, "tree_size <= $1", size).await
}

/// The smallest checkpoint with `tree_size >= size`.
pub async fn at_or_above(db: &Db, size: u64) -> Result<Option<Checkpoint>, DbError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM audit_checkpoint WHERE tree_size >= $1 ORDER BY tree_size LIMIT 1"
    ))
    .bind(to_db(size))
    .fetch_optional(db.pool())
    .await?;
    Ok(row.as_ref().map(from_row).transpose()?.map(|(checkpoint, _)| checkpoint))
}

pub async fn latest(db: &Db) -> Result<Option<(Checkpoint, Frontier)>, DbError> {
    one(db, "tree_size >= $1", 0).await
}

/// Up to `limit` checkpoints with `tree_size > after` and `signed_at` in `[from, before)`, ascending.
pub async fn list(
    db: &Db,
    after: u64,
    signed_from: Option<i64>,
    signed_before: Option<i64>,
    limit: u32,
) -> Result<Vec<Checkpoint>, DbError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM audit_checkpoint WHERE tree_size > $1 AND signed_at >= $2 AND signed_at < $3 \
         ORDER BY tree_size LIMIT $4"
    ))
    .bind(to_db(after))
    .bind(signed_from.unwrap_or(i64::MIN))
    .bind(signed_before.unwrap_or(i64::MAX))
    .bind(i64::from(limit))
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(|row| from_row(row).map(|(checkpoint, _)| checkpoint)).collect()
}

/// Every checkpoint, ascending (one per thousand entries by default: small).
pub async fn all(db: &Db) -> Result<Vec<Checkpoint>, DbError> {
    list(db, 0, None, None, u32::MAX).await
}

/// Merkle leaf hashes of entries `1..=tree_size`, read in pages of stored entry hashes.
pub async fn leaves(db: &Db, tree_size: u64) -> Result<Vec<Hash>, DbError> {
    let mut leaves = Vec::with_capacity(usize::try_from(tree_size).unwrap_or(0));
    let mut next = 1u64;
    while next <= tree_size {
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT sequence, entry_hash FROM audit_entry WHERE sequence >= $1 AND sequence <= $2 ORDER BY sequence LIMIT 50000",
        )
        .bind(to_db(next))
        .bind(to_db(tree_size))
        .fetch_all(db.pool())
        .await?;
        if rows.is_empty() {
            break;
        }
        for (sequence, hash) in rows {
            if u64::try_from(sequence).ok() != Some(next) {
                return Err(DbError::Config { message: format!("audit entry {next} is missing") });
            }
            let hash: Hash = hash.try_into().map_err(|_| damaged("an entry hash"))?;
            leaves.push(merkle::leaf_hash(&hash));
            next += 1;
        }
    }
    if next <= tree_size {
        return Err(DbError::Config { message: format!("audit entry {next} is missing") });
    }
    Ok(leaves)
}
