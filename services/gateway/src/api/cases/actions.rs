//! The case page's forms, each a plain POST (the session guard has checked Origin and the CSRF
//! token before any of these runs) that redirects (303) back to the page with a confirmation:
//! - `POST /cases/{id}/stage` → TransitionStage (a stage the stepper offers);
//! - `POST /cases/{id}/close` → CloseCase (reason, living situation at exit, exit date);
//! - `POST /cases/{id}/reopen` → ReopenCase (a coded reason);
//! - `POST /cases/{id}/readiness` → SetReadiness;
//! - `POST /cases/{id}/contact-attempts` → RecordContactAttempt (a Los Angeles date and time);
//! - `POST /cases/{id}/services` → RecordIntervention, then the page offers to undo it;
//! - `POST /cases/{id}/services/{intervention_id}/undo` → WithdrawIntervention;
//! - `POST /cases/{id}/goals` → UpsertGoal (a new plan goal);
//! - `POST /cases/{id}/follow-ups` → RecordFollowUp (one of the case's follow-ups still to record);
//! - `POST /cases/{id}/recidivism` → RecordRecidivismEvent;
//! - `POST /cases/{id}/notes` → AddCaseNote (privileged only for the owner and their supervisor).
//!
//! Every form carries the case's `updated_at` as the page showed it (`expected_updated_at`); the
//! requests that change the case itself send it, and cases refuses them, under the case's lock,
//! once the case has changed since: the form then says who changed it and when, and the page shows
//! the case as it is now. The other forms add a record, which overwrites nothing (their handlers
//! ignore the field; a follow-up's own status keeps it from being recorded twice). What the services
//! refuse is shown in the form's error summary, each field named.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use wf_auth::Operation;
use wf_proto::cases::v1::{self as cases, FollowUpStatus, GoalStatus};
use wf_proto::common::v1 as common;
use wf_types::codes::SERVICE_TYPES;
use wf_types::{CaseId, FieldViolation, FollowUpId, InterventionId, PartnerId};

use super::page::{self, ContactForm, Feedback, ServiceForm};
use super::{Abilities, case_id, expected_of, staff_reader};
use crate::api::extract::redirect;
use crate::api::layout::{FormErrors, sentence};
use crate::api::{OrPage as _, PageError};
use crate::app::{App, SignedIn, UpstreamFailure};
use crate::domain::cases::labels::{self, CLOSURE_REASONS, GOAL_DOMAINS, READINESS, REOPEN_REASONS};
use crate::domain::cases::{self as rules};
use crate::domain::partner::{self as partner_rules};

/// How one form names a service's request field: (request field, form field id, words).
type FieldNames = &'static [(&'static str, &'static str, &'static str)];

const STAGE_FIELDS: FieldNames = &[("to_stage", "to_stage", "The stage"), ("reason", "to_stage", "The reason")];
const CLOSE_FIELDS: FieldNames = &[
    ("reason", "closure_reason", "The reason"),
    ("exit_living_situation", "exit_living_situation", "The living situation at exit"),
    ("exited_at", "exited_on", "The exit date"),
];
const REOPEN_FIELDS: FieldNames =
    &[("reason", "reopen_reason", "The reason"), ("referral_id", "reopen_reason", "The referral")];
const READINESS_FIELDS: FieldNames =
    &[("readiness", "readiness", "The readiness"), ("effective_at", "readiness", "The date")];
