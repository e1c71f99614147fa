//! The referral page's forms, each a plain POST (the session guard has checked Origin and the CSRF
//! token before any of these runs):
//! - `POST /referrals/{id}/triage` → intake TriageReferral (tier and coded reason);
//! - `POST /referrals/{id}/hold` → SetReferralHold (on hold with a reason, or resumed);
//! - `POST /referrals/{id}/close` → CloseReferral (a reason from the proto's list; the referral it
//!   duplicates for DUPLICATE);
//! - `POST /referrals/{id}/reveal` → GetReferral with a purpose, answered with the page showing the
//!   personal part (that response only: never stored, and the page is `no-store`).
//!
//! A change redirects (303) back to the page with a confirmation; htmx's triage request gets the
//! page itself, whose triage section it swaps in. What the services refuse is shown in the form's
//! error summary, each field named.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use wf_auth::Operation;
use wf_proto::intake::v1 as intake;
use wf_types::FieldViolation;

use super::detail::{self, Feedback};
use super::{Abilities, referral_id, staff_reader};
use crate::api::OrPage as _;
use crate::api::PageError;
use crate::api::extract::{is_htmx, redirect};
use crate::api::layout::{FormErrors, sentence};
use crate::app::{App, SignedIn, UpstreamFailure};
use crate::domain::queue::labels::{self, CLOSURE_REASONS, HOLD_REASONS, REVEAL_PURPOSES, TIERS, TRIAGE_REASONS};

/// How one form names a service's request field: (request field, form field id, words).
pub(super) type FieldNames = &'static [(&'static str, &'static str, &'static str)];

const TRIAGE_FIELDS: FieldNames =
    &[("triage_tier", "triage_tier", "The tier"), ("triage_reason", "triage_reason", "The reason")];
const HOLD_FIELDS: FieldNames = &[("reason", "hold_reason", "The reason")];
const CLOSE_FIELDS: FieldNames = &[
    ("reason", "close_reason", "The reason"),
    ("duplicate_of_referral_id", "duplicate_of_referral_id", "The referral it duplicates"),
];
const REVEAL_FIELDS: FieldNames = &[("purpose", "purpose", "The purpose")];

/// A service's violation as the form shows it: on the form's field (the first one when the service
/// named none of them), as a sentence naming the field.
fn on_form(violation: FieldViolation, fields: FieldNames) -> FieldViolation {
    let names = |request: &str| {
        violation.field == request
            || violation.field.strip_prefix(request).is_some_and(|rest| rest.starts_with(['[', '.']))
    };
    match fields.iter().find(|(request, _, _)| names(request)) {
        Some((_, id, label)) => FieldViolation::new(*id, sentence(label, &violation.description)),
        None => {
            let id = fields.first().map_or("main", |(_, id, _)| *id);
            FieldViolation::new(id, sentence("This request", &violation.description))
        }
    }
}

/// What a refused change shows: field violations on the form, a state conflict as the form's
/// error; anything else is the page's error (not found, unavailable, …).
pub(super) fn refusal(
    status: tonic::Status,
    who: &SignedIn,
    fields: FieldNames,
    doing: &str,
) -> Result<Vec<FieldViolation>, PageError> {
    match UpstreamFailure::from_status(status, who) {
        UpstreamFailure::Invalid(violations) => Ok(violations.into_iter().map(|v| on_form(v, fields)).collect()),
        UpstreamFailure::Conflict(why) => {
            let id = fields.first().map_or("main", |(_, id, _)| *id);
            Ok(vec![FieldViolation::new(id, format!("The referral cannot be {doing} now: {why}"))])
        }
        other => Err(other.into()),
    }
}

pub(super) fn require(may: bool, who: &SignedIn, operation: Operation) -> Result<(), PageError> {
    if may { Ok(()) } else { Err(PageError::Forbidden(format!("role {} may not {operation}", who.role))) }
}

/// The page again with `feedback` (a form's errors): 422 for a plain post, 200 for htmx (which
/// swaps only successful answers in).
pub(super) async fn again(
    app: &App,
    who: &SignedIn,
    id: &str,
    headers: &HeaderMap,
    feedback: Feedback,
) -> Result<Response, PageError> {
    let page = detail::render(app, who, id, None, feedback).await?;
    if is_htmx(headers) { Ok(page.into_response()) } else { Ok(detail::refused(page)) }
}

/// The page after a change, with its confirmation, at the section that changed.
pub(super) fn done(id: &str, what: &str) -> String {
    let section = match what {
        "triage" => "#triage",
        "release" | "revoke" => "#consent",
        "report" | "written" => "#mandated",
        _ => "",
    };
    format!("/referrals/{id}?done={what}{section}")
}

