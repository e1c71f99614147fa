//! `ListFollowUps` and `RecordFollowUp`. A follow-up records the outcome-domain answers, or that
//! the youth could not be reached or refused — never answers for an unreached youth.

use prost::Message;
use wf_events::{Envelope, outbox};
use wf_proto::cases::v1::{self as pb, FollowUpStatus};
use wf_proto::events::v1 as events;
use wf_server::{ApiError, FieldViolation};
use wf_types::{CaseId, CaseManagerId};

use super::{CasesApi, page_size, page_token_text};
use crate::SERVICE;
use crate::domain::follow_up;
use crate::domain::services::{full_date, to_proto_date};
use crate::events::timestamp;
use crate::store;
use crate::store::follow_ups::{FollowUpFilter, FollowUpRecord};

pub(super) async fn list_follow_ups(
    api: &CasesApi,
    req: &pb::ListFollowUpsRequest,
) -> Result<pb::ListFollowUpsResponse, ApiError> {
    let mut violations = Vec::new();
    let mut filter = FollowUpFilter::default();
    if !req.case_id.is_empty() {
        match req.case_id.parse::<CaseId>() {
            Ok(id) => filter.case_id = Some(id.to_string()),
            Err(err) => violations.push(FieldViolation::new("case_id", err.to_string())),
        }
    }
    if !req.case_manager_id.is_empty() {
        match req.case_manager_id.parse::<CaseManagerId>() {
            Ok(id) => filter.case_manager_id = Some(id.to_string()),
            Err(err) => violations.push(FieldViolation::new("case_manager_id", err.to_string())),
        }
    }
    for (index, value) in req.statuses.iter().enumerate() {
        match FollowUpStatus::try_from(*value) {
            Ok(FollowUpStatus::Unspecified) | Err(_) => violations.push(FieldViolation::new(
                format!("statuses[{index}]"),
                format!(
                    "{value} is not a follow-up status; allowed: FOLLOW_UP_STATUS_SCHEDULED … FOLLOW_UP_STATUS_REFUSED"
                ),
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
    let limit = page_size(req.page_size, &mut violations);
    let after = page_token_text(&req.page_token, "fu_", &mut violations);
    if !violations.is_empty() {
        return Err(ApiError::InvalidArgument(violations));
    }
    let mut rows = store::follow_ups::list(&api.db, &filter, after.as_deref(), limit + 1).await?;
    let next_page_token = super::next_page(&mut rows, limit, |row| row.follow_up_id.clone());
    Ok(pb::ListFollowUpsResponse { follow_ups: rows.iter().map(to_proto).collect(), next_page_token })
}

pub(super) async fn record_follow_up(
    api: &CasesApi,
    actor: &str,
    req: &pb::RecordFollowUpRequest,
) -> Result<pb::RecordFollowUpResponse, ApiError> {
    let mut violations = Vec::new();
    let id_ok = req.follow_up_id.strip_prefix("fu_").is_some_and(|rest| rest.len() == 32);
    if !id_ok {
        violations.push(FieldViolation::new("follow_up_id", "must be a follow-up id (fu_…)"));
    }
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
    let now = api.clock.now_micros();
    let completed_at = match &req.completed_at {
        None => now,
        Some(at) => match wf_proto::time::datetime(at).map(|at| at.timestamp_micros()) {
            Some(at) if at <= now => at,
            Some(_) => {
                violations.push(FieldViolation::new("completed_at", "is in the future"));
                now
            }
            None => {
                violations.push(FieldViolation::new("completed_at", "is not a valid timestamp"));
                now
            }
        },
    };
    if !violations.is_empty() {
        return Err(ApiError::InvalidArgument(violations));
    }
    let mut tx = api.db.begin().await?;
    let existing = store::follow_ups::get_in(&mut tx, &req.follow_up_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("follow-up".into()))?;
    let outcomes = req.outcomes.as_ref().map(Message::encode_to_vec);
    if !store::follow_ups::record(&mut tx, &req.follow_up_id, status, completed_at, actor, outcomes.clone()).await? {
        if existing.status == FollowUpStatus::Cancelled {
            return Err(ApiError::FailedPrecondition(
                "follow-up is cancelled: its case was reopened; the case's next exit schedules new follow-ups".into(),
            ));
        }
        return Err(ApiError::FailedPrecondition(format!(
            "follow-up is already {}; a recorded follow-up is not recorded again",
            follow_up::status_code(existing.status)
        )));
    }
    let recorded = FollowUpRecord {
        status,
        completed_at: Some(completed_at),
        recorded_by: Some(actor.to_owned()),
        outcomes,
        ..existing
    };
    let event = events::FollowUpRecorded {
        follow_up_id: recorded.follow_up_id.clone(),
        case_id: recorded.case_id.clone(),
        kind: recorded.kind as i32,
        status: status as i32,
        completed_at: Some(timestamp(completed_at)),
        outcomes: req.outcomes.clone(),
        practice: recorded.practice,
    };
    outbox::enqueue(
        &mut tx,
        api.db.backend(),
        &Envelope::new(SERVICE, recorded.case_id.clone(), recorded.case_id.clone(), &event),
    )
    .await?;
    // "Yes" answers are recidivism events, with the follow-up as their evidence. The answers cover
    // "since last contact / the last three months": the completion date is the date on record.
    let mut recidivism_event_ids = Vec::new();
    if let Some(outcomes) = &req.outcomes {
        let case =
            store::get_case_in(&mut tx, &recorded.case_id).await?.ok_or_else(|| ApiError::NotFound("case".into()))?;
        let on = follow_up::date_of(completed_at);
        for kind in crate::domain::recidivism::from_answers(outcomes) {
            use chrono::Datelike;
            let record = crate::store::recidivism::RecidivismRecord {
                recidivism_event_id: format!("rcd_{}", uuid::Uuid::now_v7().simple()),
                case_id: case.case_id.clone(),
                youth_id: case.youth_id.clone().unwrap_or_default(),
                kind: kind as i32,
                evidence: wf_proto::common::v1::RecidivismEvidence::FollowUpAnswer as i32,
                occurred_on: (on.year(), on.month() as i32, on.day() as i32),
                recorded_at: now,
                recorded_by: actor.to_owned(),
                evidence_id: recorded.follow_up_id.clone(),
                charge_category: String::new(),
                prostitution_related: 0,
                practice: case.practice,
            };
            super::recidivism::insert_and_announce(api, &mut tx, &case, &record).await?;
            recidivism_event_ids.push(record.recidivism_event_id);
        }
    }
    tx.commit().await?;
    api.relay.wake();
    Ok(pb::RecordFollowUpResponse { follow_up: Some(to_proto(&recorded)), recidivism_event_ids })
}

fn to_proto(row: &FollowUpRecord) -> pb::FollowUp {
    let window_end = row.due_on + chrono::Days::new(follow_up::OVERDUE_AFTER_DAYS);
    pb::FollowUp {
        follow_up_id: row.follow_up_id.clone(),
        case_id: row.case_id.clone(),
        kind: row.kind as i32,
        due_on: Some(to_proto_date(row.due_on)),
        window: Some(wf_proto::common::v1::DateRange {
            start: Some(to_proto_date(row.due_on)),
            end: Some(to_proto_date(window_end)),
        }),
        status: row.status as i32,
        completed_at: row.completed_at.map(timestamp),
        recorded_by: row.recorded_by.clone().unwrap_or_default(),
        outcomes: row.outcomes.as_deref().and_then(|bytes| pb::FollowUpOutcomes::decode(bytes).ok()),
    }
}
