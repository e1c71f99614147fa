//! Reassignment by a supervisor: to a named case manager, or to whoever the assignment rule picks
//! among everyone but the current owner. Caps hold either way: a named case manager at their cap
//! is refused, never pushed over it.

use wf_types::CaseManagerId;

use super::{AssignedTo, Assignment, CaseFacts, Caseloads, Roster, choose_case_manager};

/// Why a named case manager cannot take the case (worded for the supervisor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotAssignable {
    Unknown,
    Inactive,
    OnLeave,
    WrongSite { site: &'static str },
    AtCapacity { open_cases: u32, max_caseload: u32 },
    AlreadyOwner,
}

impl std::fmt::Display for NotAssignable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotAssignable::Unknown => f.write_str("is not a case manager in the roster"),
            NotAssignable::Inactive => f.write_str("is not active (left the program)"),
            NotAssignable::OnLeave => f.write_str("is on leave"),
            NotAssignable::WrongSite { site } => write!(f, "does not serve the case's site {site}"),
            NotAssignable::AtCapacity { open_cases, max_caseload } => {
                write!(f, "is at their caseload cap ({open_cases}/{max_caseload})")
            }
            NotAssignable::AlreadyOwner => f.write_str("already owns the case"),
        }
    }
}

/// Checks a named new owner.
pub fn to_named(
    roster: &Roster,
    loads: &Caseloads,
    facts: &CaseFacts,
    target: &CaseManagerId,
    current: Option<&CaseManagerId>,
) -> Result<AssignedTo, NotAssignable> {
    let cm = roster.case_manager(target).ok_or(NotAssignable::Unknown)?;
    if current == Some(target) {
        return Err(NotAssignable::AlreadyOwner);
    }
    if !cm.active {
        return Err(NotAssignable::Inactive);
    }
    if cm.on_leave_at(facts.at) {
        return Err(NotAssignable::OnLeave);
    }
    if !cm.serves(facts.site) {
        return Err(NotAssignable::WrongSite { site: facts.site.code() });
    }
    let open_cases = loads.get(target).copied().unwrap_or(0);
    if open_cases >= cm.max_caseload {
        return Err(NotAssignable::AtCapacity { open_cases, max_caseload: cm.max_caseload });
    }
    Ok(AssignedTo {
        case_manager_id: cm.id.clone(),
        open_cases,
        max_caseload: cm.max_caseload,
        language_matched: None,
        on_call: false,
    })
}

/// The assignment rule, with the current owner left out.
pub fn to_someone_else(
    roster: &Roster,
    loads: &Caseloads,
    facts: &CaseFacts,
    current: Option<&CaseManagerId>,
) -> Assignment {
    let mut loads = loads.clone();
    if let Some(current) = current {
        // Counted as full, so the rule passes over them without a second copy of it.
        loads.insert(current.clone(), u32::MAX);
    }
    choose_case_manager(roster, &loads, facts)
}

/// A returning youth's assignment: the earlier case manager when they are active, not on leave
/// and have room (`true`: continuity), else the usual rule (and with nobody eligible, the
/// supervisors' queue). An emergent referral needs someone working now: when the rule finds
/// another case manager on call, they take it unless the earlier one is on call too; a supervisor
/// can hand the case back later (`REASSIGN_REASON_CONTINUITY`).
pub fn with_continuity(
    roster: &Roster,
    loads: &Caseloads,
    facts: &CaseFacts,
    previous: Option<&CaseManagerId>,
) -> (Assignment, bool) {
    let rule = choose_case_manager(roster, loads, facts);
    let Some(previous) = previous else { return (rule, false) };
    let Ok(earlier) = to_named(roster, loads, facts, previous, None) else { return (rule, false) };
    let earlier_on_call = roster.case_manager(previous).is_some_and(|cm| cm.on_call_at(facts.at));
    match rule {
        Assignment::Assigned(to) if to.on_call && !earlier_on_call => (Assignment::Assigned(to), false),
        _ => (Assignment::Assigned(earlier), true),
    }
}

