//! Follow-ups: the schedule written at enrollment and at exit, the worker's claims, and the records.

use chrono::NaiveDate;
use sqlx::Row;
use wf_db::{Db, DbError, Tx};
use wf_proto::cases::v1::{FollowUpKind, FollowUpStatus};
use wf_types::FollowUpId;

use super::sql_limit;
use crate::domain::follow_up::{self, Window};

/// A follow-up as stored, with the owner and practice flag of its case.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowUpRecord {
    pub follow_up_id: String,
    pub case_id: String,
    pub kind: FollowUpKind,
    pub due_on: NaiveDate,
    /// The window it is recorded in (its due date, and the dates it opens and closes on).
    pub window: Window,
    pub status: FollowUpStatus,
    pub completed_at: Option<i64>,
    pub recorded_by: Option<String>,
    /// Encoded `FollowUpOutcomes` when completed.
    pub outcomes: Option<Vec<u8>>,
    pub case_manager_id: Option<String>,
    pub practice: bool,
}

/// Writes the follow-ups `scheduled` (kind and window) for the case; returns their ids.
pub async fn schedule(
    tx: &mut Tx,
    case_id: &str,
    scheduled: &[(FollowUpKind, Window)],
) -> Result<Vec<String>, DbError> {
    let mut ids = Vec::new();
    for (kind, window) in scheduled {
        let id = FollowUpId::generate().to_string();
        sqlx::query(
            "INSERT INTO follow_ups (follow_up_id, case_id, kind, due_on, due_at, opens_at, overdue_at, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'scheduled')",
        )
        .bind(id.clone())
        .bind(case_id)
        .bind(i64::from(*kind as i32))
        .bind(window.due_on.to_string())
        .bind(window.due_at())
        .bind(window.opens_at())
        .bind(window.closes_at())
        .execute(&mut **tx)
        .await?;
        ids.push(id);
    }
    Ok(ids)
}

/// Cancels the case's follow-ups that are still open (scheduled, due or overdue) and returns
/// them (id, kind, due date); recorded ones are left as they are.
pub async fn cancel_open(tx: &mut Tx, case_id: &str) -> Result<Vec<(String, FollowUpKind, NaiveDate)>, DbError> {
    let rows = sqlx::query(
        "SELECT follow_up_id, kind, due_on FROM follow_ups WHERE case_id = $1 \
         AND status IN ('scheduled', 'due', 'overdue') ORDER BY follow_up_id",
    )
    .bind(case_id)
    .fetch_all(&mut **tx)
    .await?;
    let mut cancelled = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: String = row.try_get("follow_up_id")?;
        let kind: i64 = row.try_get("kind")?;
        let due_on: String = row.try_get("due_on")?;
        let kind = i32::try_from(kind).ok().and_then(|k| FollowUpKind::try_from(k).ok()).unwrap_or_default();
        let due_on = NaiveDate::parse_from_str(&due_on, "%Y-%m-%d").map_err(|_| super::corrupt("due_on", &due_on))?;
        cancelled.push((id, kind, due_on));
    }
    sqlx::query(
        "UPDATE follow_ups SET status = 'cancelled' WHERE case_id = $1 AND status IN ('scheduled', 'due', 'overdue')",
    )
    .bind(case_id)
    .execute(&mut **tx)
    .await?;
    Ok(cancelled)
}

/// Which announcement a sweep makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announcement {
    Due,
    Overdue,
}

/// Follow-ups whose `announcement` is owed at `now` and not yet made, oldest due first.
pub async fn owed(db: &Db, announcement: Announcement, now: i64, limit: i64) -> Result<Vec<String>, DbError> {
    let sql = match announcement {
        Announcement::Due => {
            // Due is announced when the window opens.
            "SELECT follow_up_id FROM follow_ups WHERE due_announced = 0 AND COALESCE(opens_at, due_at) <= $1 \
             AND status IN ('scheduled', 'due', 'overdue') ORDER BY COALESCE(opens_at, due_at), follow_up_id LIMIT $2"
        }
        Announcement::Overdue => {
            "SELECT follow_up_id FROM follow_ups WHERE overdue_announced = 0 AND overdue_at <= $1 \
             AND status IN ('scheduled', 'due', 'overdue') ORDER BY overdue_at, follow_up_id LIMIT $2"
        }
    };
    let rows = sqlx::query(sql).bind(now).bind(limit).fetch_all(db.pool()).await?;
    rows.iter().map(|row| Ok(row.try_get("follow_up_id")?)).collect()
}

/// Marks `announcement` made for the follow-up and moves its status on; `false` when another
/// sweep (another replica, or before a restart) made it already, or it was recorded meanwhile.
pub async fn claim(tx: &mut Tx, follow_up_id: &str, announcement: Announcement) -> Result<bool, DbError> {
    let sql = match announcement {
        Announcement::Due => {
            "UPDATE follow_ups SET due_announced = 1, \
             status = CASE WHEN status = 'scheduled' THEN 'due' ELSE status END \
             WHERE follow_up_id = $1 AND due_announced = 0 AND status IN ('scheduled', 'due', 'overdue')"
        }
        Announcement::Overdue => {
            // Due is always announced first: an overdue follow-up was due.
            "UPDATE follow_ups SET overdue_announced = 1, status = 'overdue' \
             WHERE follow_up_id = $1 AND overdue_announced = 0 AND due_announced = 1 \
             AND status IN ('scheduled', 'due', 'overdue')"
        }
    };
    Ok(sqlx::query(sql).bind(follow_up_id).execute(&mut **tx).await?.rows_affected() == 1)
}

