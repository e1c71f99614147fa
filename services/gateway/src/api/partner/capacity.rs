//! `GET /capacity`: the partner's own services with their capacity ("3 of 8 beds open, updated
//! 3 h ago", flagged when stale), and `POST /capacity/{service_id}` (UpdateCapacity: replaces the
//! entry of the unit given). Routing changes only the partner's own services: another
//! organization's, or an unknown id, is not found.
//!
//! The list is routing's ListPartnerServices for the partner's organization. Today the
//! authorization table gives that read to staff only, so while it does the page lists the services
//! the partner's own offers name, without their current figures (it says so); the form works the
//! same either way.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use wf_proto::routing::v1 as routing;
use wf_types::{FieldViolation, PartnerId, PartnerServiceId};

use super::offers::micros;
use super::served::Choice;
use super::{FormField, acting_partner, confirmation, on_form, path_id};
use crate::api::extract::redirect;
use crate::api::{FormErrors, Layout, OrPage, PageError};
use crate::app::{App, SignedIn};
use crate::domain::partner::{self as rules, CAPACITY_UNITS};

/// The method the list comes from, as the authorization table names it.
const LIST_SERVICES: &str = "/wayfinder.routing.v1.RoutingService/ListPartnerServices";
/// Offers read to find the partner's services while it may not list them.
const OFFERS_SCANNED: i32 = 500;

/// One capacity entry as the page shows it.
pub struct Entry {
    pub unit: String,
    pub available: i32,
    pub maximum: i32,
    pub updated: String,
    pub stale: bool,
}

/// One of the partner's services with its update form.
pub struct ServiceRow {
    pub service_id: String,
    pub name: String,
    /// Whether the figures below are routing's (false while the partner may not read its entry).
    pub known: bool,
    pub entries: Vec<Entry>,
    pub stale: bool,
    pub action: String,
    pub units: Vec<Choice>,
    pub available: String,
    pub maximum: String,
    pub errors: FormErrors,
    /// The ids of the form's inputs (unique on the page: one form per service).
    pub unit_id: String,
    pub available_id: String,
    pub maximum_id: String,
    pub updated_now: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "partner_capacity.html")]
pub struct CapacityPage {
    pub layout: Layout,
    pub services: Vec<ServiceRow>,
    /// Routing lists the partner's services to it (else they come from its offers).
    pub listed: bool,
    pub notice: Option<&'static str>,
    /// Every form's errors, for the summary at the top.
    pub errors: FormErrors,
}

#[derive(Debug, Deserialize)]
pub struct CapacityQuery {
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    service: Option<String>,
}

const DONE: [(&str, &str); 1] = [("updated", "Capacity is updated. Routing uses the new figures from now on.")];

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CapacityForm {
    #[serde(default)]
    unit: String,
    #[serde(default)]
    available: String,
    #[serde(default)]
    maximum: String,
}

/// Whether routing lets a partner list its services (the authorization table says).
fn may_list(who: &SignedIn) -> bool {
    wf_auth::rpc::rule(LIST_SERVICES).is_some_and(|rule| rule.allows(who.role))
}

