//! `GET /`, where sign-in lands: "Action needed", by role. Every count comes from the service that
//! holds it, asked as the signed-in person, and links to its list with the same filters in the
//! address (the referral queue's own filters: `/referrals?tier=emergent&unassigned=1`). A list the authorization table
//! does not give the person's role is not asked for; a count a service cannot give just now says
//! so without failing the page. A partner sees only its own offers and cases, never another
//! organization's counts. While emergent referrals wait without an owner the tab reads
//! "(N) Emergent".
//!
//! Counts read one page ([`COUNT_PAGE`] rows): past that the page shows "100+". Each list read is
//! audited by its service like any other.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use wf_auth::Role;
use wf_proto::cases::v1::{self as cases, FollowUpStatus};
use wf_proto::intake::v1::{self as intake, ReferralStatus};
use wf_proto::routing::v1::{self as routing, OfferStatus};

use super::layout::{Layout, organization};
use super::{OrPage, PageError};
use crate::app::{App, SignedIn};
use crate::domain::account::role_label;
use crate::domain::partner::{COUNT_PAGE, Count, filtered, home_title};
use crate::domain::queue::Filters;

const LIST_REFERRALS: &str = "/wayfinder.intake.v1.IntakeService/ListReferrals";
const LIST_CASES: &str = "/wayfinder.cases.v1.CaseService/ListCases";
const LIST_FOLLOW_UPS: &str = "/wayfinder.cases.v1.CaseService/ListFollowUps";
const LIST_CASE_MANAGERS: &str = "/wayfinder.cases.v1.CaseService/ListCaseManagers";
const LIST_OFFERS: &str = "/wayfinder.routing.v1.RoutingService/ListOffers";

/// Roster pages read to find the signed-in person's entry.
const ROSTER_PAGES: usize = 20;

