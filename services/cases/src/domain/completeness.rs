//! Data completeness (DESIGN.md "What the program manager oversees"): which required evaluation
//! fields a case is missing now, judged on what the cases service holds — the same three rules as
//! `ListCasesRequest.incomplete_only` (whose SQL twin is `store::INCOMPLETE_AT`): an assessment
//! overdue, a follow-up whose due date is reached and that is not recorded, an exit without the
//! living situation at exit. Fields intake holds (referral source, education, income …) are not
//! judged here.

use wf_proto::cases::v1::FollowUpKind;

use super::follow_up::kind_code;

/// What the rules read of a case.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompletenessFacts {
    pub enrolled_at: Option<i64>,
    pub assessment_due: Option<i64>,
    pub assessed_at: Option<i64>,
    pub exited_at: Option<i64>,
    /// `LivingSituation` number; 0 = not recorded.
    pub exit_living_situation: i32,
}

/// A follow-up still waiting for its record (scheduled, due or overdue; recorded and cancelled
/// ones do not count), with the instant of its due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenFollowUp {
    pub kind: FollowUpKind,
    pub due_at: i64,
}

/// The field codes missing at `now` (`Case.missing_fields`), in a fixed order: the assessment,
/// the follow-ups in kind order, the exit living situation.
pub fn missing_fields(facts: &CompletenessFacts, open_follow_ups: &[OpenFollowUp], now: i64) -> Vec<String> {
    let mut missing = Vec::new();
    let assessment_overdue = facts.enrolled_at.is_some()
        && facts.assessed_at.is_none()
        && facts.assessment_due.is_some_and(|due| due <= now);
    if assessment_overdue {
        missing.push("assessed_at".to_owned());
    }
    let mut due: Vec<FollowUpKind> =
        open_follow_ups.iter().filter(|follow_up| follow_up.due_at <= now).map(|follow_up| follow_up.kind).collect();
    due.sort_by_key(|kind| *kind as i32);
    due.dedup();
    missing.extend(due.into_iter().map(|kind| format!("follow_up.{}", kind_code(kind))));
    if facts.exited_at.is_some() && facts.exit_living_situation == 0 {
        missing.push("exit_living_situation".to_owned());
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000_000;

    #[test]
    fn an_assessment_is_missing_once_it_is_due_and_not_done() {
        let enrolled = CompletenessFacts { enrolled_at: Some(0), assessment_due: Some(90 * DAY), ..Default::default() };
        assert!(missing_fields(&enrolled, &[], 90 * DAY - 1).is_empty());
        assert_eq!(missing_fields(&enrolled, &[], 90 * DAY), ["assessed_at"]);
        let assessed = CompletenessFacts { assessed_at: Some(10 * DAY), ..enrolled };
        assert!(missing_fields(&assessed, &[], 100 * DAY).is_empty());
    }

    #[test]
    fn follow_ups_are_missing_from_their_due_date_and_exits_without_a_living_situation_at_once() {
        let exited = CompletenessFacts { exited_at: Some(5 * DAY), ..Default::default() };
        let open = [
            OpenFollowUp { kind: FollowUpKind::Month6, due_at: 180 * DAY },
            OpenFollowUp { kind: FollowUpKind::Exit, due_at: 5 * DAY },
        ];
        assert_eq!(missing_fields(&exited, &open, 5 * DAY), ["follow_up.exit", "exit_living_situation"]);
        assert_eq!(
            missing_fields(&exited, &open, 180 * DAY),
            ["follow_up.exit", "follow_up.month_6", "exit_living_situation"]
        );
        let with_situation = CompletenessFacts { exit_living_situation: 3, ..exited };
        assert!(missing_fields(&with_situation, &open, 4 * DAY).is_empty());
        assert!(missing_fields(&CompletenessFacts::default(), &[], i64::MAX).is_empty(), "a new case misses nothing");
    }
}