#[derive(Debug, Deserialize)]
pub struct TriageForm {
    #[serde(default)]
    triage_tier: String,
    #[serde(default)]
    triage_reason: String,
}

pub async fn triage(
    State(app): State<App>,
    who: SignedIn,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<TriageForm>,
) -> Result<Response, PageError> {
    staff_reader(&who)?;
    let referral = referral_id(&id)?;
    require(Abilities::of(who.role).act, &who, Operation::ManageCases)?;
    let tier = labels::parse(TIERS, form.triage_tier.trim());
    let reason = labels::parse(TRIAGE_REASONS, form.triage_reason.trim());
    let mut errors = Vec::new();
    if tier.is_none() {
        errors.push(FieldViolation::new("triage_tier", "Choose the tier: emergent, urgent or routine"));
    }
    if reason.is_none() {
        errors.push(FieldViolation::new("triage_reason", "Choose the reason for the tier"));
    }
    if let (Some(tier), Some(reason)) = (tier, reason) {
        let request = intake::TriageReferralRequest {
            referral_id: referral.to_string(),
            triage_tier: tier as i32,
            triage_reason: reason.to_owned(),
        };
        match app.upstream.intake(&who)?.triage_referral(request).await {
            Ok(_) if is_htmx(&headers) => {
                let feedback = Feedback { triage_notice: Some(detail::TRIAGE_SAVED.to_owned()), ..Feedback::default() };
                return Ok(detail::render(&app, &who, &id, None, feedback).await?.into_response());
            }
            Ok(_) => return Ok(redirect(&headers, &done(&id, "triage"))),
            Err(status) => errors = refusal(status, &who, TRIAGE_FIELDS, "triaged")?,
        }
    }
    again(&app, &who, &id, &headers, Feedback { triage: FormErrors::new(errors), ..Feedback::default() }).await
}

#[derive(Debug, Deserialize)]
pub struct HoldForm {
    /// "1" to put on hold, "0" to resume.
    #[serde(default)]
    on_hold: String,
    #[serde(default)]
    hold_reason: String,
}

pub async fn hold(
    State(app): State<App>,
    who: SignedIn,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HoldForm>,
) -> Result<Response, PageError> {
    staff_reader(&who)?;
    let referral = referral_id(&id)?;
    require(Abilities::of(who.role).act, &who, Operation::ManageCases)?;
    let mut errors = Vec::new();
    let (on_hold, reason) = match form.on_hold.as_str() {
        "1" => match labels::parse(HOLD_REASONS, form.hold_reason.trim()) {
            Some(reason) => (true, Some(reason)),
            None => {
                errors.push(FieldViolation::new("hold_reason", "Choose why the referral is put on hold"));
                (true, None)
            }
        },
        "0" => (false, Some("resumed")),
        _ => {
            errors.push(FieldViolation::new("hold_reason", "This form asks to put on hold (1) or resume (0)"));
            (false, None)
        }
    };
    if let (Some(reason), true) = (reason, errors.is_empty()) {
        let request =
            intake::SetReferralHoldRequest { referral_id: referral.to_string(), on_hold, reason: reason.to_owned() };
        let doing = if on_hold { "put on hold" } else { "resumed" };
        match app.upstream.intake(&who)?.set_referral_hold(request).await {
            Ok(_) => return Ok(redirect(&headers, &done(&id, if on_hold { "hold" } else { "resume" }))),
            Err(status) => errors = refusal(status, &who, HOLD_FIELDS, doing)?,
        }
    }
    again(&app, &who, &id, &headers, Feedback { hold: FormErrors::new(errors), ..Feedback::default() }).await
}

#[derive(Debug, Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    close_reason: String,
    #[serde(default)]
    duplicate_of_referral_id: String,
}

