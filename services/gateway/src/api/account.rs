//! `GET /account`: the signed-in person's role and organization, their authentication app (TOTP:
//! enrol with a base32 secret and an `otpauth://` URI, no QR image), and changing their password.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::PageError;
use super::extract::redirect;
use super::layout::{FormErrors, Layout, organization, sentence};
use crate::app::{AccountError, App, SignedIn};
use crate::domain::account::role_label;
use crate::domain::{password, totp};

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
pub struct AccountPage {
    pub layout: Layout,
    pub username: String,
    pub role: &'static str,
    pub organization: String,
    pub user_id: String,
    pub totp_on: bool,
    /// The enrolment waiting for its first code: the secret grouped in fours, and the key URI.
    pub pending_secret: Option<String>,
    pub pending_uri: Option<String>,
    pub notice: Option<&'static str>,
    pub password_errors: FormErrors,
    pub totp_errors: FormErrors,
    pub min_password: usize,
}

#[derive(Debug, Deserialize)]
pub struct AccountQuery {
    #[serde(default)]
    done: Option<String>,
}

async fn page(
    app: &App,
    who: &SignedIn,
    notice: Option<&'static str>,
    password_errors: FormErrors,
    totp_errors: FormErrors,
) -> Result<AccountPage, PageError> {
    let account = app.accounts.load(&who.account_id).await?;
    let pending = app.accounts.pending_totp(&account)?;
    Ok(AccountPage {
        layout: Layout::for_person(who, "Your account"),
        username: account.username.clone(),
        role: role_label(account.role),
        organization: organization(who),
        user_id: account.user_id.clone(),
        totp_on: account.has_totp(),
        pending_secret: pending.as_ref().map(|p| totp::grouped(&p.secret_base32)),
        pending_uri: pending.as_ref().map(|p| p.otpauth_uri.to_string()),
        notice,
        password_errors,
        totp_errors,
        min_password: if account.has_totp() {
            password::MIN_CHARS_WITH_TOTP
        } else {
            password::MIN_CHARS_SINGLE_FACTOR
        },
    })
}

pub async fn show(
    State(app): State<App>,
    who: SignedIn,
    Query(query): Query<AccountQuery>,
) -> Result<AccountPage, PageError> {
    let notice = match query.done.as_deref() {
        Some("password") => Some("Your password is changed. Your other sessions were signed out."),
        Some("totp") => Some("Your authentication app is set up. Sign-in now asks for its code."),
        _ => None,
    };
    page(&app, &who, notice, FormErrors::default(), FormErrors::default()).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

pub async fn change_password(
    State(app): State<App>,
    who: SignedIn,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let mut errors = Vec::new();
    if form.current_password.is_empty() {
        errors.push(wf_types::FieldViolation::new("current_password", "Enter your current password"));
    }
    if form.new_password != form.confirm_password {
        errors.push(wf_types::FieldViolation::new("confirm_password", "Enter the same new password twice"));
    }
    if errors.is_empty() {
        match app
            .accounts
            .change_password(&who.account_id, &form.current_password, &form.new_password, &who.session_id)
            .await
        {
            Ok(_) => return Ok(redirect(&headers, "/account?done=password")),
            Err(err @ (AccountError::Invalid(_) | AccountError::WrongCurrentPassword)) => {
                errors = err.violations().into_iter().map(as_sentence).collect();
            }
            Err(err) => return Err(err.into()),
        }
    }
    let page = page(&app, &who, None, FormErrors::new(errors), FormErrors::default()).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// A violation as the form shows it: on this page the policy's `password` is `new_password`, and
/// each message is a sentence naming its field.
fn as_sentence(violation: wf_types::FieldViolation) -> wf_types::FieldViolation {
    let (field, label) = match violation.field.as_str() {
        "password" | "new_password" => ("new_password", "The new password"),
        "current_password" => ("current_password", "The current password"),
        "code" => ("code", "The code"),
        other => (other, "This field"),
    };
    wf_types::FieldViolation::new(field, sentence(label, &violation.description))
}

pub async fn begin_totp(State(app): State<App>, who: SignedIn, headers: HeaderMap) -> Result<Response, PageError> {
    let account = app.accounts.load(&who.account_id).await?;
    app.accounts.begin_totp_for(&account).await?;
    Ok(redirect(&headers, "/account#totp"))
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

pub async fn confirm_totp(
    State(app): State<App>,
    who: SignedIn,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Result<Response, PageError> {
    let account = app.accounts.load(&who.account_id).await?;
    let errors = match app.accounts.confirm_totp_for(&account, &form.code).await {
        Ok(()) => return Ok(redirect(&headers, "/account?done=totp")),
        Err(AccountError::NoPendingTotp) => return Ok(redirect(&headers, "/account#totp")),
        Err(err @ AccountError::WrongCode) => err.violations().into_iter().map(as_sentence).collect(),
        Err(err) => return Err(err.into()),
    };
    let page = page(&app, &who, None, FormErrors::default(), FormErrors::new(errors)).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}
