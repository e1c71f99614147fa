use std::collections::HashMap;

use prost::Message;
use wf_events::EventPayload;
use wf_proto::cases::v1::{CaseStage, FollowUpKind, FollowUpStatus};
use wf_proto::common::v1 as common;
use wf_proto::events::v1 as pb;

use super::*;

const DAY: i64 = 86_400_000_000;
/// 2026-01-01T12:00:00Z in microseconds.
const T0: i64 = 1_767_268_800_000_000;

struct Log {
    events: Vec<StoredEvent>,
}

impl Log {
    fn new() -> Self {
        Self { events: Vec::new() }
    }

    fn push<P: EventPayload + Message>(&mut self, at: i64, payload: P) {
        let seq = self.events.len() as i64 + 1;
        self.events.push(StoredEvent {
            seq,
            event_type: P::TYPE.to_owned(),
            occurred_at: at,
            payload: payload.encode_to_vec(),
        });
    }
}

fn ts(at: i64) -> Option<prost_types::Timestamp> {
    Some(wf_proto::time::timestamp_from_micros(at))
}

fn date(at: i64) -> Option<common::Date> {
    let d = DateTime::<Utc>::from_timestamp_micros(at).unwrap().date_naive();
    use chrono::Datelike;
    Some(common::Date { year: d.year(), month: d.month() as i32, day: d.day() as i32 })
}

fn received(referral: &str, youth: &str, at: i64, practice: bool) -> pb::ReferralReceived {
    pb::ReferralReceived {
        referral_id: referral.into(),
        youth_id: youth.into(),
        received_at: ts(at),
        practice,
        site: common::Site::SouthLosAngeles as i32,
        source: common::ReferralSource::Hotline as i32,
        prior_participation_basis: common::PriorParticipationBasis::CourtOrdered as i32,
        age_first_exploited: Some(common::AgeAnswer { answer: Some(common::age_answer::Answer::Years(13)) }),
        last_grade_completed: common::LastGradeCompleted::Grades911 as i32,
        arrest_count: 2,
        prostitution_arrest_count: 1,
        age_years: 16,
        ..Default::default()
    }
}

fn ids(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(y, s)| ((*y).to_owned(), (*s).to_owned())).collect()
}

#[test]
fn one_row_per_youth_with_baseline_codes_and_no_identity() {
    let mut log = Log::new();
    log.push(T0, received("ref_1", "yth_1", T0, false));
    let built = build(&log.events, &ids(&[("yth_1", "stu_x")]), T0 + 10 * DAY);
    assert_eq!(built.rows.len(), 1);
    let row = &built.rows[0];
    assert_eq!(row.study_id, "stu_x");
    assert_eq!(row.site, "south_los_angeles");
    assert_eq!(row.referral_source, "hotline");
    assert_eq!(row.prior_participation, "court_ordered");
    assert_eq!(row.participation, "mandated");
    assert_eq!(row.age_first_exploited, Some(13));
    assert_eq!(row.last_grade_completed, "grades_9_11");
    assert_eq!(row.school_status, "missing");
    assert_eq!((row.arrests, row.prostitution_arrests), (2, 1));
    assert_eq!(row.age_band, "15_17");
    assert_eq!(row.quarter, "2026q1");
    let json = serde_json::to_string(row).unwrap();
    assert!(!json.contains("yth_1") && !json.contains("ref_1"), "{json}");
}

#[test]
fn practice_and_outside_program_referrals_are_left_out() {
    let mut log = Log::new();
    log.push(T0, received("ref_p", "yth_p", T0, true));
    let mut adult = received("ref_a", "yth_a", T0, false);
    adult.outside_youth_program = true;
    log.push(T0, adult);
    log.push(T0, received("ref_r", "yth_r", T0, false));
    let built = build(&log.events, &ids(&[("yth_p", "stu_p"), ("yth_a", "stu_a"), ("yth_r", "stu_r")]), T0 + DAY);
    let studies: Vec<&str> = built.rows.iter().map(|r| r.study_id.as_str()).collect();
    assert_eq!(studies, vec!["stu_r"]);
    assert_eq!(youth_ids_in(&log.events), vec!["yth_a".to_owned(), "yth_r".to_owned()]);
}