pub async fn close(
    State(app): State<App>,
    who: SignedIn,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<CloseForm>,
) -> Result<Response, PageError> {
    staff_reader(&who)?;
    let referral = referral_id(&id)?;
    require(Abilities::of(who.role).act, &who, Operation::ManageCases)?;
    let duplicate_of = form.duplicate_of_referral_id.trim().to_owned();
    let mut errors = Vec::new();
    match labels::parse(CLOSURE_REASONS, form.close_reason.trim()) {
        None => errors.push(FieldViolation::new("close_reason", "Choose why the referral is closed")),
        Some(reason) => {
            let request = intake::CloseReferralRequest {
                referral_id: referral.to_string(),
                reason: reason as i32,
                duplicate_of_referral_id: duplicate_of.clone(),
            };
            match app.upstream.intake(&who)?.close_referral(request).await {
                Ok(_) => return Ok(redirect(&headers, &done(&id, "close"))),
                Err(status) => errors = refusal(status, &who, CLOSE_FIELDS, "closed")?,
            }
        }
    }
    // Only an id is echoed back (the field accepts nothing else), never free text.
    let duplicate_of = if wf_types::ReferralId::is_valid(&duplicate_of) { duplicate_of } else { String::new() };
    let feedback = Feedback { close: FormErrors::new(errors), duplicate_of, ..Feedback::default() };
    again(&app, &who, &id, &headers, feedback).await
}

#[derive(Debug, Deserialize)]
pub struct RevealForm {
    #[serde(default)]
    purpose: String,
}

pub async fn reveal(
    State(app): State<App>,
    who: SignedIn,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<RevealForm>,
) -> Result<Response, PageError> {
    staff_reader(&who)?;
    referral_id(&id)?;
    require(Abilities::of(who.role).reveal, &who, Operation::ReadPersonalDetails)?;
    let Some(purpose) = labels::parse(REVEAL_PURPOSES, form.purpose.trim()) else {
        let error = FieldViolation::new(
            "purpose",
            "Choose why you need the personal details: the reason is recorded with your name in the access log",
        );
        let feedback = Feedback { reveal: FormErrors::new(vec![error]), ..Feedback::default() };
        return again(&app, &who, &id, &headers, feedback).await;
    };
    match detail::render(&app, &who, &id, Some(purpose), Feedback::default()).await {
        Ok(page) => Ok(page.into_response()),
        Err(PageError::Invalid(violations)) => {
            let errors = violations.into_iter().map(|v| on_form(v, REVEAL_FIELDS)).collect();
            let feedback = Feedback { reveal: FormErrors::new(errors), ..Feedback::default() };
            let page = detail::render(&app, &who, &id, None, feedback).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(other) => Err(other),
    }
}

#[derive(Debug, Deserialize)]
pub struct ClaimForm {
    /// The queue address the claim was made from (kept on return); only a queue address is used.
    #[serde(default)]
    back: String,
}

/// `POST /referrals/{id}/claim`: the signed-in case manager takes the referral's case, which nobody
/// holds (cases' `ClaimCase` applies the assignment's rules). A plain post returns to the queue
/// it came from; htmx gets the queue itself, whose row it swaps in place.
pub async fn claim(
    State(app): State<App>,
    who: SignedIn,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<ClaimForm>,
) -> Result<Response, PageError> {
    staff_reader(&who)?;
    let referral = referral_id(&id)?;
    let query = form.back.strip_prefix("/referrals?").filter(|q| !q.contains("://")).map(str::to_owned);
    let back = query.as_ref().map_or_else(|| "/referrals".to_owned(), |q| format!("/referrals?{q}"));
    let read = intake::GetReferralRequest { referral_id: referral.to_string(), purpose: String::new() };
    let got = app.upstream.intake(&who)?.get_referral(read).await.or_page(&who)?;
    let short = crate::domain::queue::short_id(referral.as_str());
    let outcome = if got.case_id.is_empty() {
        Err(format!("Referral {short} has no case yet: it can be claimed once routing has opened one."))
    } else {
        let request = wf_proto::cases::v1::ClaimCaseRequest { case_id: got.case_id.clone(), ..Default::default() };
        match app.upstream.cases(&who)?.claim_case(request).await {
            Ok(_) => Ok(format!("You hold the case of referral {short} now.")),
            Err(status) => match UpstreamFailure::from_status(status, &who) {
                UpstreamFailure::Conflict(why) => Err(format!("Referral {short} was not claimed: {why}.")),
                other => return Err(other.into()),
            },
        }
    };
    match outcome {
        Ok(_) if !is_htmx(&headers) => Ok(redirect(&headers, &back)),
        Ok(done) => super::queue::render(&app, &who, query.as_deref(), Some((done, false))).await,
        Err(why) => {
            let page = super::queue::render(&app, &who, query.as_deref(), Some((why, true))).await?;
            if is_htmx(&headers) {
                // htmx swaps only successful answers in: the notice is shown with the row.
                let (mut parts, body) = page.into_parts();
                parts.status = StatusCode::OK;
                Ok(Response::from_parts(parts, body))
            } else {
                Ok(page)
            }
        }
    }
}
