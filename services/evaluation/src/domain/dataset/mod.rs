//! The analytic data set: one row per youth under a random study id, folded from the coded events
//! the service stored. Pure: the same events and study ids give the same rows.
//!
//! - Practice referrals (and everything on their cases) are left out, and so are referrals of
//!   people outside the youth program (over 24).
//! - A confirmed possible match moves a referral to the earlier youth (`possible_match.confirmed`).
//! - The baseline is the youth's first referral; later referrals are returns.
//! - Times are days from intake (the first referral's `received_at`); calendar dates count whole
//!   days from the intake date. A date with an unknown day is taken as the 15th, an unknown month
//!   as July (the middle), so the error is at most half the unknown span.
//! - Recidivism events on or before the intake date are not outcomes.
//! - Privileged notes never reach this service (`case_note.added` is not even bound).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use prost::Message;
use wf_events::EventPayload;
use wf_proto::cases::v1::{CaseStage, FollowUpKind, FollowUpStatus};
use wf_proto::common::v1 as common;
use wf_proto::events::v1 as pb;

use super::codes::{self, code_of};

mod row;

pub use row::{
    DIMENSIONS, DOMAINS, Exposure, FollowUpDomains, FollowUpState, MissingEpisode, Recidivism, YouthRow, new_study_id,
};

/// Version of the code mappings above; part of every data set version.
pub const MAPPING_VERSION: &str = "m1";

const MICROS_PER_DAY: f64 = 86_400_000_000.0;

/// One stored event.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub seq: i64,
    pub event_type: String,
    pub occurred_at: i64,
    pub payload: Vec<u8>,
}

/// The sequence number of the last stored event (0 for none).
pub fn last_seq(events: &[StoredEvent]) -> i64 {
    events.iter().map(|e| e.seq).max().unwrap_or(0)
}

/// The version of the program data set given its events: mapping version, event count and the
/// last event's sequence — the same events give the same version.
pub fn program_version(events: &[StoredEvent]) -> String {
    format!("program-{MAPPING_VERSION}-{}-{}", events.len(), last_seq(events))
}

/// The version of a synthetic cohort: the same size and seed give the same cohort.
pub fn synthetic_version(size: usize, seed: u64) -> String {
    format!("synthetic-{MAPPING_VERSION}-{size}-{seed}")
}

/// Youth ids (of non-practice referrals) the events name, to give each a study id first.
pub fn youth_ids_in(events: &[StoredEvent]) -> Vec<String> {
    let mut ids = Vec::new();
    for event in events {
        match event.event_type.as_str() {
            pb::ReferralReceived::TYPE => {
                if let Ok(received) = pb::ReferralReceived::decode(event.payload.as_slice())
                    && !received.practice
                    && !received.youth_id.is_empty()
                {
                    ids.push(received.youth_id);
                }
            }
            pb::PossibleMatchConfirmed::TYPE => {
                if let Ok(confirmed) = pb::PossibleMatchConfirmed::decode(event.payload.as_slice())
                    && !confirmed.practice
                    && !confirmed.youth_id.is_empty()
                {
                    ids.push(confirmed.youth_id);
                }
            }
            _ => {}
        }
    }
    ids.sort();
    ids.dedup();
    ids
}

#[derive(Default)]
struct CaseFacts {
    referral_ids: Vec<String>,
    youth_id: Option<String>,
    practice: bool,
    enrolled_at: Option<i64>,
    assessed: bool,
    contacts: Vec<i64>,
    exited_at: Option<i64>,
    exit_living_situation: String,
    returns: u32,
    follow_ups: BTreeMap<String, (String, i64)>,
    /// (intervention id, service type, delivered on, units).
    interventions: Vec<(String, String, NaiveDate, f64)>,
    /// Interventions their recorder withdrew (undone right after recording): never delivered, so
    /// they count nowhere, whichever order the two events arrive in.
    withdrawn: BTreeSet<String>,
    /// (went missing, found); an open episode has no end.
    missing: Vec<(i64, Option<i64>)>,
    follow_up_domains: BTreeMap<String, BTreeMap<String, String>>,
}

