//! The HTTP side: pages rendered on the server (askama templates in `templates/`, checked at compile
//! time), working without JavaScript; htmx 2 (bundled, [`assets`]) only improves them.
//!
//! Every response carries the security headers ([`headers`]); every page passes the session guard
//! ([`guard`]: Origin and CSRF checks on every state change, error pages); handlers take
//! [`SignedIn`](crate::app::SignedIn) (or [`extract::Acknowledging`] / [`extract::Visitor`]) and
//! answer a page or a [`PageError`]. Screens add their routes in [`router`] and call the services
//! through `app.upstream` with [`OrPage`].

pub mod account;
pub mod acknowledge;
pub mod assets;
pub mod cases;
pub mod errors;
pub mod extract;
pub mod guard;
pub mod headers;
pub mod home;
pub mod layout;
pub mod oidc;
pub mod partner;
pub mod referrals;
pub mod session;
pub mod sign_in;
pub mod staff;
pub mod v1;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};

pub use errors::{OrPage, PageError};
pub use home::home;
pub use layout::{FormErrors, Layout};

use crate::app::App;

/// Every route of the gateway.
pub fn router(app: App) -> Router {
    let pages = Router::new()
        .route("/", get(home::home))
        .route("/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/sign-out", post(sign_in::sign_out))
        .route("/sign-in/oidc", post(oidc::begin))
        .route("/sign-in/oidc/callback", get(oidc::callback))
        .route("/acknowledge", get(acknowledge::form).post(acknowledge::accept))
        .route("/account", get(account::show))
        .route("/account/password", post(account::change_password))
        .route("/account/totp", post(account::begin_totp))
        .route("/account/totp/confirm", post(account::confirm_totp))
        .route("/session/extend", post(session::extend))
        .route("/referrals", get(referrals::queue::show))
        .route("/referrals/{id}", get(referrals::detail::show))
        .route("/referrals/{id}/triage", post(referrals::actions::triage))
        .route("/referrals/{id}/hold", post(referrals::actions::hold))
        .route("/referrals/{id}/close", post(referrals::actions::close))
        .route("/referrals/{id}/reveal", post(referrals::actions::reveal))
        .route("/referrals/{id}/claim", post(referrals::actions::claim))
        .route("/referrals/{id}/releases", post(referrals::record_actions::create_release))
        .route("/referrals/{id}/releases/{release}/revoke", post(referrals::record_actions::revoke_release))
        .route("/referrals/{id}/mandated-reports", post(referrals::record_actions::record_report))
        .route("/referrals/{id}/mandated-reports/{report}/written", post(referrals::record_actions::record_written))
        .route("/referrals/{id}/matches/{possible_match}/{decision}", post(referrals::record_actions::decide_match))
        .route("/caseload", get(cases::caseload::show))
        .route("/cases", get(cases::caseload::show))
        .route("/cases/{id}", get(cases::page::show))
        .route("/cases/{id}/stage", post(cases::actions::stage))
        .route("/cases/{id}/close", post(cases::actions::close))
        .route("/cases/{id}/reopen", post(cases::actions::reopen))
        .route("/cases/{id}/readiness", post(cases::actions::readiness))
        .route("/cases/{id}/contact-attempts", post(cases::actions::contact))
        .route("/cases/{id}/services", post(cases::actions::service))
        .route("/cases/{id}/services/{intervention_id}/undo", post(cases::actions::undo))
        .route("/cases/{id}/goals", post(cases::actions::goal))
        .route("/cases/{id}/follow-ups", post(cases::actions::follow_up))
        .route("/cases/{id}/recidivism", post(cases::actions::recidivism))
        .route("/cases/{id}/notes", post(cases::actions::note))
        .route("/offers", get(partner::offers::list))
        .route("/offers/{id}", get(partner::offers::show))
        .route("/offers/{id}/accept", post(partner::offers::accept))
        .route("/offers/{id}/decline", post(partner::offers::decline))
        .route("/served", get(partner::served::list))
        .route("/served/{case_id}", get(partner::served::show))
        .route("/served/{case_id}/services", post(partner::served::record_service))
        .route("/served/{case_id}/contact-attempts", post(partner::served::record_contact))
        .route("/capacity", get(partner::capacity::show))
        .route("/capacity/{service_id}", post(partner::capacity::update))
        .fallback(session::not_found)
        .layer(from_fn_with_state(app.clone(), guard::guard));
    Router::new()
        .merge(pages)
        .merge(v1::router())
        .route("/static/{name}", get(assets::serve))
        .route("/healthz", get(session::healthz))
        .layer(from_fn_with_state(app.clone(), headers::security_headers))
        .layer(DefaultBodyLimit::max(guard::FORM_LIMIT))
        .with_state(app)
}
