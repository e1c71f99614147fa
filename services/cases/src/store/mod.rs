//! Every SQL statement of the service. Writers take `&mut Tx` (the caller commits); readers take `&Db`.

use sqlx::{Any, Executor, Row};
use wf_db::{Backend, Db, DbError, Tx};
use wf_types::CaseManagerId;

use wf_proto::cases::v1::CaseStage;

use crate::domain::{self, CaseStatus, Caseloads, Site};

pub mod continuity;
pub mod details;
pub mod engagement;
pub mod follow_ups;
pub mod lifecycle;
pub mod merge;
pub mod notes;
pub mod offers;
pub mod recidivism;
pub mod roster;
pub mod services;

/// Key of the PostgreSQL advisory lock that serializes case assignment ("wfcases" + 1). Advisory
/// locks are database-wide and the services share one database (a schema each), so the key is
/// one no other service uses.
const ASSIGNMENT_LOCK_KEY: i64 = 0x0077_6663_6173_6573_i64 + 1;

/// Stages in which a case no longer counts toward its case manager's caseload.
const STAGES_OFF_CASELOAD: &str = "('closed', 'post_exit_follow_up')";

/// A case as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRecord {
    pub case_id: String,
    pub referral_id: String,
    pub youth_id: Option<String>,
    pub site: Site,
    pub triage_tier: String,
    pub stage: CaseStage,
    pub status: CaseStatus,
    pub case_manager_id: Option<String>,
    pub assigned_at: Option<i64>,
    pub practice: bool,
    pub opened_at: i64,
    pub updated_at: i64,
    /// Who made the change `updated_at` records: a person's user id, or the service's name
    /// ([`crate::SERVICE`]) for a change it made itself on an event; empty before anyone was named.
    pub updated_by: String,
    /// What the lifecycle has recorded so far (all empty on a new case).
    pub lifecycle: LifecycleFacts,
    /// Readiness and first contact (empty on a new case).
    pub engagement: EngagementFacts,
    /// The youth's open case this one joined (closed as merged), if it did.
    pub merged_into: Option<String>,
}

/// Engagement facts kept on the case row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngagementFacts {
    /// `Readiness` number; 0 while none is recorded.
    pub readiness: i32,
    pub readiness_since: Option<i64>,
    pub first_contact_at: Option<i64>,
}

/// The instants and codes the lifecycle records on a case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LifecycleFacts {
    pub enrolled_at: Option<i64>,
    pub assessment_due: Option<i64>,
    pub assessed_at: Option<i64>,
    pub exited_at: Option<i64>,
    pub closed_at: Option<i64>,
    /// `CaseClosureReason` number; 0 while open.
    pub closure_reason: i32,
    /// `LivingSituation` number at exit; 0 when not recorded.
    pub exit_living_situation: i32,
    pub reopen_count: i32,
}

/// One assignment decision, recorded alongside the case's current owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentRecord {
    pub case_id: String,
    pub case_manager_id: String,
    pub assigned_at: i64,
    pub reason: String,
    pub open_cases_before: u32,
    pub max_caseload: u32,
}

/// Filters of [`list_cases`]; empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub case_manager_id: Option<String>,
    pub site: Option<Site>,
    /// Empty = any stage.
    pub stages: Vec<CaseStage>,
    pub youth_id: Option<String>,
    /// Any of the case's referrals (of any episode); in a `served_by` list only a referral that
    /// partner serves the case through (see `served_by`), so the filter tells a partner nothing
    /// about referrals it does not serve.
    pub referral_id: Option<String>,
    pub include_practice: bool,
    /// Only cases in the supervisors' queue.
    pub awaiting_assignment: bool,
    /// Only cases incomplete at this instant (see [`INCOMPLETE_AT`]).
    pub incomplete_at: Option<i64>,
    /// Only cases this partner organization serves: open cases for a referral of whose current
    /// episode it holds an accepted offer (see [`offers::holds_accepted`]).
    pub served_by: Option<String>,
}