impl CaseFacts {
    /// A stage change: to MISSING opens an episode (unless one is open); any other stage closes it.
    fn stage(&mut self, to: Option<CaseStage>, at: i64) {
        let open = self.missing.last().is_some_and(|(_, end)| end.is_none());
        match to {
            Some(CaseStage::Missing) if !open => self.missing.push((at, None)),
            Some(CaseStage::Missing) => {}
            _ => self.close_missing(at),
        }
    }

    fn close_missing(&mut self, at: i64) {
        if let Some((start, end @ None)) = self.missing.last_mut() {
            *end = Some(at.max(*start));
        }
    }
}

/// The coded domains of a completed follow-up's outcomes.
fn domains(outcomes: Option<&wf_proto::cases::v1::FollowUpOutcomes>) -> BTreeMap<String, String> {
    let no_yes = |raw: i32| code_of!(common::NoYes, "NO_YES_", raw);
    let o = outcomes.cloned().unwrap_or_default();
    let answers = [
        code_of!(common::LivingSituation, "LIVING_SITUATION_", o.living_situation),
        code_of!(common::SchoolStatus, "SCHOOL_STATUS_", o.school_status),
        no_yes(o.employment.as_ref().map_or(0, |e| e.employed)),
        no_yes(o.income.as_ref().map_or(0, |i| i.any_income)),
        no_yes(o.feels_safe),
        no_yes(o.has_trusted_connection),
        code_of!(common::LegalStatus, "LEGAL_STATUS_", o.legal_status),
        no_yes(o.engaged_with_services),
    ];
    DOMAINS.iter().map(|d| (*d).to_owned()).zip(answers).collect()
}

/// What a build produced.
#[derive(Debug, Clone, Default)]
pub struct Built {
    pub rows: Vec<YouthRow>,
    /// Youth left out because no study id was given for them (should not happen: the store
    /// assigns one before building).
    pub without_study_id: usize,
    /// Events whose payload could not be decoded (counted, never guessed).
    pub undecodable: usize,
}

/// Folds `events` (only those that occurred at or before `as_of`) into rows.
pub fn build(events: &[StoredEvent], study_ids: &HashMap<String, String>, as_of: i64) -> Built {
    build_scoped(events, study_ids, as_of, (None, None))
}

