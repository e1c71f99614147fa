//! `AddCaseNote` and `ListCaseNotes` (see `app::notes` for who reads privileged notes; a purpose
//! code from `wf_types::Purpose` is required with `include_privileged`).

use wf_auth::Principal;
use wf_proto::cases::v1 as pb;
use wf_server::pagination::page_token;
use wf_server::{ApiError, FieldViolation};
use wf_types::{CaseId, NoteId, Purpose};

use super::{CasesApi, PAGES, present, required};
use crate::app::access::Reader;
use crate::app::notes::{self, NewNote, Note};
use crate::domain::services::is_code;
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
    // Privileged notes are read for a stated purpose only; any read may name one.
    let purpose = if req.include_privileged {
        Purpose::required(&req.purpose, "purpose", &mut violations)
    } else {
        Purpose::optional(&req.purpose, "purpose", &mut violations)
    };
    let limit = PAGES.size(req.page_size, &mut violations);
    let after = page_token::<NoteId>(&req.page_token, &mut violations);
    let Some(case_id) = case_id.filter(|_| violations.is_empty()) else {
        return Err(ApiError::InvalidArgument(violations));
    };
    let reader = Reader::new(principal, purpose);
    let (rows, next_page_token) =
        notes::list(&api.app, reader, &case_id, req.include_privileged, after.as_ref(), limit).await?;
    Ok(pb::ListCaseNotesResponse { notes: rows.iter().map(to_proto).collect(), next_page_token })
}

fn to_proto(note: &Note) -> pb::CaseNote {
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
