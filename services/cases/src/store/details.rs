//! What a case answer carries besides the case row: all its referrals, the follow-ups still open
//! (for `missing_fields`), and the engagement approaches it was reached with. Read for many cases
//! at once (a `ListCases` page), a fixed number of statements whatever the page size.

use std::collections::HashMap;

use sqlx::Row;
use sqlx::any::AnyRow;
use wf_db::{Db, DbError};
use wf_proto::cases::v1::FollowUpKind;

use crate::domain::completeness::OpenFollowUp;

/// The parts of one case's answer that live outside its row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseDetails {
    /// Every referral of the case, oldest first (episode, then when it was linked).
    pub referral_ids: Vec<String>,
    /// Follow-ups still waiting for a record, with their due instants.
    pub open_follow_ups: Vec<OpenFollowUp>,
    /// The approach of the latest contact attempt (by `attempted_at`) that names one.
    pub latest_attempt_approach: Option<String>,
    /// The approach the case's latest referral names (`referral.received`), empty when none.
    pub referral_approach: String,
}

/// The details of each case `case_ids` names (cases without any are left out of the map).
pub async fn of_cases(db: &Db, case_ids: &[&str]) -> Result<HashMap<String, CaseDetails>, DbError> {
    let mut details: HashMap<String, CaseDetails> = HashMap::new();
    let ids: Vec<String> = case_ids.iter().map(|id| (*id).to_owned()).collect();
    for chunk in ids.chunks(CHUNK) {
        let list = placeholders(chunk.len());
        // Referrals, oldest first; the latest one names the case's engagement approach.
        let sql = format!(
            "SELECT case_id, referral_id FROM case_referrals WHERE case_id IN ({list}) \
             ORDER BY case_id, episode, linked_at, referral_id"
        );
        for row in rows(db, &sql, chunk).await? {
            details.entry(row.try_get("case_id")?).or_default().referral_ids.push(row.try_get("referral_id")?);
        }
        let sql = format!(
            "SELECT case_id, kind, due_at FROM follow_ups WHERE case_id IN ({list}) \
             AND status IN ('scheduled', 'due', 'overdue') ORDER BY case_id, follow_up_id"
        );
        for row in rows(db, &sql, chunk).await? {
            let kind: i64 = row.try_get("kind")?;
            let kind = i32::try_from(kind).ok().and_then(|k| FollowUpKind::try_from(k).ok()).unwrap_or_default();
            let follow_up = OpenFollowUp { kind, due_at: row.try_get("due_at")? };
            details.entry(row.try_get("case_id")?).or_default().open_follow_ups.push(follow_up);
        }
        // Ascending: the last row per case is its latest attempt naming an approach.
        let sql = format!(
            "SELECT case_id, engagement_approach FROM contact_attempts WHERE case_id IN ({list}) \
             AND engagement_approach <> '' ORDER BY case_id, attempted_at, contact_attempt_id"
        );
        for row in rows(db, &sql, chunk).await? {
            details.entry(row.try_get("case_id")?).or_default().latest_attempt_approach =
                Some(row.try_get("engagement_approach")?);
        }
    }
    // The latest referral's approach, for the cases no attempt named one for.
    let latest: Vec<String> = details
        .values()
        .filter(|detail| detail.latest_attempt_approach.is_none())
        .filter_map(|detail| detail.referral_ids.last().cloned())
        .collect();
    let mut approaches: HashMap<String, String> = HashMap::new();
    for chunk in latest.chunks(CHUNK) {
        let sql = format!(
            "SELECT referral_id, engagement_approach FROM referral_facts WHERE referral_id IN ({})",
            placeholders(chunk.len())
        );
        for row in rows(db, &sql, chunk).await? {
            approaches.insert(row.try_get("referral_id")?, row.try_get("engagement_approach")?);
        }
    }
    for detail in details.values_mut() {
        if let Some(approach) = detail.referral_ids.last().and_then(|id| approaches.get(id)) {
            detail.referral_approach = approach.clone();
        }
    }
    Ok(details)
}

/// Most ids bound in one statement.
const CHUNK: usize = 200;

fn placeholders(count: usize) -> String {
    (1..=count).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

async fn rows(db: &Db, sql: &str, ids: &[String]) -> Result<Vec<AnyRow>, DbError> {
    let mut query = sqlx::query(sql);
    for id in ids {
        query = query.bind(id.clone());
    }
    Ok(query.fetch_all(db.pool()).await?)
}