/// [`build`] keeping only youth whose intake falls in `[referred.0, referred.1)` (open bounds: all).
pub fn build_scoped(
    events: &[StoredEvent],
    study_ids: &HashMap<String, String>,
    as_of: i64,
    referred: (Option<i64>, Option<i64>),
) -> Built {
    let mut built = Built::default();
    let mut referrals: HashMap<String, pb::ReferralReceived> = HashMap::new();
    let mut referral_youth: HashMap<String, String> = HashMap::new();
    let mut alias: HashMap<String, String> = HashMap::new();
    let mut cases: HashMap<String, CaseFacts> = HashMap::new();
    let mut recidivism: Vec<(String, String, String, NaiveDate)> = Vec::new();

    let mut ordered: Vec<&StoredEvent> = events.iter().filter(|e| e.occurred_at <= as_of).collect();
    ordered.sort_by_key(|e| (e.occurred_at, e.seq));
    for event in ordered {
        let bytes = event.payload.as_slice();
        let ok = match event.event_type.as_str() {
            pb::ReferralReceived::TYPE => pb::ReferralReceived::decode(bytes).map(|r| {
                if !r.practice && !r.outside_youth_program {
                    referral_youth.entry(r.referral_id.clone()).or_insert_with(|| r.youth_id.clone());
                    referrals.entry(r.referral_id.clone()).or_insert(r);
                }
            }),
            pb::PossibleMatchConfirmed::TYPE => pb::PossibleMatchConfirmed::decode(bytes).map(|m| {
                if !m.practice && !m.youth_id.is_empty() {
                    referral_youth.insert(m.referral_id.clone(), m.youth_id.clone());
                    if !m.previous_youth_id.is_empty() && m.previous_youth_id != m.youth_id {
                        alias.insert(m.previous_youth_id, m.youth_id);
                    }
                }
            }),
            pb::CaseAssigned::TYPE => pb::CaseAssigned::decode(bytes).map(|c| {
                let case = cases.entry(c.case_id).or_default();
                case.practice |= c.practice;
                link(case, &c.referral_id, &c.youth_id);
            }),
            pb::CaseStageChanged::TYPE => pb::CaseStageChanged::decode(bytes).map(|c| {
                let case = cases.entry(c.case_id).or_default();
                case.practice |= c.practice;
                link(case, &c.referral_id, "");
                let at = micros(c.effective_at.as_ref()).unwrap_or(event.occurred_at);
                case.contacts.push(at);
                case.stage(CaseStage::try_from(c.to_stage).ok(), at);
                match CaseStage::try_from(c.to_stage) {
                    Ok(CaseStage::Enrolled) => {
                        case.enrolled_at.get_or_insert(at);
                    }
                    Ok(CaseStage::Assessed | CaseStage::Plan | CaseStage::Active) => case.assessed = true,
                    _ => {}
                }
            }),
            pb::CaseClosed::TYPE => pb::CaseClosed::decode(bytes).map(|c| {
                let case = cases.entry(c.case_id).or_default();
                case.practice |= c.practice;
                link(case, &c.referral_id, &c.youth_id);
                let at = micros(c.exited_at.as_ref()).or(micros(c.closed_at.as_ref())).unwrap_or(event.occurred_at);
                case.exited_at = Some(at);
                case.exit_living_situation =
                    code_of!(common::LivingSituation, "LIVING_SITUATION_", c.exit_living_situation);
                case.close_missing(at);
                case.contacts.push(at);
            }),
            pb::CaseReopened::TYPE => pb::CaseReopened::decode(bytes).map(|c| {
                let case = cases.entry(c.case_id).or_default();
                case.practice |= c.practice;
                link(case, &c.referral_id, &c.youth_id);
                case.contacts.push(micros(c.reopened_at.as_ref()).unwrap_or(event.occurred_at));
                if c.reason == "youth_returned" {
                    case.returns += 1;
                }
            }),
            pb::InterventionDelivered::TYPE => pb::InterventionDelivered::decode(bytes).map(|i| {
                let case = cases.entry(i.case_id).or_default();
                case.practice |= i.practice;
                link(case, &i.referral_id, "");
                if let Some(on) = i.delivered_on.as_ref().and_then(date) {
                    let units = if i.units.is_finite() { i.units } else { 0.0 };
                    case.interventions.push((i.intervention_id, i.service_type, on, units));
                }
            }),
            pb::InterventionWithdrawn::TYPE => pb::InterventionWithdrawn::decode(bytes).map(|w| {
                let case = cases.entry(w.case_id).or_default();
                case.practice |= w.practice;
                case.withdrawn.insert(w.intervention_id);
            }),
            pb::FollowUpDue::TYPE => pb::FollowUpDue::decode(bytes).map(|f| {
                let case = cases.entry(f.case_id).or_default();
                case.practice |= f.practice;
                follow_up(case, f.kind, "due", event.occurred_at);
            }),
            pb::FollowUpOverdue::TYPE => pb::FollowUpOverdue::decode(bytes).map(|f| {
                let case = cases.entry(f.case_id).or_default();
                case.practice |= f.practice;
                follow_up(case, f.kind, "overdue", event.occurred_at);
            }),
            pb::FollowUpRecorded::TYPE => pb::FollowUpRecorded::decode(bytes).map(|f| {
                let case = cases.entry(f.case_id).or_default();
                case.practice |= f.practice;
                let status = code_of!(FollowUpStatus, "FOLLOW_UP_STATUS_", f.status);
                let at = micros(f.completed_at.as_ref()).unwrap_or(event.occurred_at);
                let kind = code_of!(FollowUpKind, "FOLLOW_UP_KIND_", f.kind);
                if status == "completed" {
                    case.contacts.push(at);
                    case.follow_up_domains.insert(kind.clone(), domains(f.outcomes.as_ref()));
                }
                case.follow_ups.insert(kind, (status, at));
            }),
            pb::RecidivismRecorded::TYPE => pb::RecidivismRecorded::decode(bytes).map(|r| {
                if !r.practice
                    && let Some(on) = r.occurred_on.as_ref().and_then(date)
                {
                    let kind = code_of!(common::RecidivismKind, "RECIDIVISM_KIND_", r.kind);
                    recidivism.push((r.youth_id, r.case_id, kind, on));
                }
            }),
            _ => Ok(()),
        };
        if ok.is_err() {
            built.undecodable += 1;
        }
    }

    let canonical = |youth: &str| -> String {
        let mut current = youth.to_owned();
        // Aliases form chains when a youth is matched twice; a cycle cannot arise from
        // decisions that are final, but the walk is bounded all the same.
        for _ in 0..16 {
            match alias.get(&current) {
                Some(next) => current = next.clone(),
                None => break,
            }
        }
        current
    };

    // Referrals per youth, first first.
    let mut youth_referrals: BTreeMap<String, Vec<&pb::ReferralReceived>> = BTreeMap::new();
    for (referral_id, referral) in &referrals {
        let youth = referral_youth.get(referral_id).map_or(referral.youth_id.as_str(), String::as_str);
        youth_referrals.entry(canonical(youth)).or_default().push(referral);
    }
    let mut youth_cases: HashMap<String, Vec<&CaseFacts>> = HashMap::new();
    let mut case_youth: HashMap<&str, String> = HashMap::new();
    for (case_id, case) in &cases {
        if case.practice {
            continue;
        }
        let youth = case
            .referral_ids
            .iter()
            .find_map(|r| referrals.contains_key(r).then(|| referral_youth.get(r)).flatten())
            .cloned()
            .or_else(|| case.youth_id.clone());
        if let Some(youth) = youth {
            let youth = canonical(&youth);
            case_youth.insert(case_id.as_str(), youth.clone());
            youth_cases.entry(youth).or_default().push(case);
        }
    }
    let mut youth_recidivism: HashMap<String, Vec<(&str, NaiveDate)>> = HashMap::new();
    for (youth_id, case_id, kind, on) in &recidivism {
        let youth =
            if youth_id.is_empty() { case_youth.get(case_id.as_str()).cloned() } else { Some(canonical(youth_id)) };
        if let Some(youth) = youth {
            youth_recidivism.entry(youth).or_default().push((kind.as_str(), *on));
        }
    }

    for (youth_id, mut refs) in youth_referrals {
        refs.sort_by_key(|r| (micros(r.received_at.as_ref()).unwrap_or(i64::MAX), r.referral_id.clone()));
        let Some(first) = refs.first() else { continue };
        let Some(study_id) = study_ids.get(&youth_id) else {
            built.without_study_id += 1;
            continue;
        };
        let intake = micros(first.received_at.as_ref()).unwrap_or(0);
        if referred.0.is_some_and(|from| intake < from) || referred.1.is_some_and(|to| intake >= to) {
            continue;
        }
        let intake_date =
            DateTime::<Utc>::from_timestamp_micros(intake).map_or_else(|| NaiveDate::MIN, |t| t.date_naive());
        let day_of = |at: i64| ((at - intake) as f64 / MICROS_PER_DAY).max(0.0);
        let date_day = |on: NaiveDate| (on - intake_date).num_days() as f64;
        let observed_days = day_of(as_of);

        let mut row = baseline_row(study_id, first, intake_date);
        row.observed_days = observed_days;
        let mut contacts: Vec<f64> = vec![0.0];
        contacts.extend(refs.iter().skip(1).filter_map(|r| micros(r.received_at.as_ref())).map(day_of));
        let mut exposures: BTreeMap<String, Exposure> = BTreeMap::new();
        let mut follow_ups: BTreeMap<String, String> = BTreeMap::new();
        let mut follow_up_domains: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        let mut missing: Vec<MissingEpisode> = Vec::new();
        row.returns = u32::try_from(refs.len().saturating_sub(1)).unwrap_or(u32::MAX);
        let mut case_returns = 0;
        for case in youth_cases.get(&youth_id).map(Vec::as_slice).unwrap_or_default() {
            if let Some(enrolled_at) = case.enrolled_at {
                row.enrolled = true;
                if !case.assessed && as_of - enrolled_at > 90 * 86_400_000_000 {
                    row.assessment_overdue = true;
                }
            }
            contacts.extend(case.contacts.iter().map(|&at| day_of(at)));
            if let Some(exited) = case.exited_at {
                let day = day_of(exited);
                // The latest exit is the youth's exit, and its living situation the destination.
                if row.exited_day.is_none_or(|d| day >= d) {
                    row.exit_living_situation = case.exit_living_situation.clone();
                }
                row.exited_day = Some(row.exited_day.map_or(day, |d: f64| d.max(day)));
            }
            case_returns += case.returns;
            let delivered = case.interventions.iter().filter(|(id, ..)| id.is_empty() || !case.withdrawn.contains(id));
            for (_, service_type, on, units) in delivered {
                let day = date_day(*on).max(0.0);
                contacts.push(day);
                let exposure = exposures.entry(service_type.clone()).or_insert_with(|| Exposure {
                    service_type: service_type.clone(),
                    first_day: day,
                    deliveries: 0,
                    units: 0.0,
                });
                exposure.first_day = exposure.first_day.min(day);
                exposure.deliveries += 1;
                exposure.units += units;
            }
            for (kind, (status, _)) in &case.follow_ups {
                follow_ups.insert(kind.clone(), status.clone());
            }
            for (kind, answers) in &case.follow_up_domains {
                follow_up_domains.insert(kind.clone(), answers.clone());
            }
            for (start, end) in &case.missing {
                let start_day = day_of(*start).min(observed_days);
                let end_day = end.map_or(observed_days, day_of).clamp(start_day, observed_days);
                missing.push(MissingEpisode { start_day, end_day });
            }
        }
        row.returns = row.returns.max(case_returns);
        row.interventions = exposures.into_values().collect();
        row.follow_ups = follow_ups.into_iter().map(|(kind, status)| FollowUpState { kind, status }).collect();
        row.follow_up_domains =
            follow_up_domains.into_iter().map(|(kind, answers)| FollowUpDomains { kind, answers }).collect();
        missing.sort_by(|a, b| a.start_day.total_cmp(&b.start_day));
        row.missing_episodes = missing;
        let mut events: Vec<Recidivism> = youth_recidivism
            .get(&youth_id)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|(kind, on)| Recidivism { kind: (*kind).to_owned(), day: date_day(*on) })
            .filter(|r| r.day >= 1.0 && r.day <= observed_days)
            .collect();
        events.sort_by(|a, b| a.day.total_cmp(&b.day).then_with(|| a.kind.cmp(&b.kind)));
        row.recidivism = events;
        row.last_contact_day = contacts.into_iter().fold(0.0, f64::max).min(observed_days);
        built.rows.push(row);
    }
    built.rows.sort_by(|a, b| a.study_id.cmp(&b.study_id));
    built
}

