//! `GET /offers` (the partner's own offers, those waiting for its answer first; `?status=pending`
//! and the other statuses filter), `GET /offers/{id}`, `POST /offers/{id}/accept` and
//! `POST /offers/{id}/decline` (a reason code from the proto's list; a short code for "other").
//! Each answer redirects back to the offer with a confirmation; an offer no longer open says why.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use wf_proto::routing::v1::{self as routing, OfferStatus};
use wf_types::{FieldViolation, OfferId};

use super::{FormField, acting_partner, confirmation, on_form, path_id};
use crate::api::extract::redirect;
use crate::api::{FormErrors, Layout, OrPage, PageError};
use crate::app::{App, SignedIn};
use crate::domain::partner::time::{self, Countdown};
use crate::domain::partner::{self as rules, DECLINE_REASONS, DeclineChoice};
use crate::domain::queue::Tier;
use crate::domain::queue::labels::{self, SITES};

/// Offers one page lists (a partner answers a few a day; older ones are history).
const LIST_PAGE: i32 = 200;

/// Microseconds of a proto timestamp.
pub(crate) fn micros(at: Option<&prost_types::Timestamp>) -> Option<i64> {
    at.map(|at| at.seconds.saturating_mul(1_000_000).saturating_add(i64::from(at.nanos) / 1_000))
}

/// One offer as the pages show it: its coded facts, never a name.
#[derive(Debug, Clone)]
pub struct OfferView {
    pub offer_id: String,
    pub href: String,
    pub referral_id: String,
    pub partner_service_id: String,
    pub status: &'static str,
    pub pending: bool,
    /// Pending and before its deadline: the accept and decline forms are shown.
    pub answerable: bool,
    pub tier: Tier,
    pub site: &'static str,
    pub needs: Vec<String>,
    pub language: String,
    pub minor: &'static str,
    pub age_band: &'static str,
    pub offered_at: String,
    pub deadline: Option<String>,
    /// The deadline for `<time datetime>`.
    pub deadline_machine: Option<String>,
    pub countdown: Option<Countdown>,
    pub responded_at: Option<String>,
    pub decline_reason: Option<&'static str>,
    pub decline_detail: String,
    pub practice: bool,
}

impl OfferView {
    pub fn of(offer: &routing::Offer, now: i64) -> Self {
        let status = OfferStatus::try_from(offer.status).unwrap_or(OfferStatus::Unspecified);
        let deadline = micros(offer.deadline.as_ref());
        let pending = status == OfferStatus::Pending;
        let declined = status == OfferStatus::Declined;
        OfferView {
            offer_id: offer.offer_id.clone(),
            href: format!("/offers/{}", offer.offer_id),
            referral_id: offer.referral_id.clone(),
            partner_service_id: offer.partner_service_id.clone(),
            status: rules::offer_status_label(status),
            pending,
            answerable: rules::is_answerable(status, deadline, now),
            tier: Tier::of(offer.triage_tier),
            site: labels::label_of(SITES, offer.site, "No site"),
            needs: offer.needs.iter().map(|need| rules::code_label(need)).collect(),
            language: rules::language_label(&offer.preferred_language),
            minor: if offer.is_minor { "Yes (under 18)" } else { "No" },
            age_band: rules::age_band(offer.age_years, offer.is_minor),
            offered_at: micros(offer.offered_at.as_ref()).map(time::date_time).unwrap_or_default(),
            deadline: deadline.map(|deadline| time::clock_time(deadline, now)),
            deadline_machine: deadline.map(time::machine_time),
            countdown: deadline.filter(|_| pending).map(|deadline| time::countdown(deadline, now)),
            responded_at: micros(offer.responded_at.as_ref()).map(time::date_time),
            decline_reason: declined.then(|| {
                rules::decline_reason_label(
                    routing::DeclineReason::try_from(offer.decline_reason)
                        .unwrap_or(routing::DeclineReason::Unspecified),
                )
            }),
            decline_detail: offer.decline_detail.clone(),
            practice: offer.practice,
        }
    }