/// The partner's services: `(id, Some(service) when routing lists it)`.
async fn own_services(
    app: &App,
    who: &SignedIn,
    partner: &PartnerId,
) -> Result<Vec<(String, Option<routing::PartnerService>)>, PageError> {
    let mut client = app.upstream.routing(who)?;
    if may_list(who) {
        let request = routing::ListPartnerServicesRequest {
            organization_id: partner.to_string(),
            page_size: 100,
            ..Default::default()
        };
        let answer = client.list_partner_services(request).await.or_page(who)?;
        return Ok(answer
            .partner_services
            .into_iter()
            .filter(|service| service.organization_id == partner.as_str())
            .map(|service| (service.partner_service_id.clone(), Some(service)))
            .collect());
    }
    let request =
        routing::ListOffersRequest { include_practice: true, page_size: OFFERS_SCANNED, ..Default::default() };
    let answer = client.list_offers(request).await.or_page(who)?;
    let mut ids: Vec<String> = answer
        .offers
        .into_iter()
        .filter(|offer| offer.partner_id == partner.as_str())
        .map(|offer| offer.partner_service_id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(ids.into_iter().map(|id| (id, None)).collect())
}

fn row(
    now: i64,
    id: String,
    service: Option<&routing::PartnerService>,
    form: &CapacityForm,
    errors: FormErrors,
) -> ServiceRow {
    let entries: Vec<Entry> = service
        .map(|service| {
            service
                .capacity
                .iter()
                .map(|capacity| {
                    let updated = micros(capacity.updated.as_ref());
                    Entry {
                        unit: CAPACITY_UNITS
                            .iter()
                            .find(|(code, _)| *code == capacity.unit)
                            .map_or_else(|| rules::code_label(&capacity.unit), |(_, label)| (*label).to_owned()),
                        available: capacity.available,
                        maximum: capacity.maximum,
                        updated: updated.map_or_else(|| "never reported".to_owned(), |at| rules::ago(now, at)),
                        stale: rules::capacity_is_stale(now, updated),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let first = service.and_then(|service| service.capacity.first());
    let unit = if form.unit.is_empty() { first.map(|c| c.unit.clone()).unwrap_or_default() } else { form.unit.clone() };
    let value = |typed: &str, current: Option<i32>| {
        if typed.is_empty() { current.map(|n| n.to_string()).unwrap_or_default() } else { typed.to_owned() }
    };
    ServiceRow {
        name: service
            .map(|service| service.name.clone())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| format!("Service {id}")),
        known: service.is_some(),
        stale: entries.is_empty() || entries.iter().any(|entry| entry.stale),
        entries,
        action: format!("/capacity/{id}"),
        units: CAPACITY_UNITS
            .iter()
            .map(|(code, label)| Choice {
                value: (*code).to_owned(),
                label: (*label).to_owned(),
                selected: *code == unit,
            })
            .collect(),
        available: value(&form.available, first.map(|c| c.available)),
        maximum: value(&form.maximum, first.map(|c| c.maximum)),
        errors,
        unit_id: format!("unit-{id}"),
        available_id: format!("available-{id}"),
        maximum_id: format!("maximum-{id}"),
        updated_now: false,
        service_id: id,
    }
}

async fn page(
    app: &App,
    who: &SignedIn,
    partner: &PartnerId,
    failed: Option<(&str, &CapacityForm, Vec<FieldViolation>)>,
) -> Result<CapacityPage, PageError> {
    let now = app.clock.now_micros();
    let blank = CapacityForm::default();
    let mut summary = Vec::new();
    let services = own_services(app, who, partner)
        .await?
        .into_iter()
        .map(|(id, service)| match &failed {
            Some((failed_id, form, violations)) if *failed_id == id => {
                summary.extend(violations.iter().cloned());
                row(now, id, service.as_ref(), form, FormErrors::new(violations.clone()))
            }
            _ => row(now, id, service.as_ref(), &blank, FormErrors::default()),
        })
        .collect();
    Ok(CapacityPage {
        layout: Layout::for_person(who, "Your capacity"),
        services,
        listed: may_list(who),
        notice: None,
        errors: FormErrors::new(summary),
    })
}

pub async fn show(
    State(app): State<App>,
    who: SignedIn,
    Query(query): Query<CapacityQuery>,
) -> Result<CapacityPage, PageError> {
    let partner = acting_partner(&who)?;
    let mut page = page(&app, &who, &partner, None).await?;
    page.notice = confirmation(query.done.as_deref(), &DONE);
    if page.notice.is_some() {
        for service in &mut page.services {
            service.updated_now = query.service.as_deref() == Some(service.service_id.as_str());
        }
    }
    Ok(page)
}

/// The form's checks, naming each field by its input's id on the page.
fn capacity_request(
    id: &PartnerServiceId,
    form: &CapacityForm,
) -> Result<routing::UpdateCapacityRequest, Vec<FieldViolation>> {
    let mut violations = Vec::new();
    if !CAPACITY_UNITS.iter().any(|(code, _)| *code == form.unit) {
        violations.push(FieldViolation::new(format!("unit-{id}"), "Choose what your capacity counts"));
    }
    let number = |typed: &str| typed.trim().parse::<i32>().ok().filter(|n| *n >= 0);
    let maximum = number(&form.maximum);
    if maximum.is_none() {
        violations.push(FieldViolation::new(
            format!("maximum-{id}"),
            "Enter the most places you have, a whole number of 0 or more",
        ));
    }
    let available = number(&form.available);
    match (available, maximum) {
        (None, _) => violations.push(FieldViolation::new(
            format!("available-{id}"),
            "Enter how many places are open now, a whole number of 0 or more",
        )),
        (Some(open), Some(most)) if open > most => violations.push(FieldViolation::new(
            format!("available-{id}"),
            format!("Open places cannot be more than the {most} places you have"),
        )),
        _ => {}
    }
    match (available, maximum) {
        (Some(available), Some(maximum)) if violations.is_empty() => Ok(routing::UpdateCapacityRequest {
            partner_service_id: id.to_string(),
            capacity: Some(routing::Capacity { unit: form.unit.clone(), available, maximum, updated: None }),
        }),
        _ => Err(violations),
    }
}

pub async fn update(
    State(app): State<App>,
    who: SignedIn,
    headers: HeaderMap,
    Path(raw): Path<String>,
    Form(form): Form<CapacityForm>,
) -> Result<Response, PageError> {
    let partner = acting_partner(&who)?;
    let id: PartnerServiceId = path_id(&raw)?;
    let violations = match capacity_request(&id, &form) {
        Err(violations) => violations,
        Ok(request) => match app.upstream.routing(&who)?.update_capacity(request).await.or_page(&who) {
            Ok(_) => return Ok(redirect(&headers, &format!("/capacity?done=updated&service={id}#{id}"))),
            Err(PageError::Invalid(violations)) => {
                let (unit, available, maximum) =
                    (format!("unit-{id}"), format!("available-{id}"), format!("maximum-{id}"));
                let fields = [
                    FormField { upstream: "capacity.unit", form: &unit, label: "The unit" },
                    FormField { upstream: "capacity.available", form: &available, label: "Open places" },
                    FormField { upstream: "capacity.maximum", form: &maximum, label: "Places in all" },
                ];
                on_form(violations, &fields)
            }
            Err(other) => return Err(other),
        },
    };
    let page = page(&app, &who, &partner, Some((id.as_str(), &form, violations))).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}
