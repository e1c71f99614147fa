//! Case notes with the privileged flag (California Evidence Code 1038, caseworker privilege).
//! Privileged notes are read only by the case's assigned case manager and by supervisors; every
//! other read, and every export, leaves them out. Note text never travels in an event or a log.

use wf_auth::{Principal, Role};
use wf_events::Envelope;
use wf_proto::events::v1 as events;
use wf_types::{CaseId, NoteId};

use super::{App, CaseError, case_in};
use crate::SERVICE;
use crate::domain::Roster;
use crate::store::notes::{NoteRecord, Privileged};
use crate::store::{self, CaseRecord};
use crate::timestamp;

/// A note as the request gives it (checked for form).
#[derive(Debug, Clone)]
pub struct NewNote {
    pub case_id: CaseId,
    pub text: String,
    pub privileged: bool,
    /// A code; `general` when the request names none.
    pub category: String,
}

/// `AddCaseNote`: stores the note and announces its metadata.
pub async fn add(app: &App, principal: &Principal, note: NewNote) -> Result<String, CaseError> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let case = case_in(&mut tx, note.case_id.as_str()).await?;
    let record = NoteRecord {
        note_id: NoteId::generate().to_string(),
        case_id: case.case_id.clone(),
        author_id: principal.subject.clone(),
        written_at: now,
        text: note.text,
        privileged: note.privileged,
        category: note.category,
    };
    store::notes::insert(&mut tx, &record).await?;
    // Metadata only. For a privileged note not even the category leaves: "safety_plan" next to a
    // case id already says something the privilege protects.
    let event = events::CaseNoteAdded {
        note_id: record.note_id.clone(),
        case_id: record.case_id.clone(),
        author_id: record.author_id.clone(),
        privileged: record.privileged,
        category: if record.privileged { String::new() } else { record.category.clone() },
        written_at: Some(timestamp(now)),
    };
    app.commit(tx, &[Envelope::new(SERVICE, case.case_id.clone(), case.referral_id, &event)]).await?;
    tracing::info!(note.id = %record.note_id, case.id = %record.case_id, privileged = record.privileged, "case note added");
    Ok(record.note_id)
}

/// Up to `limit` notes of a case after `after`. With `privileged_purpose` (the purpose code of
/// the read) privileged notes are included, for the case's owner and supervisors only.
pub async fn list(
    app: &App,
    principal: &Principal,
    case_id: &CaseId,
    privileged_purpose: Option<&str>,
    after: Option<&NoteId>,
    limit: usize,
) -> Result<Vec<NoteRecord>, CaseError> {
    let case = store::get_case(&app.db, case_id.as_str()).await?.ok_or(CaseError::NotFound("case"))?;
    let privileged = match privileged_purpose {
        Some(purpose) => {
            let roster = store::roster::load(&app.db).await?;
            if !may_read_privileged(&roster, principal, &case) {
                return Err(CaseError::Forbidden(
                    "privileged notes are readable only by the case's assigned case manager and supervisors".into(),
                ));
            }
            tracing::info!(case.id = %case.case_id, reader = %principal.subject, purpose, "privileged case notes read");
            Privileged::Include
        }
        None => Privileged::Exclude,
    };
    Ok(store::notes::list(&app.db, &case.case_id, privileged, after.map(NoteId::as_str), limit).await?)
}

/// Supervisors, or the case manager who owns the case now (their login is the roster's user_id).
fn may_read_privileged(roster: &Roster, principal: &Principal, case: &CaseRecord) -> bool {
    match principal.role {
        Role::Supervisor => true,
        Role::CaseManager => case
            .case_manager_id
            .as_deref()
            .and_then(|id| id.parse().ok())
            .and_then(|id| roster.case_manager(&id))
            .is_some_and(|cm| cm.user_id.as_deref() == Some(principal.subject.as_str())),
        _ => false,
    }
}
