//! A case's records (the cases service): interventions (`GET`/`POST /cases/{id}/interventions`;
//! partners record and read their own), follow-ups (`GET /cases/{id}/follow-ups`,
//! `POST /follow-ups/{id}`: recorded only inside the follow-up's window; staff) and notes
//! (`GET`/`POST /cases/{id}/notes`; staff; privileged notes only to their author and supervisor).
//! Note text is free text: it is sent to the cases service and answered back, never logged.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wf_proto::cases::v1 as cases;
use wf_proto::common::v1 as common;
use wf_types::FollowUpId;

use super::auth::{Caller, OrApi as _};
use super::cases::{Recorded, body_fields, case_id, purpose};
use super::codes::{
    EmploymentTypeCode, ExchangeCountCode, FollowUpKindCode, FollowUpStatusCode, GradeCode, IncomeSourceCode,
    LegalStatusCode, LivingSituationCode, NoYesCode, NotEmployedCode, SchoolStatusCode, UnitCode, all_of, date,
    instant, proto_date, some, timestamp,
};
use super::error::{ApiError, ErrorBody};
use super::input::{CsrfHeader, JsonBody, Params, path_id};
use crate::app::App;

const LIST_PAGE: i32 = 200;

#[derive(Debug, Serialize, ToSchema)]
pub struct Intervention {
    pub intervention_id: String,
    pub referral_id: Option<String>,
    /// Service type code (`emergency_shelter`, `victim_advocacy`, …).
    pub service_type: String,
    pub delivered_on: Option<String>,
    pub units: f64,
    pub unit_type: Option<UnitCode>,
    pub provider_id: Option<String>,
    pub partner_service_id: Option<String>,
    pub engagement_approach: Option<String>,
    pub goal_id: Option<String>,
    /// Who recorded it (staff only).
    pub recorded_by: Option<String>,
    pub recorded_at: Option<DateTime<Utc>>,
    pub practice: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InterventionList {
    pub interventions: Vec<Intervention>,
    pub next_page_token: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Why the record is read (audited; a code from the closed list).
    purpose: Option<String>,
    page_token: Option<String>,
}

/// The services delivered on the case (a partner: its own).
#[utoipa::path(
    get, path = "/cases/{case_id}/interventions", tag = "cases",
    params(("case_id" = String, Path), ListQuery),
    responses(
        (status = 200, body = InterventionList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    )
)]
pub async fn interventions(
    State(app): State<App>,
    caller: Caller,
    Path(raw): Path<String>,
    Params(query): Params<ListQuery>,
) -> Result<Json<InterventionList>, ApiError> {
    let id = case_id(&raw)?;
    let request = cases::ListInterventionsRequest {
        case_id: id.to_string(),
        page_size: LIST_PAGE,
        page_token: query.page_token.unwrap_or_default(),
        purpose: purpose(&caller, query.purpose),
        ..Default::default()
    };
    let answer = caller.cases(&app)?.list_interventions(request).await.or_api(&caller)?;
    Ok(Json(InterventionList {
        interventions: answer
            .interventions
            .iter()
            .map(|i| Intervention {
                intervention_id: i.intervention_id.clone(),
                referral_id: some(&i.referral_id),
                service_type: i.service_type.clone(),
                delivered_on: date(&i.delivered_on),
                units: i.units,
                unit_type: UnitCode::of(i.unit_type),
                provider_id: some(&i.provider_id),
                partner_service_id: some(&i.partner_service_id),
                engagement_approach: some(&i.engagement_approach),
                goal_id: some(&i.goal_id),
                recorded_by: some(&i.recorded_by),
                recorded_at: instant(&i.recorded_at),
                practice: i.practice,
            })
            .collect(),
        next_page_token: some(&answer.next_page_token),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIntervention {
    /// Service type code (`emergency_shelter`, …).
    #[schema(example = "emergency_shelter")]
    pub service_type: String,
    /// The day it was delivered (not in the future).
    pub delivered_on: NaiveDate,
    /// How much (above 0).
    pub units: f64,
    pub unit_type: UnitCode,
    /// The provider's service (`svc_…`); a partner names one an offer it accepted named.
    #[serde(default)]
    pub partner_service_id: Option<String>,
    /// One of the case's referrals; left out: the case's current one.
    #[serde(default)]
    pub referral_id: Option<String>,
    /// A plan goal of the case.
    #[serde(default)]
    pub goal_id: Option<String>,
    #[serde(default)]
    pub engagement_approach: Option<String>,
}

/// Records a service delivered.
#[utoipa::path(
    post, path = "/cases/{case_id}/interventions", tag = "cases",
    params(("case_id" = String, Path), CsrfHeader), request_body = NewIntervention,
    responses(
        (status = 201, body = Recorded),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn record_intervention(
    State(app): State<App>,
    caller: Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<NewIntervention>,
) -> Result<(axum::http::StatusCode, Json<Recorded>), ApiError> {
    let id = case_id(&raw)?;
    if !(body.units.is_finite() && body.units > 0.0) {
        return Err(ApiError::invalid_field("units", "is not above 0; allowed: a number above 0 such as 1 or 1.5"));
    }
    let request = cases::RecordInterventionRequest {
        intervention: Some(cases::Intervention {
            case_id: id.to_string(),
            referral_id: body.referral_id.unwrap_or_default(),
            service_type: body.service_type.trim().to_owned(),
            delivered_on: Some(proto_date(body.delivered_on)),
            units: body.units,
            unit_type: body.unit_type.number(),
            partner_service_id: body.partner_service_id.unwrap_or_default().trim().to_owned(),
            goal_id: body.goal_id.unwrap_or_default(),
            engagement_approach: body.engagement_approach.unwrap_or_default(),
            ..Default::default()
        }),
    };
    let answer =
        caller.cases(&app)?.record_intervention(request).await.or_api(&caller).map_err(body_fields("intervention."))?;
    Ok((axum::http::StatusCode::CREATED, Json(Recorded { id: answer.intervention_id })))
}

/// Employment at a follow-up (HUD R6).
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Employment {
    #[serde(default)]
    pub employed: Option<NoYesCode>,
    #[serde(default, rename = "type")]
    pub employment_type: Option<EmploymentTypeCode>,
    #[serde(default)]
    pub not_employed_reason: Option<NotEmployedCode>,
}

/// Income and benefits at a follow-up (HUD 4.02).
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Income {
    #[serde(default)]
    pub any_income: Option<NoYesCode>,
    /// Total monthly income in US cents.
    #[serde(default)]
    pub total_monthly_income_cents: i64,
    #[serde(default)]
    pub sources: Vec<IncomeSourceCode>,
}

/// Sexual exploitation items (HUD R15).
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SexualExploitation {
    #[serde(default)]
    pub ever_exchanged_sex: Option<NoYesCode>,
    #[serde(default)]
    pub exchanged_sex_last_three_months: Option<NoYesCode>,
    #[serde(default)]
    pub times_last_three_months: Option<ExchangeCountCode>,
    #[serde(default)]
    pub ever_made_persuaded_or_forced: Option<NoYesCode>,
    #[serde(default)]
    pub made_persuaded_or_forced_last_three_months: Option<NoYesCode>,
}

/// Labor exploitation items (HUD R16).
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LaborExploitation {
    #[serde(default)]
    pub ever_afraid_to_quit: Option<NoYesCode>,
    #[serde(default)]
    pub ever_promised_different_work: Option<NoYesCode>,
    #[serde(default)]
    pub either_in_last_three_months: Option<NoYesCode>,
}

/// The answers of a follow-up, one per long-term outcome domain; each may be left out.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Outcomes {
    #[serde(default)]
    pub living_situation: Option<LivingSituationCode>,
    #[serde(default)]
    pub school_status: Option<SchoolStatusCode>,
    #[serde(default)]
    pub last_grade_completed: Option<GradeCode>,
    #[serde(default)]
    pub employment: Option<Employment>,
    #[serde(default)]
    pub income: Option<Income>,
    /// Score on the wellbeing scale (0 = not collected).
    #[serde(default)]
    pub wellbeing_score: i32,
    #[serde(default)]
    pub wellbeing_scale: Option<String>,
    #[serde(default)]
    pub feels_safe: Option<NoYesCode>,
    #[serde(default)]
    pub has_trusted_connection: Option<NoYesCode>,
    #[serde(default)]
    pub legal_status: Option<LegalStatusCode>,
    #[serde(default)]
    pub engaged_with_services: Option<NoYesCode>,
    #[serde(default)]
    pub sexual_exploitation: Option<SexualExploitation>,
    #[serde(default)]
    pub labor_exploitation: Option<LaborExploitation>,
    #[serde(default)]
    pub arrested_since_last_contact: Option<NoYesCode>,
    #[serde(default)]
    pub returned_to_trafficker: Option<NoYesCode>,
}

fn n<T>(code: Option<T>, number: impl Fn(T) -> i32) -> i32 {
    code.map_or(0, number)
}

impl Outcomes {
    fn to_proto(&self) -> cases::FollowUpOutcomes {
        let yes = |c: Option<NoYesCode>| n(c, NoYesCode::number);
        cases::FollowUpOutcomes {
            living_situation: n(self.living_situation, LivingSituationCode::number),
            school_status: n(self.school_status, SchoolStatusCode::number),
            last_grade_completed: n(self.last_grade_completed, GradeCode::number),
            employment: self.employment.as_ref().map(|e| common::Employment {
                employed: yes(e.employed),
                r#type: n(e.employment_type, EmploymentTypeCode::number),
                not_employed_reason: n(e.not_employed_reason, NotEmployedCode::number),
            }),
            income: self.income.as_ref().map(|i| common::Income {
                any_income: yes(i.any_income),
                total_monthly_income_cents: i.total_monthly_income_cents,
                sources: i.sources.iter().map(|s| s.number()).collect(),
            }),
            wellbeing_score: self.wellbeing_score,
            wellbeing_scale: self.wellbeing_scale.clone().unwrap_or_default(),
            feels_safe: yes(self.feels_safe),
            has_trusted_connection: yes(self.has_trusted_connection),
            legal_status: n(self.legal_status, LegalStatusCode::number),
            engaged_with_services: yes(self.engaged_with_services),
            sexual_exploitation: self.sexual_exploitation.as_ref().map(|s| common::SexualExploitation {
                ever_exchanged_sex: yes(s.ever_exchanged_sex),
                exchanged_sex_last_three_months: yes(s.exchanged_sex_last_three_months),
                times_last_three_months: n(s.times_last_three_months, ExchangeCountCode::number),
                ever_made_persuaded_or_forced: yes(s.ever_made_persuaded_or_forced),
                made_persuaded_or_forced_last_three_months: yes(s.made_persuaded_or_forced_last_three_months),
            }),
            labor_exploitation: self.labor_exploitation.as_ref().map(|l| common::LaborExploitation {
                ever_afraid_to_quit: yes(l.ever_afraid_to_quit),
                ever_promised_different_work: yes(l.ever_promised_different_work),
                either_in_last_three_months: yes(l.either_in_last_three_months),
            }),
            arrested_since_last_contact: yes(self.arrested_since_last_contact),
            returned_to_trafficker: yes(self.returned_to_trafficker),
        }
    }

    fn of(o: &cases::FollowUpOutcomes) -> Self {
        Outcomes {
            living_situation: LivingSituationCode::of(o.living_situation),
            school_status: SchoolStatusCode::of(o.school_status),
            last_grade_completed: GradeCode::of(o.last_grade_completed),
            employment: o.employment.as_ref().map(|e| Employment {
                employed: NoYesCode::of(e.employed),
                employment_type: EmploymentTypeCode::of(e.r#type),
                not_employed_reason: NotEmployedCode::of(e.not_employed_reason),
            }),
            income: o.income.as_ref().map(|i| Income {
                any_income: NoYesCode::of(i.any_income),
                total_monthly_income_cents: i.total_monthly_income_cents,
                sources: all_of(&i.sources, IncomeSourceCode::of),
            }),
            wellbeing_score: o.wellbeing_score,
            wellbeing_scale: some(&o.wellbeing_scale),
            feels_safe: NoYesCode::of(o.feels_safe),
            has_trusted_connection: NoYesCode::of(o.has_trusted_connection),
            legal_status: LegalStatusCode::of(o.legal_status),
            engaged_with_services: NoYesCode::of(o.engaged_with_services),
            sexual_exploitation: o.sexual_exploitation.as_ref().map(|s| SexualExploitation {
                ever_exchanged_sex: NoYesCode::of(s.ever_exchanged_sex),
                exchanged_sex_last_three_months: NoYesCode::of(s.exchanged_sex_last_three_months),
                times_last_three_months: ExchangeCountCode::of(s.times_last_three_months),
                ever_made_persuaded_or_forced: NoYesCode::of(s.ever_made_persuaded_or_forced),
                made_persuaded_or_forced_last_three_months: NoYesCode::of(s.made_persuaded_or_forced_last_three_months),
            }),
            labor_exploitation: o.labor_exploitation.as_ref().map(|l| LaborExploitation {
                ever_afraid_to_quit: NoYesCode::of(l.ever_afraid_to_quit),
                ever_promised_different_work: NoYesCode::of(l.ever_promised_different_work),
                either_in_last_three_months: NoYesCode::of(l.either_in_last_three_months),
            }),
            arrested_since_last_contact: NoYesCode::of(o.arrested_since_last_contact),
            returned_to_trafficker: NoYesCode::of(o.returned_to_trafficker),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FollowUp {
    pub follow_up_id: String,
    pub case_id: String,
    pub kind: Option<FollowUpKindCode>,
    pub due_on: Option<String>,
    /// The window it is recorded in: from `window_start` (inclusive) to `window_end` (exclusive).
    pub window_start: Option<String>,
    pub window_end: Option<String>,
    pub status: Option<FollowUpStatusCode>,
    pub completed_at: Option<DateTime<Utc>>,
    pub recorded_by: Option<String>,
    pub outcomes: Option<Outcomes>,
}

impl FollowUp {
    fn of(f: &cases::FollowUp) -> Self {
        FollowUp {
            follow_up_id: f.follow_up_id.clone(),
            case_id: f.case_id.clone(),
            kind: FollowUpKindCode::of(f.kind),
            due_on: date(&f.due_on),
            window_start: f.window.as_ref().and_then(|w| date(&w.start)),
            window_end: f.window.as_ref().and_then(|w| date(&w.end)),
            status: FollowUpStatusCode::of(f.status),
            completed_at: instant(&f.completed_at),
            recorded_by: some(&f.recorded_by),
            outcomes: f.outcomes.as_ref().map(Outcomes::of),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FollowUpList {
    pub follow_ups: Vec<FollowUp>,
    pub next_page_token: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FollowUpQuery {
    /// Only follow-ups of these statuses (repeat the parameter).
    #[serde(default)]
    status: Vec<FollowUpStatusCode>,
    /// Why the record is read (audited; a code from the closed list).
    purpose: Option<String>,
    page_token: Option<String>,
}

/// The case's follow-ups (6/12/24-month windows and the others).
#[utoipa::path(
    get, path = "/cases/{case_id}/follow-ups", tag = "cases",
    params(("case_id" = String, Path), FollowUpQuery),
    responses(
        (status = 200, body = FollowUpList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn follow_ups(
    State(app): State<App>,
    caller: Caller,
    Path(raw): Path<String>,
    Params(query): Params<FollowUpQuery>,
) -> Result<Json<FollowUpList>, ApiError> {
    let id = case_id(&raw)?;
    let request = cases::ListFollowUpsRequest {
        case_id: id.to_string(),
        statuses: query.status.iter().map(|s| s.number()).collect(),
        page_size: LIST_PAGE,
        page_token: query.page_token.unwrap_or_default(),
        purpose: purpose(&caller, query.purpose),
        ..Default::default()
    };
    let answer = caller.cases(&app)?.list_follow_ups(request).await.or_api(&caller)?;
    Ok(Json(FollowUpList {
        follow_ups: answer.follow_ups.iter().map(FollowUp::of).collect(),
        next_page_token: some(&answer.next_page_token),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpRecord {
    /// `completed`, `lost_to_follow_up` or `refused`.
    pub status: FollowUpStatusCode,
    /// The answers (with `completed`).
    #[serde(default)]
    pub outcomes: Option<Outcomes>,
    /// When it was done (default now; never ahead, never before the window opens).
    #[serde(default)]
    pub completed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FollowUpRecorded {
    pub follow_up: FollowUp,
    /// Recidivism events derived from the answers (`rcd_…`).
    pub recidivism_event_ids: Vec<String>,
}

/// Records a follow-up (inside its window: before it opens is 409, saying when it opens).
#[utoipa::path(
    post, path = "/follow-ups/{follow_up_id}", tag = "cases",
    params(("follow_up_id" = String, Path, description = "`fu_…`"), CsrfHeader), request_body = FollowUpRecord,
    responses(
        (status = 200, body = FollowUpRecorded),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    )
)]
pub async fn record_follow_up(
    State(app): State<App>,
    caller: Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<FollowUpRecord>,
) -> Result<Json<FollowUpRecorded>, ApiError> {
    let id: FollowUpId = path_id(&raw)?;
    let request = cases::RecordFollowUpRequest {
        follow_up_id: id.to_string(),
        status: body.status.number(),
        outcomes: body.outcomes.as_ref().map(Outcomes::to_proto),
        completed_at: body.completed_at.map(timestamp),
    };
    let answer = caller.cases(&app)?.record_follow_up(request).await.or_api(&caller)?;
    let follow_up = answer.follow_up.ok_or_else(ApiError::not_found)?;
    Ok(Json(FollowUpRecorded {
        follow_up: FollowUp::of(&follow_up),
        recidivism_event_ids: answer.recidivism_event_ids,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Note {
    pub note_id: String,
    pub author_id: String,
    pub written_at: Option<DateTime<Utc>>,
    pub text: String,
    pub privileged: bool,
    /// `contact`, `safety_plan`, `supervision`, `coordination`, …
    pub category: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoteList {
    pub notes: Vec<Note>,
    pub next_page_token: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NoteQuery {
    /// Privileged notes too: only those the caller wrote and, for a supervisor, their case managers'.
    #[serde(default)]
    include_privileged: bool,
    /// Why the notes are read (audited; required with `include_privileged`).
    purpose: Option<String>,
    page_token: Option<String>,
}

/// The case's notes (staff).
#[utoipa::path(
    get, path = "/cases/{case_id}/notes", tag = "cases",
    params(("case_id" = String, Path), NoteQuery),
    responses(
        (status = 200, body = NoteList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn notes(
    State(app): State<App>,
    caller: Caller,
    Path(raw): Path<String>,
    Params(query): Params<NoteQuery>,
) -> Result<Json<NoteList>, ApiError> {
    let id = case_id(&raw)?;
    let request = cases::ListCaseNotesRequest {
        case_id: id.to_string(),
        include_privileged: query.include_privileged,
        purpose: purpose(&caller, query.purpose),
        page_size: LIST_PAGE,
        page_token: query.page_token.unwrap_or_default(),
    };
    let answer = caller.cases(&app)?.list_case_notes(request).await.or_api(&caller)?;
    Ok(Json(NoteList {
        notes: answer
            .notes
            .into_iter()
            .map(|n| Note {
                note_id: n.note_id,
                author_id: n.author_id,
                written_at: instant(&n.written_at),
                text: n.text,
                privileged: n.privileged,
                category: some(&n.category),
            })
            .collect(),
        next_page_token: some(&answer.next_page_token),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    pub text: String,
    /// Category code: `contact`, `safety_plan`, `supervision`, `coordination`, …
    #[serde(default)]
    pub category: Option<String>,
    /// A privileged note (Cal. Evidence Code 1038): read only by its author and their supervisor.
    #[serde(default)]
    pub privileged: bool,
}

/// Adds a note to the case.
#[utoipa::path(
    post, path = "/cases/{case_id}/notes", tag = "cases",
    params(("case_id" = String, Path), CsrfHeader), request_body = NewNote,
    responses(
        (status = 201, body = Recorded),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn add_note(
    State(app): State<App>,
    caller: Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<NewNote>,
) -> Result<(axum::http::StatusCode, Json<Recorded>), ApiError> {
    let id = case_id(&raw)?;
    let request = cases::AddCaseNoteRequest {
        note: Some(cases::CaseNote {
            case_id: id.to_string(),
            text: body.text,
            privileged: body.privileged,
            category: body.category.unwrap_or_default(),
            ..Default::default()
        }),
    };
    let answer = caller.cases(&app)?.add_case_note(request).await.or_api(&caller).map_err(body_fields("note."))?;
    Ok((axum::http::StatusCode::CREATED, Json(Recorded { id: answer.note_id })))
}
