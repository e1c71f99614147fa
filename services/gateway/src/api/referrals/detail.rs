//! `GET /referrals/{id}`: one referral for staff. The coded record (intake's GetReferral without a
//! purpose, so never the personal part), its status history, the offers routing made as a timeline,
//! "why this partner" (the latest routing decision as a checklist, inside `<details>`), screening
//! results as bands, consent releases as chips, a minor's mandated-report clock and the
//! possible-match banner ([`super::records`]), and the forms the person's role may use. The
//! personal details and safe-contact instructions are masked: only the reveal form's response
//! ([`super::actions::reveal`]) shows them, so any later page shows them masked again.
//! A referral the person may not see answers exactly like an unknown id: the one "not found" page.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use wf_proto::intake::v1::{self as intake, ReferralStatus};
use wf_proto::routing::v1 as routing;
use wf_types::Purpose;

use super::personal::Revealed;
use super::records::{self, Records};
use super::{Abilities, Choice, Directory, PAGE_SIZE, Roster, When, every_page, referral_id, staff_reader};
use crate::api::layout::{FormErrors, Layout};
use crate::api::{OrPage as _, PageError};
use crate::app::{App, SignedIn};
use crate::domain::queue::explain::{self, Criterion};
use crate::domain::queue::labels::{
    self, CLOSURE_REASONS, HOLD_REASONS, REVEAL_PURPOSES, SCREENING_BANDS, SCREENING_TOOLS,
};
use crate::domain::queue::labels::{SITES, SOURCES, STATUSES, TIERS, TRIAGE_REASONS};
use crate::domain::queue::{self, Tier};
use crate::domain::records::ReleaseForm;

#[derive(Debug, Clone)]
pub struct HistoryItem {
    pub when: Option<When>,
    pub status: &'static str,
    pub detail: String,
}

#[derive(Debug, Clone)]
pub struct StepView {
    pub when: Option<When>,
    pub label: String,
    pub detail: String,
    pub class: &'static str,
}

#[derive(Debug, Clone)]
pub struct OfferView {
    pub to: String,
    pub status: &'static str,
    pub steps: Vec<StepView>,
}

/// "Why this partner": the latest decision, as a checklist.
#[derive(Debug, Clone)]
pub struct DecisionView {
    pub outcome: &'static str,
    pub trigger: String,
    pub attempt: i32,
    pub policy_version: String,
    pub decided: Option<When>,
    /// The chosen service, when one was chosen.
    pub chosen: Option<String>,
    pub checklist: Vec<Criterion>,
    pub capacity: Option<String>,
    pub considered: usize,
    /// For a decision that chose nobody: the rules that excluded candidates, with counts.
    pub exclusions: Vec<(String, usize)>,
}

#[derive(Debug, Clone)]
pub struct ScreeningView {
    pub tool: String,
    pub band: &'static str,
    pub band_class: &'static str,
    pub screened: Option<When>,
}

/// What the forms show after a post: a confirmation, or each form's field errors.
#[derive(Debug, Clone, Default)]
pub struct Feedback {
    pub notice: Option<String>,
    /// The triage section's own confirmation (what htmx swaps in).
    pub triage_notice: Option<String>,
    pub triage: FormErrors,
    pub hold: FormErrors,
    pub close: FormErrors,
    pub reveal: FormErrors,
    /// The close form's "duplicate of" field, as typed (an id, never personal data).
    pub duplicate_of: String,
    pub release: FormErrors,
    /// The consent form as posted, shown again with its errors.
    pub release_form: Option<ReleaseForm>,
    pub revoke: FormErrors,
    pub report: FormErrors,
    pub written: FormErrors,
    pub matches: FormErrors,
}