    fn sort_key(offer: &routing::Offer) -> (OfferStatus, i64, i64) {
        (
            OfferStatus::try_from(offer.status).unwrap_or(OfferStatus::Unspecified),
            micros(offer.deadline.as_ref()).unwrap_or(i64::MAX),
            micros(offer.offered_at.as_ref()).unwrap_or_default(),
        )
    }
}

/// The statuses `/offers?status=…` filters by.
const STATUS_FILTERS: [(&str, OfferStatus, &str); 5] = [
    ("pending", OfferStatus::Pending, "Waiting for your answer"),
    ("accepted", OfferStatus::Accepted, "Accepted"),
    ("declined", OfferStatus::Declined, "Declined"),
    ("expired", OfferStatus::Expired, "Expired"),
    ("withdrawn", OfferStatus::Withdrawn, "Withdrawn"),
];

#[derive(Debug, Deserialize)]
pub struct OffersQuery {
    #[serde(default)]
    status: Option<String>,
}

/// A link of the status filter.
pub struct StatusLink {
    pub label: &'static str,
    pub href: &'static str,
    pub current: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "partner_offers.html")]
pub struct OffersPage {
    pub layout: Layout,
    pub pending: Vec<OfferView>,
    pub others: Vec<OfferView>,
    pub filters: Vec<StatusLink>,
    pub filter_label: Option<&'static str>,
    pub more: bool,
}

/// The partner's own offers (routing answers a partner with its own only, whatever it asks).
pub async fn list(
    State(app): State<App>,
    who: SignedIn,
    Query(query): Query<OffersQuery>,
) -> Result<OffersPage, PageError> {
    acting_partner(&who)?;
    let filter = STATUS_FILTERS.iter().find(|(code, _, _)| Some(*code) == query.status.as_deref());
    let request = routing::ListOffersRequest {
        statuses: filter.map(|(_, status, _)| vec![*status as i32]).unwrap_or_default(),
        include_practice: true,
        page_size: LIST_PAGE,
        ..Default::default()
    };
    let answer = app.upstream.routing(&who)?.list_offers(request).await.or_page(&who)?;
    let mut offers = answer.offers;
    offers.sort_by(|a, b| rules::offer_order(OfferView::sort_key(a), OfferView::sort_key(b)));
    let now = app.clock.now_micros();
    let (pending, others): (Vec<OfferView>, Vec<OfferView>) =
        offers.iter().map(|offer| OfferView::of(offer, now)).partition(|offer| offer.pending);
    let mut filters = vec![StatusLink { label: "All", href: "/offers", current: filter.is_none() }];
    filters.extend(STATUS_FILTERS.iter().map(|(code, _, label)| StatusLink {
        label,
        href: status_href(code),
        current: filter.is_some_and(|(current, _, _)| current == code),
    }));
    let title = match filter {
        Some((_, _, label)) => format!("Offers: {}", label.to_lowercase()),
        None => "Offers".to_owned(),
    };
    Ok(OffersPage {
        layout: Layout::for_person(&who, title),
        pending,
        others,
        filters,
        filter_label: filter.map(|(_, _, label)| *label),
        more: !answer.next_page_token.is_empty(),
    })
}

fn status_href(code: &str) -> &'static str {
    match code {
        "pending" => "/offers?status=pending",
        "accepted" => "/offers?status=accepted",
        "declined" => "/offers?status=declined",
        "expired" => "/offers?status=expired",
        _ => "/offers?status=withdrawn",
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "partner_offer.html")]
pub struct OfferPage {
    pub layout: Layout,
    pub offer: OfferView,
    pub notice: Option<&'static str>,
    /// Why the answer just sent could not be recorded (the offer is no longer open).
    pub problem: Option<String>,
    pub errors: FormErrors,
    pub reasons: &'static [DeclineChoice],
    pub chosen_reason: String,
    pub detail: String,
}

#[derive(Debug, Deserialize)]
pub struct OfferQuery {
    #[serde(default)]
    done: Option<String>,
}

const DONE: [(&str, &str); 2] = [
    (
        "accepted",
        "You accepted this offer. The case appears under \"Cases you serve\" as soon as Wayfinder has opened it.",
    ),
    ("declined", "You declined this offer. Wayfinder offers the referral elsewhere."),
];

