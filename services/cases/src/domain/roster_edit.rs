//! Roster edits through the API (`UpsertCaseManager`, `SetOnCall`): every problem with an entry,
//! each with its field path, and the checks against the rest of the roster. The field rules are
//! the roster file's (`roster::rules`), so both ways in accept the same values.

use std::collections::HashSet;

use wf_proto::cases::v1 as pb;
use wf_proto::common::v1 as common;
use wf_types::CaseManagerId;
use wf_types::FieldViolation;

use super::roster::{Period, rules};
use super::{CaseManager, Caseloads, Roster, Site, Supervisor};

/// Most leave periods or on-call shifts one entry keeps.
pub const MAX_PERIODS: usize = 200;

/// Longest on-call shift: a week's rota, with room for a long weekend either side.
pub const MAX_SHIFT_DAYS: i64 = 14;

const DAY_MICROS: i64 = 86_400_000_000;

/// A validated roster entry from the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    CaseManager(CaseManager),
    Supervisor(Supervisor),
}

impl Entry {
    pub fn id(&self) -> &CaseManagerId {
        match self {
            Entry::CaseManager(cm) => &cm.id,
            Entry::Supervisor(supervisor) => &supervisor.id,
        }
    }

    pub fn display_code(&self) -> &str {
        match self {
            Entry::CaseManager(cm) => &cm.display_code,
            Entry::Supervisor(supervisor) => &supervisor.display_code,
        }
    }

    pub fn user_id(&self) -> Option<&str> {
        match self {
            Entry::CaseManager(cm) => cm.user_id.as_deref(),
            Entry::Supervisor(supervisor) => supervisor.user_id.as_deref(),
        }
    }
}

