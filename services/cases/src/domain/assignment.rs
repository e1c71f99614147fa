//! Who gets a new case. Eligible: active and not on leave at the moment of assignment, serves the
//! case's site (or countywide), and under their caseload cap. An emergent referral goes to an
//! eligible case manager on call at that moment when there is one (someone working now answers
//! it; with nobody on call it still goes to the usual rule rather than wait). Among the pool,
//! speakers of the youth's language come first when it is known (a preference, never a reason to
//! leave a youth unassigned); then the lowest open caseload; then the lowest id, so the same
//! inputs always give the same answer.

use std::collections::HashMap;

use wf_types::CaseManagerId;

#[cfg(test)]
use super::roster::Period;
use super::{Roster, Site};

/// Open cases per case manager. A case manager missing from the map has none.
pub type Caseloads = HashMap<CaseManagerId, u32>;

/// What assignment knows about the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFacts {
    /// The case's site; a countywide case (or one whose site is not known) can only go to a
    /// countywide case manager.
    pub site: Site,
    /// ISO 639 code of the youth's preferred language, when the event carries it.
    pub language: Option<String>,
    /// The moment of assignment (microseconds): leave and on-call shifts are read at it.
    pub at: i64,
    /// Triage tier emergent: the on-call case manager first.
    pub emergent: bool,
}

/// The outcome of [`choose_case_manager`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignment {
    Assigned(AssignedTo),
    /// Nobody eligible: the case waits in the supervisors' queue.
    AwaitingAssignment(Unassignable),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignedTo {
    pub case_manager_id: CaseManagerId,
    /// Their open cases before this one.
    pub open_cases: u32,
    pub max_caseload: u32,
    /// `Some(true)` when a language was asked for and they speak it, `Some(false)` when nobody
    /// eligible did, `None` when no language was known.
    pub language_matched: Option<bool>,
    /// Chosen because they were on call for an emergent referral.
    pub on_call: bool,
}

impl AssignedTo {
    /// Human-readable reason recorded with the assignment, e.g. "least loaded eligible (2/12)":
    /// open cases before this one, out of the cap.
    pub fn reason(&self) -> String {
        let language = match self.language_matched {
            Some(true) => ", speaks the youth's language",
            Some(false) => ", no eligible speaker of the youth's language",
            None => "",
        };
        let rule = if self.on_call { "on call for an emergent referral" } else { "least loaded eligible" };
        format!("{rule}{language} ({}/{})", self.open_cases, self.max_caseload)
    }
}

/// Why nobody could take the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unassignable {
    /// No active case manager (not on leave) serves the site.
    NoActiveCaseManagerForSite,
    /// Some serve it, but every one of them is at their cap.
    AllAtCapacity { at_capacity: usize },
}

impl Unassignable {
    /// Code for logs and the supervisors' queue.
    pub fn code(self) -> &'static str {
        match self {
            Unassignable::NoActiveCaseManagerForSite => "no_active_case_manager_for_site",
            Unassignable::AllAtCapacity { .. } => "all_at_capacity",
        }
    }
}