/// One count and the list it opens.
#[derive(Debug, Clone)]
pub struct Tile {
    /// `None`: the service could not be asked just now.
    pub count: Option<String>,
    /// What is counted, after the number: "new emergent referrals without an owner".
    pub label: &'static str,
    pub href: String,
    pub hint: &'static str,
    /// Shown with the emergent colour (text says it too) while the count is not zero.
    pub urgent: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct HomePage {
    pub layout: Layout,
    pub username: String,
    pub role: &'static str,
    pub organization: String,
    pub tiles: Vec<Tile>,
    pub notes: Vec<&'static str>,
}

/// Whether the person's role may call `method` at all (the one authorization table).
fn may(who: &SignedIn, method: &str) -> bool {
    wf_auth::rpc::rule(method).is_some_and(|rule| rule.allows(who.role))
}

fn tile(count: Result<Count, PageError>, label: &'static str, href: String, hint: &'static str, urgent: bool) -> Tile {
    let count = match count {
        Ok(count) => Some(count),
        Err(err) => {
            tracing::warn!(status = err.status().as_u16(), counted = label, "a home count is unavailable");
            None
        }
    };
    Tile {
        urgent: urgent && count.is_some_and(|count| !count.is_zero()),
        count: count.map(|c| c.to_string()),
        label,
        href,
        hint,
    }
}

async fn count_referrals(app: &App, who: &SignedIn, request: intake::ListReferralsRequest) -> Result<Count, PageError> {
    let request = intake::ListReferralsRequest { page_size: COUNT_PAGE as i32, ..request };
    let answer = app.upstream.intake(who)?.list_referrals(request).await.or_page(who)?;
    Ok(Count::of_page(answer.referrals.len(), !answer.next_page_token.is_empty()))
}

async fn count_cases(app: &App, who: &SignedIn, request: cases::ListCasesRequest) -> Result<Count, PageError> {
    let request = cases::ListCasesRequest { page_size: COUNT_PAGE as i32, ..request };
    let answer = app.upstream.cases(who)?.list_cases(request).await.or_page(who)?;
    Ok(Count::of_page(answer.cases.len(), !answer.next_page_token.is_empty()))
}

async fn count_follow_ups(app: &App, who: &SignedIn, request: cases::ListFollowUpsRequest) -> Result<Count, PageError> {
    let request = cases::ListFollowUpsRequest { page_size: COUNT_PAGE as i32, ..request };
    let answer = app.upstream.cases(who)?.list_follow_ups(request).await.or_page(who)?;
    Ok(Count::of_page(answer.follow_ups.len(), !answer.next_page_token.is_empty()))
}

async fn count_offers(app: &App, who: &SignedIn, request: routing::ListOffersRequest) -> Result<Count, PageError> {
    let request = routing::ListOffersRequest { page_size: COUNT_PAGE as i32, ..request };
    let answer = app.upstream.routing(who)?.list_offers(request).await.or_page(who)?;
    Ok(Count::of_page(answer.offers.len(), !answer.next_page_token.is_empty()))
}

/// The roster entry (`cm_…`) whose login is the signed-in person, if the roster has one.
async fn own_roster_entry(app: &App, who: &SignedIn) -> Result<Option<String>, PageError> {
    let mut client = app.upstream.cases(who)?;
    let mut page_token = String::new();
    for _ in 0..ROSTER_PAGES {
        let request = cases::ListCaseManagersRequest {
            include_supervisors: true,
            include_inactive: true,
            page_size: 500,
            page_token,
            ..Default::default()
        };
        let answer = client.list_case_managers(request).await.or_page(who)?;
        if let Some(entry) = answer.case_managers.iter().find(|entry| entry.user_id == who.user_id) {
            return Ok(Some(entry.case_manager_id.clone()));
        }
        if answer.next_page_token.is_empty() {
            break;
        }
        page_token = answer.next_page_token;
    }
    Ok(None)
}

/// What intake is asked for to count the referrals a queue address lists (the queue's own
/// filters, so the count and the list it links to are the same list).
fn listing(filters: &Filters) -> intake::ListReferralsRequest {
    intake::ListReferralsRequest {
        statuses: filters.statuses_to_list().into_iter().map(|status| status as i32).collect(),
        site: filters.site.map_or(0, |site| site as i32),
        triage_tier: filters.tier.map_or(0, |tier| tier as i32),
        source: filters.source.map_or(0, |source| source as i32),
        unassigned_only: filters.unassigned,
        include_practice: filters.practice,
        ..Default::default()
    }
}

/// The referral counts staff see: emergent ones waiting without an owner, and those waiting for a
/// partner's answer to an offer.
async fn referral_tiles(app: &App, who: &SignedIn) -> (Option<Count>, Vec<Tile>) {
    let emergent = Filters::emergent_unassigned(false);
    let offered = Filters { statuses: vec![ReferralStatus::Offered], ..Filters::default() };
    let (emergent_count, offered_count) =
        tokio::join!(count_referrals(app, who, listing(&emergent)), count_referrals(app, who, listing(&offered)));
    let waiting = emergent_count.as_ref().ok().copied();
    let tiles = vec![
        tile(
            emergent_count,
            "new emergent referrals without an owner",
            emergent.href(),
            "Advocate contact is due within 90 minutes of receipt.",
            true,
        ),
        tile(
            offered_count,
            "referrals waiting for a partner to answer an offer",
            offered.href(),
            "Each offer has its own deadline; unanswered offers expire and are routed again.",
            false,
        ),
    ];
    (waiting, tiles)
}

/// Follow-ups due and overdue, and cases missing required data: a case manager's own cases, a
/// supervisor's all (a supervisor holds none of their own).
async fn case_tiles(app: &App, who: &SignedIn, notes: &mut Vec<&'static str>) -> Vec<Tile> {
    let mine = match who.role {
        Role::CaseManager => match own_roster_entry(app, who).await {
            Ok(Some(id)) => Some(id),
            Ok(None) => {
                notes.push(
                    "Your sign-in is not linked to an entry of the roster, so your own cases cannot be counted. \
                     Ask your supervisor to link it.",
                );
                return Vec::new();
            }
            Err(_) => {
                notes.push("Your own cases cannot be counted just now: the cases service is not available.");
                return Vec::new();
            }
        },
        _ => None,
    };
    let owner = mine.clone().unwrap_or_default();
    let scope: &[(&str, &str)] = if mine.is_some() { &[("mine", "true")] } else { &[] };
    let follow_ups = |status: FollowUpStatus| cases::ListFollowUpsRequest {
        statuses: vec![status as i32],
        case_manager_id: owner.clone(),
        ..Default::default()
    };
    let incomplete =
        cases::ListCasesRequest { incomplete_only: true, case_manager_id: owner.clone(), ..Default::default() };
    let (due, overdue, incomplete) = tokio::join!(
        count_follow_ups(app, who, follow_ups(FollowUpStatus::Due)),
        count_follow_ups(app, who, follow_ups(FollowUpStatus::Overdue)),
        count_cases(app, who, incomplete),
    );
    let with = |extra: (&'static str, &'static str)| {
        let mut filters = scope.to_vec();
        filters.push(extra);
        filtered("/cases", &filters)
    };
    let hint = if mine.is_some() {
        "Of your cases: record each one in its window."
    } else {
        "Across all cases: record each one in its window."
    };
    vec![
        tile(due, "follow-ups due", with(("follow_up", "due")), hint, false),
        tile(overdue, "follow-ups overdue", with(("follow_up", "overdue")), hint, true),
        tile(
            incomplete,
            "cases missing required data",
            with(("incomplete", "true")),
            "An assessment, a follow-up or the exit living situation is due and not recorded.",
            false,
        ),
    ]
}

/// A partner's own offers waiting for its answer, and the cases it serves.
async fn partner_tiles(app: &App, who: &SignedIn) -> Vec<Tile> {
    let pending = routing::ListOffersRequest {
        statuses: vec![OfferStatus::Pending as i32],
        include_practice: true,
        ..Default::default()
    };
    let served = cases::ListCasesRequest { include_practice: true, ..Default::default() };
    let (pending, served) = tokio::join!(count_offers(app, who, pending), count_cases(app, who, served));
    vec![
        tile(
            pending,
            "offers waiting for your answer",
            filtered("/offers", &[("status", "pending")]),
            "Accept or decline each one before its deadline.",
            true,
        ),
        tile(served, "cases you serve", "/served".to_owned(), "Record services delivered and contact attempts.", false),
    ]
}

pub async fn home(State(app): State<App>, who: SignedIn) -> HomePage {
    let mut tiles = Vec::new();
    let mut notes = Vec::new();
    let mut emergent = None;
    match who.role {
        Role::Partner if may(&who, LIST_OFFERS) => tiles = partner_tiles(&app, &who).await,
        Role::Partner => {}
        Role::Hotline => notes.push(
            "Hotline sign-ins follow each referral they submitted by its reference; a list of them is not \
             available to your role.",
        ),
        _ => {
            if may(&who, LIST_REFERRALS) {
                let (count, referral) = referral_tiles(&app, &who).await;
                emergent = count;
                tiles.extend(referral);
            }
            if may(&who, LIST_FOLLOW_UPS) && may(&who, LIST_CASES) && may(&who, LIST_CASE_MANAGERS) {
                tiles.extend(case_tiles(&app, &who, &mut notes).await);
            }
        }
    }
    if tiles.is_empty() && notes.is_empty() && who.role != Role::Partner {
        notes.push("Nothing here needs your action: your role works from its own screens.");
    }
    HomePage {
        layout: Layout::for_person(&who, home_title(emergent)),
        username: who.username.clone(),
        role: role_label(who.role),
        organization: organization(&who),
        tiles,
        notes,
    }
}