/// Checks one `UpsertCaseManagerRequest.case_manager`. An empty id gets a new one. The on-call
/// state is SetOnCall's: it is taken from `existing` (nothing for a new entry).
pub fn validate_entry(input: &pb::CaseManager, existing: Option<&CaseManager>) -> Result<Entry, Vec<FieldViolation>> {
    let mut violations = Vec::new();
    let mut fail =
        |field: &str, reason: String| violations.push(FieldViolation::new(format!("case_manager.{field}"), reason));
    let id = if input.case_manager_id.is_empty() {
        Some(CaseManagerId::generate())
    } else {
        input.case_manager_id.parse::<CaseManagerId>().map_err(|err| fail("case_manager_id", err.to_string())).ok()
    };
    if let Some(problem) = rules::display_code(&input.display_code) {
        fail("display_code", problem);
    }
    if let Some(problem) = rules::display_name(&input.display_name) {
        fail("display_name", problem);
    }
    let user_id = (!input.user_id.is_empty()).then(|| input.user_id.clone());
    if let Some(problem) = user_id.as_deref().and_then(rules::user_id) {
        fail("user_id", problem);
    }
    let mut sites = Vec::new();
    if input.sites.is_empty() {
        fail("sites", "at least one site is required".into());
    }
    for (index, value) in input.sites.iter().enumerate() {
        match common::Site::try_from(*value).ok().and_then(Site::from_proto) {
            Some(site) if sites.contains(&site) => fail(&format!("sites[{index}]"), "is listed twice".to_owned()),
            Some(site) => sites.push(site),
            None => fail(
                &format!("sites[{index}]"),
                format!(
                    "{value} is not a site; allowed: SITE_SOUTH_LOS_ANGELES, SITE_SAN_FERNANDO_VALLEY, SITE_COUNTYWIDE"
                ),
            ),
        }
    }
    let display_code = input.display_code.clone();
    let display_name = input.display_name.trim().to_owned();

    if input.supervisor {
        // A supervisor owns the queue and takes no cases: nothing that shapes assignment applies.
        if !input.languages.is_empty() {
            fail("languages", "is for case managers; a supervisor takes no cases: leave it empty".into());
        }
        if input.max_caseload != 0 {
            fail("max_caseload", "is for case managers; a supervisor takes no cases: leave it 0".into());
        }
        if !input.supervisor_id.is_empty() {
            fail("supervisor_id", "is for case managers; leave it empty for a supervisor".into());
        }
        if !input.engagement_approaches.is_empty() {
            fail("engagement_approaches", "is for case managers; leave it empty for a supervisor".into());
        }
        if !input.leave.is_empty() {
            fail("leave", "is recorded for case managers only (it pauses new assignments)".into());
        }
        let (Some(id), true) = (id, violations.is_empty()) else { return Err(violations) };
        return Ok(Entry::Supervisor(Supervisor { id, display_code, display_name, user_id, sites }));
    }

    let mut seen = HashSet::new();
    if input.languages.is_empty() {
        fail("languages", "at least one ISO 639 language code is required".into());
    }
    for (index, language) in input.languages.iter().enumerate() {
        if let Some(problem) = rules::language(language) {
            fail(&format!("languages[{index}]"), problem);
        } else if !seen.insert(language.as_str()) {
            fail(&format!("languages[{index}]"), "is listed twice".to_owned());
        }
    }
    let max_caseload =
        rules::max_caseload(i64::from(input.max_caseload)).map_err(|problem| fail("max_caseload", problem)).ok();
    for (index, approach) in input.engagement_approaches.iter().enumerate() {
        if let Some(problem) = rules::approach(approach) {
            fail(&format!("engagement_approaches[{index}]"), problem);
        }
    }
    let supervisor_id = if input.supervisor_id.is_empty() {
        fail("supervisor_id", "is required: the id (cm_…) of the supervisor for escalations".into());
        None
    } else {
        input.supervisor_id.parse::<CaseManagerId>().map_err(|err| fail("supervisor_id", err.to_string())).ok()
    };
    let leave = match periods(&input.leave, "case_manager.leave", None) {
        Ok(leave) => leave,
        Err(problems) => {
            violations.extend(problems);
            Vec::new()
        }
    };
    let (Some(id), Some(max_caseload), Some(supervisor_id), true) =
        (id, max_caseload, supervisor_id, violations.is_empty())
    else {
        return Err(violations);
    };
    Ok(Entry::CaseManager(CaseManager {
        id,
        display_code,
        display_name,
        user_id,
        sites,
        languages: input.languages.clone(),
        max_caseload,
        active: input.active,
        on_call: existing.is_some_and(|cm| cm.on_call),
        engagement_approaches: input.engagement_approaches.clone(),
        supervisor_id,
        leave,
        on_call_shifts: existing.map(|cm| cm.on_call_shifts.clone()).unwrap_or_default(),
    }))
}

