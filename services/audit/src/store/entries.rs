//! The SQL of the log: `audit_entry` and its head, `audit_head`. Appends take the caller's
//! transaction; reads take the pool.

use sqlx::Row;
use sqlx::any::{AnyArguments, AnyRow};
use wf_db::{Backend, Db, DbError, Tx};

use super::{from_db, to_db};
use crate::domain::chain::{ChainHead, Entry, EntryContent};
use crate::domain::query::{EntryFilter, TypePattern};

/// A statement over the any-database driver, with its binds.
pub type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, AnyArguments<'q>>;

const ENTRY_COLUMNS: &str = "sequence, event_id, event_type, schema_version, aggregate_id, correlation_id, \
     producer, actor, actor_role, purpose, release_id, fields, occurred_at, recorded_at, payload, \
     previous_hash, entry_hash";

/// The same columns with `payload` read as empty bytes (a literal per dialect), for listings
/// that leave it out.
fn entry_columns_without_payload(backend: Backend) -> String {
    let empty_bytes = match backend {
        Backend::Postgres => "'\\x'::bytea",
        Backend::Sqlite => "X''",
    };
    ENTRY_COLUMNS.replace(" payload,", &format!(" {empty_bytes} AS payload,"))
}

/// The chain head, locked until the transaction ends. On PostgreSQL the row lock serialises
/// appenders across processes; SQLite's single connection already serialises them.
pub async fn lock_head(tx: &mut Tx, backend: Backend) -> Result<ChainHead, DbError> {
    let sql = match backend {
        Backend::Postgres => "SELECT last_sequence, last_hash FROM audit_head WHERE id = 1 FOR UPDATE",
        Backend::Sqlite => "SELECT last_sequence, last_hash FROM audit_head WHERE id = 1",
    };
    let (last_sequence, last_hash): (i64, Vec<u8>) = sqlx::query_as(sql).fetch_one(&mut **tx).await?;
    Ok(ChainHead { last_sequence: from_db(last_sequence), last_hash })
}

/// An entry already appended for `event_id`: its sequence, type and payload.
pub async fn find_event(tx: &mut Tx, event_id: &str) -> Result<Option<(u64, String, Vec<u8>)>, DbError> {
    let row: Option<(i64, String, Vec<u8>)> =
        sqlx::query_as("SELECT sequence, event_type, payload FROM audit_entry WHERE event_id = $1")
            .bind(event_id.to_owned())
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.map(|(sequence, event_type, payload)| (from_db(sequence), event_type, payload)))
}

/// Binds every column of `ENTRY_COLUMNS` but the sequence (`event_id` … `entry_hash`), in that
/// order, to the next placeholders of `query`.
pub fn bind_entry<'q>(query: AnyQuery<'q>, entry: &Entry) -> Result<AnyQuery<'q>, DbError> {
    let content = &entry.content;
    let fields = serde_json::to_string(&content.fields)
        .map_err(|err| DbError::Config { message: format!("cannot encode field paths: {err}") })?;
    Ok(query
        .bind(content.event_id.clone())
        .bind(content.event_type.clone())
        .bind(i64::from(content.schema_version))
        .bind(content.aggregate_id.clone())
        .bind(content.correlation_id.clone())
        .bind(content.producer.clone())
        .bind(content.actor.clone())
        .bind(content.actor_role.clone())
        .bind(content.purpose.clone())
        .bind(content.release_id.clone())
        .bind(fields)
        .bind(content.occurred_at_micros)
        .bind(content.recorded_at_micros)
        .bind(content.payload.clone())
        .bind(entry.previous_hash.clone())
        .bind(entry.entry_hash.clone()))
}

/// Inserts the row of `entry` alone (the database refuses it unless it extends the head).
pub async fn insert(tx: &mut Tx, entry: &Entry) -> Result<(), DbError> {
    let sql = format!(
        "INSERT INTO audit_entry ({ENTRY_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
    );
    bind_entry(sqlx::query(&sql).bind(to_db(entry.sequence)), entry)?.execute(&mut **tx).await?;
    Ok(())
}

/// Appends `entry` and moves the head onto it.
pub async fn append(tx: &mut Tx, entry: &Entry) -> Result<(), DbError> {
    insert(tx, entry).await?;
    sqlx::query("UPDATE audit_head SET last_sequence = $1, last_hash = $2 WHERE id = 1")
        .bind(to_db(entry.sequence))
        .bind(entry.entry_hash.clone())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The head and the highest stored sequence, read in one statement (one snapshot), so entries
/// stored beyond the head can be told apart from entries appended while a verification runs.
pub async fn tail(db: &Db) -> Result<(ChainHead, u64), DbError> {
    let (last_sequence, last_hash, max_sequence): (i64, Vec<u8>, Option<i64>) = sqlx::query_as(
        "SELECT last_sequence, last_hash, (SELECT MAX(sequence) FROM audit_entry) FROM audit_head WHERE id = 1",
    )
    .fetch_one(db.pool())
    .await?;
    Ok((ChainHead { last_sequence: from_db(last_sequence), last_hash }, max_sequence.map_or(0, from_db)))
}

/// The stored hash of entry `sequence`, if that entry exists.
pub async fn entry_hash_at(db: &Db, sequence: u64) -> Result<Option<Vec<u8>>, DbError> {
    let row: Option<(Vec<u8>,)> = sqlx::query_as("SELECT entry_hash FROM audit_entry WHERE sequence = $1")
        .bind(to_db(sequence))
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(|(hash,)| hash))
}

