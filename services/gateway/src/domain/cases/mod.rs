//! The staff case page and "My caseload", as plain rules: the stage stepper (the lifecycle's own
//! table, [`wf_proto::lifecycle`], so the page offers exactly the moves cases allows), the reason
//! code each offered move is recorded with, a follow-up's window and state (due, open, overdue,
//! done), the case's next due item, the timeline's order, the recent services a new one can repeat,
//! who a change names, and the caseload's order. The words for every code are in [`labels`].
//!
//! Instants are microseconds since the Unix epoch; calendar dates are Los Angeles dates
//! ([`jiff::civil::Date`]), as the program reads them.

pub mod labels;

#[cfg(test)]
mod tests;

use std::cmp::Ordering;

use jiff::civil::Date;
use wf_proto::cases::v1::{CaseStage, FollowUpKind, FollowUpStatus};
use wf_proto::lifecycle::{self, Move, STAGES};

use super::partner::{program_zone, stage_label};

/// Whether the navigation offers "My caseload" and the case pages to `role`: staff who read and
/// work cases (a partner has its own screens for the cases it serves).
pub fn reads_cases(role: wf_auth::Role) -> bool {
    use wf_auth::{Operation, is_allowed};
    role != wf_auth::Role::Partner && is_allowed(role, Operation::ReadCase) && is_allowed(role, Operation::ManageCases)
}

/// The Los Angeles date of an instant.
pub fn local_date(at: i64) -> Option<Date> {
    jiff::Timestamp::from_microsecond(at).ok().map(|at| at.to_zoned_datetime(program_zone()).date())
}

/// The calendar date of an instant as the cases service dates follow-up windows (UTC), so a page
/// calls a window open exactly when the service lets it be recorded.
pub fn service_date(at: i64) -> Option<Date> {
    jiff::Timestamp::from_microsecond(at).ok().map(|at| at.to_zoned_datetime(jiff::tz::TimeZone::UTC).date())
}

/// The instant a Los Angeles date begins.
pub fn start_of_day(date: Date) -> Option<i64> {
    date.to_zoned_datetime(program_zone()).ok().map(|at| at.timestamp().as_microsecond())
}

/// Noon of a Los Angeles date: the instant a form's past date stands for (inside that date in Los
/// Angeles and in UTC alike).
pub fn noon_of(date: Date) -> Option<i64> {
    date.at(12, 0, 0, 0).to_zoned_datetime(program_zone()).ok().map(|at| at.timestamp().as_microsecond())
}

/// A proto date as a calendar date (`None` for a partial or impossible one).
pub fn civil(date: Option<&wf_proto::common::v1::Date>) -> Option<Date> {
    let date = date?;
    let (year, month, day) =
        (i16::try_from(date.year).ok()?, i8::try_from(date.month).ok()?, i8::try_from(date.day).ok()?);
    Date::new(year, month, day).ok()
}

/// A date as the page shows it: "Mar 3, 2026".
pub fn date_text(date: Date) -> String {
    date.strftime("%b %-d, %Y").to_string()
}

/// Where a stage stands on the stepper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepState {
    /// Passed on the way here (the main path before the current stage).
    Done,
    Current,
    /// Not reached (or, for "Youth missing", not the case now).
    Ahead,
}

impl StepState {
    pub fn class(self) -> &'static str {
        match self {
            StepState::Done => "stepper__step--done",
            StepState::Current => "stepper__step--current",
            StepState::Ahead => "stepper__step--ahead",
        }
    }

    /// Words for screen readers beside the stage's name (the colour repeats them).
    pub fn words(self) -> &'static str {
        match self {
            StepState::Done => "done",
            StepState::Current => "current stage",
            StepState::Ahead => "not reached",
        }
    }
}

/// One stage on the stepper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub stage: CaseStage,
    pub code: &'static str,
    pub label: &'static str,
    pub state: StepState,
}

impl Step {
    pub fn is_current(&self) -> bool {
        self.state == StepState::Current
    }
}

/// The main path's position of a stage ("Youth missing" is a detour from active, not a step of its
/// own on the way).
fn position(stage: CaseStage) -> Option<usize> {
    STAGES.iter().filter(|s| **s != CaseStage::Missing).position(|s| *s == stage)
}

