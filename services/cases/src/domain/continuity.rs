//! A youth seen before: how a new referral relates to the youth's earlier case (DOMAIN.md
//! "Outcomes": a return, or a transfer within 14 days of closure), and the one-open-case rule (one
//! youth has at most one open case: a second referral of the same youth, or a confirmed match, joins
//! it).
//!
//! Closure here is the program exit (`Case.exited_at`, what `CloseCase` records as the exit), not
//! the instant staff recorded it: a closure recorded late, with the exit dated back, must not turn a
//! return months later into a "transfer" with a negative number of days. Each referral is judged
//! at its `received_at`, not when its routing reached cases.

/// DOMAIN.md: "a new referral within 14 days of closure is a transfer, not a return".
pub const TRANSFER_WINDOW_DAYS: i64 = 14;

const DAY_MICROS: i64 = 86_400_000_000;

/// How a new referral relates to the youth's earlier case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comeback {
    /// Received while the earlier case was open: it has not exited, or the referral came before the
    /// exit. Neither a return nor a transfer.
    WhileOpen,
    /// Received less than 14 days after the exit: the youth moves between programs; not a return
    /// and not recidivism.
    Transfer,
    /// Received 14 days or more after the exit: the youth returns. A new trafficking referral after
    /// closure is re-exploitation, a recidivism event (DOMAIN.md "Outcomes").
    Return,
}

impl Comeback {
    /// The relation code stored with the link and sent in `case.linked` / `case_referrals`.
    pub fn relation(self) -> &'static str {
        match self {
            Comeback::WhileOpen => "concurrent",
            Comeback::Transfer => "transfer",
            Comeback::Return => "return",
        }
    }

    /// The coded reason of the reopening a referral makes (`case.reopened`): the evaluation counts
    /// `youth_returned` as a return.
    pub fn reopen_reason(self) -> &'static str {
        match self {
            Comeback::WhileOpen => "referral_before_exit",
            Comeback::Transfer => "transfer",
            Comeback::Return => "youth_returned",
        }
    }

    /// Whether the new referral is a re-exploitation recidivism event on the earlier case.
    pub fn is_recidivism(self) -> bool {
        self == Comeback::Return
    }
}

/// How a referral received at `received_at` relates to a case that exited at `exited_at` (`None`:
/// it has not exited).
pub fn comeback(exited_at: Option<i64>, received_at: i64) -> Comeback {
    match exited_at {
        None => Comeback::WhileOpen,
        Some(exited_at) if received_at < exited_at => Comeback::WhileOpen,
        Some(exited_at) if whole_days_between(exited_at, received_at) < TRANSFER_WINDOW_DAYS => Comeback::Transfer,
        Some(_) => Comeback::Return,
    }
}

/// Whole days from the exit to the referral (never negative), or -1 when the referral came while
/// the case was open (`CaseLinked.days_since_closure`, `CaseReopened.days_since_closure`).
pub fn days_since_exit(exited_at: Option<i64>, received_at: i64) -> i32 {
    match exited_at {
        Some(exited_at) if received_at >= exited_at => {
            i32::try_from(whole_days_between(exited_at, received_at)).unwrap_or(i32::MAX)
        }
        _ => -1,
    }
}

/// Days between two instants in microseconds, rounded down.
pub fn whole_days_between(earlier_micros: i64, later_micros: i64) -> i64 {
    (later_micros - earlier_micros).div_euclid(DAY_MICROS)
}

/// The youth's cases as they stand when one of their referrals is routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YouthCases {
    /// The youth has an open case (there is at most one).
    pub open: bool,
    /// The exit of the youth's latest closed case, when the youth has one.
    pub latest_closed_exit: Option<Option<i64>>,
}

/// Where a routed referral goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// The youth's open case takes it: never a second open case.
    JoinOpen,
    /// The youth's latest closed case is reopened for it (continuity).
    Reopen(Comeback),
    /// The youth has no case yet: a new one.
    OpenNew,
}

/// Where a referral received at `received_at` goes, given the youth's cases.
pub fn place(cases: YouthCases, received_at: i64) -> Placement {
    if cases.open {
        return Placement::JoinOpen;
    }
    match cases.latest_closed_exit {
        Some(exited_at) => Placement::Reopen(comeback(exited_at, received_at)),
        None => Placement::OpenNew,
    }
}