/// Stages in which a case is open: on the caseload, and the youth's one open case.
pub(crate) const OPEN_CASE: &str = "stage NOT IN ('closed', 'post_exit_follow_up')";

/// The referrals of the current episode of case `$c` (the latest episode, see
/// `continuity::link_referral`), as a condition on a `case_referrals` row aliased `cr`.
pub(crate) const IN_CURRENT_EPISODE: &str =
    "cr.episode = (SELECT MAX(e.episode) FROM case_referrals e WHERE e.case_id = cr.case_id)";

/// The condition under which an accepted offer for the referral of a `case_referrals` row aliased
/// `cr` lets its partner serve the case: the referral belongs to the case's current episode
/// ([`IN_CURRENT_EPISODE`]) and the case is open (not closed, not in post-exit follow-up; a
/// merged case is closed and holds no referrals). Once the case closes its partners reach it no
/// more, as intake stops showing the receiving partner the referral.
pub(crate) fn serving_referral() -> String {
    format!(
        "{IN_CURRENT_EPISODE} AND EXISTS (SELECT 1 FROM cases oc WHERE oc.case_id = cr.case_id \
         AND oc.stage NOT IN ('closed', 'post_exit_follow_up'))"
    )
}

/// A case is incomplete at an instant `$n` when any of these hold: the assessment is overdue (enrolled,
/// not assessed, `assessment_due` reached), a follow-up is past its due instant and not recorded
/// (still scheduled, due or overdue), or the case has exited without a living situation at exit.
const INCOMPLETE_AT: &str = "((enrolled_at IS NOT NULL AND assessed_at IS NULL AND assessment_due <= $n) \
     OR EXISTS (SELECT 1 FROM follow_ups f WHERE f.case_id = cases.case_id \
                AND f.status IN ('scheduled', 'due', 'overdue') AND f.due_at <= $n) \
     OR (exited_at IS NOT NULL AND exit_living_situation = 0))";

/// A page's row limit as SQL binds it.
pub(crate) fn sql_limit(rows: usize) -> i64 {
    i64::try_from(rows).unwrap_or(i64::MAX)
}

/// Serializes assignment decisions for the rest of the transaction.
///
/// Choosing an owner reads the caseloads of every eligible case manager and then inserts one case:
/// two concurrent transactions under READ COMMITTED would both see "9 of 10" and both assign,
/// breaking the cap. A row lock per case manager (`FOR UPDATE` on a load row) would have to lock
/// the whole candidate set in id order and needs the roster mirrored into a table; one
/// transaction-scoped advisory lock covers the set with no ordering rules and no extra table, and
/// assignments are a few per hour, so serializing them costs nothing. The lock is released at
/// commit, after the insert is visible, so the next holder's caseload count (a fresh READ
/// COMMITTED snapshot taken after the lock is granted) includes it.
///
/// SQLite needs no lock: a `Db` on SQLite has one connection, so its transactions never overlap.
pub async fn lock_assignments(tx: &mut Tx, backend: Backend) -> Result<(), DbError> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(ASSIGNMENT_LOCK_KEY).execute(&mut **tx).await?;
    }
    Ok(())
}

/// The case already opened for `referral_id`, if any.
pub async fn case_id_for_referral(tx: &mut Tx, referral_id: &str) -> Result<Option<String>, DbError> {
    // Every referral of a case is a row there: the one that opened it, or one it absorbed since
    // (a referral of a merged case belongs to the case it joined).
    let row = sqlx::query("SELECT case_id FROM case_referrals WHERE referral_id = $1")
        .bind(referral_id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.map(|row| row.try_get("case_id")).transpose()?)
}