#[test]
fn case_events_give_interventions_follow_ups_outcomes_and_censoring() {
    let mut log = Log::new();
    log.push(T0, received("ref_1", "yth_1", T0, false));
    log.push(
        T0 + DAY,
        pb::CaseAssigned { case_id: "case_1".into(), referral_id: "ref_1".into(), ..Default::default() },
    );
    log.push(
        T0 + 5 * DAY,
        pb::CaseStageChanged {
            case_id: "case_1".into(),
            referral_id: "ref_1".into(),
            to_stage: CaseStage::Enrolled as i32,
            effective_at: ts(T0 + 5 * DAY),
            ..Default::default()
        },
    );
    for (day, service) in [(10, "mental_health"), (40, "mental_health"), (100, "transitional_housing")] {
        log.push(
            T0 + day * DAY,
            pb::InterventionDelivered {
                case_id: "case_1".into(),
                referral_id: "ref_1".into(),
                service_type: service.into(),
                delivered_on: date(T0 + day * DAY),
                units: 2.0,
                ..Default::default()
            },
        );
    }
    log.push(
        T0 + 150 * DAY,
        pb::CaseClosed {
            case_id: "case_1".into(),
            youth_id: "yth_1".into(),
            exited_at: ts(T0 + 150 * DAY),
            ..Default::default()
        },
    );
    log.push(
        T0 + 330 * DAY,
        pb::FollowUpDue { case_id: "case_1".into(), kind: FollowUpKind::Month6 as i32, ..Default::default() },
    );
    log.push(
        T0 + 340 * DAY,
        pb::FollowUpRecorded {
            case_id: "case_1".into(),
            kind: FollowUpKind::Month6 as i32,
            status: FollowUpStatus::LostToFollowUp as i32,
            ..Default::default()
        },
    );
    let built = build(&log.events, &ids(&[("yth_1", "stu_1")]), T0 + 400 * DAY);
    let row = &built.rows[0];
    assert!(row.enrolled);
    assert_eq!(row.interventions.len(), 2);
    let mental = &row.interventions[0];
    assert_eq!(
        (mental.service_type.as_str(), mental.first_day, mental.deliveries, mental.units),
        ("mental_health", 10.0, 2, 4.0)
    );
    assert_eq!(row.received_by(90.0), vec!["mental_health"]);
    assert_eq!(row.follow_ups, vec![FollowUpState { kind: "month_6".into(), status: "lost_to_follow_up".into() }]);
    // Lost at the 6-month follow-up: censored at the exit (150 days), the last contact.
    assert_eq!(row.last_contact_day, 150.0);
    assert!(row.recidivism.is_empty());
    assert_eq!(row.exited_day, Some(150.0));

    // A recidivism event after the as-of instant is not seen; one before is.
    log.push(
        T0 + 200 * DAY,
        pb::RecidivismRecorded {
            case_id: "case_1".into(),
            youth_id: "yth_1".into(),
            kind: common::RecidivismKind::ReArrest as i32,
            occurred_on: date(T0 + 200 * DAY),
            ..Default::default()
        },
    );
    let later = build(&log.events, &ids(&[("yth_1", "stu_1")]), T0 + 400 * DAY);
    assert_eq!(later.rows[0].recidivism, vec![Recidivism { kind: "re_arrest".into(), day: 200.0 }]);
    let earlier = build(&log.events, &ids(&[("yth_1", "stu_1")]), T0 + 190 * DAY);
    assert!(earlier.rows[0].recidivism.is_empty());
    assert_eq!(earlier.rows[0].interventions.len(), 2);
}

#[test]
fn a_confirmed_match_moves_the_referral_to_the_earlier_youth() {
    let mut log = Log::new();
    log.push(T0, received("ref_1", "yth_1", T0, false));
    log.push(T0 + 200 * DAY, received("ref_2", "yth_2", T0 + 200 * DAY, false));
    log.push(
        T0 + 201 * DAY,
        pb::PossibleMatchConfirmed {
            referral_id: "ref_2".into(),
            youth_id: "yth_1".into(),
            previous_youth_id: "yth_2".into(),
            ..Default::default()
        },
    );
    let built = build(&log.events, &ids(&[("yth_1", "stu_1"), ("yth_2", "stu_2")]), T0 + 300 * DAY);
    assert_eq!(built.rows.len(), 1);
    assert_eq!(built.rows[0].returns, 1);
    assert_eq!(built.rows[0].last_contact_day, 200.0);
}

