//! A partner's own services' capacity (routing), as its capacity page offers it: `GET /capacity`
//! (the services routing lists for its organization, or, while the authorization table gives that
//! list to staff only, the services its own offers name, without figures) and
//! `POST /capacity/{service_id}` (UpdateCapacity: replaces the entry of the unit given). Only a
//! partner reaches them; another organization's service, an unknown or malformed id is not found.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wf_proto::routing::v1 as routing;
use wf_types::PartnerServiceId;

use super::auth::{Caller, OrApi as _};
use super::codes::instant;
use super::error::{ApiError, Code, ErrorBody};
use super::input::{CsrfHeader, JsonBody, path_id};
use crate::app::App;
use crate::domain::partner::{self as rules, CAPACITY_UNITS};

const LIST_SERVICES: &str = "/wayfinder.routing.v1.RoutingService/ListPartnerServices";
const OFFERS_SCANNED: i32 = 500;

#[derive(Debug, Serialize, ToSchema)]
pub struct CapacityEntry {
    /// `bed`, `slot`, `client` or `appointment`.
    pub unit: String,
    pub available: i32,
    pub maximum: i32,
    pub updated: Option<DateTime<Utc>>,
    /// Not updated for a day or more.
    pub stale: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OwnService {
    pub partner_service_id: String,
    pub name: Option<String>,
    /// Whether `capacity` is routing's (false while the partner may not read its directory entry).
    pub known: bool,
    pub capacity: Vec<CapacityEntry>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CapacityList {
    pub services: Vec<OwnService>,
}

fn service(id: String, listed: Option<&routing::PartnerService>, now: i64) -> OwnService {
    OwnService {
        name: listed.map(|s| s.name.clone()).filter(|name| !name.is_empty()),
        known: listed.is_some(),
        capacity: listed
            .map(|s| {
                s.capacity
                    .iter()
                    .map(|c| CapacityEntry {
                        unit: c.unit.clone(),
                        available: c.available,
                        maximum: c.maximum,
                        updated: instant(&c.updated),
                        stale: rules::capacity_is_stale(now, crate::domain::queue::micros(&c.updated)),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        partner_service_id: id,
    }
}

/// The partner's own services and their capacity.
#[utoipa::path(
    get, path = "/capacity", tag = "capacity",
    responses(
        (status = 200, body = CapacityList),
        (status = 401, body = ErrorBody), (status = 404, description = "Not a partner", body = ErrorBody),
    )
)]
pub async fn list(State(app): State<App>, caller: Caller) -> Result<Json<CapacityList>, ApiError> {
    let partner = caller.acting_partner()?.to_owned();
    let mut client = caller.routing(&app)?;
    let now = app.clock.now_micros();
    let may_list = wf_auth::rpc::rule(LIST_SERVICES).is_some_and(|rule| rule.allows(caller.role));
    if may_list {
        let request = routing::ListPartnerServicesRequest {
            organization_id: partner.clone(),
            page_size: 100,
            ..Default::default()
        };
        let answer = client.list_partner_services(request).await.or_api(&caller)?;
        let services = answer
            .partner_services
            .iter()
            .filter(|s| s.organization_id == partner)
            .map(|s| service(s.partner_service_id.clone(), Some(s), now))
            .collect();
        return Ok(Json(CapacityList { services }));
    }
    let request =
        routing::ListOffersRequest { include_practice: true, page_size: OFFERS_SCANNED, ..Default::default() };
    let answer = client.list_offers(request).await.or_api(&caller)?;
    let mut ids: Vec<String> = answer
        .offers
        .into_iter()
        .filter(|offer| offer.partner_id == partner)
        .map(|offer| offer.partner_service_id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(Json(CapacityList { services: ids.into_iter().map(|id| service(id, None, now)).collect() }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CapacityUpdate {
    /// `bed`, `slot`, `client` or `appointment`.
    #[schema(example = "bed")]
    pub unit: String,
    /// Places open now (0 or more, at most `maximum`).
    pub available: i32,
    /// Places in all (0 or more).
    pub maximum: i32,
}

/// Replaces the capacity entry of the unit given.
#[utoipa::path(
    post, path = "/capacity/{service_id}", tag = "capacity",
    params(("service_id" = String, Path, description = "`svc_…`"), CsrfHeader), request_body = CapacityUpdate,
    responses(
        (status = 200, body = OwnService),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
    )
)]
pub async fn update(
    State(app): State<App>,
    caller: Caller,
    Path(service_id): Path<String>,
    JsonBody(body): JsonBody<CapacityUpdate>,
) -> Result<Json<OwnService>, ApiError> {
    caller.acting_partner()?;
    let id: PartnerServiceId = path_id(&service_id)?;
    let mut violations = Vec::new();
    if !CAPACITY_UNITS.iter().any(|(code, _)| *code == body.unit) {
        let units: Vec<&str> = CAPACITY_UNITS.iter().map(|(code, _)| *code).collect();
        violations.push(wf_types::FieldViolation::new(
            "unit",
            format!("is not a capacity unit; allowed: {}", units.join(", ")),
        ));
    }
    if body.maximum < 0 {
        violations.push(wf_types::FieldViolation::new("maximum", "is below 0; allowed: a whole number of 0 or more"));
    }
    if body.available < 0 {
        violations.push(wf_types::FieldViolation::new("available", "is below 0; allowed: a whole number of 0 or more"));
    } else if body.maximum >= 0 && body.available > body.maximum {
        violations.push(wf_types::FieldViolation::new(
            "available",
            format!("is more than the {} places in all; allowed: 0 to maximum", body.maximum),
        ));
    }
    if !violations.is_empty() {
        return Err(ApiError::invalid(violations));
    }
    let request = routing::UpdateCapacityRequest {
        partner_service_id: id.to_string(),
        capacity: Some(routing::Capacity {
            unit: body.unit,
            available: body.available,
            maximum: body.maximum,
            updated: None,
        }),
    };
    let answer = caller.routing(&app)?.update_capacity(request).await.or_api(&caller).map_err(|err| {
        if err.code != Code::InvalidArgument {
            return err;
        }
        let violations = err
            .violations
            .into_iter()
            .map(|v| {
                wf_types::FieldViolation::new(v.field.strip_prefix("capacity.").unwrap_or(&v.field), v.description)
            })
            .collect();
        ApiError::invalid(violations)
    })?;
    let listed = answer.partner_service;
    Ok(Json(service(id.to_string(), listed.as_ref(), app.clock.now_micros())))
}
