//! Intake's tables. Personal details are only ever stored sealed.

use wf_db::{Db, DbError, Tx};

use crate::domain::receiving::Acceptance;
use crate::domain::submitter::{HandOff, HandOffBy};

pub mod consent;
pub mod lifecycle;
pub mod mandated;
pub mod matches;
pub mod progress;
pub mod screenings;
pub mod vault;

/// A referral row as stored (personal part still sealed).
#[derive(Debug, Clone)]
pub struct StoredReferral {
    pub id: String,
    pub youth_id: String,
    /// The authenticated subject that submitted it.
    pub submitted_by: String,
    /// The organization the submitter's credentials named (partners, hotlines with one).
    pub submitted_by_partner: Option<String>,
    pub status: i32,
    pub is_minor: bool,
    pub coded: Vec<u8>,
    /// The coded record, the minor flag and the receipt instant as submitted (`domain::submitter`:
    /// what the submitter is shown, never a later change).
    pub submitted_coded: Vec<u8>,
    pub submitted_is_minor: bool,
    pub submitted_received_at: i64,
    pub personal_sealed: Option<Vec<u8>>,
    pub case_id: Option<String>,
    /// The case manager who holds the referral's case now (`domain::progress::Owner`).
    pub case_manager_id: Option<String>,
    pub closure_reason: Option<i32>,
    /// When an offer was first accepted (matched to a provider).
    pub matched_at: Option<i64>,
    /// When and how the referral left intake's hands, once it did (`domain::submitter`).
    pub hand_off: Option<HandOff>,
    /// The number of the reopening that started its case's current episode (`None`: the case
    /// never reopened for it); history entries after it are the current episode's.
    pub episode_seq: Option<i64>,
}

pub struct NewReferral<'a> {
    pub id: &'a str,
    pub youth_id: &'a str,
    pub dedupe_key: &'a str,
    pub submitted_by: &'a str,
    /// The role the submitter acted in ("case_manager" for staff entering a referral on an
    /// organization's behalf).
    pub submitted_by_role: &'a str,
    pub submitted_by_partner: Option<&'a str>,
    /// `Referral.referring_organization_id` ('' when none).
    pub referring_organization_id: &'a str,
    pub source: i32,
    pub triage_tier: i32,
    pub site: i32,
    pub practice: bool,
    pub is_minor: bool,
    pub outside_program: bool,
    pub status: i32,
    pub coded: Vec<u8>,
    pub personal_sealed: Option<Vec<u8>>,
    pub personal_key_version: Option<i32>,
    pub received_at: i64,
    pub created_at: i64,
}

/// Inserts unless the dedupe key exists. Returns `false` for a duplicate; under
/// concurrency the losers wait for the winner's commit and then see `false`. The submitted columns
/// (`submitted_*`: what the submitter is shown from then on) take the same values as the ones staff
/// may change later.
pub async fn insert_referral(tx: &mut Tx, referral: &NewReferral<'_>) -> Result<bool, DbError> {
    let result = sqlx::query(
        "INSERT INTO referral (id, youth_id, dedupe_key, submitted_by, submitted_by_partner, source, triage_tier, \
         site, practice, is_minor, outside_program, status, coded, personal_sealed, personal_key_version, \
         received_at, created_at, submitted_by_role, referring_organization_id, submitted_youth_id, \
         submitted_source, submitted_triage_tier, submitted_site, submitted_is_minor, submitted_coded, \
         submitted_received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
         $2, $6, $7, $8, $10, $13, $16) \
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(referral.id)
    .bind(referral.youth_id)
    .bind(referral.dedupe_key)
    .bind(referral.submitted_by)
    .bind(referral.submitted_by_partner)
    .bind(referral.source)
    .bind(referral.triage_tier)
    .bind(referral.site)
    .bind(i32::from(referral.practice))
    .bind(i32::from(referral.is_minor))
    .bind(i32::from(referral.outside_program))
    .bind(referral.status)
    .bind(referral.coded.clone())
    .bind(referral.personal_sealed.clone())
    .bind(referral.personal_key_version)
    .bind(referral.received_at)
    .bind(referral.created_at)
    .bind(referral.submitted_by_role)
    .bind(referral.referring_organization_id)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// The referral already stored under a dedupe key, and who submitted it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExistingSubmission {
    pub id: String,
    /// The youth id its first submission was answered with ('' for a referral stored before intake
    /// kept it, whose youth was since linked to an earlier one), never the youth it is linked to now.
    pub youth_id: String,
    pub status: i32,
    pub submitted_by: String,
    pub submitted_by_partner: Option<String>,
}