fn link(case: &mut CaseFacts, referral_id: &str, youth_id: &str) {
    if !referral_id.is_empty() && !case.referral_ids.iter().any(|r| r == referral_id) {
        case.referral_ids.push(referral_id.to_owned());
    }
    if !youth_id.is_empty() {
        case.youth_id = Some(youth_id.to_owned());
    }
}

/// A follow-up's status moves forward only: a recorded answer is never undone by a late "due".
fn follow_up(case: &mut CaseFacts, kind: i32, status: &str, at: i64) {
    let kind = code_of!(FollowUpKind, "FOLLOW_UP_KIND_", kind);
    let rank = |s: &str| match s {
        "scheduled" => 0,
        "due" => 1,
        "overdue" => 2,
        _ => 3,
    };
    let entry = case.follow_ups.entry(kind).or_insert_with(|| (status.to_owned(), at));
    if rank(status) > rank(&entry.0) {
        *entry = (status.to_owned(), at);
    }
}

pub(crate) fn micros(at: Option<&prost_types::Timestamp>) -> Option<i64> {
    let at = at?;
    Some(at.seconds.saturating_mul(1_000_000).saturating_add(i64::from(at.nanos / 1000)))
}

/// A calendar date; an unknown day is the 15th and an unknown month July; no year, no date.
fn date(on: &common::Date) -> Option<NaiveDate> {
    if on.year <= 0 {
        return None;
    }
    let month = if (1..=12).contains(&on.month) { on.month as u32 } else { 7 };
    let day = if on.day >= 1 { on.day as u32 } else { 15 };
    NaiveDate::from_ymd_opt(on.year, month, day).or_else(|| NaiveDate::from_ymd_opt(on.year, month, 15))
}