const CONTACT_FIELDS: FieldNames = &[
    ("contact_attempt.attempted_at", "attempted_on", "The time of the attempt"),
    ("contact_attempt.channel", "channel", "The channel"),
    ("contact_attempt.outcome", "outcome", "The outcome"),
];
const SERVICE_FIELDS: FieldNames = &[
    ("intervention.service_type", "service_type", "The service"),
    ("intervention.delivered_on", "delivered_on", "The date"),
    ("intervention.units", "units", "The amount"),
    ("intervention.unit_type", "unit_type", "The unit"),
    ("intervention.provider_id", "provider_id", "The provider"),
    ("intervention.partner_service_id", "provider_id", "The provider's service"),
    ("intervention.goal_id", "goal_id", "The plan goal"),
];
const UNDO_FIELDS: FieldNames = &[("intervention_id", "interventions", "The service")];
const GOAL_FIELDS: FieldNames = &[
    ("goal.domain", "goal_domain", "The outcome domain"),
    ("goal.description", "goal_description", "The goal"),
    ("goal.target_date", "goal_target_date", "The target date"),
];
const FOLLOW_UP_FIELDS: FieldNames = &[
    ("follow_up_id", "follow_up_id", "The follow-up"),
    ("status", "follow_up_result", "What happened"),
    ("outcomes", "follow_up_result", "The answers"),
    ("completed_at", "completed_on", "The date"),
];
const RECIDIVISM_FIELDS: FieldNames = &[
    ("event.kind", "recidivism_kind", "What happened"),
    ("event.evidence", "recidivism_evidence", "How it became known"),
    ("event.occurred_on", "occurred_on", "The date"),
];
const NOTE_FIELDS: FieldNames =
    &[("note.text", "note_text", "The note"), ("note.category", "note_category", "The category")];

/// A service's violation as the form shows it: on the form's field (the first one when the service
/// named none of them), as a sentence naming the field.
fn on_form(violation: FieldViolation, fields: FieldNames) -> FieldViolation {
    match fields.iter().find(|(request, _, _)| *request == violation.field) {
        Some((_, id, label)) => FieldViolation::new(*id, sentence(label, &violation.description)),
        None => {
            let id = fields.first().map_or("main", |(_, id, _)| *id);
            FieldViolation::new(id, sentence("This request", &violation.description))
        }
    }
}

/// Why a change was not made, as the form shows it.
enum Refused {
    /// The form's fields (or the service's violations, each on its field).
    Fields(Vec<FieldViolation>),
    /// The case changed after the page was read (ABORTED): worded once the case is read again.
    Stale,
}

/// What a refused change shows: a stale read, field violations on the form, a state conflict as the
/// form's error (`conflict` words it); anything else is the page's error (not found, unavailable, …).
fn refusal(
    status: tonic::Status,
    who: &SignedIn,
    fields: FieldNames,
    conflict: impl FnOnce(&str) -> FieldViolation,
) -> Result<Refused, PageError> {
    if status.code() == tonic::Code::Aborted {
        return Ok(Refused::Stale);
    }
    match UpstreamFailure::from_status(status, who) {
        UpstreamFailure::Invalid(violations) => {
            Ok(Refused::Fields(violations.into_iter().map(|v| on_form(v, fields)).collect()))
        }
        UpstreamFailure::Conflict(why) => Ok(Refused::Fields(vec![conflict(&why)])),
        other => Err(other.into()),
    }
}

/// The usual conflict: "The case cannot be moved now: …", on the form's first field.
fn cannot(fields: FieldNames, doing: &'static str) -> impl FnOnce(&str) -> FieldViolation {
    move |why| {
        let id = fields.first().map_or("main", |(_, id, _)| *id);
        FieldViolation::new(id, format!("This cannot be {doing} now: {why}"))
    }
}

fn require(may: bool, who: &SignedIn, operation: Operation) -> Result<(), PageError> {
    if may { Ok(()) } else { Err(PageError::Forbidden(format!("role {} may not {operation}", who.role))) }
}

/// The page again with a form's errors (422), read afresh: after a stale change it shows the case
/// as it is now, and the form's error says who changed it and when. `put` places the errors (and
/// the form's values) in the page's feedback.
async fn again(
    app: &App,
    who: &SignedIn,
    id: &CaseId,
    refused: Refused,
    first_field: &str,
    put: impl FnOnce(&mut Feedback, FormErrors),
) -> Result<Response, PageError> {
    let loaded = page::load(app, who, id).await?;
    let errors = match refused {
        Refused::Fields(errors) => errors,
        Refused::Stale => vec![FieldViolation::new(
            first_field,
            format!(
                "This case was {} after you opened this page, so nothing was saved. The page now shows the case as \
                 it is: check it, then submit again.",
                page::changed_by(&loaded.case, &loaded.roster, app.clock.now_micros())
            ),
        )],
    };
    let mut feedback = Feedback::default();
    put(&mut feedback, FormErrors::new(errors));
    Ok(page::refused(page::page(app, who, &loaded, feedback)))
}

