//! How the case pages name codes: each closed list a form offers as one table of (value, form code,
//! words), in the shape of the referral pages' tables ([`Table`]), so a form's allowed values, its
//! parsing and the label a page shows never disagree. Form codes are the proto names without their
//! prefix, lowercased.

use wf_proto::cases::v1::{CaseClosureReason, CaseStage, FollowUpKind, FollowUpStatus, GoalStatus};
use wf_proto::common::v1::{LivingSituation, NoYes, Readiness, RecidivismEvidence, RecidivismKind};

pub use crate::domain::queue::labels::{Table, allowed, code, label, label_of, parse};

/// The stages the stepper's buttons name, in lifecycle order (its form codes are the lifecycle's
/// stage codes).
pub fn stage_from_form(code: &str) -> Option<CaseStage> {
    wf_proto::lifecycle::stage_from_code(code)
}

pub const READINESS: &Table<Readiness> = &[
    (Readiness::NotYetReady, "not_yet_ready", "Not yet ready"),
    (Readiness::ReadyToEngage, "ready_to_engage", "Ready to engage"),
    (Readiness::Enrolled, "enrolled", "Enrolled"),
    (Readiness::DeclinedServices, "declined_services", "Declined services"),
];

/// The reasons staff close a case with (MERGED is the service's own).
pub const CLOSURE_REASONS: &Table<CaseClosureReason> = &[
    (CaseClosureReason::GoalsMet, "goals_met", "Goals met"),
    (CaseClosureReason::DeclinedServices, "declined_services", "Youth declined services"),
    (CaseClosureReason::Unreachable, "unreachable", "Youth could not be reached"),
    (CaseClosureReason::MovedAway, "moved_away", "Moved away"),
    (CaseClosureReason::Transferred, "transferred", "Transferred to another program"),
    (CaseClosureReason::AgedOut, "aged_out", "Aged out of the program"),
    (CaseClosureReason::Ineligible, "ineligible", "Not eligible"),
    (CaseClosureReason::Deceased, "deceased", "Deceased"),
    (CaseClosureReason::Other, "other", "Another reason"),
];

/// A closure reason as a closed case shows it (MERGED included).
pub fn closure_label(reason: i32) -> &'static str {
    match CaseClosureReason::try_from(reason) {
        Ok(CaseClosureReason::Merged) => "Merged into the youth's open case",
        Ok(reason) => label(CLOSURE_REASONS, reason).unwrap_or("Closed"),
        Err(_) => "Closed",
    }
}

/// The reasons the reopen form offers (`ReopenCaseRequest.reason` codes).
pub const REOPEN_REASONS: &Table<&'static str> = &[
    ("youth_returned", "youth_returned", "The youth came back"),
    ("closed_in_error", "closed_in_error", "The case was closed by mistake"),
    ("youth_request", "youth_request", "The youth asked to resume services"),
];

/// Every living situation of the proto (HUD 3.12), with words made from its name.
pub fn living_situations() -> Vec<(LivingSituation, String, String)> {
    (1..64)
        .filter_map(|n| LivingSituation::try_from(n).ok())
        .map(|situation| {
            let code = situation.as_str_name().trim_start_matches("LIVING_SITUATION_").to_ascii_lowercase();
            let words =
                crate::domain::partner::code_label(&code.replace("client_", "youth_").replace("doesnt", "doesn't"));
            (situation, code, words)
        })
        .collect()
}

pub fn living_situation_from_form(code: &str) -> Option<LivingSituation> {
    living_situations().into_iter().find(|(_, c, _)| c == code).map(|(situation, _, _)| situation)
}

/// Outcome domains a plan goal serves (`ServicePlanGoal.domain` codes).
pub const GOAL_DOMAINS: &Table<&'static str> = &[
    ("housing_stability", "housing_stability", "Housing stability"),
    ("education", "education", "Education"),
    ("employment_income", "employment_income", "Employment and income"),
    ("wellbeing", "wellbeing", "Wellbeing"),
    ("safety_connection", "safety_connection", "Safety and connection"),
    ("legal_status", "legal_status", "Legal status"),
    ("engagement", "engagement", "Engagement with services"),
];

pub const GOAL_STATUSES: &Table<GoalStatus> = &[
    (GoalStatus::Open, "open", "Open"),
    (GoalStatus::InProgress, "in_progress", "In progress"),
    (GoalStatus::Achieved, "achieved", "Achieved"),
    (GoalStatus::Dropped, "dropped", "Dropped"),
];

pub fn follow_up_kind(kind: FollowUpKind) -> &'static str {
    match kind {
        FollowUpKind::Baseline => "Baseline follow-up",
        FollowUpKind::Assessment => "Assessment follow-up",
        FollowUpKind::Exit => "Exit follow-up",
        FollowUpKind::Month6 => "6-month follow-up",
        FollowUpKind::Month12 => "12-month follow-up",
        FollowUpKind::Month24 => "24-month follow-up",
        FollowUpKind::Unspecified => "Follow-up",
    }
}

