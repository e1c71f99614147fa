//! `RecordRecidivismEvent` and `ListRecidivismEvents` (the events a completed follow-up's answers
//! imply are recorded by `app::follow_ups`).

use wf_auth::Principal;
use wf_proto::cases::v1 as pb;
use wf_proto::common::v1::{Date, NoYes, RecidivismEvidence, RecidivismKind};
use wf_server::pagination::{next_page, page_token};
use wf_server::{ApiError, FieldViolation};
use wf_types::{CaseId, FollowUpId, Purpose, RecidivismEventId, ReferralId, ScreeningId, YouthId};

use super::{CasesApi, PAGES, present, required};
use crate::app::access::{self, Reader};
use crate::app::recidivism::{self, NewRecidivism, date};
use crate::domain::services::is_code;
use crate::store;
use crate::store::recidivism::RecidivismRecord;
use crate::timestamp;

pub(super) async fn record(
    api: &CasesApi,
    actor: &str,
    req: &pb::RecordRecidivismEventRequest,
) -> Result<String, ApiError> {
    let input = present(req.event.as_ref(), "event")?;
    let mut violations = Vec::new();
    let case_id = required::<CaseId>("event.case_id", &input.case_id, &mut violations);
    let kind = RecidivismKind::try_from(input.kind).unwrap_or(RecidivismKind::Unspecified);
    if kind == RecidivismKind::Unspecified {
        violations.push(FieldViolation::new(
            "event.kind",
            "is required; allowed: RECIDIVISM_KIND_RE_EXPLOITATION, RECIDIVISM_KIND_RE_ARREST, \
             RECIDIVISM_KIND_RETURN_TO_TRAFFICKER, RECIDIVISM_KIND_RUNNING_AWAY",
        ));
    }
    let evidence = RecidivismEvidence::try_from(input.evidence).unwrap_or(RecidivismEvidence::Unspecified);
    if evidence == RecidivismEvidence::Unspecified {
        violations.push(FieldViolation::new("event.evidence", "is required: the source of the information"));
    }
    let today = crate::domain::follow_up::date_of(api.app.now());
    let occurred_on = match partial_date(input.occurred_on.as_ref(), today) {
        Ok(date) => date,
        Err(why) => {
            violations.push(FieldViolation::new("event.occurred_on", why));
            (0, 0, 0)
        }
    };
    if !input.charge_category.is_empty() && !is_code(&input.charge_category) {
        violations.push(FieldViolation::new("event.charge_category", "must be a code"));
    }
    if NoYes::try_from(input.prostitution_related).is_err() {
        violations.push(FieldViolation::new("event.prostitution_related", "is not a NoYes value"));
    }
    // Travels in recidivism.recorded: a record id, never free text.
    let evidence_id = &input.evidence_id;
    let evidence_id_ok = evidence_id.is_empty()
        || evidence_id.parse::<FollowUpId>().is_ok()
        || evidence_id.parse::<ScreeningId>().is_ok()
        || evidence_id.parse::<ReferralId>().is_ok();
    if !evidence_id_ok {
        violations.push(FieldViolation::new(
            "event.evidence_id",
            "must be empty or a record id: fu_, scr_ or ref_ followed by 32 lowercase hex digits",
        ));
    }
    let Some(case_id) = case_id.filter(|_| violations.is_empty()) else {
        return Err(ApiError::InvalidArgument(violations));
    };
    let event = NewRecidivism {
        case_id,
        kind,
        evidence,
        occurred_on,
        evidence_id: input.evidence_id.clone(),
        charge_category: input.charge_category.clone(),
        prostitution_related: input.prostitution_related,
    };
    Ok(recidivism::record(&api.app, actor, event).await?)
}

pub(super) async fn list(
    api: &CasesApi,
    principal: &Principal,
    req: &pb::ListRecidivismEventsRequest,
) -> Result<pb::ListRecidivismEventsResponse, ApiError> {
    let mut violations = Vec::new();
    let purpose = Purpose::optional(&req.purpose, "purpose", &mut violations);
    if req.case_id.is_empty() && req.youth_id.is_empty() {
        violations.push(FieldViolation::new("case_id", "case_id or youth_id is required"));
    }
    if !req.case_id.is_empty() && req.case_id.parse::<CaseId>().is_err() {
        violations.push(FieldViolation::new("case_id", "is not a case id (case_…)"));
    }
    if !req.youth_id.is_empty() && req.youth_id.parse::<YouthId>().is_err() {
        violations.push(FieldViolation::new("youth_id", "is not a youth id (yth_…)"));
    }
    let limit = PAGES.size(req.page_size, &mut violations);
    let after = page_token::<RecidivismEventId>(&req.page_token, &mut violations);
    ApiError::check(violations)?;
    let non_empty = |value: &str| (!value.is_empty()).then(|| value.to_owned());
    let mut rows = store::recidivism::list(
        api.app.db(),
        non_empty(&req.case_id).as_deref(),
        non_empty(&req.youth_id).as_deref(),
        after.as_ref().map(RecidivismEventId::as_str),
        limit + 1,
    )
    .await?;
    let next_page_token = next_page(&mut rows, limit, |row| row.recidivism_event_id.clone());
    // A read of each case whose events are listed (and of the case asked for, even with none).
    let asked = (!req.case_id.is_empty()).then_some(req.case_id.as_str());
    let cases = rows.iter().map(|row| row.case_id.as_str()).chain(asked);
    access::read_cases(&api.app, Reader::new(principal, purpose), cases, access::RECIDIVISM_EVENTS).await?;
    Ok(pb::ListRecidivismEventsResponse { events: rows.iter().map(to_proto).collect(), next_page_token })
}

fn to_proto(row: &RecidivismRecord) -> pb::RecidivismEvent {
    pb::RecidivismEvent {
        recidivism_event_id: row.recidivism_event_id.clone(),
        case_id: row.case_id.clone(),
        youth_id: row.youth_id.clone(),
        kind: row.kind,
        evidence: row.evidence,
        occurred_on: Some(date(row.occurred_on)),
        recorded_at: Some(timestamp(row.recorded_at)),
        recorded_by: row.recorded_by.clone(),
        evidence_id: row.evidence_id.clone(),
        charge_category: row.charge_category.clone(),
        prostitution_related: row.prostitution_related,
    }
}

/// A date that may be partly known (month and day 0), never after `today`.
fn partial_date(value: Option<&Date>, today: chrono::NaiveDate) -> Result<(i32, i32, i32), String> {
    use chrono::Datelike;
    let date = value.ok_or("is required (at least the year)")?;
    if !(1900..=today.year()).contains(&date.year) {
        return Err(format!("year must be 1900 to {}", today.year()));
    }
    match (date.month, date.day) {
        (0, 0) => {}
        (1..=12, 0) => {}
        (month @ 1..=12, day) => {
            let real = chrono::NaiveDate::from_ymd_opt(date.year, month as u32, u32::try_from(day).unwrap_or(0));
            match real {
                Some(real) if real > today => return Err("is in the future".into()),
                Some(_) => {}
                None => return Err("is not a calendar date".into()),
            }
        }
        _ => return Err("month must be 1 to 12 (or 0 when unknown), and a day needs a month".into()),
    }
    Ok((date.year, date.month, date.day))
}
