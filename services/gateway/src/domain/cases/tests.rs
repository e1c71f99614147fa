use jiff::civil::date;
use wf_proto::cases::v1::{CaseStage, FollowUpKind, FollowUpStatus};
use wf_proto::lifecycle::{Move, TRANSITIONS};

use super::*;

fn window(opens: Date, due: Date, closes: Date) -> Window {
    Window { opens_on: opens, due_on: due, closes_on: closes }
}

#[test]
fn the_stepper_marks_the_path_done_up_to_the_current_stage() {
    let steps = stepper(CaseStage::Plan);
    let states: Vec<(CaseStage, StepState)> = steps.iter().map(|s| (s.stage, s.state)).collect();
    use CaseStage::*;
    use StepState::*;
    assert_eq!(
        states,
        [
            (Engagement, Done),
            (Enrolled, Done),
            (Assessed, Done),
            (Plan, Current),
            (Active, Ahead),
            (Missing, Ahead),
            (FollowUp, Ahead),
            (Closed, Ahead),
            (PostExitFollowUp, Ahead),
        ]
    );
    // Missing is a detour from active: the path up to active is done, missing is current.
    let missing = stepper(Missing);
    assert_eq!(missing.iter().find(|s| s.stage == Active).map(|s| s.state), Some(Ahead));
    assert_eq!(missing.iter().find(|s| s.stage == Plan).map(|s| s.state), Some(Done));
    assert_eq!(missing.iter().find(|s| s.stage == Missing).map(|s| s.state), Some(Current));
    // Past missing, it is never "done": the case may never have been missing.
    let later = stepper(FollowUp);
    assert_eq!(later.iter().find(|s| s.stage == Missing).map(|s| s.state), Some(Ahead));
    assert_eq!(later.iter().find(|s| s.stage == Active).map(|s| s.state), Some(Done));
    assert_eq!(steps[3].code, "plan");
    assert_eq!(steps[3].label, "Service plan agreed");
}

#[test]
fn the_page_offers_exactly_the_moves_the_lifecycle_allows() {
    for stage in wf_proto::lifecycle::STAGES {
        let offered = moves(stage);
        let allowed: Vec<CaseStage> =
            TRANSITIONS.iter().filter(|(from, _, by)| *from == stage && *by == Move::Stage).map(|t| t.1).collect();
        assert_eq!(offered.stages, allowed, "{stage:?}");
        assert_eq!(offered.close, !wf_proto::lifecycle::is_closed(stage), "{stage:?}");
        assert_eq!(offered.reopen, wf_proto::lifecycle::is_closed(stage), "{stage:?}");
    }
    assert_eq!(moves(CaseStage::Engagement).stages, [CaseStage::Enrolled]);
    assert_eq!(moves(CaseStage::Active).stages, [CaseStage::Missing, CaseStage::FollowUp]);
    assert!(moves(CaseStage::FollowUp).stages.is_empty());
}