#[test]
fn unknown_day_is_the_fifteenth_and_early_events_are_not_outcomes() {
    assert_eq!(date_of(2026, 3, 0), NaiveDate::from_ymd_opt(2026, 3, 15));
    assert_eq!(date_of(2026, 0, 0), NaiveDate::from_ymd_opt(2026, 7, 15));
    assert_eq!(date_of(0, 0, 0), None);
}

fn date_of(year: i32, month: i32, day: i32) -> Option<NaiveDate> {
    super::date(&common::Date { year, month, day })
}

#[test]
fn the_referred_range_keeps_youth_by_intake_and_is_half_open() {
    let mut log = Log::new();
    log.push(T0, received("ref_1", "yth_1", T0, false));
    log.push(T0 + 30 * DAY, received("ref_2", "yth_2", T0 + 30 * DAY, false));
    let ids = ids(&[("yth_1", "stu_1"), ("yth_2", "stu_2")]);
    let as_of = T0 + 60 * DAY;
    let studies =
        |range| build_scoped(&log.events, &ids, as_of, range).rows.into_iter().map(|r| r.study_id).collect::<Vec<_>>();
    assert_eq!(studies((None, None)), vec!["stu_1", "stu_2"]);
    assert_eq!(studies((Some(T0 + DAY), None)), vec!["stu_2"]);
    assert_eq!(studies((None, Some(T0 + 30 * DAY))), vec!["stu_1"]);
    // As of day 10 the second referral has not happened yet.
    assert_eq!(build(&log.events, &ids, T0 + 10 * DAY).rows.len(), 1);
}

fn stage(log: &mut Log, day: i64, to: CaseStage) {
    log.push(
        T0 + day * DAY,
        pb::CaseStageChanged {
            case_id: "case_1".into(),
            referral_id: "ref_1".into(),
            to_stage: to as i32,
            effective_at: ts(T0 + day * DAY),
            ..Default::default()
        },
    );
}

#[test]
fn missing_episodes_run_from_missing_back_to_active_and_an_open_one_ends_at_the_as_of_instant() {
    let mut log = Log::new();
    log.push(T0, received("ref_1", "yth_1", T0, false));
    log.push(
        T0 + DAY,
        pb::CaseAssigned { case_id: "case_1".into(), referral_id: "ref_1".into(), ..Default::default() },
    );
    stage(&mut log, 5, CaseStage::Enrolled);
    stage(&mut log, 20, CaseStage::Active);
    stage(&mut log, 30, CaseStage::Missing);
    // A repeated "missing" does not open a second episode.
    stage(&mut log, 32, CaseStage::Missing);
    stage(&mut log, 41, CaseStage::Active);
    stage(&mut log, 100, CaseStage::Missing);
    let built = build(&log.events, &ids(&[("yth_1", "stu_1")]), T0 + 120 * DAY);
    let episodes: Vec<(f64, f64)> = built.rows[0].missing_episodes.iter().map(|e| (e.start_day, e.end_day)).collect();
    assert_eq!(episodes, [(30.0, 41.0), (100.0, 120.0)]);

    // Closing the case ends the open episode.
    log.push(
        T0 + 110 * DAY,
        pb::CaseClosed {
            case_id: "case_1".into(),
            referral_id: "ref_1".into(),
            exited_at: ts(T0 + 110 * DAY),
            ..Default::default()
        },
    );
    let built = build(&log.events, &ids(&[("yth_1", "stu_1")]), T0 + 120 * DAY);
    assert_eq!(built.rows[0].missing_episodes[1].end_day, 110.0);
}