#[derive(Template, WebTemplate)]
#[template(path = "referral_detail.html")]
pub struct DetailPage {
    pub layout: Layout,
    pub referral_id: String,
    pub short_id: String,
    pub tier: Tier,
    pub triage_reason: String,
    pub status: &'static str,
    pub closed: bool,
    pub on_hold: bool,
    pub closure: Option<&'static str>,
    pub practice: bool,
    pub minor: bool,
    pub age: &'static str,
    pub site: &'static str,
    pub source: &'static str,
    pub received: Option<When>,
    pub matched: Option<When>,
    pub needs: Vec<String>,
    pub language: String,
    pub owner: String,
    pub case_id: String,
    pub history: Vec<HistoryItem>,
    pub offers: Vec<OfferView>,
    pub decision: Option<DecisionView>,
    pub screenings: Vec<ScreeningView>,
    pub abilities: Abilities,
    pub tiers: Vec<Choice>,
    pub triage_reasons: Vec<Choice>,
    pub hold_reasons: Vec<Choice>,
    pub closure_reasons: Vec<Choice>,
    pub purposes: Vec<Choice>,
    pub feedback: Feedback,
    /// The personal part, on the reveal form's response only.
    pub revealed: Option<Revealed>,
    /// Consent releases, the mandated report and possible matches (staff who act only).
    pub records: Records,
}

#[derive(Debug, Deserialize)]
pub struct DetailQuery {
    #[serde(default)]
    done: Option<String>,
}

pub const TRIAGE_SAVED: &str = "The triage is saved.";

/// The confirmation after a form's redirect (`?done=hold`); the triage's shows in its section.
fn feedback_for(done: Option<&str>) -> Feedback {
    let notice = match done {
        Some("triage") => return Feedback { triage_notice: Some(TRIAGE_SAVED.to_owned()), ..Feedback::default() },
        Some("hold") => "The referral is on hold.",
        Some("resume") => "The referral is resumed.",
        Some("close") => "The referral is closed.",
        Some("release") => "The consent release is recorded.",
        Some("revoke") => "The consent release is revoked: it stopped working now.",
        Some("report") => "The mandated report is recorded.",
        Some("written") => "The written report is recorded.",
        Some("confirmed") => "The match is confirmed: the referral joins the earlier youth's record.",
        Some("rejected") => "The match is rejected: the referral stays a youth of its own.",
        _ => return Feedback::default(),
    };
    Feedback { notice: Some(notice.to_owned()), ..Feedback::default() }
}

pub async fn show(
    State(app): State<App>,
    who: SignedIn,
    Path(id): Path<String>,
    Query(query): Query<DetailQuery>,
) -> Result<DetailPage, PageError> {
    render(&app, &who, &id, None, feedback_for(query.done.as_deref())).await
}

async fn offers(app: &App, who: &SignedIn, referral_id: &str) -> Result<Vec<routing::Offer>, PageError> {
    let client = app.upstream.routing(who)?;
    let (offers, _) = every_page(|page_token| {
        let mut client = client.clone();
        let request = routing::ListOffersRequest {
            referral_id: referral_id.to_owned(),
            include_practice: true,
            page_size: PAGE_SIZE,
            page_token,
            ..Default::default()
        };
        async move {
            let page = client.list_offers(request).await.or_page(who)?;
            Ok((page.offers, page.next_page_token))
        }
    })
    .await?;
    Ok(offers)
}

async fn decisions(app: &App, who: &SignedIn, referral_id: &str) -> Result<Vec<routing::RoutingDecision>, PageError> {
    let client = app.upstream.routing(who)?;
    let (decisions, _) = every_page(|page_token| {
        let mut client = client.clone();
        let request = routing::ListDecisionsRequest {
            referral_id: referral_id.to_owned(),
            page_size: PAGE_SIZE,
            page_token,
            ..Default::default()
        };
        async move {
            let page = client.list_decisions(request).await.or_page(who)?;
            Ok((page.decisions, page.next_page_token))
        }
    })
    .await?;
    Ok(decisions)
}

