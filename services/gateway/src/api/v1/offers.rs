//! A partner's offers (routing), as its pages offer them: `GET /offers` (its own, those waiting
//! for its answer first; `?status=` filters), `GET /offers/{id}`, `POST /offers/{id}/accept` and
//! `POST /offers/{id}/decline` (a reason code; `other` needs a short code as `detail`). Only a
//! partner reaches them: for anyone else, and for another partner's offer, an unknown or a
//! malformed id, they answer not found with one body.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wf_proto::routing::v1::{self as routing, OfferStatus};
use wf_types::OfferId;

use super::auth::{Caller, OrApi as _};
use super::codes::{DeclineReasonCode, OfferStatusCode, SiteCode, TierCode, instant, some};
use super::error::{ApiError, ErrorBody};
use super::input::{CsrfHeader, JsonBody, Params, path_id};
use crate::app::App;
use crate::domain::partner as rules;

const LIST_PAGE: i32 = 200;

/// An offer: the referral's coded facts, never a name.
#[derive(Debug, Serialize, ToSchema)]
pub struct Offer {
    pub offer_id: String,
    pub referral_id: String,
    pub partner_id: String,
    pub partner_service_id: String,
    pub status: Option<OfferStatusCode>,
    /// Pending and before its deadline: it may be accepted or declined now.
    pub answerable: bool,
    pub triage_tier: Option<TierCode>,
    pub site: Option<SiteCode>,
    pub needs: Vec<String>,
    pub preferred_language: Option<String>,
    pub is_minor: bool,
    /// Age in years when known (0 = not known).
    pub age_years: i32,
    pub offered_at: Option<DateTime<Utc>>,
    /// Expires unanswered at this instant.
    pub deadline: Option<DateTime<Utc>>,
    pub responded_at: Option<DateTime<Utc>>,
    pub decline_reason: Option<DeclineReasonCode>,
    pub decline_detail: Option<String>,
    pub practice: bool,
}

impl Offer {
    fn of(offer: &routing::Offer, now: i64) -> Self {
        let status = OfferStatus::try_from(offer.status).unwrap_or(OfferStatus::Unspecified);
        let deadline = crate::domain::queue::micros(&offer.deadline);
        Offer {
            offer_id: offer.offer_id.clone(),
            referral_id: offer.referral_id.clone(),
            partner_id: offer.partner_id.clone(),
            partner_service_id: offer.partner_service_id.clone(),
            status: OfferStatusCode::of(offer.status),
            answerable: rules::is_answerable(status, deadline, now),
            triage_tier: TierCode::of(offer.triage_tier),
            site: SiteCode::of(offer.site),
            needs: offer.needs.clone(),
            preferred_language: some(&offer.preferred_language),
            is_minor: offer.is_minor,
            age_years: offer.age_years,
            offered_at: instant(&offer.offered_at),
            deadline: instant(&offer.deadline),
            responded_at: instant(&offer.responded_at),
            decline_reason: DeclineReasonCode::of(offer.decline_reason),
            decline_detail: some(&offer.decline_detail),
            practice: offer.practice,
        }
    }