/// The youth's open case (`practice` ones apart from real ones), if any: there is at most one
/// (`cases_one_open_case_per_youth`); cases flagged by the migration as older duplicates are not it.
pub async fn open_case_of_youth(
    tx: &mut Tx,
    youth_id: &str,
    practice: bool,
    except_case_id: Option<&str>,
) -> Result<Option<CaseRecord>, DbError> {
    let row = sqlx::query(&format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE youth_id = $1 AND practice = $2 AND {OPEN_CASE} \
         AND case_id <> $3 ORDER BY legacy_duplicate, opened_at, case_id LIMIT 1"
    ))
    .bind(youth_id.to_owned())
    .bind(i64::from(practice))
    .bind(except_case_id.unwrap_or_default().to_owned())
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(case_from_row).transpose()
}

/// The youth's most recently opened closed case that was not merged into another, if any.
pub async fn latest_closed_case_of_youth(
    tx: &mut Tx,
    youth_id: &str,
    practice: bool,
    except_case_id: Option<&str>,
) -> Result<Option<CaseRecord>, DbError> {
    let row = sqlx::query(&format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE youth_id = $1 AND practice = $2 AND NOT {OPEN_CASE} \
         AND merged_into IS NULL AND case_id <> $3 ORDER BY opened_at DESC, case_id DESC LIMIT 1"
    ))
    .bind(youth_id.to_owned())
    .bind(i64::from(practice))
    .bind(except_case_id.unwrap_or_default().to_owned())
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(case_from_row).transpose()
}

/// Open, real (non-practice) cases per case manager, read inside the assignment transaction.
pub async fn open_caseloads_in(tx: &mut Tx) -> Result<Caseloads, DbError> {
    fetch_open_caseloads(&mut **tx).await
}

/// Open, real (non-practice) cases per case manager, for display.
pub async fn open_caseloads(db: &Db) -> Result<Caseloads, DbError> {
    fetch_open_caseloads(db.pool()).await
}

// Practice cases are assigned by the same rule but never count toward a caseload, so training
// partners in practice mode cannot crowd a real youth out of a case manager's capacity.
async fn fetch_open_caseloads<'e, E: Executor<'e, Database = Any>>(executor: E) -> Result<Caseloads, DbError> {
    let sql = format!(
        "SELECT case_manager_id, COUNT(*) AS open_cases FROM cases \
         WHERE case_manager_id IS NOT NULL AND practice = 0 AND stage NOT IN {STAGES_OFF_CASELOAD} \
         GROUP BY case_manager_id"
    );
    let rows = sqlx::query(&sql).fetch_all(executor).await?;
    let mut loads = Caseloads::new();
    for row in rows {
        let id: String = row.try_get("case_manager_id")?;
        let count: i64 = row.try_get("open_cases")?;
        // A row that is not a case-manager id cannot be written by this service; skip it rather
        // than refuse every assignment.
        if let Ok(id) = id.parse::<CaseManagerId>() {
            loads.insert(id, u32::try_from(count).unwrap_or(u32::MAX));
        } else {
            tracing::error!(case_manager_id = %id, "cases row holds a malformed case manager id");
        }
    }
    Ok(loads)
}

