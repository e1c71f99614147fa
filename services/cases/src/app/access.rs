//! Reads of a youth's case record on the record (DESIGN.md privacy rule 4): every read of a case,
//! its stage history, contact attempts, plan goals, interventions, follow-ups, recidivism events or
//! notes is a
//! `record.accessed` event in the outbox — who (actor, role, organization), which case, which
//! part ("fields": `case`, `contact_attempts`, … and, for notes, each note id), the purpose code
//! when the caller gave one. Never a value read, never note text.
//!
//! The envelope's aggregate is the case's youth (the case id while it has none) and its
//! correlation the case's referral, so the audit service's disclosure report for the youth finds
//! the read either way. The events commit before the answer leaves: a read that cannot be put on
//! the record fails.

use std::collections::BTreeSet;

use wf_auth::Principal;
use wf_db::DbError;
use wf_events::{Envelope, outbox};
use wf_types::Purpose;

use super::App;
use crate::SERVICE;
use crate::store::{self, CaseRef};

/// The parts of a case record a read returns (`RecordAccessed.fields`).
pub const CASE: &str = "case";
pub const CONTACT_ATTEMPTS: &str = "contact_attempts";
pub const GOALS: &str = "service_plan_goals";
pub const INTERVENTIONS: &str = "interventions";
pub const FOLLOW_UPS: &str = "follow_ups";
pub const RECIDIVISM_EVENTS: &str = "recidivism_events";
pub const NOTES: &str = "case_notes";
pub const STAGE_HISTORY: &str = "stage_history";

/// Who reads, and why.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    pub principal: &'a Principal,
    pub purpose: Option<Purpose>,
}

impl<'a> Reader<'a> {
    pub fn new(principal: &'a Principal, purpose: Option<Purpose>) -> Self {
        Reader { principal, purpose }
    }
}

/// The `record.accessed` event of `reader` reading `fields` of `case` at `at`.
pub fn access_event(reader: Reader<'_>, case: &CaseRef, fields: Vec<String>, at: i64) -> Envelope {
    let principal = reader.principal;
    let purpose = reader.purpose.map(|purpose| purpose.code()).unwrap_or_default();
    let access = wf_server::access::record_accessed(principal, &case.case_id, purpose, fields, at);
    let aggregate = case.youth_id.clone().unwrap_or_else(|| case.case_id.clone());
    Envelope::new(SERVICE, aggregate, case.referral_id.clone(), &access)
}

/// Puts `events` on the record: one transaction, then the relay is woken.
pub async fn record(app: &App, events: &[Envelope]) -> Result<(), DbError> {
    if events.is_empty() {
        return Ok(());
    }
    let mut tx = app.db.begin().await?;
    for event in events {
        outbox::enqueue(&mut tx, app.db.backend(), event).await?;
    }
    tx.commit().await?;
    app.relay.wake();
    Ok(())
}

/// Records that `reader` read `field` of one case.
pub async fn read_case(app: &App, reader: Reader<'_>, case: &CaseRef, field: &str) -> Result<(), DbError> {
    record(app, &[access_event(reader, case, vec![field.to_owned()], app.now())]).await
}

/// Records that `reader` read `field` of each case `case_ids` names (a list across cases: one
/// entry per case, so each youth's disclosure report shows it). Repeated ids count once.
pub async fn read_cases<'a>(
    app: &App,
    reader: Reader<'_>,
    case_ids: impl IntoIterator<Item = &'a str>,
    field: &str,
) -> Result<(), DbError> {
    let ids: BTreeSet<&str> = case_ids.into_iter().collect();
    let ids: Vec<&str> = ids.into_iter().collect();
    let now = app.now();
    let mut events = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(100) {
        for case in store::case_refs(&app.db, chunk).await? {
            events.push(access_event(reader, &case, vec![field.to_owned()], now));
        }
    }
    record(app, &events).await
}

/// Records that `reader` read `field` of each of `cases` (already loaded).
pub async fn read_loaded(app: &App, reader: Reader<'_>, cases: &[CaseRef], field: &str) -> Result<(), DbError> {
    let now = app.now();
    let events: Vec<Envelope> =
        cases.iter().map(|case| access_event(reader, case, vec![field.to_owned()], now)).collect();
    record(app, &events).await
}