/// The page after a change, with its confirmation, at the section that changed.
fn done(id: &CaseId, what: &str, section: &str) -> String {
    format!("/cases/{id}?done={what}#{section}")
}

/// The case version a form carried, required on the forms whose request changes the case.
fn version(raw: &str, field: &str) -> Result<prost_types::Timestamp, Vec<FieldViolation>> {
    expected_of(raw).ok_or_else(|| {
        vec![FieldViolation::new(
            field,
            "This form does not say which version of the case it was filled in on, so nothing was saved: reload the \
             page and submit it again",
        )]
    })
}

/// A form's date: `None` when left empty; refused when it is not a date or is after today.
fn past_date(
    value: &str,
    today: jiff::civil::Date,
    field: &str,
    words: &str,
) -> Result<Option<jiff::civil::Date>, FieldViolation> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    match value.parse::<jiff::civil::Date>() {
        Ok(date) if date > today => {
            Err(FieldViolation::new(field, format!("{words} is after today; enter the day it happened")))
        }
        Ok(date) => Ok(Some(date)),
        Err(_) => {
            Err(FieldViolation::new(field, format!("{words}: enter the date as year-month-day, such as 2026-03-02")))
        }
    }
}

/// The instant a past date stands for: now for today, else noon that day in Los Angeles.
fn instant_of(date: jiff::civil::Date, today: jiff::civil::Date, now: i64) -> i64 {
    if date == today { now } else { rules::noon_of(date).unwrap_or(now) }
}

fn today(app: &App) -> (jiff::civil::Date, i64) {
    let now = app.clock.now_micros();
    (rules::local_date(now).unwrap_or_default(), now)
}

fn proto_date(date: jiff::civil::Date) -> common::Date {
    common::Date { year: i32::from(date.year()), month: i32::from(date.month()), day: i32::from(date.day()) }
}

/// The checks every form makes first: staff who may do this, on a well-formed case id.
fn begin(who: &SignedIn, raw: &str, may: bool, operation: Operation) -> Result<CaseId, PageError> {
    staff_reader(who)?;
    let id = case_id(raw)?;
    require(may, who, operation)?;
    Ok(id)
}

#[derive(Debug, Deserialize)]
pub struct StageForm {
    #[serde(default)]
    expected_updated_at: String,
    #[serde(default)]
    from_stage: String,
    #[serde(default)]
    to_stage: String,
}

pub async fn stage(
    State(app): State<App>,
    who: SignedIn,
    Path(raw): Path<String>,
    headers: HeaderMap,
    Form(form): Form<StageForm>,
) -> Result<Response, PageError> {
    let id = begin(&who, &raw, Abilities::of(who.role).act, Operation::ManageCases)?;
    let to = labels::stage_from_form(form.to_stage.trim());
    let from = labels::stage_from_form(form.from_stage.trim()).unwrap_or(cases::CaseStage::Unspecified);
    let refused = match (to, version(&form.expected_updated_at, "to_stage")) {
        (None, _) => {
            Refused::Fields(vec![FieldViolation::new("to_stage", "Choose one of the stages the case may move to")])
        }
        (_, Err(errors)) => Refused::Fields(errors),
        (Some(to), Ok(expected)) => {
            let request = cases::TransitionStageRequest {
                case_id: id.to_string(),
                to_stage: to as i32,
                reason: rules::stage_reason(from, to).to_owned(),
                effective_at: None,
                expected_updated_at: Some(expected),
            };
            match app.upstream.cases(&who)?.transition_stage(request).await {
                Ok(_) => return Ok(redirect(&headers, &done(&id, "stage", "stage"))),
                Err(status) => refusal(status, &who, STAGE_FIELDS, cannot(STAGE_FIELDS, "moved"))?,
            }
        }
    };
    again(&app, &who, &id, refused, "to_stage", |f, errors| f.stage = errors).await
}

#[derive(Debug, Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    expected_updated_at: String,
    #[serde(default)]
    closure_reason: String,
    #[serde(default)]
    exit_living_situation: String,
    #[serde(default)]
    exited_on: String,
}

