//! `GET /cases/{id}`: one case for staff. The header: the case's pseudonymous id, the stage stepper
//! (only the moves the lifecycle allows are offered), the owner by roster name, the next due item,
//! and who changed the case last and when. The sections: Timeline (stage changes, contact attempts,
//! services and recorded follow-ups, newest first), Plan goals, Interventions (log a service in three
//! clicks from the recent ones on this case, with undo right after), Contact attempts and
//! readiness, Follow-ups (each window, due / open / overdue / done), Recidivism, Notes and, for the
//! owner and their supervisor only, Privileged notes, and Consent (the referral page's section).
//! Coded facts and staff names only: never a youth's name or contact details.
//!
//! A case the person may not see answers exactly like an unknown id: the one "not found" page.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use wf_proto::cases::v1::{self as cases, CaseStage, FollowUpKind, FollowUpStatus, GoalStatus, UnitType};
use wf_proto::common::v1::{ContactChannel, ContactOutcome, Readiness};
use wf_types::codes::SERVICE_TYPES;
use wf_types::{CaseId, InterventionId};

use super::{Abilities, Choice, Directory, PAGE_SIZE, Roster, case_id, choices, purpose, staff_reader};
use crate::api::layout::{FormErrors, Layout};
use crate::api::staff::every_page;
use crate::api::{OrPage as _, PageError};
use crate::app::{App, SignedIn};
use crate::domain::cases::labels::{self, CLOSURE_REASONS, GOAL_DOMAINS, READINESS, REOPEN_REASONS};
use crate::domain::cases::{self as rules, EntryKind, FollowUpState, Window};
use crate::domain::partner::{self as partner_rules, CONTACT_CHANNELS, CONTACT_OUTCOMES, UNIT_TYPES};
use crate::domain::queue::{self, time};

/// An instant as a page shows it: words, and RFC 3339 for `<time datetime>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct When {
    pub text: String,
    pub machine: String,
}

impl When {
    fn at(micros: i64) -> Self {
        When { text: time::date_time(micros), machine: time::machine_time(micros) }
    }

    fn of(at: &Option<prost_types::Timestamp>) -> Option<Self> {
        queue::micros(at).map(When::at)
    }

