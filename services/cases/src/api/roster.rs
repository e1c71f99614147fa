//! `UpsertCaseManager`, `SetOnCall` and `ListCaseManagers`: the roster as stored, edited by
//! supervisors and the program manager. Edits take the assignment lock, so an assignment sees the
//! roster either before or after an edit, never half of it.

use wf_auth::{Principal, Role};
use wf_events::{Envelope, outbox};
use wf_proto::cases::v1 as pb;
use wf_proto::events::v1 as events;
use wf_server::{ApiError, FieldViolation};
use wf_types::CaseManagerId;

use super::{CasesApi, next_page, optional_site, page_size, page_token};
use crate::SERVICE;
use crate::domain::roster_edit::{self, Entry};
use crate::domain::{CaseManager, Caseloads, Period, Supervisor};
use crate::events::timestamp;
use crate::store;

/// Who keeps the roster: supervisors and the program manager (and services acting for them).
/// Case managers read it but do not set their own caps, leave or on-call duty.
#[allow(clippy::result_large_err)] // tonic::Status is what every handler returns anyway
pub(super) fn may_manage_roster(principal: &Principal) -> Result<(), tonic::Status> {
    if matches!(principal.role, Role::Supervisor | Role::ProgramManager | Role::Service) {
        Ok(())
    } else {
        Err(tonic::Status::permission_denied(format!("role {} may not manage the roster", principal.role)))
    }
}

pub(super) async fn upsert(
    api: &CasesApi,
    actor: &str,
    req: &pb::UpsertCaseManagerRequest,
) -> Result<pb::CaseManager, ApiError> {
    let input = req
        .case_manager
        .as_ref()
        .ok_or_else(|| ApiError::InvalidArgument(vec![FieldViolation::new("case_manager", "is required")]))?;
    let now = api.clock.now_micros();
    let mut tx = api.db.begin().await?;
    store::lock_assignments(&mut tx, api.db.backend()).await?;
    let roster = store::roster::load_in(&mut tx).await?;
    let existing = input.case_manager_id.parse::<CaseManagerId>().ok().and_then(|id| roster.case_manager(&id).cloned());
    let entry = roster_edit::validate_entry(input, existing.as_ref()).map_err(ApiError::InvalidArgument)?;
    let loads = store::open_caseloads_in(&mut tx).await?;
    roster_edit::check_against(&roster, &loads, &entry).map_err(ApiError::FailedPrecondition)?;
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
    outbox::enqueue(&mut tx, api.db.backend(), &Envelope::new(SERVICE, id.clone(), id, &event)).await?;
    tx.commit().await?;
    api.relay.wake();
    tracing::info!(
        case_manager.id = %entry.id(),
        display_code = entry.display_code(),
        created,
        supervisor = matches!(entry, Entry::Supervisor(_)),
        "roster entry saved"
    );
    Ok(match &entry {
        Entry::CaseManager(cm) => case_manager_to_proto(cm, &loads, now),
        Entry::Supervisor(supervisor) => supervisor_to_proto(supervisor),
    })
}

pub(super) async fn set_on_call(
    api: &CasesApi,
    actor: &str,
    req: &pb::SetOnCallRequest,
) -> Result<pb::CaseManager, ApiError> {
    let mut violations = Vec::new();
    let id = req
        .case_manager_id
        .parse::<CaseManagerId>()
        .map_err(|err| violations.push(FieldViolation::new("case_manager_id", err.to_string())))
        .ok();
    let shifts = roster_edit::validate_shifts(&req.shifts).map_err(|problems| violations.extend(problems)).ok();
    let (Some(id), Some(shifts), true) = (id, shifts, violations.is_empty()) else {
        return Err(ApiError::InvalidArgument(violations));
    };
    let now = api.clock.now_micros();
    let mut tx = api.db.begin().await?;
    store::lock_assignments(&mut tx, api.db.backend()).await?;
    let roster = store::roster::load_in(&mut tx).await?;
    let Some(cm) = roster.case_manager(&id) else {
        if roster.supervisor(&id).is_some() {
            return Err(ApiError::FailedPrecondition(format!(
                "{id} is a supervisor; supervisors take no cases, so they are not put on call"
            )));
        }
        return Err(ApiError::NotFound("case manager".into()));
    };
    if !store::roster::set_on_call(&mut tx, &id, req.on_call, &shifts, actor, now).await? {
        return Err(ApiError::NotFound("case manager".into()));
    }
    let event = events::OnCallChanged {
        case_manager_id: id.to_string(),
        on_call: req.on_call,
        shifts: shifts.iter().map(period_to_proto).collect(),
        changed_by: actor.to_owned(),
        changed_at: Some(timestamp(now)),
    };
    outbox::enqueue(&mut tx, api.db.backend(), &Envelope::new(SERVICE, id.to_string(), id.to_string(), &event)).await?;
    let loads = store::open_caseloads_in(&mut tx).await?;
    tx.commit().await?;
    api.relay.wake();
    let updated = CaseManager { on_call: req.on_call, on_call_shifts: shifts, ..cm.clone() };
    tracing::info!(
        case_manager.id = %id,
        on_call = req.on_call,
        shifts = updated.on_call_shifts.len(),
        on_call_now = updated.on_call_at(now),
        "on-call schedule set"
    );
    Ok(case_manager_to_proto(&updated, &loads, now))
}