pub async fn close(
    State(app): State<App>,
    who: SignedIn,
    Path(raw): Path<String>,
    headers: HeaderMap,
    Form(form): Form<CloseForm>,
) -> Result<Response, PageError> {
    let id = begin(&who, &raw, Abilities::of(who.role).act, Operation::ManageCases)?;
    let (today, now) = today(&app);
    let mut errors = Vec::new();
    let reason = labels::parse(CLOSURE_REASONS, form.closure_reason.trim());
    if reason.is_none() {
        errors.push(FieldViolation::new("closure_reason", "Choose why the case is closed"));
    }
    let situation = match form.exit_living_situation.trim() {
        "" => Some(common::LivingSituation::Unspecified),
        code => labels::living_situation_from_form(code),
    };
    if situation.is_none() {
        errors
            .push(FieldViolation::new("exit_living_situation", "Choose where the youth lives now, or leave it empty"));
    }
    let exited =
        past_date(&form.exited_on, today, "exited_on", "The exit date").map_err(|e| errors.push(e)).ok().flatten();
    let expected = version(&form.expected_updated_at, "closure_reason").map_err(|e| errors.extend(e)).ok();
    let refused = match (reason, situation, expected) {
        (Some(reason), Some(situation), Some(expected)) if errors.is_empty() => {
            let request = cases::CloseCaseRequest {
                case_id: id.to_string(),
                reason: reason as i32,
                exit_living_situation: situation as i32,
                exited_at: exited.map(|date| wf_proto::time::timestamp_from_micros(instant_of(date, today, now))),
                expected_updated_at: Some(expected),
            };
            match app.upstream.cases(&who)?.close_case(request).await {
                Ok(_) => return Ok(redirect(&headers, &done(&id, "close", "stage"))),
                Err(status) => refusal(status, &who, CLOSE_FIELDS, cannot(CLOSE_FIELDS, "closed"))?,
            }
        }
        _ => Refused::Fields(errors),
    };
    again(&app, &who, &id, refused, "closure_reason", |f, errors| f.close = errors).await
}

#[derive(Debug, Deserialize)]
pub struct ReopenForm {
    #[serde(default)]
    expected_updated_at: String,
    #[serde(default)]
    reopen_reason: String,
}

pub async fn reopen(
    State(app): State<App>,
    who: SignedIn,
    Path(raw): Path<String>,
    headers: HeaderMap,
    Form(form): Form<ReopenForm>,
) -> Result<Response, PageError> {
    let id = begin(&who, &raw, Abilities::of(who.role).act, Operation::ManageCases)?;
    let reason = labels::parse(REOPEN_REASONS, form.reopen_reason.trim());
    let refused = match (reason, version(&form.expected_updated_at, "reopen_reason")) {
        (None, _) => Refused::Fields(vec![FieldViolation::new("reopen_reason", "Choose why the case is reopened")]),
        (_, Err(errors)) => Refused::Fields(errors),
        (Some(reason), Ok(expected)) => {
            let request = cases::ReopenCaseRequest {
                case_id: id.to_string(),
                reason: reason.to_owned(),
                expected_updated_at: Some(expected),
                ..Default::default()
            };
            match app.upstream.cases(&who)?.reopen_case(request).await {
                Ok(_) => return Ok(redirect(&headers, &done(&id, "reopen", "stage"))),
                Err(status) => refusal(status, &who, REOPEN_FIELDS, cannot(REOPEN_FIELDS, "reopened"))?,
            }
        }
    };
    again(&app, &who, &id, refused, "reopen_reason", |f, errors| f.reopen = errors).await
}

#[derive(Debug, Deserialize)]
pub struct ReadinessForm {
    #[serde(default)]
    expected_updated_at: String,
    #[serde(default)]
    readiness: String,
}

