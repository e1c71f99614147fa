//! Case notes with the privileged flag (California Evidence Code 1038, caseworker privilege).
//!
//! A privileged note is read only by its author and by the author's named supervisor in the
//! roster (the supervisor entry of the author's case-manager entry, matched by login id), and only
//! when the read asks for privileged notes with a purpose code; to anyone else it is simply left
//! out, as for every read that does not ask, and every export. Services never read one.
//!
//! Note text is sealed at rest (`app::sealing`) and never travels in an event or a log line.
//! Every read of a case's notes is a `record.accessed` event naming each note returned (privileged
//! ones marked), with the purpose: never the text.

use wf_auth::{Principal, Role};
use wf_events::Envelope;
use wf_proto::events::v1 as events;
use wf_types::pagination::next_page;
use wf_types::{CaseId, NoteId};

use super::access::{self, Reader};
use super::sealing::{NoteBinding, open_text, seal_text};
use super::{App, CaseError, case_in};
use crate::SERVICE;
use crate::domain::Roster;
use crate::store::notes::{Privileged, StoredNote};
use crate::store::{self, CaseRef};
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

/// A note as read, its text opened.
#[derive(Clone, PartialEq, Eq)]
pub struct Note {
    pub note_id: String,
    pub case_id: String,
    pub author_id: String,
    pub written_at: i64,
    pub text: String,
    pub privileged: bool,
    pub category: String,
}

// Debug leaves the text out, so a note can never reach a log line through `{:?}`.
impl std::fmt::Debug for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Note")
            .field("note_id", &self.note_id)
            .field("case_id", &self.case_id)
            .field("privileged", &self.privileged)
            .finish_non_exhaustive()
    }
}

/// The key ring notes are sealed with, or INTERNAL when the service was built without one.
fn keys(app: &App) -> Result<std::sync::Arc<wf_crypto::KeyRing>, CaseError> {
    match &app.note_keys {
        Some(keys) => Ok(keys.current()),
        None => Err(CaseError::Internal(anyhow::anyhow!(
            "case notes cannot be sealed or opened: the service was built without note keys (App::with_note_keys)"
        ))),
    }
}

/// `AddCaseNote`: seals and stores the note, and announces its metadata.
pub async fn add(app: &App, principal: &Principal, note: NewNote) -> Result<String, CaseError> {
    let keys = keys(app)?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let case = case_in(&mut tx, note.case_id.as_str()).await?;
    let note_id = NoteId::generate().to_string();
    let binding = NoteBinding {
        note_id: &note_id,
        case_id: &case.case_id,
        author_id: &principal.subject,
        privileged: note.privileged,
    };
    let sealed = seal_text(&keys, binding, &note.text)
        .map_err(|err| CaseError::Internal(anyhow::anyhow!("case note {note_id}: text cannot be sealed: {err}")))?;
    let record = StoredNote {
        note_id,
        case_id: case.case_id.clone(),
        author_id: principal.subject.clone(),
        written_at: now,
        sealed_text: Some(sealed),
        legacy_text: String::new(),
        key_version: Some(keys.current_version() as i32),
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
    tracing::debug!(note.id = %record.note_id, case.id = %record.case_id, privileged = record.privileged, "case note added");
    Ok(record.note_id)
}

/// One page of up to `page_size` notes of a case after `after`, and the next page's token: every
/// ordinary note and, with `include_privileged`, the privileged notes the reader may read (its
/// own, and as a supervisor those of the case managers it supervises). The read is recorded with
/// each note id returned.
pub async fn list(
    app: &App,
    reader: Reader<'_>,
    case_id: &CaseId,
    include_privileged: bool,
    after: Option<&NoteId>,
    page_size: usize,
) -> Result<(Vec<Note>, String), CaseError> {
    let keys = keys(app)?;
    let case = store::get_case(&app.db, case_id.as_str()).await?.ok_or(CaseError::NotFound("case"))?;
    let privileged = if include_privileged {
        let roster = store::roster::load(&app.db).await?;
        Privileged::From(privileged_authors(&roster, reader.principal))
    } else {
        Privileged::Exclude
    };
    let mut stored =
        store::notes::list(&app.db, &case.case_id, &privileged, after.map(NoteId::as_str), page_size + 1).await?;
    let next_page_token = next_page(&mut stored, page_size, |note| note.note_id.clone());
    let mut notes = Vec::with_capacity(stored.len());
    for note in &stored {
        let text = open_text(&keys, note).map_err(|err| CaseError::Internal(err.into()))?;
        notes.push(Note {
            note_id: note.note_id.clone(),
            case_id: note.case_id.clone(),
            author_id: note.author_id.clone(),
            written_at: note.written_at,
            text,
            privileged: note.privileged,
            category: note.category.clone(),
        });
    }
    let mut fields = vec![access::NOTES.to_owned()];
    fields.extend(notes.iter().map(|note| {
        if note.privileged {
            format!("privileged_case_note:{}", note.note_id)
        } else {
            format!("case_note:{}", note.note_id)
        }
    }));
    let privileged_read = notes.iter().filter(|note| note.privileged).count();
    access::record(app, &[access::access_event(reader, &CaseRef::from(&case), fields, app.now())]).await?;
    if privileged_read > 0 {
        tracing::info!(
            case.id = %case.case_id,
            reader = %reader.principal.subject,
            purpose = reader.purpose.map(|p| p.code()).unwrap_or_default(),
            privileged_notes = privileged_read,
            "privileged case notes read"
        );
    }
    Ok((notes, next_page_token))
}

/// Whose privileged notes `principal` may read: its own (staff only), and a supervisor also
/// those of every case manager whose roster entry names it as supervisor (by login id). Services,
/// partners and everyone else: none.
pub fn privileged_authors(roster: &Roster, principal: &Principal) -> Vec<String> {
    if !matches!(principal.role, Role::CaseManager | Role::Supervisor) {
        return Vec::new();
    }
    let mut authors = vec![principal.subject.clone()];
    if principal.role == Role::Supervisor {
        let own_entry = roster.supervisors().iter().find(|s| s.user_id.as_deref() == Some(principal.subject.as_str()));
        if let Some(supervisor) = own_entry {
            authors.extend(
                roster
                    .case_managers()
                    .iter()
                    .filter(|cm| cm.supervisor_id == supervisor.id)
                    .filter_map(|cm| cm.user_id.clone()),
            );
        }
    }
    authors.sort();
    authors.dedup();
    authors
}