/// The referral already stored under `dedupe_key`, with the status its submitter is shown
/// ([`SUBMITTER_STATUS`]) and the youth id its first submission was answered with: a resubmission
/// answers only the submitter's view.
pub async fn find_by_dedupe_key(tx: &mut Tx, dedupe_key: &str) -> Result<Option<ExistingSubmission>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT id, submitted_youth_id AS youth_id, {SUBMITTER_STATUS} AS status, submitted_by, \
         submitted_by_partner FROM referral r WHERE dedupe_key = $1"
    ))
    .bind(dedupe_key)
    .fetch_optional(&mut **tx)
    .await?)
}

#[derive(sqlx::FromRow)]
struct ReferralRow {
    id: String,
    youth_id: String,
    submitted_by: String,
    submitted_by_partner: Option<String>,
    status: i32,
    is_minor: i32,
    coded: Vec<u8>,
    submitted_coded: Vec<u8>,
    submitted_is_minor: i32,
    submitted_received_at: i64,
    personal_sealed: Option<Vec<u8>>,
    case_id: Option<String>,
    case_manager_id: Option<String>,
    closure_reason: Option<i32>,
    matched_at: Option<i64>,
    received_at: i64,
    handed_off_by: Option<String>,
    handed_off_at: Option<i64>,
    handed_off_seq: Option<i64>,
    handed_off_matched_at: Option<i64>,
    episode_seq: Option<i64>,
}

pub async fn get_referral(db: &Db, id: &str) -> Result<Option<StoredReferral>, DbError> {
    let row: Option<ReferralRow> = sqlx::query_as(
        "SELECT id, youth_id, submitted_by, submitted_by_partner, status, is_minor, coded, submitted_coded, \
         submitted_is_minor, submitted_received_at, personal_sealed, case_id, case_manager_id, closure_reason, \
         matched_at, received_at, handed_off_by, handed_off_at, handed_off_seq, handed_off_matched_at, \
         episode_seq FROM referral WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(|row| {
        // A hand-off that cannot be read back is treated as the narrowest one (nothing after the
        // referral's receipt), never as none.
        let hand_off = row.handed_off_by.as_deref().map(|code| HandOff {
            by: HandOffBy::from_code(code).unwrap_or(HandOffBy::Assigned),
            at: row.handed_off_at.unwrap_or(row.received_at),
            seq: row.handed_off_seq.unwrap_or(0),
            matched_at: row.handed_off_matched_at,
        });
        StoredReferral {
            id: row.id,
            youth_id: row.youth_id,
            submitted_by: row.submitted_by,
            submitted_by_partner: row.submitted_by_partner,
            status: row.status,
            is_minor: row.is_minor != 0,
            coded: row.coded,
            submitted_coded: row.submitted_coded,
            submitted_is_minor: row.submitted_is_minor != 0,
            submitted_received_at: row.submitted_received_at,
            personal_sealed: row.personal_sealed,
            case_id: row.case_id,
            case_manager_id: row.case_manager_id,
            closure_reason: row.closure_reason,
            matched_at: row.matched_at,
            hand_off,
            episode_seq: row.episode_seq,
        }
    }))
}

/// What `ListReferrals` narrows by; `None` / empty matches everything.
#[derive(Debug, Clone, Default)]
pub struct ListFilter<'a> {
    /// A partner lists only what its organization submitted.
    pub submitted_by_partner: Option<&'a str>,
    pub include_practice: bool,
    pub statuses: &'a [i32],
    pub site: Option<i32>,
    pub triage_tier: Option<i32>,
    pub referring_organization_id: Option<&'a str>,
    /// Received in [start, end) (micros), either bound open.
    pub received_from: Option<i64>,
    pub received_before: Option<i64>,
    pub youth_id: Option<&'a str>,
    pub source: Option<i32>,
    /// Referrals whose case this case manager holds now.
    pub case_manager_id: Option<&'a str>,
    /// Only referrals whose case no case manager holds now (none yet, closed, awaiting assignment).
    pub unassigned_only: bool,
    /// The page token: ids before it (newest first).
    pub before_id: Option<&'a str>,
    pub limit: i64,
}