pub async fn readiness(
    State(app): State<App>,
    who: SignedIn,
    Path(raw): Path<String>,
    headers: HeaderMap,
    Form(form): Form<ReadinessForm>,
) -> Result<Response, PageError> {
    let id = begin(&who, &raw, Abilities::of(who.role).act, Operation::ManageCases)?;
    let readiness = labels::parse(READINESS, form.readiness.trim());
    let refused = match (readiness, version(&form.expected_updated_at, "readiness")) {
        (None, _) => Refused::Fields(vec![FieldViolation::new("readiness", "Choose how ready the youth is to engage")]),
        (_, Err(errors)) => Refused::Fields(errors),
        (Some(readiness), Ok(expected)) => {
            let request = cases::SetReadinessRequest {
                case_id: id.to_string(),
                readiness: readiness as i32,
                effective_at: None,
                expected_updated_at: Some(expected),
            };
            match app.upstream.cases(&who)?.set_readiness(request).await {
                Ok(_) => return Ok(redirect(&headers, &done(&id, "readiness", "contact-attempts"))),
                Err(status) => refusal(status, &who, READINESS_FIELDS, cannot(READINESS_FIELDS, "recorded"))?,
            }
        }
    };
    again(&app, &who, &id, refused, "readiness", |f, errors| f.readiness = errors).await
}

fn contact_request(id: &CaseId, form: &ContactForm) -> Result<cases::RecordContactAttemptRequest, Vec<FieldViolation>> {
    crate::domain::partner::contact_attempt_request(
        id.as_str(),
        &form.attempted_on,
        &form.attempted_time,
        &form.channel,
        &form.outcome,
    )
}

pub async fn contact(
    State(app): State<App>,
    who: SignedIn,
    Path(raw): Path<String>,
    headers: HeaderMap,
    Form(form): Form<ContactForm>,
) -> Result<Response, PageError> {
    let id = begin(&who, &raw, Abilities::of(who.role).record, Operation::RecordIntervention)?;
    let refused = match contact_request(&id, &form) {
        Err(violations) => Refused::Fields(violations),
        Ok(request) => match app.upstream.cases(&who)?.record_contact_attempt(request).await {
            Ok(_) => return Ok(redirect(&headers, &done(&id, "contact", "contact-attempts"))),
            Err(status) => refusal(status, &who, CONTACT_FIELDS, cannot(CONTACT_FIELDS, "recorded"))?,
        },
    };
    again(&app, &who, &id, refused, "attempted_on", |f, errors| {
        f.contact = errors;
        f.contact_form = Some(form);
    })
    .await
}

/// The form's own checks (the service checks again): each field named.
fn service_request(id: &CaseId, form: &ServiceForm) -> Result<cases::RecordInterventionRequest, Vec<FieldViolation>> {
    let mut violations = Vec::new();
    if !SERVICE_TYPES.contains(&form.service_type.as_str()) {
        violations.push(FieldViolation::new("service_type", "Choose the service delivered"));
    }
    let delivered_on = partner_rules::parse_date(&form.delivered_on)
        .map_err(|_| {
            violations.push(FieldViolation::new("delivered_on", "Enter the date as year-month-day, such as 2026-03-02"))
        })
        .ok();
    let units = form
        .units
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|units| units.is_finite() && *units > 0.0)
        .ok_or_else(|| {
            violations
                .push(FieldViolation::new("units", "Enter how much was delivered, a number above 0 such as 1 or 1.5"))
        })
        .ok();
    let unit_type = partner_rules::unit_type(&form.unit_type)
        .ok_or_else(|| violations.push(FieldViolation::new("unit_type", "Choose what the amount counts")))
        .ok();
    if form.provider_id.trim().parse::<PartnerId>().is_err() {
        violations.push(FieldViolation::new("provider_id", "Choose the organization that delivered the service"));
    }
    match (delivered_on, units, unit_type) {
        (Some((year, month, day)), Some(units), Some(unit_type)) if violations.is_empty() => {
            Ok(cases::RecordInterventionRequest {
                intervention: Some(cases::Intervention {
                    case_id: id.to_string(),
                    service_type: form.service_type.clone(),
                    delivered_on: Some(common::Date { year, month: month as i32, day: day as i32 }),
                    units,
                    unit_type: unit_type as i32,
                    provider_id: form.provider_id.trim().to_owned(),
                    partner_service_id: form.partner_service_id.trim().to_owned(),
                    goal_id: form.goal_id.trim().to_owned(),
                    ..Default::default()
                }),
            })
        }
        _ => Err(violations),
    }
}