async fn screenings(app: &App, who: &SignedIn, referral_id: &str) -> Result<Vec<intake::Screening>, PageError> {
    let request = intake::ListScreeningsRequest {
        referral_id: referral_id.to_owned(),
        page_size: PAGE_SIZE,
        ..Default::default()
    };
    Ok(app.upstream.intake(who)?.list_screenings(request).await.or_page(who)?.screenings)
}

/// The routing part, or nothing when the role may not read routing decisions.
async fn routing_part(
    app: &App,
    who: &SignedIn,
    referral_id: &str,
    abilities: Abilities,
) -> Result<(Vec<routing::Offer>, Vec<routing::RoutingDecision>, Directory), PageError> {
    if !abilities.routing {
        // The consent form names partner organizations.
        let directory = if abilities.act { Directory::load(app, who).await? } else { Directory::default() };
        return Ok((Vec::new(), Vec::new(), directory));
    }
    let (offers, decisions, directory) =
        tokio::join!(offers(app, who, referral_id), decisions(app, who, referral_id), Directory::load(app, who));
    Ok((offers?, decisions?, directory?))
}

fn decision_view(decision: &routing::RoutingDecision, directory: &Directory) -> DecisionView {
    let chosen = explain::chosen(decision);
    DecisionView {
        outcome: explain::outcome_label(decision.outcome),
        trigger: labels::decision_trigger(&decision.reason),
        attempt: decision.attempt,
        policy_version: decision.policy_version.clone(),
        decided: When::of(&decision.decided_at),
        chosen: chosen.map(|c| directory.service(&c.partner_id, &c.partner_service_id)),
        checklist: chosen.map(explain::checklist).unwrap_or_default(),
        capacity: chosen.and_then(explain::capacity_at_decision),
        considered: decision.candidates.len(),
        exclusions: if chosen.is_none() { explain::exclusions(decision) } else { Vec::new() },
    }
}

fn offer_view(offer: &routing::Offer, directory: &Directory, now: i64) -> OfferView {
    let to = directory.service(&offer.partner_id, &offer.partner_service_id);
    let steps = explain::offer_steps(offer, &directory.organization(&offer.partner_id), now)
        .into_iter()
        .map(|step| StepView { when: step.at.map(When::at), label: step.label, detail: step.detail, class: step.class })
        .collect();
    OfferView { to, status: labels::label_of(labels::OFFER_STATUSES, offer.status, "Unknown"), steps }
}

/// The name of a partner organization or a case manager a history entry names.
fn names(id: &str, directory: &Directory, roster: &Roster) -> Option<String> {
    if id.starts_with("org_") {
        let name = directory.organization(id);
        return (name != id).then_some(name);
    }
    if id.starts_with("cm_") {
        return roster.name(id);
    }
    None
}

fn choices(table: &labels::Table<&'static str>, selected: &str) -> Vec<Choice> {
    table.iter().map(|(_, code, label)| Choice::new(*code, *label, *code == selected)).collect()
}