/// The stepper of a case in `current`: every stage in lifecycle order, those before the current
/// one on the main path done.
pub fn stepper(current: CaseStage) -> Vec<Step> {
    let here = position(if current == CaseStage::Missing { CaseStage::Active } else { current });
    STAGES
        .iter()
        .map(|&stage| {
            let state = if stage == current {
                StepState::Current
            } else if stage != CaseStage::Missing && position(stage) < here {
                StepState::Done
            } else {
                StepState::Ahead
            };
            Step { stage, code: lifecycle::stage_code(stage), label: stage_label(stage), state }
        })
        .collect()
}

/// What the page offers from `current`: the stages `TransitionStage` may move to, and whether the
/// case may be closed (`CloseCase`) or reopened (`ReopenCase`), exactly as the lifecycle allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moves {
    pub stages: Vec<CaseStage>,
    pub close: bool,
    pub reopen: bool,
}

pub fn moves(current: CaseStage) -> Moves {
    let next = lifecycle::allowed_next(current);
    Moves {
        stages: next.iter().filter(|(_, by)| *by == Move::Stage).map(|(stage, _)| *stage).collect(),
        close: next.iter().any(|(_, by)| *by == Move::Close),
        reopen: next.iter().any(|(_, by)| *by == Move::Reopen),
    }
}

/// The reason code a move offered on the stepper is recorded with (a code, never free text).
pub fn stage_reason(from: CaseStage, to: CaseStage) -> &'static str {
    match (from, to) {
        (_, CaseStage::Enrolled) => "youth_enrolled",
        (_, CaseStage::Assessed) => "assessment_completed",
        (_, CaseStage::Plan) => "plan_agreed",
        (CaseStage::Missing, CaseStage::Active) => "youth_found",
        (_, CaseStage::Active) => "services_started",
        (_, CaseStage::Missing) => "youth_missing",
        (_, CaseStage::FollowUp) => "services_ending",
        (_, CaseStage::PostExitFollowUp) => "post_exit_follow_up",
        _ => "stage_changed",
    }
}

/// A follow-up as the page judges it, by its window and today's date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FollowUpState {
    /// Its window has closed unrecorded.
    Overdue,
    /// Its window is open: record it now.
    Open,
    /// Its window has not opened yet.
    Due,
    /// Recorded (completed, or the youth could not be reached or refused).
    Done,
    /// Withdrawn: the case was reopened before it was recorded, or merged.
    Cancelled,
}

impl FollowUpState {
    pub fn label(self) -> &'static str {
        match self {
            FollowUpState::Overdue => "Overdue",
            FollowUpState::Open => "Open",
            FollowUpState::Due => "Due",
            FollowUpState::Done => "Done",
            FollowUpState::Cancelled => "Cancelled",
        }
    }

    pub fn class(self) -> &'static str {
        match self {
            FollowUpState::Overdue => "status--overdue",
            FollowUpState::Open => "status--open",
            FollowUpState::Due => "status--due",
            FollowUpState::Done => "status--done",
            FollowUpState::Cancelled => "status--cancelled",
        }
    }

    /// Still to be recorded.
    pub fn is_pending(self) -> bool {
        matches!(self, FollowUpState::Overdue | FollowUpState::Open | FollowUpState::Due)
    }
}

/// A follow-up's dates: recorded from `opens_on`, due on `due_on`, overdue from `closes_on` (the
/// window is `[opens_on, closes_on)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub opens_on: Date,
    pub due_on: Date,
    pub closes_on: Date,
}

impl Window {
    /// The last day it may still be recorded on time.
    pub fn last_day(self) -> Date {
        self.closes_on.yesterday().unwrap_or(self.closes_on)
    }

    /// "Jan 1, 2026 to Jan 30, 2026".
    pub fn text(self) -> String {
        format!("{} to {}", date_text(self.opens_on), date_text(self.last_day()))
    }
}

/// The state of a follow-up in `status` with `window`, on `today`. The service's status says
/// whether it is recorded; its window, not the service's last sweep, says whether it is open.
pub fn follow_up_state(status: FollowUpStatus, window: Window, today: Date) -> FollowUpState {
    match status {
        FollowUpStatus::Completed | FollowUpStatus::LostToFollowUp | FollowUpStatus::Refused => FollowUpState::Done,
        FollowUpStatus::Cancelled => FollowUpState::Cancelled,
        FollowUpStatus::Overdue => FollowUpState::Overdue,
        _ if today >= window.closes_on => FollowUpState::Overdue,
        _ if today >= window.opens_on => FollowUpState::Open,
        _ => FollowUpState::Due,
    }
}