/// The baseline row of a youth whose first referral is `r`, received on `intake_date`.
pub(crate) fn baseline_row(study_id: &str, r: &pb::ReferralReceived, intake_date: NaiveDate) -> YouthRow {
    use chrono::Datelike;
    let prior = code_of!(common::PriorParticipationBasis, "PRIOR_PARTICIPATION_BASIS_", r.prior_participation_basis);
    let (answer, years) = match r.age_first_exploited.as_ref().and_then(|a| a.answer.as_ref()) {
        Some(common::age_answer::Answer::Years(years)) => ("answered".to_owned(), Some(*years)),
        Some(common::age_answer::Answer::NotGiven(reason)) => {
            (code_of!(common::MissingReason, "MISSING_REASON_", *reason), None)
        }
        None => (codes::MISSING.to_owned(), None),
    };
    let no_yes = |raw: i32| code_of!(common::NoYes, "NO_YES_", raw);
    let mut system_involvement: Vec<String> = r
        .system_involvement
        .iter()
        .map(|&raw| code_of!(common::SystemInvolvement, "SYSTEM_INVOLVEMENT_", raw))
        .collect();
    system_involvement.sort();
    system_involvement.dedup();
    YouthRow {
        study_id: study_id.to_owned(),
        site: code_of!(common::Site, "SITE_", r.site),
        referral_source: code_of!(common::ReferralSource, "REFERRAL_SOURCE_", r.source),
        engagement_approach: r.engagement_approach.clone(),
        triage_tier: code_of!(common::TriageTier, "TRIAGE_TIER_", r.triage_tier),
        trafficking_type: code_of!(common::TraffickingType, "TRAFFICKING_TYPE_", r.trafficking_type),
        age_band: codes::age_band((r.age_years > 0).then_some(r.age_years)).to_owned(),
        hmis_age_band: codes::hmis_age_band((r.age_years > 0).then_some(r.age_years)).to_owned(),
        quarter: format!("{}q{}", intake_date.year(), intake_date.month0() / 3 + 1),
        participation: codes::participation_group(&prior).unwrap_or("unknown").to_owned(),
        prior_participation: prior,
        age_first_exploited_answer: answer,
        age_first_exploited: years,
        former_ward_child_welfare: no_yes(r.former_ward_child_welfare),
        former_ward_juvenile_justice: no_yes(r.former_ward_juvenile_justice),
        any_income: no_yes(r.any_income),
        employed: no_yes(r.employed),
        living_situation: code_of!(common::LivingSituation, "LIVING_SITUATION_", r.living_situation),
        last_grade_completed: code_of!(common::LastGradeCompleted, "LAST_GRADE_COMPLETED_", r.last_grade_completed),
        school_status: code_of!(common::SchoolStatus, "SCHOOL_STATUS_", r.school_status),
        ever_arrested: no_yes(r.ever_arrested),
        arrests: r.arrest_count.max(0),
        prostitution_arrests: r.prostitution_arrest_count.max(0),
        system_involvement,
        // What happens after intake is folded from the case events that follow.
        ..YouthRow::default()
    }
}

#[cfg(test)]
mod tests;