#[test]
fn each_offered_move_has_its_own_reason_code() {
    assert_eq!(stage_reason(CaseStage::Missing, CaseStage::Active), "youth_found");
    assert_eq!(stage_reason(CaseStage::Plan, CaseStage::Active), "services_started");
    assert_eq!(stage_reason(CaseStage::Active, CaseStage::Missing), "youth_missing");
    for (from, to, by) in TRANSITIONS {
        if *by == Move::Stage {
            let reason = stage_reason(*from, *to);
            assert_ne!(reason, "stage_changed", "{from:?} → {to:?}");
            assert!(reason.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{reason}");
            assert_ne!(labels::move_reason(reason), "No reason given", "{reason}");
        }
    }
}

#[test]
fn a_follow_up_is_due_then_open_then_overdue_unless_recorded() {
    let w = window(date(2026, 7, 1), date(2026, 7, 1), date(2026, 7, 31));
    let at = |today| follow_up_state(FollowUpStatus::Scheduled, w, today);
    assert_eq!(at(date(2026, 6, 30)), FollowUpState::Due);
    assert_eq!(at(date(2026, 7, 1)), FollowUpState::Open);
    assert_eq!(at(date(2026, 7, 30)), FollowUpState::Open);
    assert_eq!(at(date(2026, 7, 31)), FollowUpState::Overdue);
    // The service's sweep may lag: the window decides; a recorded one is done whenever.
    assert_eq!(follow_up_state(FollowUpStatus::Due, w, date(2026, 8, 2)), FollowUpState::Overdue);
    assert_eq!(follow_up_state(FollowUpStatus::Overdue, w, date(2026, 7, 2)), FollowUpState::Overdue);
    for done in [FollowUpStatus::Completed, FollowUpStatus::LostToFollowUp, FollowUpStatus::Refused] {
        assert_eq!(follow_up_state(done, w, date(2027, 1, 1)), FollowUpState::Done);
    }
    assert_eq!(follow_up_state(FollowUpStatus::Cancelled, w, date(2026, 7, 5)), FollowUpState::Cancelled);
    assert_eq!(w.last_day(), date(2026, 7, 30));
    assert_eq!(w.text(), "Jul 1, 2026 to Jul 30, 2026");
}

#[test]
fn the_next_due_item_is_the_overdue_one_then_the_soonest() {
    let today = date(2026, 7, 10);
    let facts = |kind, status, opens, due, closes| FollowUpFacts { kind, status, window: window(opens, due, closes) };
    let follow_ups = [
        facts(FollowUpKind::Month12, FollowUpStatus::Scheduled, date(2027, 1, 1), date(2027, 1, 1), date(2027, 1, 31)),
        facts(FollowUpKind::Month6, FollowUpStatus::Due, date(2026, 7, 1), date(2026, 7, 1), date(2026, 7, 31)),
        facts(FollowUpKind::Exit, FollowUpStatus::Completed, date(2025, 12, 2), date(2026, 1, 1), date(2026, 1, 31)),
    ];
    let next = next_due(&follow_ups, None, today).expect("something due");
    assert_eq!((next.label.as_str(), next.state), ("6-month follow-up", FollowUpState::Open));
    assert_eq!(next.text(), "6-month follow-up, due Jul 1, 2026 (window open)");
    // Done ones are never due; an overdue one comes first even when another is due sooner.
    let all = pending(&follow_ups, None, date(2026, 8, 1));
    assert_eq!(all.iter().map(|i| i.label.as_str()).collect::<Vec<_>>(), ["6-month follow-up", "12-month follow-up"]);
    assert!(all[0].overdue() && all[0].text().contains("overdue"));
    let early_overdue =
        facts(FollowUpKind::Baseline, FollowUpStatus::Overdue, date(2026, 9, 1), date(2026, 9, 1), date(2026, 9, 2));
    let first = next_due(&[follow_ups[1], early_overdue], None, today).unwrap();
    assert_eq!(first.label, "Baseline follow-up", "an overdue item comes first");

    // The assessment counts while not done, unless its follow-up stands for it.
    let assessment = AssessmentFacts { due_on: date(2026, 7, 5), assessed: false };
    let item = next_due(&[], Some(assessment), today).unwrap();
    assert_eq!((item.label.as_str(), item.overdue()), ("Assessment", true));
    assert!(next_due(&[], Some(AssessmentFacts { assessed: true, ..assessment }), today).is_none());
    let scheduled =
        facts(FollowUpKind::Assessment, FollowUpStatus::Due, date(2026, 4, 6), date(2026, 7, 5), date(2026, 7, 6));
    assert_eq!(pending(&[scheduled], Some(assessment), today).len(), 1);
    assert!(next_due(&[], None, today).is_none());
}

#[test]
fn the_timeline_reads_newest_first_with_a_stable_order_at_one_instant() {
    let entry = |at, kind, text: &str| Entry { at, date_only: false, kind, text: text.to_owned() };
    let ordered = timeline(vec![
        entry(10, EntryKind::Contact, "reached"),
        entry(30, EntryKind::Service, "advocacy"),
        entry(20, EntryKind::Contact, "b"),
        entry(20, EntryKind::Stage, "enrolled"),
        entry(20, EntryKind::Contact, "a"),
        entry(20, EntryKind::FollowUp, "baseline"),
    ]);
    let read: Vec<(i64, &str)> = ordered.iter().map(|e| (e.at, e.text.as_str())).collect();
    assert_eq!(read, [(30, "advocacy"), (20, "enrolled"), (20, "baseline"), (20, "a"), (20, "b"), (10, "reached")]);
}

#[test]
fn a_service_dated_a_day_starts_that_los_angeles_day() {
    // 2026-03-02 00:00 PST is 08:00 UTC.
    let start = start_of_day(date(2026, 3, 2)).unwrap();
    assert_eq!(start, 1_772_438_400_000_000);
    assert_eq!(local_date(start), Some(date(2026, 3, 2)));
    assert_eq!(local_date(start - 1), Some(date(2026, 3, 1)));
    let proto = wf_proto::common::v1::Date { year: 2026, month: 3, day: 2 };
    assert_eq!(civil(Some(&proto)), Some(date(2026, 3, 2)));
    assert_eq!(civil(Some(&wf_proto::common::v1::Date { year: 2026, month: 0, day: 0 })), None);
    assert_eq!(date_text(date(2026, 3, 2)), "Mar 2, 2026");
}

#[test]
fn log_again_offers_the_most_recent_of_each_service_at_most_four() {
    let service = |id: &str, kind: &str, provider: &str, at| RecentService {
        intervention_id: id.to_owned(),
        service_type: kind.to_owned(),
        provider_id: provider.to_owned(),
        partner_service_id: String::new(),
        units: 1.0,
        unit_type: 2,
        recorded_at: at,
    };
    let recorded = [
        service("int_1", "victim_advocacy", "org_a", 1),
        service("int_2", "victim_advocacy", "org_a", 5),
        service("int_3", "mental_health", "org_a", 3),
        service("int_4", "victim_advocacy", "org_b", 4),
        service("int_5", "transportation", "org_a", 2),
        service("int_6", "education", "org_a", 0),
    ];
    let chips: Vec<&str> = recent_services(&recorded).iter().map(|s| s.intervention_id.as_str()).collect();
    assert_eq!(chips, ["int_2", "int_4", "int_3", "int_5"]);
    assert!(recent_services(&[]).is_empty());
}

#[test]
fn a_change_names_the_roster_entry_of_its_sign_in() {
    let roster = |id: &str| (id == "usr_maria").then(|| "Maria Lopez (CM-SLA-1)".to_owned());
    assert_eq!(who("usr_maria", roster), "Maria Lopez (CM-SLA-1)");
    assert_eq!(who("usr_other", roster), "user usr_other");
    assert_eq!(who("cases", roster), "Wayfinder (automatically)");
    assert_eq!(who("", roster), "someone (not recorded)");
}

#[test]
fn the_caseload_puts_overdue_cases_first_then_the_soonest_due() {
    let key = |id: &str, overdue, due| CaseloadKey { overdue, next_due: due, case_id: id.to_owned() };
    let mut rows = [
        key("case_none", 0, None),
        key("case_later", 0, Some(date(2026, 9, 1))),
        key("case_overdue", 1, Some(date(2026, 8, 1))),
        key("case_soon", 0, Some(date(2026, 7, 1))),
        key("case_b", 0, None),
    ];
    rows.sort_by(caseload_order);
    let ids: Vec<&str> = rows.iter().map(|r| r.case_id.as_str()).collect();
    assert_eq!(ids, ["case_overdue", "case_soon", "case_later", "case_b", "case_none"]);
    assert!(on_caseload(CaseStage::Active, 0));
    assert!(!on_caseload(CaseStage::Closed, 0));
    assert!(on_caseload(CaseStage::PostExitFollowUp, 2));
    assert_eq!(short_id("case_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d"), "case_3a4b5c6d");
}

#[test]
fn every_form_list_round_trips_and_closing_never_offers_merged() {
    use labels::*;
    assert!(CLOSURE_REASONS.iter().all(|(reason, _, _)| *reason != wf_proto::cases::v1::CaseClosureReason::Merged));
    for (reason, code, words) in CLOSURE_REASONS {
        assert_eq!(parse(CLOSURE_REASONS, code), Some(*reason));
        assert_eq!(closure_label(*reason as i32), *words);
    }
    let situations = living_situations();
    assert!(situations.len() > 10, "{situations:?}");
    for (situation, code, _) in &situations {
        assert_eq!(living_situation_from_form(code), Some(*situation));
    }
    assert_eq!(stage_from_form("post_exit_follow_up"), Some(CaseStage::PostExitFollowUp));
    assert_eq!(move_reason("goals_met"), "Goals met");
    assert_eq!(move_reason("youth_returned"), "The youth came back");
    assert_eq!(move_reason("case_merged"), "Case merged");
    assert_eq!(missing_field("follow_up.month_6"), "6-month follow-up");
    assert_eq!(missing_field("exit_living_situation"), "Living situation at exit");
    assert!(situations.iter().any(|(_, code, words)| code == "client_doesnt_know" && words == "Youth doesn't know"));
}

#[test]
fn viewed_by_lists_each_reader_once_the_latest_first() {
    let read = |actor: &str, at: i64, purpose: &str| Read {
        actor: actor.into(),
        role: "case_manager".into(),
        at,
        purpose: purpose.into(),
        break_glass: false,
    };
    let reads = [
        read("usr_a", 10, "case_management"),
        read("usr_b", 20, "supervision"),
        read("usr_a", 30, "safety_planning"),
        read("usr_a", 31, "case_management"),
        read("usr_c", 5, ""),
    ];
    let listed = viewers(&reads, 10);
    let order: Vec<(&str, i64, usize)> = listed.iter().map(|v| (v.actor.as_str(), v.last_at, v.reads)).collect();
    assert_eq!(order, [("usr_a", 31, 3), ("usr_b", 20, 1), ("usr_c", 5, 1)]);
    assert_eq!(listed[0].purposes, ["case_management", "safety_planning"]);
    assert!(listed[2].purposes.is_empty());
    assert_eq!(viewers(&reads, 2).len(), 2, "at most the rows asked for");
}
