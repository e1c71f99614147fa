//! The roster as stored: members (case managers and supervisors) and their periods (leave and
//! on-call shifts). Every assignment reads it inside its transaction, so an edit made on one
//! replica is what the next assignment on any replica sees.

use sqlx::{AnyConnection, Row};
use wf_db::{Db, DbError, Tx};
use wf_types::CaseManagerId;

use super::corrupt;
use crate::domain::roster_edit::Entry;
use crate::domain::{CaseManager, Period, Roster, Site, Supervisor};

/// What seeding from the roster file did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeedReport {
    /// File entries written (new, or refreshed because nobody edited them through the API).
    pub written: usize,
    /// File entries left as they are because they were edited through the API.
    pub kept_api_edits: usize,
}

/// Writes the roster file's entries. An entry edited through the API (`source = 'api'`) keeps the
/// API's version; the others follow the file. The standing on-call flag is set only when an entry
/// is first written: after that it is SetOnCall's.
pub async fn seed(db: &Db, roster: &Roster, now: i64) -> Result<SeedReport, DbError> {
    let mut tx = db.begin().await?;
    let mut report = SeedReport::default();
    let rows = roster
        .supervisors()
        .iter()
        .map(|s| Member::from(&Entry::Supervisor(s.clone())))
        .chain(roster.case_managers().iter().map(|cm| Member::from(&Entry::CaseManager(cm.clone()))));
    for member in rows {
        let written = sqlx::query(
            "INSERT INTO roster_members (case_manager_id, display_code, display_name, user_id, is_supervisor, sites, \
             languages, max_caseload, active, on_call, engagement_approaches, supervisor_id, source, updated_at, \
             updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'file', $13, 'roster_file') \
             ON CONFLICT (case_manager_id) DO UPDATE SET display_code = excluded.display_code, \
             display_name = excluded.display_name, user_id = excluded.user_id, \
             is_supervisor = excluded.is_supervisor, sites = excluded.sites, languages = excluded.languages, \
             max_caseload = excluded.max_caseload, active = excluded.active, \
             engagement_approaches = excluded.engagement_approaches, supervisor_id = excluded.supervisor_id, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by \
             WHERE roster_members.source = 'file'",
        );
        let written = member.bind(written).bind(now).execute(&mut *tx).await?;
        if written.rows_affected() == 1 {
            report.written += 1;
        } else {
            report.kept_api_edits += 1;
        }
    }
    tx.commit().await?;
    Ok(report)
}

/// The roster, read inside the caller's transaction (assignment reads it under its lock).
pub async fn load_in(tx: &mut Tx) -> Result<Roster, DbError> {
    load_with(tx).await
}

/// The roster, for reads outside a transaction.
pub async fn load(db: &Db) -> Result<Roster, DbError> {
    let mut conn = db.pool().acquire().await?;
    load_with(&mut conn).await
}

