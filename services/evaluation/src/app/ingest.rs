//! Storing a consumed event for the analytic data set.

use wf_db::{Db, DbError};
use wf_events::{Envelope, inbox};

use crate::{SERVICE, store};

/// Stores `envelope` (coded payload only) in the same transaction as its inbox record, and gives
/// `youth` — a youth the event names — a random study id unless it has one. False when the event
/// was consumed before (nothing changes).
pub async fn store_event(db: &Db, envelope: &Envelope, youth: Option<&str>, now: i64) -> Result<bool, DbError> {
    let mut tx = db.begin().await?;
    if !inbox::record(&mut tx, SERVICE, envelope).await? {
        tx.commit().await?;
        return Ok(false);
    }
    store::insert_event(&mut tx, envelope, now).await?;
    if let Some(youth) = youth {
        store::ensure_study_id(&mut tx, youth, now).await?;
    }
    tx.commit().await?;
    Ok(true)
}