pub async fn service(
    State(app): State<App>,
    who: SignedIn,
    Path(raw): Path<String>,
    headers: HeaderMap,
    Form(form): Form<ServiceForm>,
) -> Result<Response, PageError> {
    let id = begin(&who, &raw, Abilities::of(who.role).record, Operation::RecordIntervention)?;
    let refused = match service_request(&id, &form) {
        Err(violations) => Refused::Fields(violations),
        Ok(request) => match app.upstream.cases(&who)?.record_intervention(request).await {
            Ok(answer) => {
                let logged = answer.into_inner().intervention_id;
                // Only an id the service gave goes into the address.
                let undo = if InterventionId::is_valid(&logged) { format!("&undo={logged}") } else { String::new() };
                return Ok(redirect(&headers, &format!("/cases/{id}?done=service{undo}#interventions")));
            }
            Err(status) => refusal(status, &who, SERVICE_FIELDS, cannot(SERVICE_FIELDS, "recorded"))?,
        },
    };
    again(&app, &who, &id, refused, "service_type", |f, errors| {
        f.service = errors;
        f.service_form = Some(form);
    })
    .await
}

pub async fn undo(
    State(app): State<App>,
    who: SignedIn,
    Path((raw, intervention)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let id = begin(&who, &raw, Abilities::of(who.role).undo, Operation::RecordIntervention)?;
    let intervention: InterventionId = intervention.parse().map_err(|_| PageError::NotFound)?;
    // Only a service listed on this case is withdrawn from its page (another case's id, or one
    // already withdrawn, is not this page's to undo).
    let listed = cases::ListInterventionsRequest {
        case_id: id.to_string(),
        page_size: super::PAGE_SIZE,
        purpose: super::purpose(&who).code().to_owned(),
        ..Default::default()
    };
    let listed = app.upstream.cases(&who)?.list_interventions(listed).await.or_page(&who)?.interventions;
    let refused = if !listed.iter().any(|i| i.intervention_id == intervention.as_str()) {
        Refused::Fields(vec![FieldViolation::new(
            "interventions",
            "The service cannot be withdrawn: it is not among this case's services (it may be withdrawn already)",
        )])
    } else {
        let request = cases::WithdrawInterventionRequest { intervention_id: intervention.to_string() };
        match app.upstream.cases(&who)?.withdraw_intervention(request).await {
            Ok(_) => return Ok(redirect(&headers, &done(&id, "undo", "interventions"))),
            Err(status) => refusal(status, &who, UNDO_FIELDS, |why| {
                FieldViolation::new("interventions", format!("The service cannot be withdrawn: {why}"))
            })?,
        }
    };
    again(&app, &who, &id, refused, "interventions", |f, errors| f.service = errors).await
}

#[derive(Debug, Deserialize)]
pub struct GoalForm {
    #[serde(default)]
    goal_domain: String,
    #[serde(default)]
    goal_description: String,
    #[serde(default)]
    goal_target_date: String,
}

pub async fn goal(
    State(app): State<App>,
    who: SignedIn,
    Path(raw): Path<String>,
    headers: HeaderMap,
    Form(form): Form<GoalForm>,
) -> Result<Response, PageError> {
    let id = begin(&who, &raw, Abilities::of(who.role).act, Operation::ManageCases)?;
    let mut errors = Vec::new();
    let domain = labels::parse(GOAL_DOMAINS, form.goal_domain.trim());
    if domain.is_none() {
        errors.push(FieldViolation::new("goal_domain", "Choose the outcome domain the goal serves"));
    }
    let target = match form.goal_target_date.trim() {
        "" => None,
        value => match value.parse::<jiff::civil::Date>() {
            Ok(date) => Some(proto_date(date)),
            Err(_) => {
                errors.push(FieldViolation::new(
                    "goal_target_date",
                    "Enter the target date as year-month-day, or leave it empty",
                ));
                None
            }
        },
    };
    let refused = match domain {
        Some(domain) if errors.is_empty() => {
            let request = cases::UpsertGoalRequest {
                goal: Some(cases::ServicePlanGoal {
                    case_id: id.to_string(),
                    domain: domain.to_owned(),
                    status: GoalStatus::Open as i32,
                    target_date: target,
                    description: form.goal_description.trim().to_owned(),
                    ..Default::default()
                }),
            };
            match app.upstream.cases(&who)?.upsert_goal(request).await {
                Ok(_) => return Ok(redirect(&headers, &done(&id, "goal", "plan"))),
                Err(status) => refusal(status, &who, GOAL_FIELDS, cannot(GOAL_FIELDS, "added"))?,
            }
        }
        _ => Refused::Fields(errors),
    };
    again(&app, &who, &id, refused, "goal_domain", |f, errors| f.goal = errors).await
}

#[derive(Debug, Deserialize)]
pub struct FollowUpForm {
    #[serde(default)]
    follow_up_id: String,
    #[serde(default)]
    follow_up_result: String,
    #[serde(default)]
    completed_on: String,
    #[serde(default)]
    feels_safe: String,
    #[serde(default)]
    has_trusted_connection: String,
    #[serde(default)]
    engaged_with_services: String,
}

fn answer(value: &str) -> i32 {
    labels::parse(labels::NO_YES, value.trim()).map_or(0, |answer| answer as i32)
}

pub async fn follow_up(
    State(app): State<App>,
    who: SignedIn,
    Path(raw): Path<String>,
    headers: HeaderMap,
    Form(form): Form<FollowUpForm>,
) -> Result<Response, PageError> {
    let id = begin(&who, &raw, Abilities::of(who.role).act, Operation::ManageCases)?;
    let (today, now) = today(&app);
    let mut errors = Vec::new();
    let follow_up = form.follow_up_id.trim().parse::<FollowUpId>().ok();
    if follow_up.is_none() {
        errors.push(FieldViolation::new("follow_up_id", "Choose the follow-up you are recording"));
    }
    let result = labels::parse(labels::FOLLOW_UP_RESULTS, form.follow_up_result.trim());
    if result.is_none() {
        errors.push(FieldViolation::new("follow_up_result", "Choose what happened at the follow-up"));
    }
    let completed = match past_date(&form.completed_on, today, "completed_on", "The date") {
        Ok(Some(date)) => Some(date),
        Ok(None) => {
            errors.push(FieldViolation::new("completed_on", "Enter the date of the follow-up, such as 2026-03-02"));
            None
        }
        Err(error) => {
            errors.push(error);
            None
        }
    };
    let refused = match (follow_up, result, completed) {
        (Some(follow_up), Some(result), Some(completed)) if errors.is_empty() => {
            let outcomes = (result == FollowUpStatus::Completed).then(|| cases::FollowUpOutcomes {
                feels_safe: answer(&form.feels_safe),
                has_trusted_connection: answer(&form.has_trusted_connection),
                engaged_with_services: answer(&form.engaged_with_services),
                ..Default::default()
            });
            let request = cases::RecordFollowUpRequest {
                follow_up_id: follow_up.to_string(),
                status: result as i32,
                outcomes,
                completed_at: Some(wf_proto::time::timestamp_from_micros(instant_of(completed, today, now))),
            };
            match app.upstream.cases(&who)?.record_follow_up(request).await {
                Ok(_) => return Ok(redirect(&headers, &done(&id, "follow_up", "follow-ups"))),
                // Too early (its window has not opened) or already recorded: cases says which.
                Err(status) => refusal(status, &who, FOLLOW_UP_FIELDS, |why| {
                    FieldViolation::new("completed_on", format!("The follow-up cannot be recorded on this date: {why}"))
                })?,
            }
        }
        _ => Refused::Fields(errors),
    };
    again(&app, &who, &id, refused, "follow_up_id", |f, errors| f.follow_up = errors).await
}

#[derive(Debug, Deserialize)]
pub struct RecidivismForm {
    #[serde(default)]
    recidivism_kind: String,
    #[serde(default)]
    recidivism_evidence: String,
    #[serde(default)]
    occurred_on: String,
}

pub async fn recidivism(
    State(app): State<App>,
    who: SignedIn,
    Path(raw): Path<String>,
    headers: HeaderMap,
    Form(form): Form<RecidivismForm>,
) -> Result<Response, PageError> {
    let id = begin(&who, &raw, Abilities::of(who.role).act, Operation::ManageCases)?;
    let (today, _) = today(&app);
    let mut errors = Vec::new();
    let kind = labels::parse(labels::RECIDIVISM_KINDS, form.recidivism_kind.trim());
    if kind.is_none() {
        errors.push(FieldViolation::new("recidivism_kind", "Choose what happened"));
    }
    let evidence = labels::parse(labels::RECIDIVISM_EVIDENCE, form.recidivism_evidence.trim());
    if evidence.is_none() {
        errors.push(FieldViolation::new("recidivism_evidence", "Choose how it became known"));
    }
    let occurred = match past_date(&form.occurred_on, today, "occurred_on", "The date") {
        Ok(Some(date)) => Some(date),
        Ok(None) => {
            errors.push(FieldViolation::new("occurred_on", "Enter when it happened, such as 2026-03-02"));
            None
        }
        Err(error) => {
            errors.push(error);
            None
        }
    };
    let refused = match (kind, evidence) {
        (Some(kind), Some(evidence)) if errors.is_empty() => {
            let request = cases::RecordRecidivismEventRequest {
                event: Some(cases::RecidivismEvent {
                    case_id: id.to_string(),
                    kind: kind as i32,
                    evidence: evidence as i32,
                    occurred_on: occurred.map(proto_date),
                    ..Default::default()
                }),
            };
            match app.upstream.cases(&who)?.record_recidivism_event(request).await {
                Ok(_) => return Ok(redirect(&headers, &done(&id, "recidivism", "recidivism"))),
                Err(status) => refusal(status, &who, RECIDIVISM_FIELDS, cannot(RECIDIVISM_FIELDS, "recorded"))?,
            }
        }
        _ => Refused::Fields(errors),
    };
    again(&app, &who, &id, refused, "recidivism_kind", |f, errors| f.recidivism = errors).await
}

#[derive(Debug, Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    note_text: String,
    #[serde(default)]
    note_category: String,
    /// "1" for a privileged note.
    #[serde(default)]
    privileged: String,
}