/// Up to `limit` entries with `from <= sequence <= to`, ascending.
pub async fn entries_between(db: &Db, from: u64, to: u64, limit: u32) -> Result<Vec<Entry>, DbError> {
    let rows = sqlx::query(&format!(
        "SELECT {ENTRY_COLUMNS} FROM audit_entry WHERE sequence >= $1 AND sequence <= $2 ORDER BY sequence LIMIT $3"
    ))
    .bind(to_db(from))
    .bind(to_db(to))
    .bind(i64::from(limit))
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(entry_from_row).collect()
}

pub async fn entry_by_sequence(db: &Db, sequence: u64) -> Result<Option<Entry>, DbError> {
    let row = sqlx::query(&format!("SELECT {ENTRY_COLUMNS} FROM audit_entry WHERE sequence = $1"))
        .bind(to_db(sequence))
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(entry_from_row).transpose()
}

pub async fn entry_by_event_id(db: &Db, event_id: &str) -> Result<Option<Entry>, DbError> {
    let row = sqlx::query(&format!("SELECT {ENTRY_COLUMNS} FROM audit_entry WHERE event_id = $1"))
        .bind(event_id.to_owned())
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(entry_from_row).transpose()
}

/// A bind value of a dynamically built query.
enum Value {
    Text(String),
    Int(i64),
}

/// Up to `limit` entries matching `filter`, ascending by sequence.
pub async fn list_entries(
    db: &Db,
    filter: &EntryFilter,
    limit: u32,
    omit_payload: bool,
) -> Result<Vec<Entry>, DbError> {
    let mut conditions = Vec::new();
    let mut values = Vec::new();
    let mut push = |condition: &dyn Fn(usize) -> String, value: Value| {
        values.push(value);
        conditions.push(condition(values.len()));
    };
    push(&|n| format!("sequence >= ${n}"), Value::Int(to_db(filter.from_sequence)));
    for (column, value) in
        [("correlation_id", &filter.correlation_id), ("aggregate_id", &filter.aggregate_id), ("actor", &filter.actor)]
    {
        if let Some(value) = value {
            push(&|n| format!("{column} = ${n}"), Value::Text(value.clone()));
        }
    }
    if let Some(from) = filter.occurred_from_micros {
        push(&|n| format!("occurred_at >= ${n}"), Value::Int(from));
    }
    if let Some(before) = filter.occurred_before_micros {
        push(&|n| format!("occurred_at < ${n}"), Value::Int(before));
    }
    if let Some(scope) = &filter.records {
        let mut alternatives = Vec::new();
        for referral in &scope.referral_ids {
            values.push(Value::Text(referral.clone()));
            alternatives.push(format!("correlation_id = ${}", values.len()));
            values.push(Value::Text(referral.clone()));
            alternatives.push(format!("aggregate_id = ${}", values.len()));
        }
        for record in &scope.record_ids {
            values.push(Value::Text(record.clone()));
            alternatives.push(format!("aggregate_id = ${}", values.len()));
        }
        // No record at all: nothing is about it.
        conditions.push(if alternatives.is_empty() {
            "1 = 0".to_owned()
        } else {
            format!("({})", alternatives.join(" OR "))
        });
    }
    if !filter.types.is_empty() {
        let mut alternatives = Vec::new();
        for pattern in &filter.types {
            values.push(match pattern {
                TypePattern::Exact(name) => Value::Text(name.clone()),
                // Validated to [a-z0-9_.]: only `_` needs escaping.
                TypePattern::Prefix(prefix) => Value::Text(format!("{}%", prefix.replace('_', "\\_"))),
            });
            let n = values.len();
            alternatives.push(match pattern {
                TypePattern::Exact(_) => format!("event_type = ${n}"),
                TypePattern::Prefix(_) => format!("event_type LIKE ${n} ESCAPE '\\'"),
            });
        }
        conditions.push(format!("({})", alternatives.join(" OR ")));
    }
    values.push(Value::Int(i64::from(limit)));
    let columns = if omit_payload { entry_columns_without_payload(db.backend()) } else { ENTRY_COLUMNS.to_owned() };
    let sql = format!(
        "SELECT {columns} FROM audit_entry WHERE {} ORDER BY sequence LIMIT ${}",
        conditions.join(" AND "),
        values.len()
    );
    let mut query = sqlx::query(&sql);
    for value in values {
        query = match value {
            Value::Text(text) => query.bind(text),
            Value::Int(int) => query.bind(int),
        };
    }
    let rows = query.fetch_all(db.pool()).await?;
    rows.iter().map(entry_from_row).collect()
}

fn entry_from_row(row: &AnyRow) -> Result<Entry, DbError> {
    let fields_json: String = row.try_get("fields")?;
    // A fields column that is not a JSON list cannot have been written by `append`; keeping its
    // text as the one element makes the entry fail its hash, so verification reports it.
    let fields = serde_json::from_str::<Vec<String>>(&fields_json).unwrap_or_else(|_| vec![fields_json]);
    let schema_version: i64 = row.try_get("schema_version")?;
    Ok(Entry {
        sequence: from_db(row.try_get("sequence")?),
        content: EntryContent {
            event_id: row.try_get("event_id")?,
            event_type: row.try_get("event_type")?,
            schema_version: u32::try_from(schema_version).unwrap_or(u32::MAX),
            aggregate_id: row.try_get("aggregate_id")?,
            correlation_id: row.try_get("correlation_id")?,
            producer: row.try_get("producer")?,
            actor: row.try_get("actor")?,
            actor_role: row.try_get("actor_role")?,
            purpose: row.try_get("purpose")?,
            release_id: row.try_get("release_id")?,
            fields,
            occurred_at_micros: row.try_get("occurred_at")?,
            recorded_at_micros: row.try_get("recorded_at")?,
            payload: row.try_get("payload")?,
        },
        previous_hash: row.try_get("previous_hash")?,
        entry_hash: row.try_get("entry_hash")?,
    })
}
