//! Referral facts from `referral.received`, and what continuity needs: every referral of a case
//! (`case_referrals`, the opening one included) by episode, and the links confirmed matches make.

use sqlx::Row;
use wf_db::{DbError, Tx};

use crate::domain::Site;
use crate::store::IN_CURRENT_EPISODE;

/// The coded facts of a received referral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralFacts {
    pub referral_id: String,
    pub youth_id: String,
    pub site: Site,
    /// ISO 639 code, or empty when not known.
    pub language: String,
    pub triage_tier: String,
    pub practice: bool,
    pub received_at: i64,
    /// The engagement approach code the referral names, or empty.
    pub engagement_approach: String,
}

/// Stores the facts once; a second copy of the same referral's facts changes nothing.
pub async fn insert_facts(tx: &mut Tx, facts: &ReferralFacts) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO referral_facts (referral_id, youth_id, site, language, triage_tier, practice, received_at, \
         engagement_approach) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (referral_id) DO NOTHING",
    )
    .bind(facts.referral_id.clone())
    .bind(facts.youth_id.clone())
    .bind(facts.site.code())
    .bind(facts.language.clone())
    .bind(facts.triage_tier.clone())
    .bind(i64::from(facts.practice))
    .bind(facts.received_at)
    .bind(facts.engagement_approach.clone())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn facts_of(tx: &mut Tx, referral_id: &str) -> Result<Option<ReferralFacts>, DbError> {
    let row = sqlx::query(
        "SELECT referral_id, youth_id, site, language, triage_tier, practice, received_at, engagement_approach \
         FROM referral_facts WHERE referral_id = $1",
    )
    .bind(referral_id)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|row| {
        let site: String = row.try_get("site")?;
        let practice: i64 = row.try_get("practice")?;
        Ok(ReferralFacts {
            referral_id: row.try_get("referral_id")?,
            youth_id: row.try_get("youth_id")?,
            site: Site::from_code(&site).ok_or_else(|| super::corrupt("site", &site))?,
            language: row.try_get("language")?,
            triage_tier: row.try_get("triage_tier")?,
            practice: practice != 0,
            received_at: row.try_get("received_at")?,
            engagement_approach: row.try_get("engagement_approach")?,
        })
    })
    .transpose()
}

/// Which episode of a case a referral it absorbs belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Episode {
    /// It reopened the case: a new episode starts with it.
    New,
    /// It joined the open case: the current episode.
    Current,
}

/// Records that `case_id` absorbed `referral_id` (`relation`: `return`, `transfer` or `concurrent`
/// for a reopening, `joined` for a referral that joined the open case).
pub async fn link_referral(
    tx: &mut Tx,
    referral_id: &str,
    case_id: &str,
    at: i64,
    relation: &str,
    episode: Episode,
) -> Result<(), DbError> {
    let step = match episode {
        Episode::New => 1,
        Episode::Current => 0,
    };
    sqlx::query(
        "INSERT INTO case_referrals (referral_id, case_id, linked_at, relation, episode) \
         SELECT $1, $2, $3, $4, COALESCE(MAX(episode), 0) + $5 FROM case_referrals WHERE case_id = $2",
    )
    .bind(referral_id)
    .bind(case_id)
    .bind(at)
    .bind(relation)
    .bind(step)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Every referral of a case, oldest first (read inside a transaction).
pub async fn referrals_in(tx: &mut Tx, case_id: &str) -> Result<Vec<String>, DbError> {
    let rows = sqlx::query(
        "SELECT referral_id FROM case_referrals WHERE case_id = $1 ORDER BY episode, linked_at, referral_id",
    )
    .bind(case_id.to_owned())
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(|row| Ok(row.try_get("referral_id")?)).collect()
}

/// The referrals of the case's current episode (the latest one), oldest first: the referral that
/// opened or last reopened it and those that joined it since.
pub async fn current_episode_referrals(tx: &mut Tx, case_id: &str) -> Result<Vec<String>, DbError> {
    let rows = sqlx::query(&format!(
        "SELECT cr.referral_id FROM case_referrals cr WHERE cr.case_id = $1 AND {IN_CURRENT_EPISODE} \
         ORDER BY cr.linked_at, cr.referral_id"
    ))
    .bind(case_id.to_owned())
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(|row| Ok(row.try_get("referral_id")?)).collect()
}

/// Whether `referral_id` is one of the case's referrals (of any episode).
pub async fn is_referral_of(tx: &mut Tx, case_id: &str, referral_id: &str) -> Result<bool, DbError> {
    let row = sqlx::query("SELECT case_id FROM case_referrals WHERE case_id = $1 AND referral_id = $2")
        .bind(case_id.to_owned())
        .bind(referral_id.to_owned())
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.is_some())
}