pub async fn note(
    State(app): State<App>,
    who: SignedIn,
    Path(raw): Path<String>,
    headers: HeaderMap,
    Form(form): Form<NoteForm>,
) -> Result<Response, PageError> {
    let abilities = Abilities::of(who.role);
    let id = begin(&who, &raw, abilities.act && abilities.notes, Operation::ManageCases)?;
    let mut errors = Vec::new();
    if form.note_text.trim().is_empty() {
        errors.push(FieldViolation::new("note_text", "Write the note"));
    }
    let category = labels::parse(labels::NOTE_CATEGORIES, form.note_category.trim());
    if category.is_none() {
        errors.push(FieldViolation::new("note_category", "Choose the note's category"));
    }
    let privileged = form.privileged == "1";
    let refused = match category {
        Some(category) if errors.is_empty() => {
            if privileged && !may_write_privileged(&app, &who, &id).await? {
                Refused::Fields(vec![FieldViolation::new(
                    "privileged",
                    "Only the case's owner and their supervisor write privileged notes; leave it unticked",
                )])
            } else {
                let request = cases::AddCaseNoteRequest {
                    note: Some(cases::CaseNote {
                        case_id: id.to_string(),
                        text: form.note_text.clone(),
                        privileged,
                        category: category.to_owned(),
                        ..Default::default()
                    }),
                };
                match app.upstream.cases(&who)?.add_case_note(request).await {
                    Ok(_) => {
                        let section = if privileged { "privileged-notes" } else { "notes" };
                        return Ok(redirect(&headers, &done(&id, "note", section)));
                    }
                    Err(status) => refusal(status, &who, NOTE_FIELDS, cannot(NOTE_FIELDS, "added"))?,
                }
            }
        }
        _ => Refused::Fields(errors),
    };
    let text = form.note_text;
    again(&app, &who, &id, refused, "note_text", |f, errors| {
        f.note = errors;
        f.note_text = text;
    })
    .await
}

/// Whether `who` owns the case or supervises its owner (the page offers privileged notes to them
/// only; cases shows a privileged note to its author and the author's supervisor).
async fn may_write_privileged(app: &App, who: &SignedIn, id: &CaseId) -> Result<bool, PageError> {
    let request = cases::GetCaseRequest { case_id: id.to_string(), purpose: super::purpose(who).code().to_owned() };
    let case = app.upstream.cases(who)?.get_case(request).await.or_page(who)?.case.ok_or(PageError::NotFound)?;
    let roster = super::Roster::load(app, who).await?;
    Ok(roster.owner_or_their_supervisor(&who.user_id, &case.case_manager_id))
}