pub async fn insert_case(tx: &mut Tx, case: &CaseRecord) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO cases (case_id, referral_id, youth_id, site, triage_tier, stage, status, \
         case_manager_id, assigned_at, practice, opened_at, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(case.case_id.clone())
    .bind(case.referral_id.clone())
    .bind(case.youth_id.clone())
    .bind(case.site.code())
    .bind(case.triage_tier.clone())
    .bind(domain::stage_code(case.stage))
    .bind(case.status.code())
    .bind(case.case_manager_id.clone())
    .bind(case.assigned_at)
    .bind(i64::from(case.practice))
    .bind(case.opened_at)
    .bind(case.updated_at)
    .bind(case.updated_by.clone())
    .execute(&mut **tx)
    .await?;
    // The opening referral is the first of the case's referrals, episode 0.
    sqlx::query(
        "INSERT INTO case_referrals (referral_id, case_id, linked_at, relation, episode) VALUES ($1, $2, $3, 'opened', 0)",
    )
    .bind(case.referral_id.clone())
    .bind(case.case_id.clone())
    .bind(case.opened_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn insert_assignment(tx: &mut Tx, assignment: &AssignmentRecord) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO case_assignments (case_id, case_manager_id, assigned_at, reason, open_cases_before, max_caseload) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(assignment.case_id.clone())
    .bind(assignment.case_manager_id.clone())
    .bind(assignment.assigned_at)
    .bind(assignment.reason.clone())
    .bind(i64::from(assignment.open_cases_before))
    .bind(i64::from(assignment.max_caseload))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Assignments of one case, oldest first.
pub async fn assignments_of(db: &Db, case_id: &str) -> Result<Vec<AssignmentRecord>, DbError> {
    let rows = sqlx::query(
        "SELECT case_id, case_manager_id, assigned_at, reason, open_cases_before, max_caseload \
         FROM case_assignments WHERE case_id = $1 ORDER BY id",
    )
    .bind(case_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let open_cases_before: i64 = row.try_get("open_cases_before")?;
            let max_caseload: i64 = row.try_get("max_caseload")?;
            Ok(AssignmentRecord {
                case_id: row.try_get("case_id")?,
                case_manager_id: row.try_get("case_manager_id")?,
                assigned_at: row.try_get("assigned_at")?,
                reason: row.try_get("reason")?,
                open_cases_before: u32::try_from(open_cases_before).unwrap_or(0),
                max_caseload: u32::try_from(max_caseload).unwrap_or(0),
            })
        })
        .collect()
}

pub(crate) const CASE_COLUMNS: &str = "case_id, referral_id, youth_id, site, triage_tier, stage, status, case_manager_id, \
                            assigned_at, practice, opened_at, updated_at, enrolled_at, assessment_due, assessed_at, \
                            exited_at, closed_at, closure_reason, exit_living_situation, reopen_count, \
                            readiness, readiness_since, first_contact_at, merged_into, updated_by";

/// The case as stored, read and locked for the rest of the transaction (`FOR UPDATE` on
/// PostgreSQL; SQLite has one writer at a time): a use case that decides on the case's state, or on
/// the `updated_at` its caller read, decides on a row no one else changes meanwhile.
pub async fn lock_case_in(tx: &mut Tx, backend: Backend, case_id: &str) -> Result<Option<CaseRecord>, DbError> {
    let lock = if backend == Backend::Postgres { " FOR UPDATE" } else { "" };
    let row = sqlx::query(&format!("SELECT {CASE_COLUMNS} FROM cases WHERE case_id = $1{lock}"))
        .bind(case_id)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(case_from_row).transpose()
}

/// The case as stored, read inside a transaction.
pub async fn get_case_in(tx: &mut Tx, case_id: &str) -> Result<Option<CaseRecord>, DbError> {
    let row = sqlx::query(&format!("SELECT {CASE_COLUMNS} FROM cases WHERE case_id = $1"))
        .bind(case_id)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(case_from_row).transpose()
}

pub async fn get_case(db: &Db, case_id: &str) -> Result<Option<CaseRecord>, DbError> {
    let row = sqlx::query(&format!("SELECT {CASE_COLUMNS} FROM cases WHERE case_id = $1"))
        .bind(case_id)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(case_from_row).transpose()
}

/// What an access entry names about a case: the case, the referral it belongs to and its youth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRef {
    pub case_id: String,
    pub referral_id: String,
    pub youth_id: Option<String>,
}

impl From<&CaseRecord> for CaseRef {
    fn from(case: &CaseRecord) -> Self {
        CaseRef {
            case_id: case.case_id.clone(),
            referral_id: case.referral_id.clone(),
            youth_id: case.youth_id.clone(),
        }
    }
}

