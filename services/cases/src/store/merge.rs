//! Moving a case's coded records to the youth's open case when a confirmed match merges the two
//! (`app::merge`). Notes move there too, but through `notes::move_sealed`: their text is sealed
//! to its case.

use wf_db::{DbError, Tx};

/// Moves the contact attempts, interventions, plan goals, recidivism events and recorded
/// follow-ups of case `from` to case `to` (open follow-ups are cancelled first by the caller and
/// stay with `from`), and keeps the earlier first contact of the two. Each goal's episode moves by
/// `episode_shift`, as the referrals' did (`continuity::move_referrals`): `from`'s current
/// episode's goals are `to`'s current episode's, earlier ones stay history.
pub async fn move_records(tx: &mut Tx, from: &str, to: &str, at: i64, episode_shift: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE service_plan_goals SET case_id = $1, episode = episode + $2 WHERE case_id = $3")
        .bind(to.to_owned())
        .bind(episode_shift)
        .bind(from.to_owned())
        .execute(&mut **tx)
        .await?;
    for table in ["contact_attempts", "interventions", "recidivism_events"] {
        sqlx::query(&format!("UPDATE {table} SET case_id = $1 WHERE case_id = $2"))
            .bind(to.to_owned())
            .bind(from.to_owned())
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query("UPDATE follow_ups SET case_id = $1 WHERE case_id = $2 AND status <> 'cancelled'")
        .bind(to.to_owned())
        .bind(from.to_owned())
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "UPDATE cases SET first_contact_at = (SELECT first_contact_at FROM cases WHERE case_id = $2), updated_at = $3, \
         updated_by = $4 \
         WHERE case_id = $1 AND (SELECT first_contact_at FROM cases WHERE case_id = $2) IS NOT NULL \
         AND (first_contact_at IS NULL OR first_contact_at > (SELECT first_contact_at FROM cases WHERE case_id = $2))",
    )
    .bind(to.to_owned())
    .bind(from.to_owned())
    .bind(at)
    .bind(crate::SERVICE)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Marks case `from` as merged into `to` (its stage move is recorded by `lifecycle::apply`).
pub async fn mark_merged(tx: &mut Tx, from: &str, to: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE cases SET merged_into = $1 WHERE case_id = $2")
        .bind(to.to_owned())
        .bind(from.to_owned())
        .execute(&mut **tx)
        .await?;
    Ok(())
}
