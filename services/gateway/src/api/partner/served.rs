//! `GET /served` (the cases the partner serves: cases answers a partner with those only) and
//! `GET /served/{case_id}`: the partner's view of one case (coded facts, its own services and
//! contact attempts), with a form to record a service delivered (`POST …/services`:
//! RecordIntervention, dated today in Los Angeles unless changed) and one to record a contact
//! attempt (`POST …/contact-attempts`: RecordContactAttempt, at a Los Angeles date and time).

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use wf_proto::cases::v1::{self as cases, CaseStage, UnitType};
use wf_proto::common::v1::{self as common, ContactChannel, ContactOutcome, Readiness};
use wf_proto::routing::v1::{self as routing, OfferStatus};
use wf_types::codes::SERVICE_TYPES;
use wf_types::{CaseId, FieldViolation, Purpose};

use super::offers::micros;
use super::{FormField, acting_partner, confirmation, on_form, path_id};
use crate::api::extract::redirect;
use crate::api::{FormErrors, Layout, OrPage, PageError};
use crate::app::{App, SignedIn};
use crate::domain::partner::{self as rules, CONTACT_CHANNELS, CONTACT_OUTCOMES, UNIT_TYPES};
use crate::domain::queue::labels::{self, SITES};

/// Rows one list shows.
const LIST_PAGE: i32 = 200;
/// Why a partner reads the case: it provides the service it accepted.
const PURPOSE: Purpose = Purpose::ServiceReferral;

/// One case the partner serves, as its list shows it.
#[derive(Debug, Clone)]
pub struct CaseRow {
    pub case_id: String,
    pub href: String,
    pub site: &'static str,
    pub stage: &'static str,
    pub readiness: &'static str,
    pub enrolled_on: Option<String>,
    pub practice: bool,
}