/// Chooses the owner of a new case; see the module documentation for the rule.
pub fn choose_case_manager(roster: &Roster, loads: &Caseloads, facts: &CaseFacts) -> Assignment {
    let serving: Vec<_> = roster
        .case_managers()
        .iter()
        .filter(|cm| cm.available_at(facts.at))
        .filter(|cm| cm.serves(facts.site))
        .map(|cm| (cm, loads.get(&cm.id).copied().unwrap_or(0)))
        .collect();
    if serving.is_empty() {
        return Assignment::AwaitingAssignment(Unassignable::NoActiveCaseManagerForSite);
    }
    let mut eligible: Vec<_> = serving.iter().filter(|(cm, load)| *load < cm.max_caseload).collect();
    if eligible.is_empty() {
        return Assignment::AwaitingAssignment(Unassignable::AllAtCapacity { at_capacity: serving.len() });
    }
    let mut on_call = false;
    if facts.emergent && eligible.iter().any(|(cm, _)| cm.on_call_at(facts.at)) {
        eligible.retain(|(cm, _)| cm.on_call_at(facts.at));
        on_call = true;
    }
    let speakers: Vec<_> = match &facts.language {
        Some(language) => eligible.iter().copied().filter(|(cm, _)| cm.speaks(language)).collect(),
        None => Vec::new(),
    };
    let (pool, language_matched) = match (&facts.language, speakers.is_empty()) {
        (None, _) => (eligible, None),
        (Some(_), false) => (speakers, Some(true)),
        (Some(_), true) => (eligible, Some(false)),
    };
    let (chosen, open_cases) = pool
        .into_iter()
        .min_by(|(a, a_load), (b, b_load)| a_load.cmp(b_load).then_with(|| a.id.cmp(&b.id)))
        .copied()
        .expect("pool is non-empty: eligible was checked above");
    Assignment::Assigned(AssignedTo {
        case_manager_id: chosen.id.clone(),
        open_cases,
        max_caseload: chosen.max_caseload,
        language_matched,
        on_call,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "cm_0000000000000000000000000000000a";
    const B: &str = "cm_0000000000000000000000000000000b";
    const C: &str = "cm_0000000000000000000000000000000c";

    fn roster(entries: &[(&str, &str, &str, u32, bool)]) -> Roster {
        let mut text = String::from(
            "[[supervisor]]\nid = \"cm_00000000000000000000000000000001\"\ndisplay_code = \"SUP-1\"\n\
             display_name = \"Test Supervisor\"\nsites = [\"countywide\"]\n",
        );
        for (index, (id, site, languages, cap, active)) in entries.iter().enumerate() {
            text.push_str(&format!(
                "[[case_manager]]\nid = \"{id}\"\ndisplay_code = \"CM-{index}\"\ndisplay_name = \"Test Case Manager\"\n\
                 sites = [\"{site}\"]\nlanguages = [{languages}]\nmax_caseload = {cap}\nactive = {active}\n\
                 supervisor = \"cm_00000000000000000000000000000001\"\n"
            ));
        }
        Roster::from_toml(&text).expect("test roster")
    }

    fn loads(entries: &[(&str, u32)]) -> Caseloads {
        entries.iter().map(|(id, load)| (id.parse().unwrap(), *load)).collect()
    }

    fn facts(site: Site, language: Option<&str>) -> CaseFacts {
        CaseFacts { site, language: language.map(str::to_owned), at: 0, emergent: false }
    }

    fn assigned(assignment: Assignment) -> AssignedTo {
        match assignment {
            Assignment::Assigned(to) => to,
            other => panic!("expected an assignment, got {other:?}"),
        }
    }

    #[test]
    fn the_least_loaded_eligible_case_manager_gets_the_case() {
        let roster =
            roster(&[(A, "south_los_angeles", "\"en\"", 12, true), (B, "south_los_angeles", "\"en\"", 12, true)]);
        let to = assigned(choose_case_manager(&roster, &loads(&[(A, 5), (B, 2)]), &facts(Site::SouthLosAngeles, None)));
        assert_eq!(to.case_manager_id.as_str(), B);
        assert_eq!(to.reason(), "least loaded eligible (2/12)");
    }

    #[test]
    fn a_case_manager_at_their_cap_is_passed_over() {
        let roster =
            roster(&[(A, "south_los_angeles", "\"en\"", 3, true), (B, "south_los_angeles", "\"en\"", 12, true)]);
        let to = assigned(choose_case_manager(&roster, &loads(&[(A, 3), (B, 9)]), &facts(Site::SouthLosAngeles, None)));
        assert_eq!(to.case_manager_id.as_str(), B);
        assert_eq!((to.open_cases, to.max_caseload), (9, 12));
    }

    #[test]
    fn only_case_managers_serving_the_site_are_eligible() {
        let roster =
            roster(&[(A, "san_fernando_valley", "\"en\"", 12, true), (B, "south_los_angeles", "\"en\"", 12, true)]);
        let to = assigned(choose_case_manager(&roster, &loads(&[(B, 11)]), &facts(Site::SouthLosAngeles, None)));
        assert_eq!(to.case_manager_id.as_str(), B);
        let to = assigned(choose_case_manager(&roster, &loads(&[(A, 11)]), &facts(Site::SanFernandoValley, None)));
        assert_eq!(to.case_manager_id.as_str(), A);
    }

    #[test]
    fn countywide_case_managers_serve_every_site_and_take_countywide_referrals() {
        let roster = roster(&[(A, "countywide", "\"en\"", 12, true), (B, "south_los_angeles", "\"en\"", 12, true)]);
        let to = assigned(choose_case_manager(&roster, &loads(&[(B, 4)]), &facts(Site::SanFernandoValley, None)));
        assert_eq!(to.case_manager_id.as_str(), A);
        let to = assigned(choose_case_manager(&roster, &loads(&[(A, 6), (B, 0)]), &facts(Site::Countywide, None)));
        assert_eq!(to.case_manager_id.as_str(), A, "a site case manager does not take countywide referrals");
    }

    #[test]
    fn equal_loads_go_to_the_lowest_id() {
        let roster = roster(&[
            (C, "south_los_angeles", "\"en\"", 12, true),
            (B, "south_los_angeles", "\"en\"", 12, true),
            (A, "south_los_angeles", "\"en\"", 12, true),
        ]);
        let to = assigned(choose_case_manager(
            &roster,
            &loads(&[(A, 3), (B, 2), (C, 2)]),
            &facts(Site::SouthLosAngeles, None),
        ));
        assert_eq!(to.case_manager_id.as_str(), B);
        let to = assigned(choose_case_manager(&roster, &Caseloads::new(), &facts(Site::SouthLosAngeles, None)));
        assert_eq!(to.case_manager_id.as_str(), A);
    }

    #[test]
    fn a_speaker_of_the_language_is_preferred_over_a_lighter_caseload() {
        let roster = roster(&[
            (A, "south_los_angeles", "\"en\"", 12, true),
            (B, "south_los_angeles", "\"en\", \"es\"", 12, true),
        ]);
        let to = assigned(choose_case_manager(
            &roster,
            &loads(&[(A, 1), (B, 7)]),
            &facts(Site::SouthLosAngeles, Some("es")),
        ));
        assert_eq!(to.case_manager_id.as_str(), B);
        assert_eq!(to.language_matched, Some(true));
        assert_eq!(to.reason(), "least loaded eligible, speaks the youth's language (7/12)");
        // No eligible speaker: the youth is still assigned, to the least loaded.
        let to = assigned(choose_case_manager(
            &roster,
            &loads(&[(A, 1), (B, 12)]),
            &facts(Site::SouthLosAngeles, Some("es")),
        ));
        assert_eq!(to.case_manager_id.as_str(), A);
        assert_eq!(to.language_matched, Some(false));
    }

    #[test]
    fn nobody_eligible_leaves_the_case_awaiting_assignment() {
        let roster = roster(&[
            (A, "south_los_angeles", "\"en\"", 2, true),
            (B, "south_los_angeles", "\"en\"", 12, false),
            (C, "san_fernando_valley", "\"en\"", 12, true),
        ]);
        assert_eq!(
            choose_case_manager(&roster, &loads(&[(A, 2)]), &facts(Site::SouthLosAngeles, None)),
            Assignment::AwaitingAssignment(Unassignable::AllAtCapacity { at_capacity: 1 }),
            "the inactive case manager has room but takes nothing new",
        );
        assert_eq!(
            choose_case_manager(&roster, &Caseloads::new(), &facts(Site::Countywide, None)),
            Assignment::AwaitingAssignment(Unassignable::NoActiveCaseManagerForSite),
        );
    }

    fn with_periods(mut roster: Roster, id: &str, leave: &[Period], shifts: &[Period], on_call: bool) -> Roster {
        let mut case_managers = roster.case_managers().to_vec();
        let supervisors = roster.supervisors().to_vec();
        for cm in case_managers.iter_mut().filter(|cm| cm.id.as_str() == id) {
            cm.leave = leave.to_vec();
            cm.on_call_shifts = shifts.to_vec();
            cm.on_call = on_call;
        }
        roster = Roster::from_parts(case_managers, supervisors);
        roster
    }

    const DAY: i64 = 86_400_000_000;

    #[test]
    fn a_case_manager_on_leave_takes_nothing_new_until_the_leave_ends() {
        let roster =
            roster(&[(A, "south_los_angeles", "\"en\"", 12, true), (B, "south_los_angeles", "\"en\"", 12, true)]);
        let leave = Period { starts_at: 10 * DAY, ends_at: Some(20 * DAY) };
        let roster = with_periods(roster, A, &[leave], &[], false);
        let at = |day: i64| CaseFacts { at: day * DAY, ..facts(Site::SouthLosAngeles, None) };
        let busy_b = loads(&[(B, 5)]);
        assert_eq!(assigned(choose_case_manager(&roster, &busy_b, &at(9))).case_manager_id.as_str(), A);
        assert_eq!(assigned(choose_case_manager(&roster, &busy_b, &at(10))).case_manager_id.as_str(), B);
        assert_eq!(assigned(choose_case_manager(&roster, &busy_b, &at(20))).case_manager_id.as_str(), A);
        // Everyone serving the site on leave: the supervisors' queue.
        let roster = with_periods(roster, B, &[Period { starts_at: 0, ends_at: None }], &[], false);
        assert_eq!(
            choose_case_manager(&roster, &busy_b, &at(15)),
            Assignment::AwaitingAssignment(Unassignable::NoActiveCaseManagerForSite)
        );
    }

    #[test]
    fn an_emergent_referral_goes_to_the_case_manager_on_call() {
        let roster = roster(&[
            (A, "south_los_angeles", "\"en\"", 12, true),
            (B, "south_los_angeles", "\"en\"", 12, true),
            (C, "south_los_angeles", "\"en\", \"es\"", 12, true),
        ]);
        let shift = Period { starts_at: 5 * DAY, ends_at: Some(6 * DAY) };
        let roster = with_periods(roster, B, &[], &[shift], false);
        let busy_b = loads(&[(B, 9)]);
        let emergent = |day: i64, language: Option<&str>| CaseFacts {
            at: day * DAY,
            emergent: true,
            ..facts(Site::SouthLosAngeles, language)
        };
        let to = assigned(choose_case_manager(&roster, &busy_b, &emergent(5, Some("es"))));
        assert_eq!(to.case_manager_id.as_str(), B, "on call beats load and language");
        assert!(to.on_call);
        assert_eq!(to.reason(), "on call for an emergent referral, no eligible speaker of the youth's language (9/12)");
        // Outside the shift nobody is on call: the usual rule.
        let to = assigned(choose_case_manager(&roster, &busy_b, &emergent(6, None)));
        assert_eq!((to.case_manager_id.as_str(), to.on_call), (A, false));
        // A routine referral during the shift: the usual rule.
        let routine = CaseFacts { emergent: false, ..emergent(5, None) };
        assert_eq!(assigned(choose_case_manager(&roster, &busy_b, &routine)).case_manager_id.as_str(), A);
        // On call but at the cap: passed over, the emergent youth still gets someone.
        let full_b = loads(&[(B, 12)]);
        let to = assigned(choose_case_manager(&roster, &full_b, &emergent(5, None)));
        assert_eq!((to.case_manager_id.as_str(), to.on_call), (A, false));
        // The standing flag counts at any moment; on call but on leave does not.
        let roster = with_periods(roster, C, &[], &[], true);
        assert_eq!(assigned(choose_case_manager(&roster, &busy_b, &emergent(40, None))).case_manager_id.as_str(), C);
        let roster = with_periods(roster, C, &[Period { starts_at: 0, ends_at: None }], &[], true);
        assert_eq!(assigned(choose_case_manager(&roster, &busy_b, &emergent(40, None))).case_manager_id.as_str(), A);
    }
}
