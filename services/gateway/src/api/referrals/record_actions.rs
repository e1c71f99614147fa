//! The forms of a referral's records ([`super::records`]), each a plain POST the session guard has
//! checked, redirecting back with a confirmation:
//! - consent releases as chips (recipient, categories, purpose, expiry, state) —
//!   `POST /referrals/{id}/releases` → CreateConsentRelease, `POST /referrals/{id}/releases/{release}/revoke`
//!   → RevokeConsentRelease with a coded reason;
//! - a minor's mandated report and its 36-hour clock — `POST /referrals/{id}/mandated-reports`
//!   (the initial report) and `POST /referrals/{id}/mandated-reports/{report}/written`;
//! - the possible-match banner — `POST /referrals/{id}/matches/{match}/confirm|reject`: the referral
//!   joins the earlier youth, or the two are different people. Nothing is ever merged here.
//!
//! All of these are `ManageCases` in the authorization table; a role without it sees none of them.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use wf_auth::Operation;
use wf_proto::intake::v1 as intake;
use wf_proto::time::timestamp_from_micros as timestamp;
use wf_types::{FieldViolation, MandatedReportId, PossibleMatchId, ReleaseId};

use super::actions::{FieldNames, again, done, refusal, require};
use super::detail::Feedback;
use super::{Abilities, referral_id, staff_reader};
use crate::api::OrPage as _;
use crate::api::PageError;
use crate::api::extract::redirect;
use crate::api::layout::FormErrors;
use crate::app::{App, SignedIn};
use crate::domain::queue::labels;
use crate::domain::queue::time;
use crate::domain::records::{AGENCIES, REVOKE_REASONS, ReleaseForm};

const RELEASE_FIELDS: FieldNames = &[
    ("release.recipient_organization_id", "release_recipient_organization_id", "The recipient"),
    ("release.categories", "release_category", "The information released"),
    ("release.purpose", "release_purpose", "The purpose"),
    ("release.signed_at", "release_signed_at", "The signing time"),
    ("release.expires_at", "release_expires_on", "The expiry"),
    ("release.signers", "release_youth_signed", "Who signed"),
    ("release.document_reference", "release_document_reference", "The document reference"),
];
const REVOKE_FIELDS: FieldNames = &[("reason", "revoke_reason", "The reason")];
const REPORT_FIELDS: FieldNames = &[
    ("report.agency", "report_agency", "The agency"),
    ("report.reported_at", "report_reported_at", "The time of the report"),
    ("report.agency_reference", "report_agency_reference", "The agency's reference"),
    ("report.referral_id", "report_agency", "This referral"),
];
const WRITTEN_FIELDS: FieldNames = &[("report.written_report_at", "written_report_at", "The written report's time")];
const MATCH_FIELDS: FieldNames = &[("possible_match_id", "possible-match", "The possible match")];

/// The page's checks before any records form: staff who act on referrals, a well-formed id.
fn check(who: &SignedIn, id: &str) -> Result<String, PageError> {
    staff_reader(who)?;
    let referral = referral_id(id)?;
    require(Abilities::of(who.role).act, who, Operation::ManageCases)?;
    Ok(referral.to_string())
}

pub async fn create_release(
    State(app): State<App>,
    who: SignedIn,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let referral = check(&who, &id)?;
    let form = ReleaseForm::from_pairs(&pairs);
    let errors = match form.release(&referral, app.clock.now_micros()) {
        Err(errors) => errors,
        Ok(release) => {
            let request = intake::CreateConsentReleaseRequest { release: Some(release) };
            match app.upstream.intake(&who)?.create_consent_release(request).await {
                Ok(_) => return Ok(redirect(&headers, &done(&id, "release"))),
                Err(status) => refusal(status, &who, RELEASE_FIELDS, "given this release")?,
            }
        }
    };
    let feedback = Feedback { release: FormErrors::new(errors), release_form: Some(form), ..Feedback::default() };
    again(&app, &who, &id, &headers, feedback).await
}

#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    revoke_reason: String,
}