/// The references of the cases `case_ids` names (unknown ids are left out), in id order.
pub async fn case_refs(db: &Db, case_ids: &[&str]) -> Result<Vec<CaseRef>, DbError> {
    if case_ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=case_ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT case_id, referral_id, youth_id FROM cases WHERE case_id IN ({}) ORDER BY case_id",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for id in case_ids {
        query = query.bind((*id).to_owned());
    }
    let rows = query.fetch_all(db.pool()).await?;
    rows.iter()
        .map(|row| {
            Ok(CaseRef {
                case_id: row.try_get("case_id")?,
                referral_id: row.try_get("referral_id")?,
                youth_id: row.try_get("youth_id")?,
            })
        })
        .collect()
}

/// Up to `limit` cases matching `filter` with ids after `after`, in id (= creation) order.
pub async fn list_cases(
    db: &Db,
    filter: &CaseFilter,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<CaseRecord>, DbError> {
    let mut conditions: Vec<String> = Vec::new();
    let mut binds: Vec<String> = Vec::new();
    let mut equals = |column: &str, value: String, conditions: &mut Vec<String>| {
        binds.push(value);
        conditions.push(format!("{column} = ${}", binds.len()));
    };
    if let Some(id) = &filter.case_manager_id {
        equals("case_manager_id", id.clone(), &mut conditions);
    }
    if let Some(site) = filter.site {
        equals("site", site.code().to_owned(), &mut conditions);
    }
    if let Some(id) = &filter.youth_id {
        equals("youth_id", id.clone(), &mut conditions);
    }
    match (&filter.served_by, &filter.referral_id) {
        (Some(partner_id), referral_id) => {
            // A partner's list: the cases it serves, and with a referral only through that one (any
            // other referral, of another partner, an earlier episode or another case, lists nothing).
            binds.push(partner_id.clone());
            let mut serves = format!(
                "EXISTS (SELECT 1 FROM case_referrals cr JOIN accepted_offers a ON a.referral_id = cr.referral_id \
                 WHERE cr.case_id = cases.case_id AND a.partner_id = ${} AND {}",
                binds.len(),
                serving_referral()
            );
            if let Some(id) = referral_id {
                binds.push(id.clone());
                serves.push_str(&format!(" AND cr.referral_id = ${}", binds.len()));
            }
            serves.push(')');
            conditions.push(serves);
        }
        (None, Some(id)) => {
            // Any of the case's referrals: the one that opened it, or one it absorbed since.
            binds.push(id.clone());
            conditions
                .push(format!("case_id IN (SELECT case_id FROM case_referrals WHERE referral_id = ${})", binds.len()));
        }
        (None, None) => {}
    }
    if let Some(after) = after {
        binds.push(after.to_owned());
        conditions.push(format!("case_id > ${}", binds.len()));
    }
    if !filter.stages.is_empty() {
        let first = binds.len() + 1;
        binds.extend(filter.stages.iter().map(|stage| domain::stage_code(*stage).to_owned()));
        let placeholders: Vec<String> = (first..=binds.len()).map(|n| format!("${n}")).collect();
        conditions.push(format!("stage IN ({})", placeholders.join(", ")));
    }
    if !filter.include_practice {
        conditions.push("practice = 0".to_owned());
    }
    if filter.awaiting_assignment {
        conditions.push("status = 'awaiting_assignment'".to_owned());
    }
    let incomplete_at = filter.incomplete_at;
    if incomplete_at.is_some() {
        // Bound after the text values, as the last placeholder but the limit.
        conditions.push(INCOMPLETE_AT.replace("$n", &format!("${}", binds.len() + 1)));
    }
    let limit_placeholder = binds.len() + 1 + usize::from(incomplete_at.is_some());
    let where_clause =
        if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
    let sql = format!("SELECT {CASE_COLUMNS} FROM cases {where_clause} ORDER BY case_id LIMIT ${limit_placeholder}");
    let mut query = sqlx::query(&sql);
    for value in binds {
        query = query.bind(value);
    }
    if let Some(at) = incomplete_at {
        query = query.bind(at);
    }
    let rows = query.bind(sql_limit(limit)).fetch_all(db.pool()).await?;
    rows.iter().map(case_from_row).collect()
}

pub(crate) fn case_from_row(row: &sqlx::any::AnyRow) -> Result<CaseRecord, DbError> {
    let site: String = row.try_get("site")?;
    let status: String = row.try_get("status")?;
    let stage: String = row.try_get("stage")?;
    let practice: i64 = row.try_get("practice")?;
    Ok(CaseRecord {
        case_id: row.try_get("case_id")?,
        referral_id: row.try_get("referral_id")?,
        youth_id: row.try_get("youth_id")?,
        site: Site::from_code(&site).ok_or_else(|| corrupt("site", &site))?,
        triage_tier: row.try_get("triage_tier")?,
        stage: domain::stage_from_code(&stage).ok_or_else(|| corrupt("stage", &stage))?,
        status: CaseStatus::from_code(&status).ok_or_else(|| corrupt("status", &status))?,
        case_manager_id: row.try_get("case_manager_id")?,
        assigned_at: row.try_get("assigned_at")?,
        practice: practice != 0,
        opened_at: row.try_get("opened_at")?,
        updated_at: row.try_get("updated_at")?,
        updated_by: row.try_get("updated_by")?,
        lifecycle: LifecycleFacts {
            enrolled_at: row.try_get("enrolled_at")?,
            assessment_due: row.try_get("assessment_due")?,
            assessed_at: row.try_get("assessed_at")?,
            exited_at: row.try_get("exited_at")?,
            closed_at: row.try_get("closed_at")?,
            closure_reason: int(row, "closure_reason")?,
            exit_living_situation: int(row, "exit_living_situation")?,
            reopen_count: int(row, "reopen_count")?,
        },
        engagement: EngagementFacts {
            readiness: match row.try_get::<Option<String>, _>("readiness")? {
                None => 0,
                Some(code) => {
                    domain::engagement::readiness_from_code(&code).ok_or_else(|| corrupt("readiness", &code))? as i32
                }
            },
            readiness_since: row.try_get("readiness_since")?,
            first_contact_at: row.try_get("first_contact_at")?,
        },
        merged_into: row.try_get("merged_into")?,
    })
}

/// INTEGER columns decode as i64 on both backends.
fn int(row: &sqlx::any::AnyRow, column: &str) -> Result<i32, DbError> {
    let value: i64 = row.try_get(column)?;
    i32::try_from(value).map_err(|_| corrupt(column, &value.to_string()))
}

pub(crate) fn corrupt(column: &str, value: &str) -> DbError {
    DbError::Other(sqlx::Error::Decode(format!("cases.{column} holds unknown code {value:?}").into()))
}

/// Gives the case to `case_manager_id` (the caller holds the assignment lock and has checked the cap),
/// a change made `by` a person's user id or the service.
pub async fn set_owner(tx: &mut Tx, case_id: &str, case_manager_id: &str, at: i64, by: &str) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE cases SET case_manager_id = $1, status = 'assigned', assigned_at = $2, updated_at = $2, \
         updated_by = $3 WHERE case_id = $4",
    )
    .bind(case_manager_id)
    .bind(at)
    .bind(by)
    .bind(case_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The case counts as the youth's one open case again (a reopening, checked against the youth's
/// other cases): a flag the one-open-case migration set on an older duplicate is cleared.
pub async fn clear_legacy_duplicate(tx: &mut Tx, case_id: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE cases SET legacy_duplicate = 0 WHERE case_id = $1 AND legacy_duplicate <> 0")
        .bind(case_id.to_owned())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Leaves the case without an owner, in the supervisors' queue (a change made `by` a person's user
/// id or the service).
pub async fn clear_owner(tx: &mut Tx, case_id: &str, at: i64, by: &str) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE cases SET case_manager_id = NULL, status = 'awaiting_assignment', assigned_at = NULL, updated_at = $1, \
         updated_by = $2 WHERE case_id = $3",
    )
    .bind(at)
    .bind(by)
    .bind(case_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