    fn date(micros: i64) -> Self {
        When {
            text: rules::local_date(micros).map(rules::date_text).unwrap_or_default(),
            machine: rules::local_date(micros).map(|d| d.to_string()).unwrap_or_default(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct TimelineRow {
    pub when: When,
    pub kind: &'static str,
    pub class: &'static str,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct GoalRow {
    pub domain: String,
    pub status: &'static str,
    pub target: String,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct ServiceRow {
    pub intervention_id: String,
    pub service: String,
    pub provider: String,
    pub delivered_on: String,
    pub units: String,
}

/// A recent service offered to log again: its address prefills the form.
#[derive(Debug, Clone)]
pub struct Chip {
    pub href: String,
    pub label: String,
}

#[derive(Debug, Clone)]
pub struct AttemptRow {
    pub at: When,
    pub channel: &'static str,
    pub outcome: &'static str,
    pub by: String,
}

#[derive(Debug, Clone)]
pub struct FollowUpRow {
    pub follow_up_id: String,
    pub kind: &'static str,
    pub window: String,
    pub due_on: String,
    pub state: &'static str,
    pub state_class: &'static str,
    pub recorded: String,
}

#[derive(Debug, Clone)]
pub struct RecidivismRow {
    pub kind: &'static str,
    pub evidence: &'static str,
    pub occurred_on: String,
}

#[derive(Debug, Clone)]
pub struct NoteRow {
    pub when: Option<When>,
    pub by: String,
    pub category: String,
    pub text: String,
}

/// The offer to undo a service just logged.
#[derive(Debug, Clone)]
pub struct Undo {
    pub intervention_id: String,
    pub service: String,
}

/// The log-a-service form's values.
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
    pub provider_id: String,
    #[serde(default)]
    pub partner_service_id: String,
    #[serde(default)]
    pub goal_id: String,
}

/// The contact-attempt form's values.
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

/// What the forms show after a post: a confirmation, or a form's field errors and values.
#[derive(Debug, Clone, Default)]
pub struct Feedback {
    pub notice: Option<&'static str>,
    pub stage: FormErrors,
    pub close: FormErrors,
    pub reopen: FormErrors,
    pub readiness: FormErrors,
    pub contact: FormErrors,
    pub service: FormErrors,
    pub goal: FormErrors,
    pub follow_up: FormErrors,
    pub recidivism: FormErrors,
    pub note: FormErrors,
    /// The service form as posted (a refused one is shown again as typed).
    pub service_form: Option<ServiceForm>,
    pub contact_form: Option<ContactForm>,
    /// A refused note's text, shown again in its field (this response only; the page is no-store).
    pub note_text: String,
    /// The service just logged, offered for undo.
    pub undo: Option<InterventionId>,
    /// The service to prefill the form from ("log again").
    pub repeat: Option<InterventionId>,
}

#[derive(Template, WebTemplate)]
#[template(path = "case_page.html")]
pub struct CasePage {
    pub layout: Layout,
    pub case_id: String,
    pub short_id: String,
    pub practice: bool,
    pub stage: &'static str,
    /// The current stage's code (the stage form says what it moves from).
    pub stage_code: &'static str,
    pub closed: bool,
    pub closure: Option<&'static str>,
    pub stepper: Vec<rules::Step>,
    /// The stages `TransitionStage` may move to now (submit buttons).
    pub next_stages: Vec<Choice>,
    pub may_close: bool,
    pub may_reopen: bool,
    pub owner: String,
    pub next_due: Option<rules::DueItem>,
    pub changed: String,
    /// `updated_at` as the forms carry it.
    pub version: String,
    pub site: &'static str,
    pub readiness: &'static str,
    pub enrolled: Option<When>,
    pub assessment_due: Option<String>,
    pub missing_fields: Vec<String>,
    pub timeline: Vec<TimelineRow>,
    pub goals: Vec<GoalRow>,
    pub goal_domains: Vec<Choice>,
    pub goal_choices: Vec<Choice>,
    pub services: Vec<ServiceRow>,
    pub chips: Vec<Chip>,
    pub service: ServiceForm,
    pub service_types: Vec<Choice>,
    pub unit_types: Vec<Choice>,
    pub providers: Vec<Choice>,
    pub attempts: Vec<AttemptRow>,
    pub contact: ContactForm,
    pub channels: Vec<Choice>,
    pub outcomes: Vec<Choice>,
    pub readiness_choices: Vec<Choice>,
    pub follow_ups: Vec<FollowUpRow>,
    /// The follow-ups still to record (the record form's choice).
    pub pending_follow_ups: Vec<Choice>,
    pub follow_up_results: Vec<Choice>,
    pub answers: Vec<Choice>,
    /// The follow-up form's questions: (field, words).
    pub questions: Vec<(&'static str, &'static str)>,
    pub recidivism: Vec<RecidivismRow>,
    pub recidivism_kinds: Vec<Choice>,
    pub recidivism_evidence: Vec<Choice>,
    pub notes: Vec<NoteRow>,
    /// Privileged notes, shown only to the owner and their supervisor (`None`: not shown at all).
    pub privileged_notes: Option<Vec<NoteRow>>,
    pub note_categories: Vec<Choice>,
    pub closure_reasons: Vec<Choice>,
    pub living_situations: Vec<Choice>,
    pub reopen_reasons: Vec<Choice>,
    pub consent_href: String,
    /// "Viewed by": who read the case, the latest first (metadata from the audit log).
    pub viewers: Vec<ViewerRow>,
    pub abilities: Abilities,
    pub feedback: Feedback,
    pub undo: Option<Undo>,
    pub today: String,
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    done: Option<String>,
    /// The service just logged (`?done=service&undo=int_…`).
    #[serde(default)]
    undo: Option<String>,
    /// A recent service to log again (`?repeat=int_…#log-service`).
    #[serde(default)]
    repeat: Option<String>,
}

/// The answers the follow-up form asks for (its fields and their words).
const QUESTIONS: [(&str, &str); 3] = [
    ("feels_safe", "Feels safe where they live"),
    ("has_trusted_connection", "Has a trusted adult or peer"),
    ("engaged_with_services", "Still engaged with services"),
];

/// The confirmations a form's redirect may ask for (`?done=…`), from a fixed list so the address
/// cannot make the page say anything else.
const DONE: &[(&str, &str)] = &[
    ("stage", "The stage is changed."),
    ("close", "The case is closed. Its exit and post-exit follow-ups are scheduled."),
    ("reopen", "The case is reopened."),
    ("readiness", "The youth's readiness is recorded."),
    ("contact", "The contact attempt is recorded."),
    ("service", "The service is logged."),
    ("undo", "The service is withdrawn: it is no longer on the case."),
    ("goal", "The plan goal is added."),
    ("follow_up", "The follow-up is recorded."),
    ("recidivism", "The recidivism event is recorded."),
    ("note", "The note is added."),
];

pub async fn show(
    State(app): State<App>,
    who: SignedIn,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<CasePage, PageError> {
    let notice = query.done.as_deref().and_then(|done| DONE.iter().find(|(code, _)| *code == done)).map(|(_, m)| *m);
    let feedback = Feedback {
        notice,
        undo: query.undo.as_deref().and_then(|raw| raw.parse().ok()),
        repeat: query.repeat.as_deref().and_then(|raw| raw.parse().ok()),
        ..Feedback::default()
    };
    render(&app, &who, &id, feedback).await
}

/// Everything one case page reads, each read audited by cases with the person's purpose.
pub(super) struct Loaded {
    pub case: cases::Case,
    stage_changes: Vec<cases::StageChange>,
    goals: Vec<cases::ServicePlanGoal>,
    interventions: Vec<cases::Intervention>,
    attempts: Vec<cases::ContactAttempt>,
    follow_ups: Vec<cases::FollowUp>,
    recidivism: Vec<cases::RecidivismEvent>,
    notes: Vec<cases::CaseNote>,
    /// Privileged notes were asked for (the person owns the case or supervises its owner).
    privileged: bool,
    /// Reads of the case record, from the audit log (empty for a role that may not ask).
    views: Vec<wf_proto::audit::v1::RecordView>,
    pub roster: Roster,
    organizations: Directory,
}

/// Every page of a list ([`every_page`]): `$client.$method` asks for the page `$request` names
/// (built with the page token `$token`), whose `$items` field holds the page's records.
macro_rules! all_pages {
    ($who:expr, $client:ident . $method:ident, $token:ident => $request:expr, $items:ident) => {
        every_page(|$token: String| {
            let mut client = $client.clone();
            let request = $request;
            async move {
                let page = client.$method(request).await.or_page($who)?;
                Ok((page.$items, page.next_page_token))
            }
        })
        .await
        .map(|(all, _)| all)
    };
}

pub(super) async fn load(app: &App, who: &SignedIn, id: &CaseId) -> Result<Loaded, PageError> {
    let abilities = Abilities::of(who.role);
    let purpose = purpose(who).code().to_owned();
    let request = cases::GetCaseRequest { case_id: id.to_string(), purpose: purpose.clone() };
    let case = app.upstream.cases(who)?.get_case(request).await.or_page(who)?.case.ok_or(PageError::NotFound)?;
    let roster = Roster::load(app, who).await?;
    let privileged = roster.owner_or_their_supervisor(&who.user_id, &case.case_manager_id);
    let case_id = id.to_string();
    let client = app.upstream.cases(who)?;
    let stage_changes = async {
        all_pages!(who, client.list_stage_changes, token => cases::ListStageChangesRequest {
            case_id: case_id.clone(),
            page_size: PAGE_SIZE,
            page_token: token,
            purpose: purpose.clone(),
        }, stage_changes)
    };
    let goals = async {
        all_pages!(who, client.list_goals, token => cases::ListGoalsRequest {
            case_id: case_id.clone(),
            page_size: PAGE_SIZE,
            page_token: token,
            purpose: purpose.clone(),
        }, goals)
    };
    let interventions = async {
        all_pages!(who, client.list_interventions, token => cases::ListInterventionsRequest {
            case_id: case_id.clone(),
            page_size: PAGE_SIZE,
            page_token: token,
            purpose: purpose.clone(),
            ..Default::default()
        }, interventions)
    };
    let attempts = async {
        all_pages!(who, client.list_contact_attempts, token => cases::ListContactAttemptsRequest {
            case_id: case_id.clone(),
            page_size: PAGE_SIZE,
            page_token: token,
            purpose: purpose.clone(),
        }, contact_attempts)
    };
    let follow_ups = async {
        all_pages!(who, client.list_follow_ups, token => cases::ListFollowUpsRequest {
            case_id: case_id.clone(),
            page_size: PAGE_SIZE,
            page_token: token,
            purpose: purpose.clone(),
            ..Default::default()
        }, follow_ups)
    };
    let recidivism = async {
        all_pages!(who, client.list_recidivism_events, token => cases::ListRecidivismEventsRequest {
            case_id: case_id.clone(),
            page_size: PAGE_SIZE,
            page_token: token,
            purpose: purpose.clone(),
            ..Default::default()
        }, events)
    };
    let notes = async {
        if !abilities.notes {
            return Ok(Vec::new());
        }
        all_pages!(who, client.list_case_notes, token => cases::ListCaseNotesRequest {
            case_id: case_id.clone(),
            include_privileged: privileged,
            purpose: purpose.clone(),
            page_size: PAGE_SIZE,
            page_token: token,
        }, notes)
    };
    let views = async {
        if !abilities.views {
            return Ok(Vec::new());
        }
        let audit = app.upstream.audit(who)?;
        all_pages!(who, audit.list_record_views, token => wf_proto::audit::v1::ListRecordViewsRequest {
            record_id: case_id.clone(),
            page_size: PAGE_SIZE,
            page_token: token,
        }, views)
    };
    let (stage_changes, goals, interventions, attempts, follow_ups, recidivism, notes, views, organizations) = tokio::join!(
        stage_changes,
        goals,
        interventions,
        attempts,
        follow_ups,
        recidivism,
        notes,
        views,
        Directory::load(app, who)
    );
    Ok(Loaded {
        case,
        stage_changes: stage_changes?,
        goals: goals?,
        interventions: interventions?,
        attempts: attempts?,
        follow_ups: follow_ups?,
        recidivism: recidivism?,
        notes: notes?,
        privileged,
        views: views?,
        roster,
        organizations: organizations?,
    })
}

/// One row of "viewed by".
#[derive(Debug, Clone)]
pub struct ViewerRow {
    pub who: String,
    pub last: String,
    pub last_machine: String,
    pub reads: usize,
    pub purposes: String,
    pub break_glass: bool,
}

/// Readers shown at most.
const VIEWERS_SHOWN: usize = 20;

fn viewer_rows(views: &[wf_proto::audit::v1::RecordView], roster: &Roster, now: i64) -> Vec<ViewerRow> {
    let reads: Vec<rules::Read> = views
        .iter()
        .map(|v| rules::Read {
            actor: v.actor.clone(),
            role: v.actor_role.clone(),
            at: queue::micros(&v.accessed_at).unwrap_or_default(),
            purpose: v.purpose.clone(),
            break_glass: v.break_glass,
        })
        .collect();
    rules::viewers(&reads, VIEWERS_SHOWN)
        .into_iter()
        .map(|viewer| ViewerRow {
            who: match roster.name_of_user(&viewer.actor) {
                Some(name) => name,
                None => format!("{} ({})", viewer.actor, crate::domain::queue::labels::code_words(&viewer.role)),
            },
            last: time::clock_time(viewer.last_at, now),
            last_machine: time::machine_time(viewer.last_at),
            reads: viewer.reads,
            purposes: viewer
                .purposes
                .iter()
                .map(|p| crate::domain::queue::labels::code_words(p))
                .collect::<Vec<_>>()
                .join(", "),
            break_glass: viewer.break_glass,
        })
        .collect()
}

/// "Last changed by Maria Lopez (CM-SLA-1) at 2:02 PM PST".
pub(super) fn changed_by(case: &cases::Case, roster: &Roster, now: i64) -> String {
    let by = rules::who(&case.updated_by, |user| roster.name_of_user(user));
    match queue::micros(&case.updated_at) {
        Some(at) => format!("changed by {by} at {}", time::clock_time(at, now)),
        None => format!("changed by {by}"),
    }
}

fn window_of(follow_up: &cases::FollowUp) -> Option<Window> {
    let range = follow_up.window.as_ref()?;
    Some(Window {
        opens_on: rules::civil(range.start.as_ref())?,
        due_on: rules::civil(follow_up.due_on.as_ref())?,
        closes_on: rules::civil(range.end.as_ref())?,
    })
}

fn follow_up_kind(follow_up: &cases::FollowUp) -> FollowUpKind {
    FollowUpKind::try_from(follow_up.kind).unwrap_or(FollowUpKind::Unspecified)
}

fn follow_up_status(follow_up: &cases::FollowUp) -> FollowUpStatus {
    FollowUpStatus::try_from(follow_up.status).unwrap_or(FollowUpStatus::Unspecified)
}

/// The facts the next-due rule reads, of the follow-ups whose dates are whole.
pub(super) fn due_facts(follow_ups: &[cases::FollowUp]) -> Vec<rules::FollowUpFacts> {
    follow_ups
        .iter()
        .filter_map(|f| {
            Some(rules::FollowUpFacts { kind: follow_up_kind(f), status: follow_up_status(f), window: window_of(f)? })
        })
        .collect()
}

/// The case's assessment, while it is enrolled (and so has one due).
pub(super) fn assessment_facts(case: &cases::Case) -> Option<rules::AssessmentFacts> {
    let due = queue::micros(&case.assessment_due)?;
    Some(rules::AssessmentFacts { due_on: rules::service_date(due)?, assessed: case.assessed_at.is_some() })
}

fn date_field(date: Option<&wf_proto::common::v1::Date>) -> String {
    rules::civil(date).map(rules::date_text).unwrap_or_default()
}

fn units_text(units: f64, unit_type: i32) -> String {
    let unit = partner_rules::unit_type_label(UnitType::try_from(unit_type).unwrap_or(UnitType::Unspecified));
    format!("{units} {}", unit.to_lowercase())
}

fn service_label(intervention: &cases::Intervention, organizations: &Directory) -> String {
    format!(
        "{} · {}",
        partner_rules::code_label(&intervention.service_type),
        organizations.organization(&intervention.provider_id)
    )
}

fn note_row(note: &cases::CaseNote, roster: &Roster) -> NoteRow {
    NoteRow {
        when: When::of(&note.written_at),
        by: rules::who(&note.author_id, |user| roster.name_of_user(user)),
        category: labels::code_or_words(labels::NOTE_CATEGORIES, &note.category),
        text: note.text.clone(),
    }
}

fn timeline(loaded: &Loaded, organizations: &Directory) -> Vec<TimelineRow> {
    let roster = &loaded.roster;
    let mut entries = Vec::new();
    for change in &loaded.stage_changes {
        let Some(at) = queue::micros(&change.effective_at) else { continue };
        let to = CaseStage::try_from(change.to_stage).unwrap_or(CaseStage::Unspecified);
        let by = rules::who(&change.recorded_by, |user| roster.name_of_user(user));
        let text = format!("{}: {} (by {by})", partner_rules::stage_label(to), labels::move_reason(&change.reason));
        entries.push(rules::Entry { at, date_only: false, kind: EntryKind::Stage, text });
    }
    for attempt in &loaded.attempts {
        let Some(at) = queue::micros(&attempt.attempted_at) else { continue };
        let outcome = ContactOutcome::try_from(attempt.outcome).unwrap_or(ContactOutcome::Unspecified);
        let channel = ContactChannel::try_from(attempt.channel).unwrap_or(ContactChannel::Unspecified);
        let text = format!(
            "{} ({})",
            partner_rules::contact_outcome_label(outcome),
            partner_rules::contact_channel_label(channel).to_lowercase()
        );
        entries.push(rules::Entry { at, date_only: false, kind: EntryKind::Contact, text });
    }
    for intervention in &loaded.interventions {
        let Some(at) = rules::civil(intervention.delivered_on.as_ref()).and_then(rules::start_of_day) else {
            continue;
        };
        let text = format!(
            "{}, {}",
            service_label(intervention, organizations),
            units_text(intervention.units, intervention.unit_type)
        );
        entries.push(rules::Entry { at, date_only: true, kind: EntryKind::Service, text });
    }
    for follow_up in &loaded.follow_ups {
        let Some(at) = queue::micros(&follow_up.completed_at) else { continue };
        let result = labels::label_of(labels::FOLLOW_UP_RESULTS, follow_up.status, "Recorded");
        let text = format!("{}: {}", labels::follow_up_kind(follow_up_kind(follow_up)), result);
        entries.push(rules::Entry { at, date_only: false, kind: EntryKind::FollowUp, text });
    }
    rules::timeline(entries)
        .into_iter()
        .map(|entry| TimelineRow {
            when: if entry.date_only { When::date(entry.at) } else { When::at(entry.at) },
            kind: entry.kind.label(),
            class: entry.kind.class(),
            text: entry.text,
        })
        .collect()
}

/// The log-a-service form as a new page shows it: today, one session, prefilled from `repeat` (a
/// service of this case) when one is asked for.
fn service_form(interventions: &[cases::Intervention], repeat: Option<&InterventionId>, now: i64) -> ServiceForm {
    let today = partner_rules::local_date(now);
    let blank = ServiceForm {
        delivered_on: today.clone(),
        units: "1".into(),
        unit_type: "sessions".into(),
        ..Default::default()
    };
    let Some(repeat) = repeat else { return blank };
    let Some(source) = interventions.iter().find(|i| i.intervention_id == repeat.as_str()) else { return blank };
    let unit = UnitType::try_from(source.unit_type).unwrap_or(UnitType::Unspecified);
    ServiceForm {
        service_type: source.service_type.clone(),
        delivered_on: today,
        units: source.units.to_string(),
        unit_type: UNIT_TYPES.iter().find(|(u, _, _)| *u == unit).map_or("sessions", |(_, code, _)| *code).to_owned(),
        provider_id: source.provider_id.clone(),
        partner_service_id: source.partner_service_id.clone(),
        goal_id: source.goal_id.clone(),
    }
}

fn blank_contact(now: i64) -> ContactForm {
    ContactForm {
        attempted_on: partner_rules::local_date(now),
        attempted_time: partner_rules::local_time(now),
        ..Default::default()
    }
}

fn simple_choices(options: &[(&str, &str)], chosen: &str) -> Vec<Choice> {
    options.iter().map(|(value, label)| Choice::new(*value, *label, *value == chosen)).collect()
}

/// The page of case `raw_id` for `who`, with `feedback` from a form.
pub async fn render(app: &App, who: &SignedIn, raw_id: &str, feedback: Feedback) -> Result<CasePage, PageError> {
    staff_reader(who)?;
    let id = case_id(raw_id)?;
    let loaded = load(app, who, &id).await?;
    Ok(page(app, who, &loaded, feedback))
}

pub(super) fn page(app: &App, who: &SignedIn, loaded: &Loaded, feedback: Feedback) -> CasePage {
    let now = app.clock.now_micros();
    let abilities = Abilities::of(who.role);
    let case = &loaded.case;
    let roster = &loaded.roster;
    let organizations = &loaded.organizations;
    let stage = CaseStage::try_from(case.stage).unwrap_or(CaseStage::Unspecified);
    let moves = rules::moves(stage);
    let today = rules::service_date(now);
    let due = due_facts(&loaded.follow_ups);
    let next_due = today.and_then(|today| rules::next_due(&due, assessment_facts(case), today));
    let short_id = rules::short_id(&case.case_id);
    let service = feedback
        .service_form
        .clone()
        .unwrap_or_else(|| service_form(&loaded.interventions, feedback.repeat.as_ref(), now));
    let contact = feedback.contact_form.clone().unwrap_or_else(|| blank_contact(now));
    let recent: Vec<rules::RecentService> = loaded
        .interventions
        .iter()
        .map(|i| rules::RecentService {
            intervention_id: i.intervention_id.clone(),
            service_type: i.service_type.clone(),
            provider_id: i.provider_id.clone(),
            partner_service_id: i.partner_service_id.clone(),
            units: i.units,
            unit_type: i.unit_type,
            recorded_at: queue::micros(&i.recorded_at).unwrap_or_default(),
        })
        .collect();
    let chips = rules::recent_services(&recent)
        .into_iter()
        .map(|recent| Chip {
            href: format!("/cases/{}?repeat={}#log-service", case.case_id, recent.intervention_id),
            label: format!(
                "{} · {} · {}",
                partner_rules::code_label(&recent.service_type),
                organizations.organization(&recent.provider_id),
                units_text(recent.units, recent.unit_type)
            ),
        })
        .collect();
    let mut providers: Vec<Choice> = organizations
        .organizations()
        .into_iter()
        .map(|(id, name)| {
            let selected = id == service.provider_id;
            Choice::new(id, name, selected)
        })
        .collect();
    if !service.provider_id.is_empty() && !providers.iter().any(|p| p.value == service.provider_id) {
        providers.push(Choice::new(service.provider_id.clone(), service.provider_id.clone(), true));
    }
    let undo = feedback
        .undo
        .as_ref()
        .filter(|_| abilities.undo)
        .and_then(|id| loaded.interventions.iter().find(|i| i.intervention_id == id.as_str()))
        .filter(|i| i.recorded_by == who.user_id)
        .map(|i| Undo { intervention_id: i.intervention_id.clone(), service: service_label(i, organizations) });
    let follow_ups: Vec<FollowUpRow> = loaded
        .follow_ups
        .iter()
        .map(|f| {
            let window = window_of(f);
            let state = match (window, today) {
                (Some(window), Some(today)) => rules::follow_up_state(follow_up_status(f), window, today),
                _ => FollowUpState::Due,
            };
            FollowUpRow {
                follow_up_id: f.follow_up_id.clone(),
                kind: labels::follow_up_kind(follow_up_kind(f)),
                window: window.map(Window::text).unwrap_or_default(),
                due_on: date_field(f.due_on.as_ref()),
                state: state.label(),
                state_class: state.class(),
                recorded: match (state, When::of(&f.completed_at)) {
                    (FollowUpState::Done, Some(when)) => format!(
                        "{} on {}",
                        labels::label_of(labels::FOLLOW_UP_RESULTS, f.status, "Recorded"),
                        when.text
                    ),
                    _ => String::new(),
                },
            }
        })
        .collect();
    let pending_follow_ups = loaded
        .follow_ups
        .iter()
        .filter(|f| {
            matches!(follow_up_status(f), FollowUpStatus::Scheduled | FollowUpStatus::Due | FollowUpStatus::Overdue)
        })
        .map(|f| {
            let label = format!(
                "{} (window {})",
                labels::follow_up_kind(follow_up_kind(f)),
                window_of(f).map(Window::text).unwrap_or_default()
            );
            Choice::new(f.follow_up_id.clone(), label, false)
        })
        .collect();
    let (privileged, ordinary): (Vec<&cases::CaseNote>, Vec<&cases::CaseNote>) =
        loaded.notes.iter().partition(|note| note.privileged);
    CasePage {
        layout: Layout::for_person(who, format!("Case {short_id}")),
        short_id,
        practice: case.practice,
        stage: partner_rules::stage_label(stage),
        stage_code: wf_proto::lifecycle::stage_code(stage),
        closed: wf_proto::lifecycle::is_closed(stage),
        closure: wf_proto::lifecycle::is_closed(stage).then(|| labels::closure_label(case.closure_reason)),
        stepper: rules::stepper(stage),
        next_stages: moves
            .stages
            .iter()
            .map(|to| Choice::new(wf_proto::lifecycle::stage_code(*to), partner_rules::stage_label(*to), false))
            .collect(),
        may_close: moves.close && abilities.act,
        may_reopen: moves.reopen && abilities.act,
        owner: if case.case_manager_id.is_empty() {
            String::new()
        } else {
            roster.name(&case.case_manager_id).unwrap_or_else(|| case.case_manager_id.clone())
        },
        next_due,
        changed: changed_by(case, roster, now),
        version: super::version_of(case),
        site: labels::label_of(crate::domain::queue::labels::SITES, case.site, "No site"),
        readiness: partner_rules::readiness_label(
            Readiness::try_from(case.readiness).unwrap_or(Readiness::Unspecified),
        ),
        enrolled: When::of(&case.enrolled_at),
        assessment_due: queue::micros(&case.assessment_due).and_then(rules::service_date).map(rules::date_text),
        missing_fields: case.missing_fields.iter().map(|f| labels::missing_field(f)).collect(),
        timeline: timeline(loaded, organizations),
        goals: loaded
            .goals
            .iter()
            .map(|g| GoalRow {
                domain: labels::code_or_words(GOAL_DOMAINS, &g.domain),
                status: labels::label_of(labels::GOAL_STATUSES, g.status, "Open"),
                target: date_field(g.target_date.as_ref()),
                description: g.description.clone(),
            })
            .collect(),
        goal_domains: choices(GOAL_DOMAINS, ""),
        goal_choices: loaded
            .goals
            .iter()
            .filter(|g| !matches!(GoalStatus::try_from(g.status), Ok(GoalStatus::Achieved | GoalStatus::Dropped)))
            .map(|g| {
                let label = labels::code_or_words(GOAL_DOMAINS, &g.domain);
                Choice::new(g.goal_id.clone(), label, g.goal_id == service.goal_id)
            })
            .collect(),
        services: loaded
            .interventions
            .iter()
            .rev()
            .map(|i| ServiceRow {
                intervention_id: i.intervention_id.clone(),
                service: partner_rules::code_label(&i.service_type),
                provider: organizations.organization(&i.provider_id),
                delivered_on: date_field(i.delivered_on.as_ref()),
                units: units_text(i.units, i.unit_type),
            })
            .collect(),
        chips,
        service_types: SERVICE_TYPES
            .iter()
            .map(|code| Choice::new(*code, partner_rules::code_label(code), *code == service.service_type))
            .collect(),
        unit_types: UNIT_TYPES
            .iter()
            .map(|(_, code, label)| Choice::new(*code, *label, *code == service.unit_type))
            .collect(),
        providers,
        service,
        attempts: loaded
            .attempts
            .iter()
            .rev()
            .map(|a| AttemptRow {
                at: When::of(&a.attempted_at).unwrap_or(When { text: String::new(), machine: String::new() }),
                channel: partner_rules::contact_channel_label(
                    ContactChannel::try_from(a.channel).unwrap_or(ContactChannel::Unspecified),
                ),
                outcome: partner_rules::contact_outcome_label(
                    ContactOutcome::try_from(a.outcome).unwrap_or(ContactOutcome::Unspecified),
                ),
                by: if a.organization_id.is_empty() {
                    rules::who(&a.attempted_by, |user| roster.name_of_user(user))
                } else {
                    organizations.organization(&a.organization_id)
                },
            })
            .collect(),
        channels: simple_choices(
            &CONTACT_CHANNELS.iter().map(|(_, code, label)| (*code, *label)).collect::<Vec<_>>(),
            &contact.channel,
        ),
        outcomes: simple_choices(
            &CONTACT_OUTCOMES.iter().map(|(_, code, label)| (*code, *label)).collect::<Vec<_>>(),
            &contact.outcome,
        ),
        contact,
        readiness_choices: READINESS
            .iter()
            .map(|(value, code, label)| Choice::new(*code, *label, *value as i32 == case.readiness))
            .collect(),
        follow_ups,
        pending_follow_ups,
        follow_up_results: choices(labels::FOLLOW_UP_RESULTS, "completed"),
        answers: choices(labels::NO_YES, ""),
        questions: QUESTIONS.to_vec(),
        recidivism: loaded
            .recidivism
            .iter()
            .map(|r| RecidivismRow {
                kind: labels::label_of(labels::RECIDIVISM_KINDS, r.kind, "Recidivism"),
                evidence: labels::label_of(labels::RECIDIVISM_EVIDENCE, r.evidence, "Not given"),
                occurred_on: match r.occurred_on.as_ref() {
                    Some(date) if rules::civil(Some(date)).is_some() => date_field(Some(date)),
                    Some(date) if date.year > 0 && date.month > 0 => format!("{:04}-{:02}", date.year, date.month),
                    Some(date) if date.year > 0 => date.year.to_string(),
                    _ => "Date not known".to_owned(),
                },
            })
            .collect(),
        recidivism_kinds: choices(labels::RECIDIVISM_KINDS, ""),
        recidivism_evidence: choices(labels::RECIDIVISM_EVIDENCE, ""),
        notes: ordinary.into_iter().map(|note| note_row(note, roster)).collect(),
        privileged_notes: loaded
            .privileged
            .then(|| privileged.into_iter().map(|note| note_row(note, roster)).collect()),
        note_categories: choices(labels::NOTE_CATEGORIES, "general"),
        closure_reasons: choices(CLOSURE_REASONS, ""),
        living_situations: labels::living_situations()
            .into_iter()
            .map(|(_, code, words)| Choice::new(code, words, false))
            .collect(),
        reopen_reasons: choices(REOPEN_REASONS, "youth_returned"),
        viewers: viewer_rows(&loaded.views, roster, now),
        consent_href: if case.referral_id.is_empty() {
            String::new()
        } else {
            format!("/referrals/{}#consent", case.referral_id)
        },
        abilities,
        undo,
        today: partner_rules::local_date(now),
        case_id: case.case_id.clone(),
        feedback,
    }
}

/// The page as the response to a post that could not be done (its form's errors shown).
pub fn refused(page: CasePage) -> Response {
    (axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
}