    fn sort_key(offer: &routing::Offer) -> (OfferStatus, i64, i64) {
        (
            OfferStatus::try_from(offer.status).unwrap_or(OfferStatus::Unspecified),
            crate::domain::queue::micros(&offer.deadline).unwrap_or(i64::MAX),
            crate::domain::queue::micros(&offer.offered_at).unwrap_or_default(),
        )
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfferList {
    /// Waiting for an answer first (soonest deadline first), then the others, newest first.
    pub offers: Vec<Offer>,
    /// More offers matched than one list holds (200).
    pub more: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OfferQuery {
    /// Only offers of these statuses (repeat the parameter).
    #[serde(default)]
    status: Vec<OfferStatusCode>,
}

/// The partner's own offers.
#[utoipa::path(
    get, path = "/offers", tag = "offers", params(OfferQuery),
    responses(
        (status = 200, body = OfferList),
        (status = 401, body = ErrorBody), (status = 404, description = "Not a partner", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn list(
    State(app): State<App>,
    caller: Caller,
    Params(query): Params<OfferQuery>,
) -> Result<Json<OfferList>, ApiError> {
    caller.acting_partner()?;
    let request = routing::ListOffersRequest {
        statuses: query.status.iter().map(|s| s.number()).collect(),
        include_practice: true,
        page_size: LIST_PAGE,
        ..Default::default()
    };
    let answer = caller.routing(&app)?.list_offers(request).await.or_api(&caller)?;
    let mut offers = answer.offers;
    offers.sort_by(|a, b| rules::offer_order(Offer::sort_key(a), Offer::sort_key(b)));
    let now = app.clock.now_micros();
    Ok(Json(OfferList {
        offers: offers.iter().map(|offer| Offer::of(offer, now)).collect(),
        more: !answer.next_page_token.is_empty(),
    }))
}

async fn load(app: &App, caller: &Caller, raw: &str) -> Result<(OfferId, routing::Offer), ApiError> {
    caller.acting_partner()?;
    let id: OfferId = path_id(raw)?;
    let request = routing::GetOfferRequest { offer_id: id.to_string() };
    let offer = caller.routing(app)?.get_offer(request).await.or_api(caller)?.offer.ok_or_else(ApiError::not_found)?;
    Ok((id, offer))
}

/// One of the partner's offers.
#[utoipa::path(
    get, path = "/offers/{offer_id}", tag = "offers",
    params(("offer_id" = String, Path, description = "`off_…`")),
    responses(
        (status = 200, body = Offer),
        (status = 401, body = ErrorBody),
        (status = 404, description = "Unknown, malformed, another partner's, or not a partner: one body", body = ErrorBody),
    )
)]
pub async fn get(
    State(app): State<App>,
    caller: Caller,
    Path(offer_id): Path<String>,
) -> Result<Json<Offer>, ApiError> {
    let (_, offer) = load(&app, &caller, &offer_id).await?;
    Ok(Json(Offer::of(&offer, app.clock.now_micros())))
}

/// The offer's refusal of an answer, saying why it is not open (as the page does).
async fn not_open(app: &App, caller: &Caller, raw: &str, refusal: ApiError) -> ApiError {
    match load(app, caller, raw).await {
        Ok((_, offer)) => {
            let status = OfferStatus::try_from(offer.status).unwrap_or(OfferStatus::Unspecified);
            let reason = rules::not_open(status, crate::domain::queue::micros(&offer.deadline), app.clock.now_micros());
            ApiError::new(refusal.code, reason.message())
        }
        Err(_) => refusal,
    }
}

/// Accepts the offer (before its deadline).
#[utoipa::path(
    post, path = "/offers/{offer_id}/accept", tag = "offers",
    params(("offer_id" = String, Path), CsrfHeader),
    responses(
        (status = 200, body = Offer),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "The offer is no longer open", body = ErrorBody),
    )
)]
pub async fn accept(
    State(app): State<App>,
    caller: Caller,
    Path(offer_id): Path<String>,
) -> Result<Json<Offer>, ApiError> {
    caller.acting_partner()?;
    let id: OfferId = path_id(&offer_id)?;
    let request = routing::AcceptOfferRequest { offer_id: id.to_string() };
    match caller.routing(&app)?.accept_offer(request).await.or_api(&caller) {
        Ok(answer) => {
            let offer = answer.offer.ok_or_else(ApiError::not_found)?;
            Ok(Json(Offer::of(&offer, app.clock.now_micros())))
        }
        Err(refusal) if refusal.code.http_status() == axum::http::StatusCode::CONFLICT => {
            Err(not_open(&app, &caller, &offer_id, refusal).await)
        }
        Err(other) => Err(other),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decline {
    pub reason: DeclineReasonCode,
    /// A short code (1 to 64 of `a-z`, `0-9`, `_`; never a sentence), required for `other`.
    #[serde(default)]
    #[schema(example = "no_bilingual_staff")]
    pub detail: Option<String>,
}

/// Declines the offer with a reason code; routing offers the referral elsewhere.
#[utoipa::path(
    post, path = "/offers/{offer_id}/decline", tag = "offers",
    params(("offer_id" = String, Path), CsrfHeader), request_body = Decline,
    responses(
        (status = 200, body = Offer),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "The offer is no longer open", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn decline(
    State(app): State<App>,
    caller: Caller,
    Path(offer_id): Path<String>,
    JsonBody(body): JsonBody<Decline>,
) -> Result<Json<Offer>, ApiError> {
    caller.acting_partner()?;
    let id: OfferId = path_id(&offer_id)?;
    let detail = body.detail.unwrap_or_default().trim().to_owned();
    if body.reason.0 == routing::DeclineReason::Other && detail.is_empty() {
        return Err(ApiError::invalid_field(
            "detail",
            "is required with reason other; allowed: a short code for the reason, such as no_bilingual_staff",
        ));
    }
    let request = routing::DeclineOfferRequest { offer_id: id.to_string(), reason: body.reason.number(), detail };
    match caller.routing(&app)?.decline_offer(request).await.or_api(&caller) {
        Ok(answer) => {
            let offer = answer.offer.ok_or_else(ApiError::not_found)?;
            Ok(Json(Offer::of(&offer, app.clock.now_micros())))
        }
        Err(refusal) if refusal.code.http_status() == axum::http::StatusCode::CONFLICT => {
            Err(not_open(&app, &caller, &offer_id, refusal).await)
        }
        Err(other) => Err(other),
    }
}
