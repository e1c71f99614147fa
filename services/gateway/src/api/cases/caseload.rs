//! `GET /caseload`: "My caseload", the cases the signed-in case manager holds (their roster entry,
//! linked by their sign-in's user id), each with its stage, its next due item and how many items
//! are overdue, overdue cases first; every row links to the case's page. A supervisor picks the case
//! manager whose caseload to see (`?owner=cm_…`, a GET form, so it round-trips in the address).
//! `GET /cases` is the same list filtered as the home page's counts link to it: `mine=true` (the
//! person's own cases), `follow_up=due|overdue` (cases with a follow-up in that state),
//! `incomplete=true` (cases missing required data); a supervisor without `mine` or `owner` sees every
//! case's. Coded facts only: no youth's name anywhere.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use serde::Deserialize;
use wf_auth::Role;
use wf_proto::cases::v1::{self as cases, CaseStage, FollowUpStatus};
use wf_proto::common::v1::Readiness;
use wf_types::{CaseManagerId, FieldViolation};

use super::page::{assessment_facts, due_facts};
use super::{Choice, MAX_PAGES, PAGE_SIZE, Roster, purpose, staff_reader};
use crate::api::layout::Layout;
use crate::api::{OrPage as _, PageError};
use crate::app::{App, SignedIn};
use crate::domain::cases::{self as rules, CaseloadKey};
use crate::domain::partner as partner_rules;
use crate::domain::queue::labels::{SITES, label_of};

/// One case of the caseload.
#[derive(Debug, Clone)]
pub struct CaseloadRow {
    pub href: String,
    pub short_id: String,
    pub stage: &'static str,
    pub site: &'static str,
    pub readiness: &'static str,
    pub next_due: Option<rules::DueItem>,
    pub overdue: usize,
    pub practice: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "caseload.html")]
pub struct CaseloadPage {
    pub layout: Layout,
    pub heading: String,
    pub rows: Vec<CaseloadRow>,
    /// Why the list is empty or not shown, when it is not simply "no cases".
    pub notice: Option<String>,
    /// A supervisor's choice of case manager (empty for anyone else).
    pub owners: Vec<Choice>,
    pub overdue_cases: usize,
    pub more: bool,
}

#[derive(Debug, Deserialize)]
pub struct CaseloadQuery {
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    mine: Option<String>,
    #[serde(default)]
    follow_up: Option<String>,
    #[serde(default)]
    incomplete: Option<String>,
}

/// The filters of a case list's address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Filters {
    mine: bool,
    /// Only cases with a follow-up in this state (DUE: its window is open; OVERDUE).
    follow_up: Option<FollowUpStatus>,
    /// Only cases missing required data now.
    incomplete: bool,
}

impl Filters {
    fn parse(query: &CaseloadQuery) -> Result<Self, PageError> {
        let switch = |name: &str, value: Option<&str>| match value.map(str::trim) {
            None | Some("" | "0" | "false" | "no") => Ok(false),
            Some("1" | "true" | "yes" | "on") => Ok(true),
            Some(_) => {
                Err(FieldViolation::new(name, format!("The “{name}” filter is not a switch; allowed: true or false")))
            }
        };
        let mut violations = Vec::new();
        let mine = switch("mine", query.mine.as_deref()).map_err(|v| violations.push(v)).unwrap_or(false);
        let incomplete =
            switch("incomplete", query.incomplete.as_deref()).map_err(|v| violations.push(v)).unwrap_or(false);
        let follow_up = match query.follow_up.as_deref().map(str::trim) {
            None | Some("") => None,
            Some("due") => Some(FollowUpStatus::Due),
            Some("overdue") => Some(FollowUpStatus::Overdue),
            Some(_) => {
                violations.push(FieldViolation::new(
                    "follow_up",
                    "The “follow_up” filter is not a follow-up state; allowed: due, overdue",
                ));
                None
            }
        };
        if violations.is_empty() {
            Ok(Filters { mine, follow_up, incomplete })
        } else {
            Err(PageError::Invalid(violations))
        }
    }

