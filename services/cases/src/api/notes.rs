//! `AddCaseNote` and `ListCaseNotes` (see `app::notes` for who reads privileged notes).

use wf_auth::Principal;
use wf_proto::cases::v1 as pb;
use wf_server::pagination::{next_page, page_token};
use wf_server::{ApiError, FieldViolation};
use wf_types::{CaseId, NoteId};

use super::{CasesApi, PAGES, present, required};
use crate::app::notes::{self, NewNote};
use crate::domain::services::is_code;
use crate::store::notes::NoteRecord;
use crate::timestamp;

/// Most characters in one note.
const MAX_NOTE_CHARS: usize = 10_000;

pub(super) async fn add(
    api: &CasesApi,
    principal: &Principal,
    req: &pb::AddCaseNoteRequest,
) -> Result<String, ApiError> {
    let note = present(req.note.as_ref(), "note")?;
    let mut violations = Vec::new();
    let case_id = required::<CaseId>("note.case_id", &note.case_id, &mut violations);
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
    let note = NewNote {
        case_id,
        text: note.text.clone(),
        privileged: note.privileged,
        category: if note.category.is_empty() { "general".to_owned() } else { note.category.clone() },
    };
    Ok(notes::add(&api.app, principal, note).await?)
}

pub(super) async fn list(
    api: &CasesApi,
    principal: &Principal,
    req: &pb::ListCaseNotesRequest,
) -> Result<pb::ListCaseNotesResponse, ApiError> {
    let mut violations = Vec::new();
    let case_id = required::<CaseId>("case_id", &req.case_id, &mut violations);
    if req.include_privileged && !is_code(&req.purpose) {
        violations.push(FieldViolation::new("purpose", "is required to read privileged notes: a purpose code"));
    }
    let limit = PAGES.size(req.page_size, &mut violations);
    let after = page_token::<NoteId>(&req.page_token, &mut violations);
    let Some(case_id) = case_id.filter(|_| violations.is_empty()) else {
        return Err(ApiError::InvalidArgument(violations));
    };
    let purpose = req.include_privileged.then_some(req.purpose.as_str());
    let mut rows = notes::list(&api.app, principal, &case_id, purpose, after.as_ref(), limit + 1).await?;
    let next_page_token = next_page(&mut rows, limit, |note| note.note_id.clone());
    Ok(pb::ListCaseNotesResponse { notes: rows.iter().map(to_proto).collect(), next_page_token })
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
