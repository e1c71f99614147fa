//! The case lifecycle (DOMAIN.md "Lifecycles") as one transition table, shared by the cases
//! service (which enforces it) and the gateway (whose stage stepper offers only what it allows).
//!
//! `engagement → enrolled → assessed → plan → active ⇄ missing → follow_up → closed →
//! post_exit_follow_up`, with closing and reopening as their own moves:
//! - a case closes from any open stage (a youth may decline, move away, age out or become
//!   unreachable at any point; DOMAIN.md lists those closure reasons), but only `CloseCase` closes,
//!   because a closure needs its reason and exit facts;
//! - a closed case (or one in post-exit follow-up) reopens into `engagement` through `ReopenCase`:
//!   the returning youth is contacted again before re-enrolling, like any new referral.
//!
//! Plain data: nothing here touches a database or the network.

use std::fmt;

use crate::cases::v1::CaseStage;

/// The request that moves a case: each move is made by exactly one of them, and each emits its
/// own event (`case.stage_changed`, `case.closed`, `case.reopened`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// `TransitionStage`, announced as `case.stage_changed`.
    Stage,
    /// `CloseCase`, announced as `case.closed`.
    Close,
    /// `ReopenCase`, announced as `case.reopened`.
    Reopen,
}

impl Move {
    pub fn rpc(self) -> &'static str {
        match self {
            Move::Stage => "TransitionStage",
            Move::Close => "CloseCase",
            Move::Reopen => "ReopenCase",
        }
    }
}

use CaseStage::*;

/// Every allowed move: (from, to, made by).
pub const TRANSITIONS: &[(CaseStage, CaseStage, Move)] = &[
    (Engagement, Enrolled, Move::Stage),
    (Engagement, Closed, Move::Close),
    (Enrolled, Assessed, Move::Stage),
    (Enrolled, Closed, Move::Close),
    (Assessed, Plan, Move::Stage),
    (Assessed, Closed, Move::Close),
    (Plan, Active, Move::Stage),
    (Plan, Closed, Move::Close),
    (Active, Missing, Move::Stage),
    (Active, FollowUp, Move::Stage),
    (Active, Closed, Move::Close),
    (Missing, Active, Move::Stage),
    (Missing, Closed, Move::Close),
    (FollowUp, Closed, Move::Close),
    (Closed, PostExitFollowUp, Move::Stage),
    (Closed, Engagement, Move::Reopen),
    (PostExitFollowUp, Engagement, Move::Reopen),
];

/// The stages a case can be in (every stage but `UNSPECIFIED`), in lifecycle order.
pub const STAGES: [CaseStage; 9] =
    [Engagement, Enrolled, Assessed, Plan, Active, Missing, FollowUp, Closed, PostExitFollowUp];

const STAGE_CODES: [(CaseStage, &str); 9] = [
    (Engagement, "engagement"),
    (Enrolled, "enrolled"),
    (Assessed, "assessed"),
    (Plan, "plan"),
    (Active, "active"),
    (Missing, "missing"),
    (FollowUp, "follow_up"),
    (Closed, "closed"),
    (PostExitFollowUp, "post_exit_follow_up"),
];

/// The code of a stage (its proto name without the prefix, lowercased; the cases service stores
/// it). `CASE_STAGE_UNSPECIFIED` has a code only so this is total: no case is ever in it, and
/// [`stage_from_code`] does not read it back.
pub fn stage_code(stage: CaseStage) -> &'static str {
    STAGE_CODES.iter().find(|(s, _)| *s == stage).map_or("unspecified", |(_, code)| *code)
}

pub fn stage_from_code(code: &str) -> Option<CaseStage> {
    STAGE_CODES.iter().find(|(_, c)| *c == code).map(|(stage, _)| *stage)
}

/// Whether a case in `stage` is closed (off the caseload, reopenable).
pub fn is_closed(stage: CaseStage) -> bool {
    matches!(stage, Closed | PostExitFollowUp)
}

