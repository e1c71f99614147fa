//! `UpsertCaseManager`, `SetOnCall` and `ListCaseManagers`: the roster as stored, edited by
//! supervisors and the program manager. Edits take the assignment lock, so an assignment sees the
//! roster either before or after an edit, never half of it.

use wf_auth::{Principal, Role};
use wf_proto::cases::v1 as pb;
use wf_server::pagination::{next_page, page_token};
use wf_server::{ApiError, FieldViolation};
use wf_types::CaseManagerId;

use super::{CasesApi, PAGES, optional_site, present, required};
use crate::app::roster::{self, Saved, period_to_proto};
use crate::domain::roster_edit::{self, Entry};
use crate::domain::{CaseManager, Caseloads, Site, Supervisor};
use crate::store;

/// Who keeps the roster: supervisors and the program manager (and services acting for them).
/// Case managers read it but do not set their own caps, leave or on-call duty.
pub(super) fn manages_roster(principal: &Principal) -> bool {
    matches!(principal.role, Role::Supervisor | Role::ProgramManager | Role::Service)
}

pub(super) fn may_manage_roster(principal: &Principal) -> Result<(), ApiError> {
    if manages_roster(principal) {
        Ok(())
    } else {
        Err(ApiError::PermissionDenied(format!("role {} may not manage the roster", principal.role)))
    }
}

/// Who supervises a case manager, and which login an entry is, decide who reads that case manager's
/// privileged notes: a supervisor may not change either (nor link a login to a new entry), or it could
/// name itself the supervisor of any author. The program manager (and services) may.
pub(super) async fn may_grant_supervision(
    api: &CasesApi,
    principal: &Principal,
    req: &pb::UpsertCaseManagerRequest,
) -> Result<(), ApiError> {
    if principal.role != Role::Supervisor {
        return Ok(());
    }
    let Some(input) = req.case_manager.as_ref() else { return Ok(()) };
    let roster = store::roster::load(api.app.db()).await.map_err(ApiError::internal)?;
    let existing = input.case_manager_id.parse::<CaseManagerId>().ok().and_then(|id| roster.case_manager(&id).cloned());
    let grants = match &existing {
        Some(cm) => {
            cm.supervisor_id.as_str() != input.supervisor_id
                || cm.user_id.as_deref().unwrap_or_default() != input.user_id
        }
        None => !input.supervisor && !input.user_id.is_empty(),
    };
    if grants {
        return Err(ApiError::PermissionDenied(
            "role supervisor may not change a case manager's supervisor_id or user_id (they decide who reads \
             privileged notes); the program manager may"
                .into(),
        ));
    }
    Ok(())
}

pub(super) async fn upsert(
    api: &CasesApi,
    actor: &str,
    req: &pb::UpsertCaseManagerRequest,
) -> Result<pb::CaseManager, ApiError> {
    let input = present(req.case_manager.as_ref(), "case_manager")?;
    let Saved { entry, loads, at } = roster::upsert(&api.app, actor, input).await?;
    Ok(match &entry {
        Entry::CaseManager(cm) => case_manager_to_proto(cm, &loads, at),
        Entry::Supervisor(supervisor) => supervisor_to_proto(supervisor),
    })
}

pub(super) async fn set_on_call(
    api: &CasesApi,
    actor: &str,
    req: &pb::SetOnCallRequest,
) -> Result<pb::CaseManager, ApiError> {
    let mut violations = Vec::new();
    let id = required::<CaseManagerId>("case_manager_id", &req.case_manager_id, &mut violations);
    let shifts = roster_edit::validate_shifts(&req.shifts).map_err(|problems| violations.extend(problems)).ok();
    let (Some(id), Some(shifts), true) = (id, shifts, violations.is_empty()) else {
        return Err(ApiError::InvalidArgument(violations));
    };
    let Saved { entry, loads, at } = roster::set_on_call(&api.app, actor, &id, req.on_call, shifts).await?;
    Ok(case_manager_to_proto(&entry, &loads, at))
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
    let page_size = PAGES.size(req.page_size, &mut violations);
    let after = page_token::<CaseManagerId>(&req.page_token, &mut violations);
    ApiError::check(violations)?;
    let now = api.app.now();
    let roster = store::roster::load(api.app.db()).await?;
    let loads = store::open_caseloads(api.app.db()).await?;
    let serves = |sites: &[Site]| site.is_none_or(|site| sites.contains(&site) || sites.contains(&Site::Countywide));
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
    entries.truncate(page_size + 1);
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
