//! `GET/POST /acknowledge`: the confidentiality acknowledgment, asked at first sign-in (and again
//! when its text changes: `domain::account::ACKNOWLEDGMENT_VERSION`). Nothing else is reachable
//! until it is accepted (the [`SignedIn`](crate::app::SignedIn) extractor sends everyone here).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::PageError;
use super::extract::{Acknowledging, redirect};
use super::layout::Layout;
use crate::app::App;

#[derive(Template, WebTemplate)]
#[template(path = "acknowledge.html")]
pub struct AcknowledgePage {
    pub layout: Layout,
}

pub async fn form(Acknowledging(who): Acknowledging, headers: HeaderMap) -> Response {
    if who.acknowledged {
        return redirect(&headers, "/");
    }
    AcknowledgePage { layout: Layout::for_person(&who, "Confidentiality") }.into_response()
}

pub async fn accept(
    State(app): State<App>,
    Acknowledging(who): Acknowledging,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    app.accounts.acknowledge(&who.account_id).await?;
    tracing::info!(account_id = %who.account_id, "confidentiality acknowledged");
    Ok(redirect(&headers, "/"))
}
