//! `ListFollowUps` and `RecordFollowUp`. A follow-up records the outcome-domain answers, or that
//! the youth could not be reached or refused — never answers for an unreached youth.

use prost::Message;
use wf_auth::Principal;
use wf_proto::cases::v1::{self as pb, FollowUpStatus};
use wf_server::pagination::{next_page, page_token};
use wf_server::{ApiError, FieldViolation};
use wf_types::{CaseId, CaseManagerId, FollowUpId, Purpose};

use super::{CasesApi, PAGES, optional, past_instant};
use crate::app::access::{self, Reader};
use crate::app::follow_ups::{self, FollowUpResult};
use crate::domain::follow_up;
use crate::domain::services::{full_date, is_code, to_proto_date};
use crate::store;
use crate::store::follow_ups::{FollowUpFilter, FollowUpRecord};
use crate::timestamp;

pub(super) async fn list_follow_ups(
    api: &CasesApi,
    principal: &Principal,
    req: &pb::ListFollowUpsRequest,
) -> Result<pb::ListFollowUpsResponse, ApiError> {
    let mut violations = Vec::new();
    let purpose = Purpose::optional(&req.purpose, "purpose", &mut violations);
    let mut filter = FollowUpFilter {
        case_id: optional::<CaseId>("case_id", &req.case_id, &mut violations).map(String::from),
        case_manager_id: optional::<CaseManagerId>("case_manager_id", &req.case_manager_id, &mut violations)
            .map(String::from),
        ..FollowUpFilter::default()
    };
    for (index, value) in req.statuses.iter().enumerate() {
        match FollowUpStatus::try_from(*value) {
            Ok(FollowUpStatus::Unspecified) | Err(_) => violations.push(FieldViolation::new(
                format!("statuses[{index}]"),
                "is not a follow-up status; allowed: FOLLOW_UP_STATUS_SCHEDULED … FOLLOW_UP_STATUS_REFUSED",
            )),
            Ok(status) => filter.statuses.push(status),
        }
    }
    if let Some(date) = &req.due_by {
        match full_date(Some(date)) {
            Ok(date) => filter.due_by = Some(date),
            Err(why) => violations.push(FieldViolation::new("due_by", why)),
        }
    }
    let limit = PAGES.size(req.page_size, &mut violations);
    let after = page_token::<FollowUpId>(&req.page_token, &mut violations);
    ApiError::check(violations)?;
    let mut rows =
        store::follow_ups::list(api.app.db(), &filter, after.as_ref().map(FollowUpId::as_str), limit + 1).await?;
    let next_page_token = next_page(&mut rows, limit, |row| row.follow_up_id.clone());
    // A read of each case whose follow-ups are listed (and of the case asked for, even with none).
    let cases = rows.iter().map(|row| row.case_id.as_str()).chain(filter.case_id.as_deref());
    access::read_cases(&api.app, Reader::new(principal, purpose), cases, access::FOLLOW_UPS).await?;
    Ok(pb::ListFollowUpsResponse { follow_ups: rows.iter().map(to_proto).collect(), next_page_token })
}

pub(super) async fn record_follow_up(
    api: &CasesApi,
    actor: &str,
    req: &pb::RecordFollowUpRequest,
) -> Result<pb::RecordFollowUpResponse, ApiError> {
    let mut violations = Vec::new();
    let follow_up_id = req
        .follow_up_id
        .parse::<FollowUpId>()
        .map_err(|_| violations.push(FieldViolation::new("follow_up_id", "must be a follow-up id (fu_…)")))
        .ok();
    let status = FollowUpStatus::try_from(req.status).unwrap_or(FollowUpStatus::Unspecified);
    if let Err(why) = follow_up::check_record(status, req.outcomes.is_some()) {
        let field =
            if matches!(status, FollowUpStatus::Completed | FollowUpStatus::LostToFollowUp | FollowUpStatus::Refused) {
                "outcomes"
            } else {
                "status"
            };
        violations.push(FieldViolation::new(field, why));
    }
    // The scale code travels in follow_up.recorded: a code, never free text.
    let scale = req.outcomes.as_ref().map_or("", |outcomes| outcomes.wellbeing_scale.as_str());
    if !scale.is_empty() && !is_code(scale) {
        violations.push(FieldViolation::new(
            "outcomes.wellbeing_scale",
            "must be a code: lowercase letters, digits and '_', starting with a letter, at most 64 (e.g. who5)",
        ));
    }
    let now = api.app.now();
    let completed_at =
        past_instant(req.completed_at.as_ref(), "completed_at", now, "is in the future", &mut violations);
    let (Some(follow_up_id), true) = (follow_up_id, violations.is_empty()) else {
        return Err(ApiError::InvalidArgument(violations));
    };
    let result = FollowUpResult { follow_up_id, status, completed_at, outcomes: req.outcomes.clone() };
    let (recorded, recidivism_event_ids) = follow_ups::record(&api.app, actor, result).await?;
    Ok(pb::RecordFollowUpResponse { follow_up: Some(to_proto(&recorded)), recidivism_event_ids })
}

fn to_proto(row: &FollowUpRecord) -> pb::FollowUp {
    pb::FollowUp {
        follow_up_id: row.follow_up_id.clone(),
        case_id: row.case_id.clone(),
        kind: row.kind as i32,
        due_on: Some(to_proto_date(row.due_on)),
        window: Some(wf_proto::common::v1::DateRange {
            start: Some(to_proto_date(row.window.opens_on)),
            end: Some(to_proto_date(row.window.closes_on)),
        }),
        status: row.status as i32,
        completed_at: row.completed_at.map(timestamp),
        recorded_by: row.recorded_by.clone().unwrap_or_default(),
        outcomes: row.outcomes.as_deref().and_then(|bytes| pb::FollowUpOutcomes::decode(bytes).ok()),
    }
}