/// A refused move, worded for the caller: the current stage and what may follow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub from: CaseStage,
    pub to: CaseStage,
    pub requested: Move,
    /// Allowed next stages from `from`, each with the request that makes it.
    pub allowed: Vec<(CaseStage, Move)>,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let allowed: Vec<String> =
            self.allowed.iter().map(|(stage, by)| format!("{} (by {})", stage_code(*stage), by.rpc())).collect();
        write!(
            f,
            "case is in stage {}; {} to {} is not allowed; allowed next stages: {}",
            stage_code(self.from),
            self.requested.rpc(),
            stage_code(self.to),
            if allowed.is_empty() { "none".to_owned() } else { allowed.join(", ") }
        )
    }
}

/// The stages allowed after `from`, in table order.
pub fn allowed_next(from: CaseStage) -> Vec<(CaseStage, Move)> {
    TRANSITIONS.iter().filter(|(f, _, _)| *f == from).map(|(_, to, by)| (*to, *by)).collect()
}

/// `Ok` when `requested` may move a case from `from` to `to`.
pub fn check(from: CaseStage, to: CaseStage, requested: Move) -> Result<(), Refused> {
    if TRANSITIONS.contains(&(from, to, requested)) {
        Ok(())
    } else {
        Err(Refused { from, to, requested, allowed: allowed_next(from) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOVES: [Move; 3] = [Move::Stage, Move::Close, Move::Reopen];

    #[test]
    fn the_lifecycle_path_is_allowed_in_order() {
        let path = [Engagement, Enrolled, Assessed, Plan, Active, Missing, Active, FollowUp];
        for pair in path.windows(2) {
            assert_eq!(check(pair[0], pair[1], Move::Stage), Ok(()), "{pair:?}");
        }
        assert_eq!(check(FollowUp, Closed, Move::Close), Ok(()));
        assert_eq!(check(Closed, PostExitFollowUp, Move::Stage), Ok(()));
        assert_eq!(check(PostExitFollowUp, Engagement, Move::Reopen), Ok(()));
    }

    #[test]
    fn every_pair_outside_the_table_is_refused_naming_the_stage_and_what_may_follow() {
        let mut refused = 0;
        for from in STAGES {
            for to in STAGES {
                for by in MOVES {
                    let allowed = TRANSITIONS.contains(&(from, to, by));
                    match check(from, to, by) {
                        Ok(()) => assert!(allowed, "{from:?} → {to:?} by {by:?}"),
                        Err(err) => {
                            assert!(!allowed);
                            refused += 1;
                            let message = err.to_string();
                            assert!(message.starts_with(&format!("case is in stage {};", stage_code(from))));
                            for (next, next_by) in allowed_next(from) {
                                assert!(message.contains(&format!("{} (by {})", stage_code(next), next_by.rpc())));
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(refused, STAGES.len() * STAGES.len() * MOVES.len() - TRANSITIONS.len());
    }

    #[test]
    fn every_open_stage_can_close_and_only_closed_stages_reopen() {
        for stage in STAGES {
            assert_eq!(check(stage, Closed, Move::Close).is_ok(), !is_closed(stage), "{stage:?}");
            assert_eq!(check(stage, Engagement, Move::Reopen).is_ok(), is_closed(stage), "{stage:?}");
        }
    }

    #[test]
    fn the_message_reads_for_a_person() {
        let err = check(Enrolled, Active, Move::Stage).unwrap_err();
        assert_eq!(
            err.to_string(),
            "case is in stage enrolled; TransitionStage to active is not allowed; allowed next stages: \
             assessed (by TransitionStage), closed (by CloseCase)"
        );
    }

    #[test]
    fn stage_codes_round_trip() {
        for (stage, code) in STAGE_CODES {
            assert_eq!(stage_code(stage), code);
            assert_eq!(stage_from_code(code), Some(stage));
            assert_eq!(stage.as_str_name().trim_start_matches("CASE_STAGE_").to_ascii_lowercase(), code);
        }
        assert_eq!(stage_from_code(stage_code(Unspecified)), None);
    }
}