pub(super) async fn list(
    api: &CasesApi,
    req: &pb::ListCaseManagersRequest,
) -> Result<pb::ListCaseManagersResponse, ApiError> {
    let mut violations = Vec::new();
    let site = optional_site(req.site, "site", &mut violations);
    let language = (!req.language.is_empty()).then_some(req.language.as_str());
    if language.is_some_and(|l| !((2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_lowercase()))) {
        violations.push(FieldViolation::new("language", "must be an ISO 639 code: two or three lowercase letters"));
    }
    let page_size = page_size(req.page_size, &mut violations);
    let after = page_token::<CaseManagerId>(&req.page_token, &mut violations);
    if !violations.is_empty() {
        return Err(ApiError::InvalidArgument(violations));
    }
    let now = api.clock.now_micros();
    let roster = store::roster::load(&api.db).await?;
    let loads = store::open_caseloads(&api.db).await?;
    let serves = |sites: &[crate::domain::Site]| {
        site.is_none_or(|site| sites.contains(&site) || sites.contains(&crate::domain::Site::Countywide))
    };
    let case_managers = roster
        .case_managers()
        .iter()
        .filter(|cm| req.include_inactive || cm.active)
        .filter(|cm| serves(&cm.sites))
        .filter(|cm| language.is_none_or(|language| cm.speaks(language)))
        .map(|cm| (cm.id.clone(), case_manager_to_proto(cm, &loads, now)));
    // Supervisors speak no language the roster records, so a language filter leaves them out.
    let supervisors = roster
        .supervisors()
        .iter()
        .filter(|_| req.include_supervisors && language.is_none())
        .filter(|s| serves(&s.sites))
        .map(|s| (s.id.clone(), supervisor_to_proto(s)));
    // One list in id order, so the page token is the last id shown.
    let mut entries: Vec<(CaseManagerId, pb::CaseManager)> =
        case_managers.chain(supervisors).filter(|(id, _)| after.as_ref().is_none_or(|after| id > after)).collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries.truncate(page_size as usize + 1);
    let next_page_token = next_page(&mut entries, page_size, |(id, _)| id.to_string());
    Ok(pb::ListCaseManagersResponse {
        case_managers: entries.into_iter().map(|(_, entry)| entry).collect(),
        next_page_token,
    })
}

pub(super) fn case_manager_to_proto(cm: &CaseManager, loads: &Caseloads, now: i64) -> pb::CaseManager {
    pb::CaseManager {
        case_manager_id: cm.id.to_string(),
        user_id: cm.user_id.clone().unwrap_or_default(),
        display_name: cm.display_name.clone(),
        sites: cm.sites.iter().map(|site| site.to_proto() as i32).collect(),
        languages: cm.languages.clone(),
        max_caseload: cm.max_caseload as i32,
        active_caseload: loads.get(&cm.id).copied().unwrap_or(0) as i32,
        on_call: cm.on_call_at(now),
        active: cm.active,
        engagement_approaches: cm.engagement_approaches.clone(),
        supervisor_id: cm.supervisor_id.to_string(),
        display_code: cm.display_code.clone(),
        supervisor: false,
        leave: cm.leave.iter().map(period_to_proto).collect(),
        on_call_shifts: cm.on_call_shifts.iter().map(period_to_proto).collect(),
        on_leave: cm.on_leave_at(now),
    }
}

fn supervisor_to_proto(supervisor: &Supervisor) -> pb::CaseManager {
    pb::CaseManager {
        case_manager_id: supervisor.id.to_string(),
        user_id: supervisor.user_id.clone().unwrap_or_default(),
        display_name: supervisor.display_name.clone(),
        sites: supervisor.sites.iter().map(|site| site.to_proto() as i32).collect(),
        active: true,
        display_code: supervisor.display_code.clone(),
        supervisor: true,
        ..Default::default()
    }
}

fn period_to_proto(period: &Period) -> pb::RosterPeriod {
    pb::RosterPeriod { starts_at: Some(timestamp(period.starts_at)), ends_at: period.ends_at.map(timestamp) }
}