const COLUMNS: &str = "f.follow_up_id, f.case_id, f.kind, f.due_on, COALESCE(f.opens_at, f.due_at) AS opens_at, \
                       f.overdue_at, f.status, f.completed_at, f.recorded_by, f.outcomes, c.case_manager_id, c.practice";

pub async fn get_in(tx: &mut Tx, follow_up_id: &str) -> Result<Option<FollowUpRecord>, DbError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM follow_ups f JOIN cases c ON c.case_id = f.case_id WHERE f.follow_up_id = $1"
    ))
    .bind(follow_up_id)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Records the outcome of an open follow-up; `false` when it is no longer open.
pub async fn record(
    tx: &mut Tx,
    follow_up_id: &str,
    status: FollowUpStatus,
    completed_at: i64,
    recorded_by: &str,
    outcomes: Option<Vec<u8>>,
) -> Result<bool, DbError> {
    let updated = sqlx::query(
        "UPDATE follow_ups SET status = $1, completed_at = $2, recorded_by = $3, outcomes = $4 \
         WHERE follow_up_id = $5 AND status IN ('scheduled', 'due', 'overdue')",
    )
    .bind(follow_up::status_code(status))
    .bind(completed_at)
    .bind(recorded_by)
    .bind(outcomes)
    .bind(follow_up_id)
    .execute(&mut **tx)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Filters of [`list`]; empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct FollowUpFilter {
    pub case_id: Option<String>,
    pub case_manager_id: Option<String>,
    pub statuses: Vec<FollowUpStatus>,
    pub due_by: Option<NaiveDate>,
}

pub async fn list(
    db: &Db,
    filter: &FollowUpFilter,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<FollowUpRecord>, DbError> {
    let mut conditions = vec!["f.follow_up_id > $1".to_owned()];
    let mut binds: Vec<String> = vec![after.unwrap_or_default().to_owned()];
    let mut push = |condition: &str, value: String, conditions: &mut Vec<String>| {
        binds.push(value);
        conditions.push(condition.replace('?', &format!("${}", binds.len())));
    };
    if let Some(id) = &filter.case_id {
        push("f.case_id = ?", id.clone(), &mut conditions);
    }
    if let Some(id) = &filter.case_manager_id {
        push("c.case_manager_id = ?", id.clone(), &mut conditions);
    }
    if let Some(date) = filter.due_by {
        // ISO dates compare in calendar order as text.
        push("f.due_on <= ?", date.to_string(), &mut conditions);
    }
    for status in &filter.statuses {
        push("f.status = ?", follow_up::status_code(*status).to_owned(), &mut conditions);
    }
    // Status conditions are alternatives: fold the trailing ones into one OR group.
    let status_count = filter.statuses.len();
    if status_count > 0 {
        let statuses: Vec<String> = conditions.split_off(conditions.len() - status_count);
        conditions.push(format!("({})", statuses.join(" OR ")));
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM follow_ups f JOIN cases c ON c.case_id = f.case_id WHERE {} \
         ORDER BY f.follow_up_id LIMIT ${}",
        conditions.join(" AND "),
        binds.len() + 1
    );
    let mut query = sqlx::query(&sql);
    for value in binds {
        query = query.bind(value);
    }
    let rows = query.bind(sql_limit(limit)).fetch_all(db.pool()).await?;
    rows.iter().map(from_row).collect()
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<FollowUpRecord, DbError> {
    let kind: i64 = row.try_get("kind")?;
    let due_on: String = row.try_get("due_on")?;
    let status: String = row.try_get("status")?;
    let practice: i64 = row.try_get("practice")?;
    let due_on = NaiveDate::parse_from_str(&due_on, "%Y-%m-%d").map_err(|_| super::corrupt("due_on", &due_on))?;
    let opens_at: i64 = row.try_get("opens_at")?;
    let overdue_at: i64 = row.try_get("overdue_at")?;
    let window = Window { opens_on: follow_up::date_of(opens_at), due_on, closes_on: follow_up::date_of(overdue_at) };
    Ok(FollowUpRecord {
        follow_up_id: row.try_get("follow_up_id")?,
        case_id: row.try_get("case_id")?,
        kind: i32::try_from(kind)
            .ok()
            .and_then(|k| FollowUpKind::try_from(k).ok())
            .unwrap_or(FollowUpKind::Unspecified),
        due_on,
        window,
        status: follow_up::status_from_code(&status).ok_or_else(|| super::corrupt("status", &status))?,
        completed_at: row.try_get("completed_at")?,
        recorded_by: row.try_get("recorded_by")?,
        outcomes: row.try_get("outcomes")?,
        case_manager_id: row.try_get("case_manager_id")?,
        practice: practice != 0,
    })
}