#[test]
fn completed_follow_ups_carry_coded_long_term_domains() {
    use wf_proto::cases::v1::FollowUpOutcomes;
    let mut log = Log::new();
    log.push(T0, received("ref_1", "yth_1", T0, false));
    log.push(
        T0 + DAY,
        pb::CaseAssigned { case_id: "case_1".into(), referral_id: "ref_1".into(), ..Default::default() },
    );
    let outcomes = FollowUpOutcomes {
        school_status: common::SchoolStatus::AttendingRegularly as i32,
        employment: Some(common::Employment { employed: common::NoYes::Yes as i32, ..Default::default() }),
        income: Some(common::Income {
            any_income: common::NoYes::Yes as i32,
            total_monthly_income_cents: 90_000,
            ..Default::default()
        }),
        feels_safe: common::NoYes::No as i32,
        wellbeing_score: 17,
        ..Default::default()
    };
    log.push(
        T0 + 200 * DAY,
        pb::FollowUpRecorded {
            case_id: "case_1".into(),
            kind: FollowUpKind::Month6 as i32,
            status: FollowUpStatus::Completed as i32,
            outcomes: Some(outcomes),
            ..Default::default()
        },
    );
    // A refused follow-up has no answers.
    log.push(
        T0 + 380 * DAY,
        pb::FollowUpRecorded {
            case_id: "case_1".into(),
            kind: FollowUpKind::Month12 as i32,
            status: FollowUpStatus::Refused as i32,
            ..Default::default()
        },
    );
    let built = build(&log.events, &ids(&[("yth_1", "stu_1")]), T0 + 400 * DAY);
    let domains = &built.rows[0].follow_up_domains;
    assert_eq!(domains.len(), 1);
    assert_eq!(domains[0].kind, "month_6");
    let answer = |d: &str| domains[0].answers.get(d).map(String::as_str);
    assert_eq!(answer("school_status"), Some("attending_regularly"));
    assert_eq!(answer("employed"), Some("yes"));
    assert_eq!(answer("any_income"), Some("yes"));
    assert_eq!(answer("feels_safe"), Some("no"));
    assert_eq!(answer("living_situation"), Some("missing"));
    assert_eq!(domains[0].answers.len(), DOMAINS.len());
    // Codes only: no amount and no wellbeing score reach the data set.
    let json = serde_json::to_string(&built.rows[0]).unwrap();
    assert!(!json.contains("90000") && !json.contains("wellbeing"), "{json}");
}

#[test]
fn a_withdrawn_intervention_counts_nowhere_whichever_event_comes_first() {
    let delivered = |id: &str, service: &str, day: i64| {
        (
            T0 + day * DAY,
            pb::InterventionDelivered {
                intervention_id: id.into(),
                case_id: "case_w".into(),
                referral_id: "ref_w".into(),
                service_type: service.into(),
                delivered_on: date(T0 + day * DAY),
                units: 1.0,
                ..Default::default()
            },
        )
    };
    let withdrawn = |id: &str, day: i64| {
        (
            T0 + day * DAY,
            pb::InterventionWithdrawn {
                intervention_id: id.into(),
                case_id: "case_w".into(),
                referral_id: "ref_w".into(),
                ..Default::default()
            },
        )
    };
    for withdrawal_first in [false, true] {
        let mut log = Log::new();
        log.push(T0, received("ref_w", "yth_w", T0, false));
        log.push(
            T0,
            pb::CaseAssigned {
                case_id: "case_w".into(),
                referral_id: "ref_w".into(),
                youth_id: "yth_w".into(),
                ..Default::default()
            },
        );
        let (at, kept) = delivered("int_kept", "mental_health", 10);
        log.push(at, kept);
        let (at, undone) = delivered("int_undone", "legal_advocacy", 11);
        let (undo_at, undo) = withdrawn("int_undone", 11);
        if withdrawal_first {
            log.push(undo_at, undo);
            log.push(at, undone);
        } else {
            log.push(at, undone);
            log.push(undo_at, undo);
        }
        let built = build(&log.events, &ids(&[("yth_w", "stu_w")]), T0 + 30 * DAY);
        let row = &built.rows[0];
        let services: Vec<&str> = row.interventions.iter().map(|e| e.service_type.as_str()).collect();
        assert_eq!(services, ["mental_health"], "withdrawal first: {withdrawal_first}");
    }
}