/// What a confirmed match does to a referral that already has a case of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmedLink {
    /// Both cases are open: the newer case joins the earlier one (its referrals and records move
    /// there and it is closed as merged), so the youth keeps one open case.
    JoinOpen,
    /// The cases are linked as they are: a return or transfer after the earlier case's exit, or
    /// concurrent when only the earlier one is open.
    Link(Comeback),
}

/// The referral's own case is open (`new_case_open`); the youth's earlier case is open
/// (`earlier_open`) or exited at `earlier_exited_at`; the referral was received at `received_at`.
pub fn confirmed_link(
    new_case_open: bool,
    earlier_open: bool,
    earlier_exited_at: Option<i64>,
    received_at: i64,
) -> ConfirmedLink {
    match (new_case_open, earlier_open) {
        (true, true) => ConfirmedLink::JoinOpen,
        (false, true) => ConfirmedLink::Link(Comeback::WhileOpen),
        (_, false) => ConfirmedLink::Link(comeback(earlier_exited_at, received_at)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = DAY_MICROS;

    #[test]
    fn a_new_referral_within_fourteen_days_of_the_exit_is_a_transfer() {
        assert_eq!(comeback(Some(0), 0), Comeback::Transfer);
        assert_eq!(comeback(Some(0), 14 * DAY - 1), Comeback::Transfer);
        assert_eq!(comeback(Some(0), 14 * DAY), Comeback::Return);
        assert_eq!(days_since_exit(Some(0), 14 * DAY), 14);
    }

    /// The pilot's finding: the exit dated back a year, the closure recorded after the youth came
    /// back nine months after the exit. Judged from the exit it is a return of 274 days, not a
    /// "transfer" of -91 days counted from when the closure was recorded.
    #[test]
    fn the_exit_counts_not_when_the_closure_was_recorded() {
        let exited_at = 1_000 * DAY;
        let received_at = exited_at + 274 * DAY;
        assert_eq!(comeback(Some(exited_at), received_at), Comeback::Return);
        assert_eq!(days_since_exit(Some(exited_at), received_at), 274);
        assert!(comeback(Some(exited_at), received_at).is_recidivism());
    }

    #[test]
    fn a_referral_before_the_exit_or_while_open_is_neither_a_return_nor_a_transfer() {
        assert_eq!(comeback(None, 5 * DAY), Comeback::WhileOpen);
        assert_eq!(comeback(Some(10 * DAY), 10 * DAY - 1), Comeback::WhileOpen);
        assert_eq!(days_since_exit(Some(10 * DAY), 3 * DAY), -1);
        assert_eq!(days_since_exit(None, 3 * DAY), -1);
        assert!(!Comeback::WhileOpen.is_recidivism() && !Comeback::Transfer.is_recidivism());
        assert_eq!(
            [Comeback::WhileOpen, Comeback::Transfer, Comeback::Return].map(Comeback::relation),
            ["concurrent", "transfer", "return"]
        );
    }

    #[test]
    fn an_open_case_takes_every_further_referral_of_the_youth() {
        let open = YouthCases { open: true, latest_closed_exit: Some(Some(0)) };
        assert_eq!(place(open, 400 * DAY), Placement::JoinOpen);
        let closed = YouthCases { open: false, latest_closed_exit: Some(Some(0)) };
        assert_eq!(place(closed, 400 * DAY), Placement::Reopen(Comeback::Return));
        assert_eq!(place(closed, 2 * DAY), Placement::Reopen(Comeback::Transfer));
        assert_eq!(place(YouthCases { open: false, latest_closed_exit: None }, 0), Placement::OpenNew);
    }

    #[test]
    fn a_confirmed_match_between_two_open_cases_joins_them() {
        assert_eq!(confirmed_link(true, true, None, 0), ConfirmedLink::JoinOpen);
        assert_eq!(confirmed_link(false, true, None, 0), ConfirmedLink::Link(Comeback::WhileOpen));
        assert_eq!(confirmed_link(true, false, Some(0), 30 * DAY), ConfirmedLink::Link(Comeback::Return));
        assert_eq!(confirmed_link(true, false, Some(0), 3 * DAY), ConfirmedLink::Link(Comeback::Transfer));
    }
}
