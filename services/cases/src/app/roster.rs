//! Roster edits (`UpsertCaseManager`, `SetOnCall`) by supervisors and the program manager. Edits
//! take the assignment lock, so an assignment sees the roster either before or after an edit,
//! never half of it.

use wf_events::Envelope;
use wf_proto::cases::v1 as pb;
use wf_proto::events::v1 as events;
use wf_types::CaseManagerId;

use super::{App, CaseError};
use crate::SERVICE;
use crate::domain::roster_edit::{self, Entry};
use crate::domain::{CaseManager, Caseloads, Period};
use crate::store;
use crate::timestamp;

/// A roster entry as saved, with the caseloads and instant to show it at.
pub struct Saved<T> {
    pub entry: T,
    pub loads: Caseloads,
    pub at: i64,
}

/// `UpsertCaseManager`: checks the entry against the rest of the roster, saves it, and announces
/// `roster.case_manager_changed` (saying whether the login linked to it changed).
pub async fn upsert(app: &App, actor: &str, input: &pb::CaseManager) -> Result<Saved<Entry>, CaseError> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    store::lock_assignments(&mut tx, app.db.backend()).await?;
    let roster = store::roster::load_in(&mut tx).await?;
    let existing = input.case_manager_id.parse::<CaseManagerId>().ok().and_then(|id| roster.case_manager(&id).cloned());
    let entry = roster_edit::validate_entry(input, existing.as_ref()).map_err(CaseError::Violations)?;
    let loads = store::open_caseloads_in(&mut tx).await?;
    roster_edit::check_against(&roster, &loads, &entry).map_err(CaseError::Precondition)?;
    let earlier_user = roster
        .case_managers()
        .iter()
        .find(|cm| &cm.id == entry.id())
        .map(|cm| cm.user_id.clone())
        .or_else(|| roster.supervisors().iter().find(|s| &s.id == entry.id()).map(|s| s.user_id.clone()))
        .flatten();
    let user_id_changed = earlier_user.as_deref() != entry.user_id();
    let created = store::roster::upsert(&mut tx, &entry, actor, now).await?;
    let mut event = match &entry {
        Entry::CaseManager(cm) => events::CaseManagerChanged {
            case_manager_id: cm.id.to_string(),
            created,
            supervisor: false,
            sites: cm.sites.iter().map(|site| site.to_proto() as i32).collect(),
            languages: cm.languages.clone(),
            max_caseload: cm.max_caseload as i32,
            active: cm.active,
            supervisor_id: cm.supervisor_id.to_string(),
            leave_periods: cm.leave.len() as i32,
            on_leave: cm.on_leave_at(now),
            changed_by: actor.to_owned(),
            changed_at: Some(timestamp(now)),
            ..Default::default()
        },
        Entry::Supervisor(supervisor) => events::CaseManagerChanged {
            case_manager_id: supervisor.id.to_string(),
            created,
            supervisor: true,
            sites: supervisor.sites.iter().map(|site| site.to_proto() as i32).collect(),
            active: true,
            changed_by: actor.to_owned(),
            changed_at: Some(timestamp(now)),
            ..Default::default()
        },
    };
    event.user_id_changed = user_id_changed;
    event.user_id = entry.user_id().unwrap_or_default().to_owned();
    let id = entry.id().to_string();
    app.commit(tx, &[Envelope::new(SERVICE, id.clone(), id, &event)]).await?;
    tracing::info!(
        case_manager.id = %entry.id(),
        display_code = entry.display_code(),
        created,
        supervisor = matches!(entry, Entry::Supervisor(_)),
        "roster entry saved"
    );
    Ok(Saved { entry, loads, at: now })
}

/// `SetOnCall`: whether a case manager takes emergent referrals, and in which shifts.
pub async fn set_on_call(
    app: &App,
    actor: &str,
    id: &CaseManagerId,
    on_call: bool,
    shifts: Vec<Period>,
) -> Result<Saved<CaseManager>, CaseError> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    store::lock_assignments(&mut tx, app.db.backend()).await?;
    let roster = store::roster::load_in(&mut tx).await?;
    let Some(cm) = roster.case_manager(id) else {
        if roster.supervisor(id).is_some() {
            return Err(CaseError::Precondition(format!(
                "{id} is a supervisor; supervisors take no cases, so they are not put on call"
            )));
        }
        return Err(CaseError::NotFound("case manager"));
    };
    if !store::roster::set_on_call(&mut tx, id, on_call, &shifts, actor, now).await? {
        return Err(CaseError::NotFound("case manager"));
    }
    let event = events::OnCallChanged {
        case_manager_id: id.to_string(),
        on_call,
        shifts: shifts.iter().map(period_to_proto).collect(),
        changed_by: actor.to_owned(),
        changed_at: Some(timestamp(now)),
    };
    let loads = store::open_caseloads_in(&mut tx).await?;
    app.commit(tx, &[Envelope::new(SERVICE, id.to_string(), id.to_string(), &event)]).await?;
    let updated = CaseManager { on_call, on_call_shifts: shifts, ..cm.clone() };
    tracing::info!(
        case_manager.id = %id,
        on_call,
        shifts = updated.on_call_shifts.len(),
        on_call_now = updated.on_call_at(now),
        "on-call schedule set"
    );
    Ok(Saved { entry: updated, loads, at: now })
}

/// A leave period or on-call shift, as the API and the events carry it.
pub fn period_to_proto(period: &Period) -> pb::RosterPeriod {
    pb::RosterPeriod { starts_at: Some(timestamp(period.starts_at)), ends_at: period.ends_at.map(timestamp) }
}