/// Something due on a case: a follow-up, or the assessment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueItem {
    pub label: String,
    pub due_on: Date,
    pub state: FollowUpState,
}

impl DueItem {
    pub fn overdue(&self) -> bool {
        self.state == FollowUpState::Overdue
    }

    /// "6-month follow-up, due Jul 1, 2026" / "…, overdue since Jul 31, 2026".
    pub fn text(&self) -> String {
        match self.state {
            FollowUpState::Overdue => format!("{}, overdue (was due {})", self.label, date_text(self.due_on)),
            FollowUpState::Open => format!("{}, due {} (window open)", self.label, date_text(self.due_on)),
            _ => format!("{}, due {}", self.label, date_text(self.due_on)),
        }
    }
}

/// A scheduled follow-up, as the next-due rule reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowUpFacts {
    pub kind: FollowUpKind,
    pub status: FollowUpStatus,
    pub window: Window,
}

/// The case's assessment, as the next-due rule reads it: due on `due_on` while not done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssessmentFacts {
    pub due_on: Date,
    pub assessed: bool,
}

/// Everything still to be recorded on a case, soonest due first (an overdue item first of all):
/// its pending follow-ups, and the assessment while it is not done and no assessment follow-up
/// stands for it.
pub fn pending(follow_ups: &[FollowUpFacts], assessment: Option<AssessmentFacts>, today: Date) -> Vec<DueItem> {
    let mut items: Vec<DueItem> = follow_ups
        .iter()
        .map(|f| DueItem {
            label: labels::follow_up_kind(f.kind).to_owned(),
            due_on: f.window.due_on,
            state: follow_up_state(f.status, f.window, today),
        })
        .filter(|item| item.state.is_pending())
        .collect();
    let assessment_scheduled = follow_ups.iter().any(|f| f.kind == FollowUpKind::Assessment);
    if let Some(assessment) = assessment.filter(|a| !a.assessed && !assessment_scheduled) {
        let state = if today > assessment.due_on { FollowUpState::Overdue } else { FollowUpState::Open };
        items.push(DueItem { label: "Assessment".to_owned(), due_on: assessment.due_on, state });
    }
    items.sort_by(|a, b| {
        (b.overdue().cmp(&a.overdue())).then(a.due_on.cmp(&b.due_on)).then_with(|| a.label.cmp(&b.label))
    });
    items
}

/// The next due item: the first of [`pending`].
pub fn next_due(follow_ups: &[FollowUpFacts], assessment: Option<AssessmentFacts>, today: Date) -> Option<DueItem> {
    pending(follow_ups, assessment, today).into_iter().next()
}

/// What a timeline entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EntryKind {
    Stage,
    FollowUp,
    Service,
    Contact,
}

impl EntryKind {
    pub fn label(self) -> &'static str {
        match self {
            EntryKind::Stage => "Stage",
            EntryKind::FollowUp => "Follow-up",
            EntryKind::Service => "Service",
            EntryKind::Contact => "Contact attempt",
        }
    }

    pub fn class(self) -> &'static str {
        match self {
            EntryKind::Stage => "timeline__step--stage",
            EntryKind::FollowUp => "timeline__step--follow-up",
            EntryKind::Service => "timeline__step--service",
            EntryKind::Contact => "timeline__step--contact",
        }
    }
}

/// One entry of the case's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// When it happened (a service delivered on a date: the start of that Los Angeles day).
    pub at: i64,
    /// The happening is a date, not an instant (a service delivered).
    pub date_only: bool,
    pub kind: EntryKind,
    pub text: String,
}

/// The timeline's order: most recent first; at one instant, stage changes first, then follow-ups,
/// services and contact attempts, then by their words, so equal entries keep one order.
pub fn order(a: &Entry, b: &Entry) -> Ordering {
    b.at.cmp(&a.at).then(a.kind.cmp(&b.kind)).then_with(|| a.text.cmp(&b.text))
}

pub fn timeline(mut entries: Vec<Entry>) -> Vec<Entry> {
    entries.sort_by(order);
    entries
}

/// A service recorded on the case, as "log it again" reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecentService {
    pub intervention_id: String,
    pub service_type: String,
    pub provider_id: String,
    pub partner_service_id: String,
    pub units: f64,
    pub unit_type: i32,
    pub recorded_at: i64,
}