    fn heading(self) -> Option<&'static str> {
        match (self.follow_up, self.incomplete) {
            (Some(FollowUpStatus::Overdue), _) => Some("Cases with follow-ups overdue"),
            (Some(_), _) => Some("Cases with follow-ups due"),
            (None, true) => Some("Cases missing required data"),
            (None, false) => None,
        }
    }

    fn narrowed(self) -> bool {
        self.follow_up.is_some() || self.incomplete
    }
}

/// Who may pick another case manager's caseload: supervisors.
fn picks_owner(who: &SignedIn) -> bool {
    who.role == Role::Supervisor
}

fn owner_choices(roster: &Roster, chosen: Option<&str>) -> Vec<Choice> {
    let mut owners: Vec<Choice> = roster
        .case_managers()
        .map(|cm| {
            let name = roster.name(&cm.case_manager_id).unwrap_or_else(|| cm.case_manager_id.clone());
            let name = if cm.active { name } else { format!("{name}, inactive") };
            Choice::new(cm.case_manager_id.clone(), name, chosen == Some(cm.case_manager_id.as_str()))
        })
        .collect();
    owners.sort_by(|a, b| a.label.cmp(&b.label));
    owners
}

pub async fn show(
    State(app): State<App>,
    who: SignedIn,
    Query(query): Query<CaseloadQuery>,
) -> Result<CaseloadPage, PageError> {
    staff_reader(&who)?;
    let roster = Roster::load(&app, &who).await?;
    let asked = match query.owner.as_deref().map(str::trim).filter(|owner| !owner.is_empty()) {
        None => None,
        Some(raw) => Some(raw.parse::<CaseManagerId>().map_err(|_| {
            PageError::Invalid(vec![FieldViolation::new(
                "owner",
                "The “owner” filter is not a case manager id; allowed: \"cm_\" and 32 lowercase hex digits, as the \
                 roster gives it",
            )])
        })?),
    };
    let filters = Filters::parse(&query)?;
    let own = roster.own_id(&who.user_id).map(str::to_owned);
    if let Some(asked) = &asked
        && !picks_owner(&who)
        && own.as_deref() != Some(asked.as_str())
    {
        return Err(PageError::Forbidden(format!(
            "role {} sees only its own caseload; supervisors open another case manager's",
            who.role
        )));
    }
    let scope = match asked {
        Some(asked) => Scope::Owner(asked.to_string()),
        None if filters.mine || !picks_owner(&who) => match own {
            Some(own) => Scope::Owner(own),
            None => Scope::Unlinked,
        },
        // A supervisor holds no cases: they choose whose caseload to see, or see every case's
        // follow-ups and missing data from the home page's counts.
        None if filters.narrowed() => Scope::Everyone,
        None => Scope::Choose,
    };
    let owner = match &scope {
        Scope::Owner(owner) => Some(owner.clone()),
        _ => None,
    };
    let mut page = CaseloadPage {
        layout: Layout::for_person(&who, "My caseload"),
        heading: "My caseload".to_owned(),
        rows: Vec::new(),
        notice: None,
        owners: if picks_owner(&who) { owner_choices(&roster, owner.as_deref()) } else { Vec::new() },
        overdue_cases: 0,
        more: false,
    };
    match &scope {
        Scope::Unlinked => {
            page.notice = Some(
                "Your sign-in is not linked to an entry in the case-manager roster, so you hold no cases. A \
                 supervisor can link it."
                    .to_owned(),
            );
            return Ok(page);
        }
        Scope::Choose => {
            page.notice = Some("Choose a case manager to see their caseload.".to_owned());
            return Ok(page);
        }
        Scope::Owner(owner) if roster.own_id(&who.user_id) != Some(owner.as_str()) => {
            let name = roster.name(owner).unwrap_or_else(|| owner.clone());
            page.heading = format!("Caseload of {name}");
        }
        Scope::Everyone => page.heading = "All cases".to_owned(),
        Scope::Owner(_) => {}
    }
    if let Some(narrowed) = filters.heading() {
        page.heading = format!("{narrowed} — {}", page.heading);
    }
    page.layout.title = page.heading.clone();
    let owner = owner.unwrap_or_default();
    let (listed, more) = cases_of(&app, &who, &owner, filters.incomplete).await?;
    let follow_ups = follow_ups_of(&app, &who, &owner).await?;
    let now = app.clock.now_micros();
    let today = rules::service_date(now).unwrap_or_default();
    let mut by_case: HashMap<&str, Vec<cases::FollowUp>> = HashMap::new();
    for follow_up in &follow_ups {
        by_case.entry(follow_up.case_id.as_str()).or_default().push(follow_up.clone());
    }
    let mut rows: Vec<(CaseloadKey, CaseloadRow)> = listed
        .iter()
        .filter_map(|case| {
            let own_follow_ups = by_case.get(case.case_id.as_str()).map(Vec::as_slice).unwrap_or_default();
            let pending = rules::pending(&due_facts(own_follow_ups), assessment_facts(case), today);
            let stage = CaseStage::try_from(case.stage).unwrap_or(CaseStage::Unspecified);
            if !rules::on_caseload(stage, pending.len()) {
                return None;
            }
            if let Some(wanted) = filters.follow_up
                && !own_follow_ups.iter().any(|f| f.status == wanted as i32)
            {
                return None;
            }
            let overdue = pending.iter().filter(|item| item.overdue()).count();
            let next_due = pending.into_iter().next();
            let key =
                CaseloadKey { overdue, next_due: next_due.as_ref().map(|d| d.due_on), case_id: case.case_id.clone() };
            let row = CaseloadRow {
                href: format!("/cases/{}", case.case_id),
                short_id: rules::short_id(&case.case_id),
                stage: partner_rules::stage_label(stage),
                site: label_of(SITES, case.site, "No site"),
                readiness: partner_rules::readiness_label(
                    Readiness::try_from(case.readiness).unwrap_or(Readiness::Unspecified),
                ),
                next_due,
                overdue,
                practice: case.practice,
            };
            Some((key, row))
        })
        .collect();
    rows.sort_by(|a, b| rules::caseload_order(&a.0, &b.0));
    page.overdue_cases = rows.iter().filter(|(key, _)| key.overdue > 0).count();
    page.rows = rows.into_iter().map(|(_, row)| row).collect();
    page.more = more;
    Ok(page)
}