/// The reason recorded with an assignment, saying when it continued the earlier case manager.
pub fn continuity_reason(to: &AssignedTo, continued: bool) -> String {
    if continued {
        format!("continuity: the youth's earlier case manager ({}/{})", to.open_cases, to.max_caseload)
    } else {
        to.reason()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Site;

    const A: &str = "cm_0000000000000000000000000000000a";
    const B: &str = "cm_0000000000000000000000000000000b";

    fn roster() -> Roster {
        let mut text = String::from(
            "[[supervisor]]\nid = \"cm_00000000000000000000000000000001\"\ndisplay_code = \"SUP-1\"\n\
             display_name = \"Test Supervisor\"\nsites = [\"countywide\"]\n",
        );
        for (index, (id, site)) in [(A, "south_los_angeles"), (B, "south_los_angeles")].iter().enumerate() {
            text.push_str(&format!(
                "[[case_manager]]\nid = \"{id}\"\ndisplay_code = \"CM-{index}\"\ndisplay_name = \"Test Case Manager\"\n\
                 sites = [\"{site}\"]\nlanguages = [\"en\"]\nmax_caseload = 2\n\
                 supervisor = \"cm_00000000000000000000000000000001\"\n"
            ));
        }
        Roster::from_toml(&text).expect("roster")
    }

    fn id(text: &str) -> CaseManagerId {
        text.parse().unwrap()
    }

    #[test]
    fn a_named_owner_must_be_eligible_and_have_room() {
        let roster = roster();
        let sla = CaseFacts { site: Site::SouthLosAngeles, language: None, at: 0, emergent: false };
        let mut loads = Caseloads::new();
        assert!(to_named(&roster, &loads, &sla, &id(B), Some(&id(A))).is_ok());
        assert_eq!(to_named(&roster, &loads, &sla, &id(A), Some(&id(A))), Err(NotAssignable::AlreadyOwner));
        let valley = CaseFacts { site: Site::SanFernandoValley, language: None, at: 0, emergent: false };
        assert_eq!(
            to_named(&roster, &loads, &valley, &id(B), None),
            Err(NotAssignable::WrongSite { site: "san_fernando_valley" })
        );
        loads.insert(id(B), 2);
        let err = to_named(&roster, &loads, &sla, &id(B), Some(&id(A))).unwrap_err();
        assert_eq!(err.to_string(), "is at their caseload cap (2/2)");
        let stranger = id("cm_000000000000000000000000000000ff");
        assert_eq!(to_named(&roster, &loads, &sla, &stranger, None), Err(NotAssignable::Unknown));
    }

    #[test]
    fn a_named_owner_on_leave_is_refused_until_the_leave_ends() {
        let mut case_managers = roster().case_managers().to_vec();
        case_managers[1].leave = vec![crate::domain::Period { starts_at: 10, ends_at: Some(20) }];
        let roster = Roster::from_parts(case_managers, roster().supervisors().to_vec());
        let at = |at: i64| CaseFacts { site: Site::SouthLosAngeles, language: None, at, emergent: false };
        let loads = Caseloads::new();
        assert_eq!(to_named(&roster, &loads, &at(10), &id(B), None), Err(NotAssignable::OnLeave));
        assert_eq!(NotAssignable::OnLeave.to_string(), "is on leave");
        assert!(to_named(&roster, &loads, &at(9), &id(B), None).is_ok());
        assert!(to_named(&roster, &loads, &at(20), &id(B), None).is_ok());
    }

    #[test]
    fn the_rule_never_picks_the_current_owner() {
        let roster = roster();
        let sla = CaseFacts { site: Site::SouthLosAngeles, language: None, at: 0, emergent: false };
        match to_someone_else(&roster, &Caseloads::new(), &sla, Some(&id(A))) {
            Assignment::Assigned(to) => assert_eq!(to.case_manager_id, id(B)),
            other => panic!("{other:?}"),
        }
        let loads: Caseloads = [(id(B), 2)].into_iter().collect();
        assert!(matches!(to_someone_else(&roster, &loads, &sla, Some(&id(A))), Assignment::AwaitingAssignment(_)));
    }
}