/// A referral as a list shows it, with what its deadline needs. For a partner's list (by
/// [`ListFilter::submitted_by_partner`]) source, triage tier, site, receipt, minor flag and coded
/// record are as submitted (`submitted_*`), never a later staff change.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SummaryRow {
    pub id: String,
    pub youth_id: String,
    pub source: i32,
    pub triage_tier: i32,
    pub site: i32,
    pub status: i32,
    pub practice: i32,
    pub received_at: i64,
    pub is_minor: i32,
    pub case_id: Option<String>,
    pub case_manager_id: Option<String>,
    pub referring_organization_id: String,
    pub coded: Vec<u8>,
    pub matching_step: Option<String>,
    pub offer_deadline: Option<i64>,
    pub matched_at: Option<i64>,
    pub first_contact_at: Option<i64>,
    /// Mandated reports recorded, and the earliest written report due and not yet recorded.
    pub mandated_reports: i64,
    pub written_report_due: Option<i64>,
    /// The status its submitter is shown ([`SUBMITTER_STATUS`]).
    pub submitter_status: i32,
}

/// SQL for the status the submitter of referral `r` is shown (`domain::submitter`): the hand-off's
/// once the referral left intake's hands, else its status.
const SUBMITTER_STATUS: &str = "COALESCE(r.handed_off_status, r.status)";

/// Referral summaries matching `filter`, newest first (ids sort by creation). A partner lists what
/// it submitted as it submitted it, and filters by what it is shown: the submitted columns and the
/// submitter's status.
pub async fn list_referrals(db: &Db, filter: &ListFilter<'_>) -> Result<Vec<SummaryRow>, DbError> {
    let as_submitted = filter.submitted_by_partner.is_some();
    let shown = |name: &str| if as_submitted { format!("r.submitted_{name}") } else { format!("r.{name}") };
    // The statement is built from fixed pieces with numbered placeholders; only values are bound.
    let mut conditions: Vec<String> = Vec::new();
    let mut next = 0;
    let mut placeholder = || {
        next += 1;
        format!("${next}")
    };
    if !filter.include_practice {
        conditions.push("r.practice = 0".into());
    }
    if filter.submitted_by_partner.is_some() {
        conditions.push(format!("r.submitted_by_partner = {}", placeholder()));
    }
    if !filter.statuses.is_empty() {
        // A partner filters by the status it is shown, never by one it may not see.
        let column = if as_submitted { SUBMITTER_STATUS } else { "r.status" };
        let listed: Vec<String> = filter.statuses.iter().map(|_| placeholder()).collect();
        conditions.push(format!("{column} IN ({})", listed.join(", ")));
    }
    if filter.site.is_some() {
        conditions.push(format!("{} = {}", shown("site"), placeholder()));
    }
    if filter.triage_tier.is_some() {
        conditions.push(format!("{} = {}", shown("triage_tier"), placeholder()));
    }
    if filter.referring_organization_id.is_some() {
        conditions.push(format!("r.referring_organization_id = {}", placeholder()));
    }
    if filter.received_from.is_some() {
        conditions.push(format!("{} >= {}", shown("received_at"), placeholder()));
    }
    if filter.received_before.is_some() {
        conditions.push(format!("{} < {}", shown("received_at"), placeholder()));
    }
    if filter.youth_id.is_some() {
        conditions.push(format!("r.youth_id = {}", placeholder()));
    }
    if filter.source.is_some() {
        conditions.push(format!("{} = {}", shown("source"), placeholder()));
    }
    if filter.case_manager_id.is_some() {
        conditions.push(format!("r.case_manager_id = {}", placeholder()));
    }
    if filter.unassigned_only {
        conditions.push("r.case_manager_id IS NULL".into());
    }
    if filter.before_id.is_some() {
        conditions.push(format!("r.id < {}", placeholder()));
    }
    let limit = placeholder();
    let where_clause =
        if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
    let (source, tier, site, received_at, is_minor, coded) =
        (shown("source"), shown("triage_tier"), shown("site"), shown("received_at"), shown("is_minor"), shown("coded"));
    let statement = format!(
        "SELECT r.id, r.youth_id, {source} AS source, {tier} AS triage_tier, {site} AS site, r.status, r.practice, \
         {received_at} AS received_at, {is_minor} AS is_minor, r.case_id, r.case_manager_id, \
         r.referring_organization_id, {coded} AS coded, r.matching_step, r.offer_deadline, r.matched_at, \
         r.first_contact_at, \
         (SELECT COUNT(*) FROM mandated_report m WHERE m.referral_id = r.id) AS mandated_reports, \
         (SELECT MIN(m.written_report_due) FROM mandated_report m \
          WHERE m.referral_id = r.id AND m.written_report_at IS NULL) AS written_report_due, \
         {SUBMITTER_STATUS} AS submitter_status \
         FROM referral r {where_clause} ORDER BY r.id DESC LIMIT {limit}"
    );
    let mut query = sqlx::query_as::<_, SummaryRow>(&statement);
    if let Some(partner) = filter.submitted_by_partner {
        query = query.bind(partner);
    }
    for status in filter.statuses {
        query = query.bind(*status);
    }
    if let Some(site) = filter.site {
        query = query.bind(site);
    }
    if let Some(tier) = filter.triage_tier {
        query = query.bind(tier);
    }
    if let Some(organization) = filter.referring_organization_id {
        query = query.bind(organization);
    }
    if let Some(from) = filter.received_from {
        query = query.bind(from);
    }
    if let Some(before) = filter.received_before {
        query = query.bind(before);
    }
    if let Some(youth_id) = filter.youth_id {
        query = query.bind(youth_id);
    }
    if let Some(source) = filter.source {
        query = query.bind(source);
    }
    if let Some(case_manager_id) = filter.case_manager_id {
        query = query.bind(case_manager_id);
    }
    if let Some(before_id) = filter.before_id {
        query = query.bind(before_id);
    }
    Ok(query.bind(filter.limit).fetch_all(db.pool()).await?)
}