/// What recording a follow-up may say happened.
pub const FOLLOW_UP_RESULTS: &Table<FollowUpStatus> = &[
    (FollowUpStatus::Completed, "completed", "Completed with the youth"),
    (FollowUpStatus::LostToFollowUp, "lost_to_follow_up", "Could not reach the youth in the window"),
    (FollowUpStatus::Refused, "refused", "The youth declined the follow-up"),
];

/// The answers the follow-up form asks (yes / no / not asked).
pub const NO_YES: &Table<NoYes> = &[
    (NoYes::Yes, "yes", "Yes"),
    (NoYes::No, "no", "No"),
    (NoYes::ClientDoesntKnow, "doesnt_know", "The youth doesn't know"),
    (NoYes::ClientPrefersNotToAnswer, "prefers_not_to_answer", "The youth prefers not to answer"),
];

pub const RECIDIVISM_KINDS: &Table<RecidivismKind> = &[
    (RecidivismKind::ReExploitation, "re_exploitation", "Re-exploitation"),
    (RecidivismKind::ReArrest, "re_arrest", "Re-arrest"),
    (RecidivismKind::ReturnToTrafficker, "return_to_trafficker", "Return to the trafficker"),
    (RecidivismKind::RunningAway, "running_away", "Running away"),
];

pub const RECIDIVISM_EVIDENCE: &Table<RecidivismEvidence> = &[
    (RecidivismEvidence::CaseManagerReport, "case_manager_report", "Case manager's report"),
    (RecidivismEvidence::PartnerReport, "partner_report", "Partner's report"),
    (RecidivismEvidence::ArrestRecord, "arrest_record", "Arrest record"),
    (RecidivismEvidence::FollowUpAnswer, "follow_up_answer", "Follow-up answer"),
    (RecidivismEvidence::ClearConcernScreening, "clear_concern_screening", "Clear-concern screening"),
    (RecidivismEvidence::NewReferral, "new_referral", "New referral after the exit"),
];

/// Note categories (`CaseNote.category` codes).
pub const NOTE_CATEGORIES: &Table<&'static str> = &[
    ("general", "general", "General"),
    ("contact", "contact", "Contact with the youth"),
    ("safety_plan", "safety_plan", "Safety plan"),
    ("coordination", "coordination", "Coordination with partners"),
    ("supervision", "supervision", "Supervision"),
];

/// A missing field's code (`Case.missing_fields`) in words.
pub fn missing_field(code: &str) -> String {
    let kind = |name: &str| match name {
        "baseline" => Some(FollowUpKind::Baseline),
        "assessment" => Some(FollowUpKind::Assessment),
        "exit" => Some(FollowUpKind::Exit),
        "month_6" => Some(FollowUpKind::Month6),
        "month_12" => Some(FollowUpKind::Month12),
        "month_24" => Some(FollowUpKind::Month24),
        _ => None,
    };
    match code {
        "assessed_at" => "Assessment (overdue)".to_owned(),
        "exit_living_situation" => "Living situation at exit".to_owned(),
        other => match other.strip_prefix("follow_up.").and_then(kind) {
            Some(kind) => follow_up_kind(kind).to_owned(),
            None => crate::domain::partner::code_label(&other.replace('.', " ")),
        },
    }
}

/// A stored code's words from `table`, else the code with spaces ("youth_found" → "Youth found").
pub fn code_or_words(table: &Table<&'static str>, value: &str) -> String {
    table
        .iter()
        .find(|(code, _, _)| *code == value)
        .map_or_else(|| crate::domain::partner::code_label(value), |(_, _, words)| (*words).to_owned())
}

/// The words of a stage change's reason code (the stepper's own, a closure's, a reopening's).
pub fn move_reason(reason: &str) -> String {
    match reason {
        "youth_enrolled" | "youth_ready" => "The youth enrolled".to_owned(),
        "assessment_completed" => "Assessment completed".to_owned(),
        "plan_agreed" => "Service plan agreed with the youth".to_owned(),
        "services_started" => "Services started".to_owned(),
        "youth_missing" => "The youth went missing".to_owned(),
        "youth_found" => "The youth was found".to_owned(),
        "services_ending" => "Services ending: exit follow-up".to_owned(),
        "post_exit_follow_up" => "Post-exit follow-ups began".to_owned(),
        "unspecified" | "" => "No reason given".to_owned(),
        other => match CLOSURE_REASONS.iter().find(|(_, code, _)| *code == other) {
            Some((_, _, words)) => (*words).to_owned(),
            None => code_or_words(REOPEN_REASONS, other),
        },
    }
}