/// Whose cases a list shows.
enum Scope {
    Owner(String),
    /// A supervisor's view across every case (from the home page's counts).
    Everyone,
    /// A supervisor who has not chosen whose caseload to see.
    Choose,
    /// A case manager whose sign-in has no roster entry.
    Unlinked,
}

/// The cases `owner` holds (every case's for an empty `owner`; only those missing required data
/// when `incomplete`), up to [`MAX_PAGES`] pages; `true` when more were there.
async fn cases_of(
    app: &App,
    who: &SignedIn,
    owner: &str,
    incomplete: bool,
) -> Result<(Vec<cases::Case>, bool), PageError> {
    let mut client = app.upstream.cases(who)?;
    let mut all = Vec::new();
    let mut page_token = String::new();
    for _ in 0..MAX_PAGES {
        let request = cases::ListCasesRequest {
            case_manager_id: owner.to_owned(),
            incomplete_only: incomplete,
            include_practice: true,
            page_size: PAGE_SIZE,
            page_token: page_token.clone(),
            purpose: purpose(who).code().to_owned(),
            ..Default::default()
        };
        let page = client.list_cases(request).await.or_page(who)?;
        all.extend(page.cases);
        if page.next_page_token.is_empty() {
            return Ok((all, false));
        }
        page_token = page.next_page_token;
    }
    Ok((all, true))
}

/// The follow-ups still to record on `owner`'s cases.
async fn follow_ups_of(app: &App, who: &SignedIn, owner: &str) -> Result<Vec<cases::FollowUp>, PageError> {
    let mut client = app.upstream.cases(who)?;
    let mut all = Vec::new();
    let mut page_token = String::new();
    for _ in 0..MAX_PAGES {
        let request = cases::ListFollowUpsRequest {
            case_manager_id: owner.to_owned(),
            statuses: [FollowUpStatus::Scheduled, FollowUpStatus::Due, FollowUpStatus::Overdue]
                .map(|status| status as i32)
                .to_vec(),
            page_size: PAGE_SIZE,
            page_token: page_token.clone(),
            purpose: purpose(who).code().to_owned(),
            ..Default::default()
        };
        let page = client.list_follow_ups(request).await.or_page(who)?;
        all.extend(page.follow_ups);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    Ok(all)
}