/// The next number of what intake records about a referral (its `progress_seq`): the order of its
/// history entries and of the events it followed, whatever instant they announce. The caller holds
/// the referral's row lock (or inserted the row in its transaction), so numbers never repeat.
pub async fn next_seq(tx: &mut Tx, referral_id: &str) -> Result<i64, DbError> {
    sqlx::query("UPDATE referral SET progress_seq = progress_seq + 1 WHERE id = $1")
        .bind(referral_id)
        .execute(&mut **tx)
        .await?;
    let (seq,): (i64,) = sqlx::query_as("SELECT progress_seq FROM referral WHERE id = $1")
        .bind(referral_id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(seq)
}

/// Replaces a referral's coded record (a screening recorded after intake joins it). The record as
/// submitted (`submitted_coded`) stays as it was.
pub async fn set_coded(tx: &mut Tx, referral_id: &str, coded: Vec<u8>) -> Result<(), DbError> {
    sqlx::query("UPDATE referral SET coded = $1 WHERE id = $2")
        .bind(coded)
        .bind(referral_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The offers accepted for a referral, as intake recorded them (`domain::receiving`: which belong to
/// the case's current episode).
pub async fn acceptances(db: &Db, referral_id: &str) -> Result<Vec<Acceptance>, DbError> {
    let rows: Vec<(i64, i64)> =
        sqlx::query_as("SELECT recorded_seq, accepted_at FROM referral_accepted_offer WHERE referral_id = $1")
            .bind(referral_id)
            .fetch_all(db.pool())
            .await?;
    Ok(rows.into_iter().map(|(recorded_seq, accepted_at)| Acceptance { recorded_seq, accepted_at }).collect())
}

/// Records a history entry under the next number ([`next_seq`]) and returns that number.
pub async fn record_status_change(
    tx: &mut Tx,
    referral_id: &str,
    event_id: &str,
    status: i32,
    at: i64,
    detail: &str,
) -> Result<i64, DbError> {
    let seq = next_seq(tx, referral_id).await?;
    sqlx::query(
        "INSERT INTO referral_status_change (referral_id, event_id, status, at, detail, seq) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (referral_id, event_id) DO NOTHING",
    )
    .bind(referral_id)
    .bind(event_id)
    .bind(status)
    .bind(at)
    .bind(detail)
    .bind(seq)
    .execute(&mut **tx)
    .await?;
    Ok(seq)
}

/// One history entry as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HistoryRow {
    /// Its number in the order intake recorded it.
    pub seq: i64,
    pub status: i32,
    pub at: i64,
    pub event_id: String,
    pub detail: String,
}

/// Status history, oldest first (by instant, then event id; `seq` keeps the recording order).
pub async fn history(db: &Db, referral_id: &str) -> Result<Vec<HistoryRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT seq, status, at, event_id, detail FROM referral_status_change WHERE referral_id = $1 \
         ORDER BY at, event_id",
    )
    .bind(referral_id)
    .fetch_all(db.pool())
    .await?)
}