/// Checks a validated entry against the roster it joins: unique display code, an existing
/// supervisor, and no change of kind that would strand cases or case managers. Each problem is
/// a precondition (the request is well formed; the roster is not in a state that allows it).
pub fn check_against(roster: &Roster, loads: &Caseloads, entry: &Entry) -> Result<(), String> {
    let id = entry.id();
    let code_taken = roster.case_managers().iter().any(|cm| cm.display_code == entry.display_code() && &cm.id != id)
        || roster.supervisors().iter().any(|s| s.display_code == entry.display_code() && &s.id != id);
    if code_taken {
        return Err("display_code is already used by another roster entry".to_owned());
    }
    // One login is one roster entry: access to privileged notes follows the entry's user id.
    if let Some(user_id) = entry.user_id() {
        let user_taken = roster.case_managers().iter().any(|cm| cm.user_id.as_deref() == Some(user_id) && &cm.id != id)
            || roster.supervisors().iter().any(|s| s.user_id.as_deref() == Some(user_id) && &s.id != id);
        if user_taken {
            return Err("user_id is already linked to another roster entry; one user is one roster entry".into());
        }
    }
    match entry {
        Entry::CaseManager(cm) => {
            if roster.supervisor(id).is_some() {
                let reports = roster.case_managers().iter().filter(|other| &other.supervisor_id == id).count();
                if reports > 0 {
                    return Err(format!(
                        "{id} is a supervisor of {reports} case manager(s); move them to another supervisor first"
                    ));
                }
            }
            if cm.supervisor_id == cm.id {
                return Err("supervisor_id names the entry itself; a case manager's supervisor is a supervisor".into());
            }
            if roster.supervisor(&cm.supervisor_id).is_none() {
                return Err(format!("supervisor_id {} is not a supervisor in the roster", cm.supervisor_id));
            }
        }
        Entry::Supervisor(_) => {
            if roster.case_manager(id).is_some() {
                let open = loads.get(id).copied().unwrap_or(0);
                if open > 0 {
                    return Err(format!(
                        "{id} is a case manager with {open} open case(s); reassign them before making them a supervisor"
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Checks a `SetOnCall` schedule: every shift has both ends, ends after it starts, lasts at most
/// [`MAX_SHIFT_DAYS`], and no two overlap. Returned sorted.
pub fn validate_shifts(shifts: &[pb::RosterPeriod]) -> Result<Vec<Period>, Vec<FieldViolation>> {
    periods(shifts, "shifts", Some(MAX_SHIFT_DAYS * DAY_MICROS))
}

/// Periods from the request, sorted; `max_length` also requires an end.
fn periods(
    input: &[pb::RosterPeriod],
    field: &str,
    max_length: Option<i64>,
) -> Result<Vec<Period>, Vec<FieldViolation>> {
    let mut violations = Vec::new();
    if input.len() > MAX_PERIODS {
        violations.push(FieldViolation::new(field, format!("{} periods; at most {MAX_PERIODS}", input.len())));
        return Err(violations);
    }
    let instant = |value: Option<&prost_types::Timestamp>| {
        value.map(|ts| wf_proto::time::datetime(ts).map(|at| at.timestamp_micros()))
    };
    let mut periods = Vec::with_capacity(input.len());
    for (index, period) in input.iter().enumerate() {
        let path = format!("{field}[{index}]");
        let starts_at = match instant(period.starts_at.as_ref()) {
            Some(Some(at)) => Some(at),
            Some(None) => {
                violations.push(FieldViolation::new(format!("{path}.starts_at"), "is not a valid timestamp"));
                None
            }
            None => {
                violations.push(FieldViolation::new(format!("{path}.starts_at"), "is required"));
                None
            }
        };
        let ends_at = match instant(period.ends_at.as_ref()) {
            Some(Some(at)) => Ok(Some(at)),
            Some(None) => Err("is not a valid timestamp"),
            None if max_length.is_some() => Err("is required: a shift ends"),
            None => Ok(None),
        };
        let ends_at = match ends_at {
            Ok(ends_at) => ends_at,
            Err(problem) => {
                violations.push(FieldViolation::new(format!("{path}.ends_at"), problem));
                continue;
            }
        };
        let Some(starts_at) = starts_at else { continue };
        if let Some(end) = ends_at {
            if end <= starts_at {
                violations.push(FieldViolation::new(format!("{path}.ends_at"), "must be after starts_at"));
                continue;
            }
            if let Some(max) = max_length.filter(|max| end - starts_at > *max) {
                violations.push(FieldViolation::new(
                    format!("{path}.ends_at"),
                    format!("a shift lasts at most {} days", max / DAY_MICROS),
                ));
                continue;
            }
        }
        periods.push((index, Period { starts_at, ends_at }));
    }
    periods.sort_by_key(|(_, period)| *period);
    for pair in periods.windows(2) {
        let ((_, first), (index, second)) = (&pair[0], &pair[1]);
        if first.ends_at.is_none_or(|end| end > second.starts_at) {
            violations.push(FieldViolation::new(format!("{field}[{index}]"), "overlaps another period"));
        }
    }
    if violations.is_empty() { Ok(periods.into_iter().map(|(_, period)| period).collect()) } else { Err(violations) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUPERVISOR: &str = "cm_000000000000000000000000000000f1";
    const A: &str = "cm_0000000000000000000000000000000a";

    fn ts(micros: i64) -> Option<prost_types::Timestamp> {
        Some(wf_proto::time::timestamp_from_micros(micros))
    }

    fn input() -> pb::CaseManager {
        pb::CaseManager {
            case_manager_id: A.into(),
            display_code: "CM-NEW-1".into(),
            display_name: "Test Case Manager".into(),
            sites: vec![common::Site::SouthLosAngeles as i32],
            languages: vec!["en".into()],
            max_caseload: 10,
            active: true,
            supervisor_id: SUPERVISOR.into(),
            ..Default::default()
        }
    }

    fn fields(result: Result<Entry, Vec<FieldViolation>>) -> Vec<String> {
        result.expect_err("violations").into_iter().map(|v| format!("{}: {}", v.field, v.description)).collect()
    }

    #[test]
    fn a_valid_case_manager_keeps_the_on_call_state_it_had() {
        let Entry::CaseManager(first) = validate_entry(&input(), None).expect("valid") else { panic!("kind") };
        assert_eq!((first.max_caseload, first.on_call, first.leave.len()), (10, false, 0));
        let earlier =
            CaseManager { on_call: true, on_call_shifts: vec![Period { starts_at: 1, ends_at: Some(2) }], ..first };
        let Entry::CaseManager(again) = validate_entry(&input(), Some(&earlier)).expect("valid") else { panic!() };
        assert!(again.on_call);
        assert_eq!(again.on_call_shifts, earlier.on_call_shifts);
        let fresh =
            validate_entry(&pb::CaseManager { case_manager_id: String::new(), ..input() }, None).expect("valid");
        assert_ne!(fresh.id().as_str(), A, "an empty id gets a new one");
    }

    #[test]
    fn every_problem_is_named_with_its_path() {
        let bad = pb::CaseManager {
            case_manager_id: "cm_x".into(),
            display_code: "cm 1".into(),
            display_name: " ".into(),
            user_id: "two words".into(),
            sites: vec![common::Site::SouthLosAngeles as i32, 0, common::Site::SouthLosAngeles as i32],
            languages: vec!["EN".into(), "es".into(), "es".into()],
            max_caseload: 500,
            engagement_approaches: vec!["Peer Mentor".into()],
            supervisor_id: String::new(),
            leave: vec![pb::RosterPeriod { starts_at: ts(10), ends_at: ts(5) }, pb::RosterPeriod::default()],
            ..input()
        };
        let found = fields(validate_entry(&bad, None));
        let expect = [
            "case_manager.case_manager_id",
            "case_manager.display_code",
            "case_manager.display_name: must be 1 to 100 characters",
            "case_manager.user_id",
            "case_manager.sites[1]: 0 is not a site",
            "case_manager.sites[2]: is listed twice",
            "case_manager.languages[0]: \"EN\" is not an ISO 639 code",
            "case_manager.languages[2]: is listed twice",
            "case_manager.max_caseload: 500 is out of range: allowed 1 to 200",
            "case_manager.engagement_approaches[0]",
            "case_manager.supervisor_id: is required",
            "case_manager.leave[0].ends_at: must be after starts_at",
            "case_manager.leave[1].starts_at: is required",
        ];
        assert_eq!(found.len(), expect.len(), "{found:#?}");
        for (found, expected) in found.iter().zip(expect) {
            assert!(found.starts_with(expected), "{found:?} should start with {expected:?}");
        }
    }

    #[test]
    fn a_supervisor_carries_nothing_that_shapes_assignment() {
        let supervisor = pb::CaseManager { supervisor: true, ..input() };
        let found = fields(validate_entry(&supervisor, None));
        assert_eq!(
            found,
            [
                "case_manager.languages: is for case managers; a supervisor takes no cases: leave it empty",
                "case_manager.max_caseload: is for case managers; a supervisor takes no cases: leave it 0",
                "case_manager.supervisor_id: is for case managers; leave it empty for a supervisor",
            ]
        );
        let clean =
            pb::CaseManager { languages: vec![], max_caseload: 0, supervisor_id: String::new(), ..supervisor.clone() };
        assert!(matches!(validate_entry(&clean, None), Ok(Entry::Supervisor(_))));
    }

    #[test]
    fn shifts_end_within_two_weeks_and_do_not_overlap() {
        let day = DAY_MICROS;
        let shift = |from: i64, to: Option<i64>| pb::RosterPeriod { starts_at: ts(from), ends_at: to.and_then(ts) };
        let ok = validate_shifts(&[shift(3 * day, Some(4 * day)), shift(day, Some(2 * day))]).expect("valid");
        assert_eq!(ok[0], Period { starts_at: day, ends_at: Some(2 * day) }, "sorted");
        let problems: Vec<String> = validate_shifts(&[
            shift(0, None),
            shift(day, Some(20 * day)),
            shift(30 * day, Some(32 * day)),
            shift(31 * day, Some(33 * day)),
        ])
        .expect_err("invalid")
        .into_iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect();
        assert_eq!(
            problems,
            [
                "shifts[0].ends_at: is required: a shift ends",
                "shifts[1].ends_at: a shift lasts at most 14 days",
                "shifts[3]: overlaps another period",
            ]
        );
    }

    #[test]
    fn the_roster_refuses_a_taken_code_an_unknown_supervisor_and_stranded_cases() {
        let roster = Roster::from_toml(&format!(
            "[[supervisor]]\nid = \"{SUPERVISOR}\"\ndisplay_code = \"SUP-1\"\ndisplay_name = \"Test Supervisor\"\n\
             sites = [\"countywide\"]\n[[case_manager]]\nid = \"{A}\"\ndisplay_code = \"CM-A\"\n\
             display_name = \"Test Case Manager\"\nsites = [\"south_los_angeles\"]\nlanguages = [\"en\"]\n\
             max_caseload = 5\nsupervisor = \"{SUPERVISOR}\"\nuser_id = \"test-user-a\"\n"
        ))
        .expect("roster");
        let other = "cm_0000000000000000000000000000000b";
        let entry = |input: pb::CaseManager| validate_entry(&input, None).expect("valid");
        let taken = entry(pb::CaseManager { case_manager_id: other.into(), display_code: "SUP-1".into(), ..input() });
        assert!(check_against(&roster, &Caseloads::new(), &taken).unwrap_err().contains("already used"));
        // A second entry may not take A's login (privileged notes follow it); A keeps its own.
        let same_user = |case_manager_id: &str| {
            entry(pb::CaseManager {
                case_manager_id: case_manager_id.into(),
                display_code: "CM-B".into(),
                user_id: "test-user-a".into(),
                ..input()
            })
        };
        assert!(check_against(&roster, &Caseloads::new(), &same_user(other)).unwrap_err().contains("user_id"));
        assert_eq!(check_against(&roster, &Caseloads::new(), &same_user(A)), Ok(()));
        let orphan = entry(pb::CaseManager { supervisor_id: other.into(), ..input() });
        assert!(check_against(&roster, &Caseloads::new(), &orphan).unwrap_err().contains("is not a supervisor"));
        let promoted = entry(pb::CaseManager {
            supervisor: true,
            languages: vec![],
            max_caseload: 0,
            supervisor_id: String::new(),
            ..input()
        });
        let loads: Caseloads = [(A.parse().unwrap(), 2)].into_iter().collect();
        assert!(check_against(&roster, &loads, &promoted).unwrap_err().contains("2 open case(s)"));
        assert_eq!(check_against(&roster, &Caseloads::new(), &promoted), Ok(()));
        let demoted =
            entry(pb::CaseManager { case_manager_id: SUPERVISOR.into(), display_code: "SUP-1".into(), ..input() });
        assert!(check_against(&roster, &Caseloads::new(), &demoted).unwrap_err().contains("supervisor of 1"));
        assert_eq!(check_against(&roster, &Caseloads::new(), &entry(input())), Ok(()));
    }
}