async fn load(app: &App, who: &SignedIn, id: &OfferId) -> Result<routing::Offer, PageError> {
    let request = routing::GetOfferRequest { offer_id: id.to_string() };
    let answer = app.upstream.routing(who)?.get_offer(request).await.or_page(who)?;
    answer.offer.ok_or(PageError::NotFound)
}

fn page(app: &App, who: &SignedIn, offer: &routing::Offer) -> OfferPage {
    let view = OfferView::of(offer, app.clock.now_micros());
    OfferPage {
        layout: Layout::for_person(who, format!("Offer {}", view.offer_id)),
        offer: view,
        notice: None,
        problem: None,
        errors: FormErrors::default(),
        reasons: &DECLINE_REASONS,
        chosen_reason: String::new(),
        detail: String::new(),
    }
}

pub async fn show(
    State(app): State<App>,
    who: SignedIn,
    Path(raw): Path<String>,
    Query(query): Query<OfferQuery>,
) -> Result<OfferPage, PageError> {
    acting_partner(&who)?;
    let id: OfferId = path_id(&raw)?;
    let offer = load(&app, &who, &id).await?;
    Ok(OfferPage { notice: confirmation(query.done.as_deref(), &DONE), ..page(&app, &who, &offer) })
}

/// The offer page again, saying why the answer was not recorded (409).
async fn not_open(app: &App, who: &SignedIn, id: &OfferId) -> Result<Response, PageError> {
    let offer = load(app, who, id).await?;
    let status = OfferStatus::try_from(offer.status).unwrap_or(OfferStatus::Unspecified);
    let reason = rules::not_open(status, micros(offer.deadline.as_ref()), app.clock.now_micros());
    let page = OfferPage { problem: Some(reason.message()), ..page(app, who, &offer) };
    Ok((StatusCode::CONFLICT, page).into_response())
}

pub async fn accept(
    State(app): State<App>,
    who: SignedIn,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    acting_partner(&who)?;
    let id: OfferId = path_id(&raw)?;
    let request = routing::AcceptOfferRequest { offer_id: id.to_string() };
    match app.upstream.routing(&who)?.accept_offer(request).await.or_page(&who) {
        Ok(_) => Ok(redirect(&headers, &format!("/offers/{id}?done=accepted"))),
        Err(PageError::Conflict(_)) => not_open(&app, &who, &id).await,
        Err(other) => Err(other),
    }
}

#[derive(Debug, Deserialize)]
pub struct DeclineForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    detail: String,
}

const DECLINE_FIELDS: [FormField<'static>; 2] = [
    FormField { upstream: "reason", form: "reason", label: "The reason" },
    FormField { upstream: "detail", form: "detail", label: "The code" },
];

pub async fn decline(
    State(app): State<App>,
    who: SignedIn,
    headers: HeaderMap,
    Path(raw): Path<String>,
    Form(form): Form<DeclineForm>,
) -> Result<Response, PageError> {
    acting_partner(&who)?;
    let id: OfferId = path_id(&raw)?;
    let violations = match rules::decline_reason(&form.reason) {
        None => vec![FieldViolation::new("reason", "Choose why you decline this offer")],
        Some(reason) => {
            let detail = form.detail.trim();
            if reason == routing::DeclineReason::Other && detail.is_empty() {
                vec![FieldViolation::new("detail", "Give a short code for the reason, such as no_bilingual_staff")]
            } else {
                let request = routing::DeclineOfferRequest {
                    offer_id: id.to_string(),
                    reason: reason as i32,
                    detail: detail.into(),
                };
                match app.upstream.routing(&who)?.decline_offer(request).await.or_page(&who) {
                    Ok(_) => return Ok(redirect(&headers, &format!("/offers/{id}?done=declined"))),
                    Err(PageError::Conflict(_)) => return not_open(&app, &who, &id).await,
                    Err(PageError::Invalid(violations)) => on_form(violations, &DECLINE_FIELDS),
                    Err(other) => return Err(other),
                }
            }
        }
    };
    let offer = load(&app, &who, &id).await?;
    let page = OfferPage {
        errors: FormErrors::new(violations),
        chosen_reason: form.reason,
        detail: form.detail,
        ..page(&app, &who, &offer)
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}