/// How many recent services the page offers to log again.
pub const RECENT_CHIPS: usize = 4;

/// The services to offer as "log again" chips: the most recently recorded first, one per service
/// type, provider and provider's service, at most [`RECENT_CHIPS`].
pub fn recent_services(services: &[RecentService]) -> Vec<&RecentService> {
    let mut sorted: Vec<&RecentService> = services.iter().collect();
    sorted.sort_by(|a, b| b.recorded_at.cmp(&a.recorded_at).then_with(|| b.intervention_id.cmp(&a.intervention_id)));
    let mut chosen: Vec<&RecentService> = Vec::new();
    for service in sorted {
        let same = |c: &&RecentService| {
            c.service_type == service.service_type
                && c.provider_id == service.provider_id
                && c.partner_service_id == service.partner_service_id
        };
        if !chosen.iter().any(same) {
            chosen.push(service);
        }
        if chosen.len() == RECENT_CHIPS {
            break;
        }
    }
    chosen
}

/// The name of whoever a record says made a change (`updated_by`, `recorded_by`): the roster's
/// name for a staff member linked to that sign-in, "Wayfinder" for the cases service itself, else
/// the sign-in's id (staff ids, never youth data).
pub fn who(user_id: &str, roster_name: impl Fn(&str) -> Option<String>) -> String {
    match user_id {
        "" => "someone (not recorded)".to_owned(),
        "cases" => "Wayfinder (automatically)".to_owned(),
        id => roster_name(id).unwrap_or_else(|| format!("user {id}")),
    }
}

/// A short form of a case id for lists: the prefix and the last 8 hex digits; links carry the
/// whole id.
pub fn short_id(case_id: &str) -> String {
    match case_id.strip_prefix("case_") {
        Some(hex) if hex.len() > 8 => format!("case_{}", &hex[hex.len() - 8..]),
        _ => case_id.to_owned(),
    }
}

/// A caseload row's place: cases with something overdue first, then by their next due date (none
/// last), then by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseloadKey {
    pub overdue: usize,
    pub next_due: Option<Date>,
    pub case_id: String,
}

pub fn caseload_order(a: &CaseloadKey, b: &CaseloadKey) -> Ordering {
    let due = match (a.next_due, b.next_due) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    };
    (b.overdue > 0).cmp(&(a.overdue > 0)).then(due).then_with(|| a.case_id.cmp(&b.case_id))
}

/// Whether a case belongs on a caseload: open, or closed with follow-ups still to record.
pub fn on_caseload(stage: CaseStage, pending: usize) -> bool {
    !lifecycle::is_closed(stage) || pending > 0
}

/// One read of the case record, as the audit log names it (metadata only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub actor: String,
    pub role: String,
    pub at: i64,
    pub purpose: String,
    pub break_glass: bool,
}

/// Someone who read the case: their latest read, how many reads, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub actor: String,
    pub role: String,
    pub last_at: i64,
    pub reads: usize,
    /// Purpose codes given, in the order first given.
    pub purposes: Vec<String>,
    pub break_glass: bool,
}

/// The "viewed by" list: one row per reader, the latest reader first, at most `most` rows. A page
/// opening reads several parts of the case at once; they count as one read each.
pub fn viewers(reads: &[Read], most: usize) -> Vec<Viewer> {
    let mut by_actor: Vec<Viewer> = Vec::new();
    for read in reads {
        match by_actor.iter_mut().find(|v| v.actor == read.actor) {
            Some(viewer) => {
                viewer.reads += 1;
                viewer.last_at = viewer.last_at.max(read.at);
                viewer.break_glass |= read.break_glass;
                if !read.purpose.is_empty() && !viewer.purposes.contains(&read.purpose) {
                    viewer.purposes.push(read.purpose.clone());
                }
            }
            None => by_actor.push(Viewer {
                actor: read.actor.clone(),
                role: read.role.clone(),
                last_at: read.at,
                reads: 1,
                purposes: if read.purpose.is_empty() { Vec::new() } else { vec![read.purpose.clone()] },
                break_glass: read.break_glass,
            }),
        }
    }
    by_actor.sort_by(|a, b| b.last_at.cmp(&a.last_at).then_with(|| a.actor.cmp(&b.actor)));
    by_actor.truncate(most);
    by_actor
}
