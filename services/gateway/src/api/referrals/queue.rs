//! `GET /referrals`: the referral queue. Filters come from the address (a GET form, so every filter
//! round-trips in the URL and works without JavaScript); rows are sorted by tier, then deadline
//! (`domain::queue`). Rows hold coded facts only: no names, narrative or exploitation detail. A bad
//! filter value answers 400 with the filters form and a message naming the filter and its allowed
//! values.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use wf_proto::intake::v1 as intake;
use wf_types::FieldViolation;

use super::{Choice, PAGE_SIZE, Roster, every_page, staff_reader};
use crate::api::layout::{FormErrors, Layout};
use crate::api::{OrPage as _, PageError};
use crate::app::{App, SignedIn};
use crate::domain::queue::labels::{self, SITES, SOURCES, STATUSES, TIERS};
use crate::domain::queue::{self, Entry, Filters, Row};

#[derive(Template, WebTemplate)]
#[template(path = "referral_queue.html")]
pub struct QueuePage {
    pub layout: Layout,
    pub rows: Vec<Row>,
    /// Set when the address had a bad filter (then there are no rows).
    pub filter_errors: FormErrors,
    /// Why "mine" lists nothing, when the person has no roster entry.
    pub notice: Option<String>,
    pub tiers: Vec<Choice>,
    pub statuses: Vec<Choice>,
    pub sites: Vec<Choice>,
    pub sources: Vec<Choice>,
    pub owners: Vec<Choice>,
    pub mine: bool,
    pub unassigned: bool,
    pub practice: bool,
    /// The person has a roster entry ("mine" can list something).
    pub has_roster_entry: bool,
    pub filtered: bool,
    pub emergent_unassigned_href: String,
    pub mine_href: String,
    pub with_practice_href: String,
    pub waiting_emergent: usize,
    /// More referrals matched than one page holds.
    pub truncated: bool,
    /// When the countdowns were computed ("2:35 PM PDT").
    pub as_of: String,
    /// The person may claim a case nobody holds (a case manager with a roster entry).
    pub can_claim: bool,
    /// This page's address, where a claim comes back to.
    pub back: String,
    /// A claim's confirmation, or why it could not be made.
    pub claim_notice: Option<String>,
    pub claim_refused: bool,
}

/// What intake is asked for.
fn request(filters: &Filters, owner: Option<&str>) -> intake::ListReferralsRequest {
    intake::ListReferralsRequest {
        statuses: filters.statuses_to_list().into_iter().map(|s| s as i32).collect(),
        site: filters.site.map_or(0, |s| s as i32),
        triage_tier: filters.tier.map_or(0, |t| t as i32),
        source: filters.source.map_or(0, |s| s as i32),
        case_manager_id: owner.unwrap_or_default().to_owned(),
        unassigned_only: filters.unassigned,
        include_practice: filters.practice,
        page_size: PAGE_SIZE,
        ..Default::default()
    }
}

/// Every referral matching `request` (up to [`crate::api::staff::MAX_PAGES`] pages); `true` when more matched.
async fn list(
    app: &App,
    who: &SignedIn,
    request: intake::ListReferralsRequest,
) -> Result<(Vec<Entry>, bool), PageError> {
    let client = app.upstream.intake(who)?;
    let (summaries, more) = every_page(|page_token| {
        let mut client = client.clone();
        let request = intake::ListReferralsRequest { page_token, ..request.clone() };
        async move {
            let page = client.list_referrals(request).await.or_page(who)?;
            Ok((page.referrals, page.next_page_token))
        }
    })
    .await?;
    Ok((summaries.into_iter().map(|summary| Entry::of(&summary)).collect(), more))
}

fn choices<E: Copy + PartialEq>(table: &labels::Table<E>, selected: &[E]) -> Vec<Choice> {
    table.iter().map(|(value, code, label)| Choice::new(*code, *label, selected.contains(value))).collect()
}

fn owner_choices(roster: &Roster, filters: &Filters) -> Vec<Choice> {
    let chosen = filters.owner.as_ref().map(|id| id.as_str());
    let mut owners: Vec<Choice> = roster
        .case_managers()
        .map(|cm| {
            let name = roster.name(&cm.case_manager_id).unwrap_or_else(|| cm.case_manager_id.clone());
            let name = if cm.active { name } else { format!("{name}, inactive") };
            Choice::new(cm.case_manager_id.clone(), name, chosen == Some(cm.case_manager_id.as_str()))
        })
        .collect();
    owners.sort_by(|a, b| a.label.cmp(&b.label));
    // An owner the roster does not list (or the role may not read) still round-trips.
    if let Some(chosen) = chosen
        && !owners.iter().any(|o| o.value == chosen)
    {
        owners.push(Choice::new(chosen, chosen, true));
    }
    owners
}