async fn load_with(conn: &mut AnyConnection) -> Result<Roster, DbError> {
    let periods = sqlx::query(
        "SELECT case_manager_id, kind, starts_at, ends_at FROM roster_periods ORDER BY case_manager_id, starts_at",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut leave: Vec<(String, Period)> = Vec::new();
    let mut shifts: Vec<(String, Period)> = Vec::new();
    for row in &periods {
        let id: String = row.try_get("case_manager_id")?;
        let kind: String = row.try_get("kind")?;
        let period = Period { starts_at: row.try_get("starts_at")?, ends_at: row.try_get("ends_at")? };
        match kind.as_str() {
            "leave" => leave.push((id, period)),
            "on_call" => shifts.push((id, period)),
            other => return Err(corrupt("roster_periods.kind", other)),
        }
    }
    let of = |list: &[(String, Period)], id: &str| -> Vec<Period> {
        list.iter().filter(|(owner, _)| owner == id).map(|(_, period)| *period).collect()
    };
    let rows = sqlx::query(
        "SELECT case_manager_id, display_code, display_name, user_id, is_supervisor, sites, languages, max_caseload, \
         active, on_call, engagement_approaches, supervisor_id FROM roster_members",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut case_managers = Vec::new();
    let mut supervisors = Vec::new();
    for row in &rows {
        let id_text: String = row.try_get("case_manager_id")?;
        let id = parse_id(&id_text)?;
        let sites_text: String = row.try_get("sites")?;
        let sites = split(&sites_text)
            .into_iter()
            .map(|code| Site::from_code(&code).ok_or_else(|| corrupt("roster_members.sites", &code)))
            .collect::<Result<Vec<_>, _>>()?;
        let flag = |column: &str| -> Result<bool, DbError> { Ok(row.try_get::<i64, _>(column)? != 0) };
        let display_code: String = row.try_get("display_code")?;
        let display_name: String = row.try_get("display_name")?;
        let user_id: Option<String> = row.try_get("user_id")?;
        if flag("is_supervisor")? {
            supervisors.push(Supervisor { id, display_code, display_name, user_id, sites });
            continue;
        }
        let supervisor_text: Option<String> = row.try_get("supervisor_id")?;
        let supervisor_id = parse_id(supervisor_text.as_deref().unwrap_or_default())?;
        let max_caseload: i64 = row.try_get("max_caseload")?;
        case_managers.push(CaseManager {
            leave: of(&leave, &id_text),
            on_call_shifts: of(&shifts, &id_text),
            id,
            display_code,
            display_name,
            user_id,
            sites,
            languages: split(&row.try_get::<String, _>("languages")?),
            max_caseload: u32::try_from(max_caseload)
                .map_err(|_| corrupt("roster_members.max_caseload", &max_caseload.to_string()))?,
            active: flag("active")?,
            on_call: flag("on_call")?,
            engagement_approaches: split(&row.try_get::<String, _>("engagement_approaches")?),
            supervisor_id,
        });
    }
    Ok(Roster::from_parts(case_managers, supervisors))
}

/// Creates or replaces an entry (it is the API's from now on) with its leave periods; `true` when
/// it was created.
pub async fn upsert(tx: &mut Tx, entry: &Entry, by: &str, now: i64) -> Result<bool, DbError> {
    let id = entry.id().to_string();
    let existed = sqlx::query("SELECT case_manager_id FROM roster_members WHERE case_manager_id = $1")
        .bind(id.clone())
        .fetch_optional(&mut **tx)
        .await?
        .is_some();
    let query = sqlx::query(
        "INSERT INTO roster_members (case_manager_id, display_code, display_name, user_id, is_supervisor, sites, \
         languages, max_caseload, active, on_call, engagement_approaches, supervisor_id, source, updated_at, \
         updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'api', $13, $14) \
         ON CONFLICT (case_manager_id) DO UPDATE SET display_code = excluded.display_code, \
         display_name = excluded.display_name, user_id = excluded.user_id, is_supervisor = excluded.is_supervisor, \
         sites = excluded.sites, languages = excluded.languages, max_caseload = excluded.max_caseload, \
         active = excluded.active, engagement_approaches = excluded.engagement_approaches, \
         supervisor_id = excluded.supervisor_id, source = 'api', updated_at = excluded.updated_at, \
         updated_by = excluded.updated_by",
    );
    Member::from(entry).bind(query).bind(now).bind(by.to_owned()).execute(&mut **tx).await?;
    let leave = match entry {
        Entry::CaseManager(cm) => cm.leave.as_slice(),
        Entry::Supervisor(_) => &[],
    };
    replace_periods(tx, &id, "leave", leave).await?;
    if matches!(entry, Entry::Supervisor(_)) {
        // A supervisor takes no emergent referrals either.
        replace_periods(tx, &id, "on_call", &[]).await?;
    }
    Ok(!existed)
}

/// Sets the standing on-call flag and replaces the shift schedule; `false` when `id` is not a
/// case manager.
pub async fn set_on_call(
    tx: &mut Tx,
    id: &CaseManagerId,
    on_call: bool,
    shifts: &[Period],
    by: &str,
    now: i64,
) -> Result<bool, DbError> {
    let updated = sqlx::query(
        "UPDATE roster_members SET on_call = $1, updated_at = $2, updated_by = $3 \
         WHERE case_manager_id = $4 AND is_supervisor = 0",
    )
    .bind(i64::from(on_call))
    .bind(now)
    .bind(by.to_owned())
    .bind(id.to_string())
    .execute(&mut **tx)
    .await?;
    if updated.rows_affected() != 1 {
        return Ok(false);
    }
    replace_periods(tx, id.as_str(), "on_call", shifts).await?;
    Ok(true)
}

async fn replace_periods(tx: &mut Tx, id: &str, kind: &str, periods: &[Period]) -> Result<(), DbError> {
    sqlx::query("DELETE FROM roster_periods WHERE case_manager_id = $1 AND kind = $2")
        .bind(id.to_owned())
        .bind(kind.to_owned())
        .execute(&mut **tx)
        .await?;
    for period in periods {
        sqlx::query("INSERT INTO roster_periods (case_manager_id, kind, starts_at, ends_at) VALUES ($1, $2, $3, $4)")
            .bind(id.to_owned())
            .bind(kind.to_owned())
            .bind(period.starts_at)
            .bind(period.ends_at)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// A member's columns in insert order ($1 … $12).
struct Member {
    id: String,
    display_code: String,
    display_name: String,
    user_id: Option<String>,
    is_supervisor: bool,
    sites: String,
    languages: String,
    max_caseload: i64,
    active: bool,
    on_call: bool,
    engagement_approaches: String,
    supervisor_id: Option<String>,
}

impl From<&Entry> for Member {
    fn from(entry: &Entry) -> Self {
        let sites = |sites: &[Site]| sites.iter().map(|site| site.code()).collect::<Vec<_>>().join(",");
        match entry {
            Entry::Supervisor(s) => Member {
                id: s.id.to_string(),
                display_code: s.display_code.clone(),
                display_name: s.display_name.clone(),
                user_id: s.user_id.clone(),
                is_supervisor: true,
                sites: sites(&s.sites),
                languages: String::new(),
                max_caseload: 0,
                active: true,
                on_call: false,
                engagement_approaches: String::new(),
                supervisor_id: None,
            },
            Entry::CaseManager(cm) => Member {
                id: cm.id.to_string(),
                display_code: cm.display_code.clone(),
                display_name: cm.display_name.clone(),
                user_id: cm.user_id.clone(),
                is_supervisor: false,
                sites: sites(&cm.sites),
                languages: cm.languages.join(","),
                max_caseload: i64::from(cm.max_caseload),
                active: cm.active,
                on_call: cm.on_call,
                engagement_approaches: cm.engagement_approaches.join(","),
                supervisor_id: Some(cm.supervisor_id.to_string()),
            },
        }
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

impl Member {
    fn bind(self, query: AnyQuery<'_>) -> AnyQuery<'_> {
        query
            .bind(self.id)
            .bind(self.display_code)
            .bind(self.display_name)
            .bind(self.user_id)
            .bind(i64::from(self.is_supervisor))
            .bind(self.sites)
            .bind(self.languages)
            .bind(self.max_caseload)
            .bind(i64::from(self.active))
            .bind(i64::from(self.on_call))
            .bind(self.engagement_approaches)
            .bind(self.supervisor_id)
    }
}

fn split(text: &str) -> Vec<String> {
    text.split(',').filter(|part| !part.is_empty()).map(str::to_owned).collect()
}

fn parse_id(text: &str) -> Result<CaseManagerId, DbError> {
    text.parse().map_err(|_| corrupt("roster_members.case_manager_id", text))
}