impl CaseRow {
    fn of(case: &cases::Case) -> Self {
        CaseRow {
            case_id: case.case_id.clone(),
            href: format!("/served/{}", case.case_id),
            site: labels::label_of(SITES, case.site, "No site"),
            stage: rules::stage_label(CaseStage::try_from(case.stage).unwrap_or(CaseStage::Unspecified)),
            readiness: rules::readiness_label(Readiness::try_from(case.readiness).unwrap_or(Readiness::Unspecified)),
            enrolled_on: micros(case.enrolled_at.as_ref()).map(rules::local_date),
            practice: case.practice,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "partner_served.html")]
pub struct ServedPage {
    pub layout: Layout,
    pub cases: Vec<CaseRow>,
    pub more: bool,
}

pub async fn list(State(app): State<App>, who: SignedIn) -> Result<ServedPage, PageError> {
    acting_partner(&who)?;
    let request = cases::ListCasesRequest {
        include_practice: true,
        page_size: LIST_PAGE,
        purpose: PURPOSE.code().to_owned(),
        ..Default::default()
    };
    let answer = app.upstream.cases(&who)?.list_cases(request).await.or_page(&who)?;
    Ok(ServedPage {
        layout: Layout::for_person(&who, "Cases you serve"),
        cases: answer.cases.iter().map(CaseRow::of).collect(),
        more: !answer.next_page_token.is_empty(),
    })
}

/// An option of a select, or a radio button.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn choices<'a>(options: impl IntoIterator<Item = (&'a str, &'a str)>, chosen: &str) -> Vec<Choice> {
    options
        .into_iter()
        .map(|(value, label)| Choice { value: value.to_owned(), label: label.to_owned(), selected: value == chosen })
        .collect()
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ServiceForm {
    #[serde(default)]
    pub service_type: String,
    #[serde(default)]
    pub delivered_on: String,
    #[serde(default)]
    pub units: String,
    #[serde(default)]
    pub unit_type: String,
    #[serde(default)]
    pub partner_service_id: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ContactForm {
    #[serde(default)]
    pub attempted_on: String,
    #[serde(default)]
    pub attempted_time: String,
    #[serde(default)]
    pub channel: String,
    #[serde(default)]
    pub outcome: String,
}

pub struct Delivered {
    pub service: String,
    pub delivered_on: String,
    pub units: String,
}

pub struct Attempt {
    pub at: String,
    pub channel: &'static str,
    pub outcome: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "partner_case.html")]
pub struct CasePage {
    pub layout: Layout,
    pub case: CaseRow,
    pub assessment_due: Option<String>,
    pub notice: Option<&'static str>,
    pub delivered: Vec<Delivered>,
    pub attempts: Vec<Attempt>,
    pub service: ServiceForm,
    pub service_errors: FormErrors,
    /// Service types the referral named first, then the others.
    pub needed_types: Vec<Choice>,
    pub other_types: Vec<Choice>,
    pub unit_types: Vec<Choice>,
    /// The partner's services an accepted offer for this case named (more than one: a select).
    pub services: Vec<Choice>,
    pub contact: ContactForm,
    pub contact_errors: FormErrors,
    pub channels: Vec<Choice>,
    pub outcomes: Vec<Choice>,
    pub today: String,
}

#[derive(Debug, Deserialize)]
pub struct CaseQuery {
    #[serde(default)]
    done: Option<String>,
}

const DONE: [(&str, &str); 2] =
    [("service", "The service delivered is recorded."), ("contact", "The contact attempt is recorded.")];

/// What a case page holds besides its forms: read as the partner (each read audited with
/// [`PURPOSE`]); a case it does not serve is not found.
struct Loaded {
    case: cases::Case,
    delivered: Vec<cases::Intervention>,
    attempts: Vec<cases::ContactAttempt>,
    /// Its accepted offers for the case's referral: the services it names and the needs.
    offers: Vec<routing::Offer>,
}

async fn load(app: &App, who: &SignedIn, id: &CaseId) -> Result<Loaded, PageError> {
    let purpose = PURPOSE.code().to_owned();
    let mut client = app.upstream.cases(who)?;
    let request = cases::GetCaseRequest { case_id: id.to_string(), purpose: purpose.clone() };
    let case = client.get_case(request).await.or_page(who)?.case.ok_or(PageError::NotFound)?;
    let request = cases::ListInterventionsRequest {
        case_id: id.to_string(),
        page_size: LIST_PAGE,
        purpose: purpose.clone(),
        ..Default::default()
    };
    let delivered = client.list_interventions(request).await.or_page(who)?.interventions;
    let request = cases::ListContactAttemptsRequest {
        case_id: id.to_string(),
        page_size: LIST_PAGE,
        purpose,
        ..Default::default()
    };
    let attempts = client.list_contact_attempts(request).await.or_page(who)?.contact_attempts;
    let mut offers = Vec::new();
    for referral_id in &case.referral_ids {
        let request = routing::ListOffersRequest {
            referral_id: referral_id.clone(),
            statuses: vec![OfferStatus::Accepted as i32],
            include_practice: true,
            ..Default::default()
        };
        offers.extend(app.upstream.routing(who)?.list_offers(request).await.or_page(who)?.offers);
    }
    Ok(Loaded { case, delivered, attempts, offers })
}

fn page(app: &App, who: &SignedIn, loaded: Loaded, service: ServiceForm, contact: ContactForm) -> CasePage {
    let now = app.clock.now_micros();
    let row = CaseRow::of(&loaded.case);
    let mut needs: Vec<&str> = Vec::new();
    let mut services: Vec<&str> = Vec::new();
    for offer in &loaded.offers {
        needs.extend(offer.needs.iter().map(String::as_str).filter(|need| SERVICE_TYPES.contains(need)));
        services.push(offer.partner_service_id.as_str());
    }
    needs.sort_unstable();
    needs.dedup();
    services.sort_unstable();
    services.dedup();
    let needed: Vec<(&str, String)> = needs.iter().map(|code| (*code, rules::code_label(code))).collect();
    let others: Vec<(&str, String)> = SERVICE_TYPES
        .iter()
        .filter(|code| !needs.contains(code))
        .map(|code| (*code, rules::code_label(code)))
        .collect();
    let chosen_service = if service.partner_service_id.is_empty() { services.first().copied() } else { None };
    let service = ServiceForm {
        partner_service_id: chosen_service.map(str::to_owned).unwrap_or(service.partner_service_id),
        ..service
    };
    CasePage {
        layout: Layout::for_person(who, format!("Case {}", row.case_id)),
        assessment_due: micros(loaded.case.assessment_due.as_ref()).map(rules::local_date),
        case: row,
        notice: None,
        delivered: loaded
            .delivered
            .iter()
            .map(|intervention| Delivered {
                service: rules::code_label(&intervention.service_type),
                delivered_on: intervention
                    .delivered_on
                    .as_ref()
                    .map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
                    .unwrap_or_default(),
                units: format!(
                    "{} {}",
                    intervention.units,
                    rules::unit_type_label(UnitType::try_from(intervention.unit_type).unwrap_or(UnitType::Unspecified))
                        .to_lowercase()
                ),
            })
            .collect(),
        attempts: loaded
            .attempts
            .iter()
            .map(|attempt| Attempt {
                at: micros(attempt.attempted_at.as_ref()).map(rules::time::date_time).unwrap_or_default(),
                channel: rules::contact_channel_label(
                    ContactChannel::try_from(attempt.channel).unwrap_or(ContactChannel::Unspecified),
                ),
                outcome: rules::contact_outcome_label(
                    ContactOutcome::try_from(attempt.outcome).unwrap_or(ContactOutcome::Unspecified),
                ),
            })
            .collect(),
        needed_types: choices(needed.iter().map(|(code, label)| (*code, label.as_str())), &service.service_type),
        other_types: choices(others.iter().map(|(code, label)| (*code, label.as_str())), &service.service_type),
        unit_types: choices(UNIT_TYPES.iter().map(|(_, code, label)| (*code, *label)), &service.unit_type),
        services: choices(services.iter().map(|id| (*id, *id)), &service.partner_service_id),
        service,
        service_errors: FormErrors::default(),
        channels: choices(CONTACT_CHANNELS.iter().map(|(_, code, label)| (*code, *label)), &contact.channel),
        outcomes: choices(CONTACT_OUTCOMES.iter().map(|(_, code, label)| (*code, *label)), &contact.outcome),
        contact,
        contact_errors: FormErrors::default(),
        today: rules::local_date(now),
    }
}

/// The forms as a new page shows them: today, now, one session.
fn blank_forms(now: i64) -> (ServiceForm, ContactForm) {
    (
        ServiceForm {
            delivered_on: rules::local_date(now),
            units: "1".into(),
            unit_type: "sessions".into(),
            ..Default::default()
        },
        ContactForm {
            attempted_on: rules::local_date(now),
            attempted_time: rules::local_time(now),
            ..Default::default()
        },
    )
}

pub async fn show(
    State(app): State<App>,
    who: SignedIn,
    Path(raw): Path<String>,
    Query(query): Query<CaseQuery>,
) -> Result<CasePage, PageError> {
    acting_partner(&who)?;
    let id: CaseId = path_id(&raw)?;
    let loaded = load(&app, &who, &id).await?;
    let (service, contact) = blank_forms(app.clock.now_micros());
    Ok(CasePage { notice: confirmation(query.done.as_deref(), &DONE), ..page(&app, &who, loaded, service, contact) })
}

const SERVICE_FIELDS: [FormField<'static>; 5] = [
    FormField { upstream: "intervention.service_type", form: "service_type", label: "The service" },
    FormField { upstream: "intervention.delivered_on", form: "delivered_on", label: "The date" },
    FormField { upstream: "intervention.units", form: "units", label: "The amount" },
    FormField { upstream: "intervention.unit_type", form: "unit_type", label: "The unit" },
    FormField { upstream: "intervention.partner_service_id", form: "partner_service_id", label: "Your service" },
];

/// The form's own checks (the services check again): each field named.
fn service_request(id: &CaseId, form: &ServiceForm) -> Result<cases::RecordInterventionRequest, Vec<FieldViolation>> {
    let mut violations = Vec::new();
    if !SERVICE_TYPES.contains(&form.service_type.as_str()) {
        violations.push(FieldViolation::new("service_type", "Choose the service delivered"));
    }
    let delivered_on = rules::parse_date(&form.delivered_on)
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
    let unit_type = rules::unit_type(&form.unit_type)
        .ok_or_else(|| violations.push(FieldViolation::new("unit_type", "Choose what the amount counts")))
        .ok();
    match (delivered_on, units, unit_type) {
        (Some((year, month, day)), Some(units), Some(unit_type)) if violations.is_empty() => {
            Ok(cases::RecordInterventionRequest {
                intervention: Some(cases::Intervention {
                    case_id: id.to_string(),
                    service_type: form.service_type.clone(),
                    delivered_on: Some(common::Date { year, month: month as i32, day: day as i32 }),
                    units,
                    unit_type: unit_type as i32,
                    partner_service_id: form.partner_service_id.trim().to_owned(),
                    ..Default::default()
                }),
            })
        }
        _ => Err(violations),
    }
}

pub async fn record_service(
    State(app): State<App>,
    who: SignedIn,
    headers: HeaderMap,
    Path(raw): Path<String>,
    Form(form): Form<ServiceForm>,
) -> Result<Response, PageError> {
    acting_partner(&who)?;
    let id: CaseId = path_id(&raw)?;
    let violations = match service_request(&id, &form) {
        Err(violations) => violations,
        Ok(request) => match app.upstream.cases(&who)?.record_intervention(request).await.or_page(&who) {
            Ok(_) => return Ok(redirect(&headers, &format!("/served/{id}?done=service#services"))),
            Err(PageError::Invalid(violations)) => on_form(violations, &SERVICE_FIELDS),
            Err(other) => return Err(other),
        },
    };
    let loaded = load(&app, &who, &id).await?;
    let (_, contact) = blank_forms(app.clock.now_micros());
    let page = CasePage { service_errors: FormErrors::new(violations), ..page(&app, &who, loaded, form, contact) };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

const CONTACT_FIELDS: [FormField<'static>; 3] = [
    FormField { upstream: "contact_attempt.attempted_at", form: "attempted_on", label: "The time of the attempt" },
    FormField { upstream: "contact_attempt.channel", form: "channel", label: "The channel" },
    FormField { upstream: "contact_attempt.outcome", form: "outcome", label: "The outcome" },
];

fn contact_request(id: &CaseId, form: &ContactForm) -> Result<cases::RecordContactAttemptRequest, Vec<FieldViolation>> {
    crate::domain::partner::contact_attempt_request(
        id.as_str(),
        &form.attempted_on,
        &form.attempted_time,
        &form.channel,
        &form.outcome,
    )
}

pub async fn record_contact(
    State(app): State<App>,
    who: SignedIn,
    headers: HeaderMap,
    Path(raw): Path<String>,
    Form(form): Form<ContactForm>,
) -> Result<Response, PageError> {
    acting_partner(&who)?;
    let id: CaseId = path_id(&raw)?;
    let violations = match contact_request(&id, &form) {
        Err(violations) => violations,
        Ok(request) => match app.upstream.cases(&who)?.record_contact_attempt(request).await.or_page(&who) {
            Ok(_) => return Ok(redirect(&headers, &format!("/served/{id}?done=contact#contact-attempts"))),
            Err(PageError::Invalid(violations)) => on_form(violations, &CONTACT_FIELDS),
            Err(other) => return Err(other),
        },
    };
    let loaded = load(&app, &who, &id).await?;
    let (service, _) = blank_forms(app.clock.now_micros());
    let page = CasePage { contact_errors: FormErrors::new(violations), ..page(&app, &who, loaded, service, form) };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}