fn page(who: &SignedIn, filters: &Filters, roster: &Roster, now: i64) -> QueuePage {
    QueuePage {
        layout: Layout::for_person(who, queue::title(0)),
        rows: Vec::new(),
        filter_errors: FormErrors::default(),
        notice: None,
        tiers: choices(TIERS, &filters.tier.into_iter().collect::<Vec<_>>()),
        statuses: choices(STATUSES, &filters.statuses),
        sites: choices(SITES, &filters.site.into_iter().collect::<Vec<_>>()),
        sources: choices(SOURCES, &filters.source.into_iter().collect::<Vec<_>>()),
        owners: owner_choices(roster, filters),
        mine: filters.mine,
        unassigned: filters.unassigned,
        practice: filters.practice,
        has_roster_entry: roster.own_id(&who.user_id).is_some(),
        filtered: !filters.is_empty(),
        emergent_unassigned_href: Filters::emergent_unassigned(filters.practice).href(),
        mine_href: Filters { mine: true, practice: filters.practice, ..Filters::default() }.href(),
        with_practice_href: Filters { practice: true, ..filters.clone() }.href(),
        waiting_emergent: 0,
        truncated: false,
        as_of: queue::time::clock_time(now, now),
        can_claim: roster.own_id(&who.user_id).is_some() && super::may_call(who.role, super::method::CLAIM_CASE),
        back: String::from("/referrals"),
        claim_notice: None,
        claim_refused: false,
    }
}

/// A violation of the address, as the error summary words it.
fn explained(violation: FieldViolation) -> FieldViolation {
    let description = format!("The “{}” filter {}", violation.field, violation.description);
    FieldViolation::new(format!("filter-{}", violation.field), description)
}

pub async fn show(State(app): State<App>, who: SignedIn, RawQuery(query): RawQuery) -> Result<Response, PageError> {
    render(&app, &who, query.as_deref(), None).await
}

/// The queue for the address query `query`, with a claim's notice (and `true` when it was refused).
pub async fn render(
    app: &App,
    who: &SignedIn,
    query: Option<&str>,
    claim: Option<(String, bool)>,
) -> Result<Response, PageError> {
    staff_reader(who)?;
    let roster = Roster::load(app, who).await?;
    let now = app.clock.now_micros();
    let filters = match Filters::parse(query.unwrap_or_default()) {
        Ok(filters) => filters,
        Err(violations) => {
            let mut page = page(who, &Filters::default(), &roster, now);
            page.layout.title = "Referral queue: check the address".to_owned();
            page.filter_errors = FormErrors::new(violations.into_iter().map(explained).collect());
            return Ok((StatusCode::BAD_REQUEST, page).into_response());
        }
    };
    let mut page = page(who, &filters, &roster, now);
    page.back = match query {
        Some(q) if !q.is_empty() => format!("/referrals?{q}"),
        _ => "/referrals".to_owned(),
    };
    let refused = claim.as_ref().is_some_and(|(_, refused)| *refused);
    if let Some((notice, refused)) = claim {
        page.claim_notice = Some(notice);
        page.claim_refused = refused;
    }
    let owner = match (&filters.owner, filters.mine) {
        (Some(owner), _) => Some(owner.as_str().to_owned()),
        (None, true) => match roster.own_id(&who.user_id) {
            Some(own) => Some(own.to_owned()),
            None => {
                page.notice = Some(
                    "“Mine” lists the referrals whose case you hold, but your sign-in is not linked to an entry in \
                     the case-manager roster, so there are none. A supervisor can link it."
                        .to_owned(),
                );
                return Ok(page.into_response());
            }
        },
        (None, false) => None,
    };
    let (mut entries, truncated) = list(app, who, request(&filters, owner.as_deref())).await?;
    queue::sort(&mut entries);
    let waiting = if filters.covers_emergent_unassigned() {
        queue::waiting_emergent(&entries)
    } else {
        let (emergent, _) = list(app, who, request(&Filters::emergent_unassigned(filters.practice), None)).await?;
        queue::waiting_emergent(&emergent)
    };
    page.layout.title = queue::title(waiting);
    page.waiting_emergent = waiting;
    page.truncated = truncated;
    page.rows = entries.iter().map(|e| queue::row(e, now, |id| roster.name(id))).collect();
    if refused { Ok((StatusCode::CONFLICT, page).into_response()) } else { Ok(page.into_response()) }
}
