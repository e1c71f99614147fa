//! Case notes with the privileged flag (California Evidence Code 1038, caseworker privilege).
//! Privileged notes are read only by the case's assigned case manager and by supervisors; every
//! other read, and every export, leaves them out. Note text never travels in an event or a log.

use wf_auth::{Principal, Role};
use wf_events::{Envelope, outbox};
use wf_proto::cases::v1 as pb;
use wf_proto::events::v1 as events;
use wf_server::{ApiError, FieldViolation};
use wf_types::CaseId;

use super::{CasesApi, page_size, page_token_text};
use crate::SERVICE;
use crate::domain::Roster;
use crate::domain::services::is_code;
use crate::events::timestamp;
use crate::store::notes::{NoteRecord, Privileged};
use crate::store::{self, CaseRecord};

/// Most characters in one note.
const MAX_NOTE_CHARS: usize = 10_000;

pub(super) async fn add(
    api: &CasesApi,
    principal: &Principal,
    req: &pb::AddCaseNoteRequest,
) -> Result<String, ApiError> {
    let note =
        req.note.as_ref().ok_or_else(|| ApiError::InvalidArgument(vec![FieldViolation::new("note", "is required")]))?;
    let mut violations = Vec::new();
    let case_id = note
        .case_id
        .parse::<CaseId>()
        .map_err(|err| violations.push(FieldViolation::new("note.case_id", err.to_string())))
        .ok();
    let chars = note.text.chars().count();
    if note.text.trim().is_empty() || chars > MAX_NOTE_CHARS {
        violations.push(FieldViolation::new("note.text", format!("must be 1 to {MAX_NOTE_CHARS} characters")));
    }
    if !note.category.is_empty() && !is_code(&note.category) {
        violations.push(FieldViolation::new("note.category", "must be a code, e.g. contact, safety_plan, supervision"));
    }
    let Some(case_id) = case_id.filter(|_| violations.is_empty()) else {
        return Err(ApiError::InvalidArgument(violations));
    };
    let now = api.clock.now_micros();
    let mut tx = api.db.begin().await?;
    let case = store::get_case_in(&mut tx, case_id.as_str()).await?.ok_or_else(|| ApiError::NotFound("case".into()))?;
    let record = NoteRecord {
        note_id: format!("note_{}", uuid::Uuid::now_v7().simple()),
        case_id: case.case_id.clone(),
        author_id: principal.subject.clone(),
        written_at: now,
        text: note.text.clone(),
        privileged: note.privileged,
        category: if note.category.is_empty() { "general".to_owned() } else { note.category.clone() },
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
    outbox::enqueue(&mut tx, api.db.backend(), &Envelope::new(SERVICE, case.case_id.clone(), case.referral_id, &event))
        .await?;
    tx.commit().await?;
    api.relay.wake();
    tracing::info!(note.id = %record.note_id, case.id = %record.case_id, privileged = record.privileged, "case note added");
    Ok(record.note_id)
}

pub(super) async fn list(
    api: &CasesApi,
    principal: &Principal,
    req: &pb::ListCaseNotesRequest,
) -> Result<pb::ListCaseNotesResponse, tonic::Status> {
    let mut violations = Vec::new();
    let case_id = req
        .case_id
        .parse::<CaseId>()
        .map_err(|err| violations.push(FieldViolation::new("case_id", err.to_string())))
        .ok();
    if req.include_privileged && !is_code(&req.purpose) {
        violations.push(FieldViolation::new("purpose", "is required to read privileged notes: a purpose code"));
    }
    let limit = page_size(req.page_size, &mut violations);
    let after = page_token_text(&req.page_token, "note_", &mut violations);
    let Some(case_id) = case_id.filter(|_| violations.is_empty()) else {
        return Err(ApiError::InvalidArgument(violations).into());
    };
    let case = store::get_case(&api.db, case_id.as_str())
        .await
        .map_err(ApiError::from)?
        .ok_or_else(|| ApiError::NotFound("case".into()))?;
    let privileged = if req.include_privileged {
        let roster = store::roster::load(&api.db).await.map_err(ApiError::from)?;
        if !may_read_privileged(&roster, principal, &case) {
            return Err(tonic::Status::permission_denied(
                "privileged notes are readable only by the case's assigned case manager and supervisors",
            ));
        }
        tracing::info!(case.id = %case.case_id, reader = %principal.subject, purpose = %req.purpose, "privileged case notes read");
        Privileged::Include
    } else {
        Privileged::Exclude
    };
    let mut rows = store::notes::list(&api.db, &case.case_id, privileged, after.as_deref(), limit + 1)
        .await
        .map_err(ApiError::from)?;
    let next_page_token = super::next_page(&mut rows, limit, |note| note.note_id.clone());
    Ok(pb::ListCaseNotesResponse { notes: rows.iter().map(to_proto).collect(), next_page_token })
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

fn to_proto(note: &NoteRecord) -> pb::CaseNote {
    pb::CaseNote {
        note_id: note.note_id.clone(),
        case_id: note.case_id.clone(),
        author_id: note.author_id.clone(),
        written_at: Some(timestamp(note.written_at)),
        text: note.text.clone(),
        privileged: note.privileged,
        category: note.category.clone(),
    }
}