/// The page of referral `raw_id` for `who`: masked, unless `reveal` gives the purpose of a reveal.
pub async fn render(
    app: &App,
    who: &SignedIn,
    raw_id: &str,
    reveal: Option<Purpose>,
    feedback: Feedback,
) -> Result<DetailPage, PageError> {
    staff_reader(who)?;
    let id = referral_id(raw_id)?;
    let abilities = Abilities::of(who.role);
    let request = intake::GetReferralRequest {
        referral_id: id.to_string(),
        purpose: reveal.map(|p| p.code().to_owned()).unwrap_or_default(),
    };
    let got = app.upstream.intake(who)?.get_referral(request).await.or_page(who)?;
    let (screenings, routed, roster) = tokio::join!(
        screenings(app, who, id.as_str()),
        routing_part(app, who, id.as_str(), abilities),
        Roster::load(app, who)
    );
    let (screenings, (mut offers, decisions, directory), roster) = (screenings?, routed?, roster?);
    let now = app.clock.now_micros();
    let referral = got.referral.unwrap_or_default();
    let facts = (got.is_minor, queue::micros(&referral.received_at));
    let records = records::load(app, who, id.as_str(), facts, &directory, feedback.release_form.as_ref()).await?;
    let status = ReferralStatus::try_from(got.status).unwrap_or(ReferralStatus::Unspecified);
    let tier = Tier::of(referral.triage_tier);
    let short_id = queue::short_id(&got.referral_id);
    explain::by_offer_time(&mut offers);
    let revealed = reveal.map(|purpose| Revealed::of(purpose, referral.personal.as_ref()));
    let title = if revealed.is_some() {
        format!("Referral {short_id}: personal details")
    } else {
        format!("Referral {short_id}")
    };
    let current_tier =
        wf_proto::common::v1::TriageTier::try_from(referral.triage_tier).ok().and_then(|t| labels::code(TIERS, t));
    Ok(DetailPage {
        layout: Layout::for_person(who, title),
        short_id,
        tier,
        triage_reason: if referral.triage_reason.is_empty() {
            String::new()
        } else {
            labels::code_words(&referral.triage_reason)
        },
        status: labels::label_of(STATUSES, got.status, "Unknown"),
        closed: status == ReferralStatus::Closed,
        on_hold: status == ReferralStatus::OnHold,
        closure: (status == ReferralStatus::Closed).then(|| labels::closure_label(got.closure_reason)),
        practice: referral.practice,
        minor: got.is_minor,
        age: queue::age_band(got.is_minor),
        site: labels::label_of(SITES, referral.site, "No site given"),
        source: labels::label_of(SOURCES, referral.source, "Not given"),
        received: When::of(&referral.received_at),
        matched: When::of(&got.matched_at),
        needs: referral.needs.iter().map(|need| labels::code_words(need)).collect(),
        language: referral.preferred_language.clone(),
        owner: if got.case_manager_id.is_empty() {
            String::new()
        } else {
            roster.name(&got.case_manager_id).unwrap_or_else(|| got.case_manager_id.clone())
        },
        case_id: got.case_id.clone(),
        history: got
            .history
            .iter()
            .map(|change| HistoryItem {
                when: When::of(&change.at),
                status: labels::label_of(STATUSES, change.status, "Unknown"),
                detail: labels::code_words_naming(&change.detail, |id| names(id, &directory, &roster)),
            })
            .collect(),
        offers: offers.iter().map(|offer| offer_view(offer, &directory, now)).collect(),
        decision: explain::latest(&decisions).map(|d| decision_view(d, &directory)),
        screenings: screenings
            .iter()
            .map(|s| ScreeningView {
                tool: match (labels::label_of(SCREENING_TOOLS, s.tool, "Screening"), s.tool_version.as_str()) {
                    (tool, "") => tool.to_owned(),
                    (tool, version) => format!("{tool}, {version}"),
                },
                band: labels::label_of(SCREENING_BANDS, s.result, "No result recorded"),
                band_class: labels::band_class(s.result),
                screened: When::of(&s.screened_at),
            })
            .collect(),
        abilities,
        tiers: TIERS.iter().map(|(_, code, label)| Choice::new(*code, *label, Some(*code) == current_tier)).collect(),
        triage_reasons: choices(TRIAGE_REASONS, &referral.triage_reason),
        hold_reasons: choices(HOLD_REASONS, ""),
        closure_reasons: CLOSURE_REASONS.iter().map(|(_, code, label)| Choice::new(*code, *label, false)).collect(),
        purposes: REVEAL_PURPOSES.iter().map(|(_, code, label)| Choice::new(*code, *label, false)).collect(),
        feedback,
        revealed,
        records,
        referral_id: got.referral_id,
    })
}

/// The page as the response to a post that could not be done (its form's errors shown).
pub fn refused(page: DetailPage) -> Response {
    (axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
}