pub async fn revoke_release(
    State(app): State<App>,
    who: SignedIn,
    Path((id, release)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<RevokeForm>,
) -> Result<Response, PageError> {
    let referral = check(&who, &id)?;
    if !ReleaseId::is_valid(&release) {
        return Err(PageError::NotFound);
    }
    // Only a release of this referral: another's id in this page's address is not found here.
    let got = app
        .upstream
        .intake(&who)?
        .get_consent_release(intake::GetConsentReleaseRequest { release_id: release.clone() })
        .await
        .or_page(&who)?;
    if got.release.is_none_or(|r| r.referral_id != referral) {
        return Err(PageError::NotFound);
    }
    let errors = match labels::parse(REVOKE_REASONS, form.revoke_reason.trim()) {
        None => vec![FieldViolation::new(
            "revoke_reason",
            format!("Choose why the release is revoked: {}", labels::allowed(REVOKE_REASONS)),
        )],
        Some(reason) => {
            let request = intake::RevokeConsentReleaseRequest { release_id: release, reason: reason.to_owned() };
            match app.upstream.intake(&who)?.revoke_consent_release(request).await {
                Ok(_) => return Ok(redirect(&headers, &done(&id, "revoke"))),
                Err(status) => refusal(status, &who, REVOKE_FIELDS, "changed")?,
            }
        }
    };
    again(&app, &who, &id, &headers, Feedback { revoke: FormErrors::new(errors), ..Feedback::default() }).await
}

#[derive(Debug, Deserialize)]
pub struct ReportForm {
    #[serde(default)]
    report_agency: String,
    #[serde(default)]
    report_reported_at: String,
    #[serde(default)]
    report_agency_reference: String,
}

pub async fn record_report(
    State(app): State<App>,
    who: SignedIn,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<ReportForm>,
) -> Result<Response, PageError> {
    let referral = check(&who, &id)?;
    let mut errors = Vec::new();
    let agency = labels::parse(AGENCIES, form.report_agency.trim());
    if agency.is_none() {
        errors.push(FieldViolation::new("report_agency", format!("Choose the agency: {}", labels::allowed(AGENCIES))));
    }
    let reported_at = time::parse_local_time(&form.report_reported_at);
    if reported_at.is_none() {
        errors.push(FieldViolation::new(
            "report_reported_at",
            "Enter when the report was made as a date and time, e.g. 2026-03-12 14:35",
        ));
    }
    if let (Some(agency), Some(reported_at)) = (agency, reported_at) {
        let request = intake::RecordMandatedReportRequest {
            report: Some(intake::MandatedReport {
                referral_id: referral,
                agency: agency as i32,
                reported_at: Some(timestamp(reported_at)),
                agency_reference: form.report_agency_reference.trim().to_owned(),
                ..Default::default()
            }),
        };
        match app.upstream.intake(&who)?.record_mandated_report(request).await {
            Ok(_) => return Ok(redirect(&headers, &done(&id, "report"))),
            Err(status) => errors = refusal(status, &who, REPORT_FIELDS, "reported")?,
        }
    }
    again(&app, &who, &id, &headers, Feedback { report: FormErrors::new(errors), ..Feedback::default() }).await
}

#[derive(Debug, Deserialize)]
pub struct WrittenForm {
    #[serde(default)]
    written_report_at: String,
}

pub async fn record_written(
    State(app): State<App>,
    who: SignedIn,
    Path((id, report)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<WrittenForm>,
) -> Result<Response, PageError> {
    let referral = check(&who, &id)?;
    if !MandatedReportId::is_valid(&report) {
        return Err(PageError::NotFound);
    }
    let errors = match time::parse_local_time(&form.written_report_at) {
        None => vec![FieldViolation::new(
            "written_report_at",
            "Enter when the written report was sent as a date and time, e.g. 2026-03-13 09:00",
        )],
        Some(at) => {
            let request = intake::RecordMandatedReportRequest {
                report: Some(intake::MandatedReport {
                    mandated_report_id: report,
                    referral_id: referral,
                    written_report_at: Some(timestamp(at)),
                    ..Default::default()
                }),
            };
            match app.upstream.intake(&who)?.record_mandated_report(request).await {
                Ok(_) => return Ok(redirect(&headers, &done(&id, "written"))),
                Err(status) => refusal(status, &who, WRITTEN_FIELDS, "reported")?,
            }
        }
    };
    again(&app, &who, &id, &headers, Feedback { written: FormErrors::new(errors), ..Feedback::default() }).await
}

/// `POST /referrals/{id}/matches/{match}/{decision}`: confirm or reject a possible match.
pub async fn decide_match(
    State(app): State<App>,
    who: SignedIn,
    Path((id, possible_match, decision)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let referral = check(&who, &id)?;
    if !PossibleMatchId::is_valid(&possible_match) {
        return Err(PageError::NotFound);
    }
    let mut client = app.upstream.intake(&who)?;
    // Only a match of this referral: confirming another's from this page would join the wrong youth.
    let listed = intake::ListPossibleMatchesRequest { referral_id: referral, page_size: 500, ..Default::default() };
    let matches = client.list_possible_matches(listed).await.or_page(&who)?.matches;
    if !matches.iter().any(|m| m.possible_match_id == possible_match) {
        return Err(PageError::NotFound);
    }
    let result = match decision.as_str() {
        "confirm" => client
            .confirm_possible_match(intake::ConfirmPossibleMatchRequest { possible_match_id: possible_match })
            .await
            .map(|_| "confirmed"),
        "reject" => client
            .reject_possible_match(intake::RejectPossibleMatchRequest { possible_match_id: possible_match })
            .await
            .map(|_| "rejected"),
        _ => return Err(PageError::NotFound),
    };
    let errors = match result {
        Ok(what) => return Ok(redirect(&headers, &done(&id, what))),
        Err(status) => refusal(status, &who, MATCH_FIELDS, "decided")?,
    };
    again(&app, &who, &id, &headers, Feedback { matches: FormErrors::new(errors), ..Feedback::default() }).await
}