/// The case's current episode: the latest of its referrals' episodes (0 for a case never
/// reopened by a referral; an episode a merge kept as history may be below 0).
pub async fn current_episode(tx: &mut Tx, case_id: &str) -> Result<i64, DbError> {
    let row = sqlx::query("SELECT COALESCE(MAX(episode), 0) AS episode FROM case_referrals WHERE case_id = $1")
        .bind(case_id.to_owned())
        .fetch_one(&mut **tx)
        .await?;
    Ok(row.try_get("episode")?)
}

/// What moving a merged case's referrals did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovedReferrals {
    /// The merged case's current episode's referrals, oldest first: they joined the open case's
    /// current episode.
    pub joined: Vec<String>,
    /// What was added to each moved referral's episode (the open case's current episode minus the
    /// merged case's): records of an episode move by the same amount (`merge::move_records`).
    pub episode_shift: i64,
}

/// Moves every referral of case `from` to case `to` (a confirmed match merged `from` into the
/// youth's open case `to`). Those of `from`'s current episode join `to`'s current episode, as
/// `joined` at `at`; those of `from`'s earlier episodes stay history: each keeps its relation and
/// when it was linked, and its episode moves by the same amount, so it stays below `to`'s current
/// episode (a partner that accepted an offer for one of them, for an episode that ended with its
/// closure, reaches the case no more than it did before the merge).
pub async fn move_referrals(tx: &mut Tx, from: &str, to: &str, at: i64) -> Result<MovedReferrals, DbError> {
    let from_episode = current_episode(tx, from).await?;
    let to_episode = current_episode(tx, to).await?;
    let joined = current_episode_referrals(tx, from).await?;
    let episode_shift = to_episode - from_episode;
    // Every right-hand side reads the row as it was before this update (both engines).
    sqlx::query(
        "UPDATE case_referrals SET case_id = $1, \
         relation = CASE WHEN episode = $2 THEN 'joined' ELSE relation END, \
         linked_at = CASE WHEN episode = $2 THEN $3 ELSE linked_at END, \
         episode = episode + $4 \
         WHERE case_id = $5",
    )
    .bind(to.to_owned())
    .bind(from_episode)
    .bind(at)
    .bind(episode_shift)
    .bind(from.to_owned())
    .execute(&mut **tx)
    .await?;
    Ok(MovedReferrals { joined, episode_shift })
}

/// The referral's youth is now `youth_id` (staff confirmed a possible match).
pub async fn set_referral_youth(tx: &mut Tx, referral_id: &str, youth_id: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE referral_facts SET youth_id = $1 WHERE referral_id = $2")
        .bind(youth_id.to_owned())
        .bind(referral_id.to_owned())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The case's youth is now `youth_id` (staff confirmed a possible match).
pub async fn set_case_youth(tx: &mut Tx, case_id: &str, youth_id: &str, at: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE cases SET youth_id = $1, updated_at = $2, updated_by = $3 WHERE case_id = $4")
        .bind(youth_id.to_owned())
        .bind(at)
        .bind(crate::SERVICE)
        .bind(case_id.to_owned())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A confirmed link between a new referral's case and the youth's earlier case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseLink {
    pub possible_match_id: String,
    pub case_id: String,
    pub earlier_case_id: String,
    /// "return", "transfer" or "concurrent".
    pub relation: String,
    pub linked_at: i64,
}

pub async fn insert_link(tx: &mut Tx, link: &CaseLink) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO case_links (possible_match_id, case_id, earlier_case_id, relation, linked_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(link.possible_match_id.clone())
    .bind(link.case_id.clone())
    .bind(link.earlier_case_id.clone())
    .bind(link.relation.clone())
    .bind(link.linked_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Links recorded for a case (as the newer case), oldest first.
pub async fn links_of(db: &wf_db::Db, case_id: &str) -> Result<Vec<CaseLink>, DbError> {
    let rows = sqlx::query(
        "SELECT possible_match_id, case_id, earlier_case_id, relation, linked_at FROM case_links \
         WHERE case_id = $1 ORDER BY linked_at, possible_match_id",
    )
    .bind(case_id.to_owned())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(CaseLink {
                possible_match_id: row.try_get("possible_match_id")?,
                case_id: row.try_get("case_id")?,
                earlier_case_id: row.try_get("earlier_case_id")?,
                relation: row.try_get("relation")?,
                linked_at: row.try_get("linked_at")?,
            })
        })
        .collect()
}
