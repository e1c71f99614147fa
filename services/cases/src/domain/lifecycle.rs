//! The case lifecycle (DOMAIN.md "Lifecycles"): the transition table lives in
//! [`wf_proto::lifecycle`], shared with the gateway (whose stage stepper offers only the moves it
//! allows); here is what only cases needs of it: when the assessment is due and which moves start or
//! end a missing episode.
//!
//! Nothing here touches the database: the API asks [`check`] and records what it answers.

use wf_proto::cases::v1::CaseStage;
pub use wf_proto::lifecycle::{Move, Refused, STAGES, TRANSITIONS, allowed_next, check, is_closed};

/// Days after enrollment by which the assessment is due.
pub const ASSESSMENT_DUE_DAYS: i64 = 90;

/// Whether this move starts or ends a missing episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingEpisode {
    Starts,
    Ends,
    Unchanged,
}

pub fn missing_episode(from: CaseStage, to: CaseStage) -> MissingEpisode {
    match (from, to) {
        (_, CaseStage::Missing) => MissingEpisode::Starts,
        // Leaving missing by closing also ends the episode: its days stop counting at closure.
        (CaseStage::Missing, _) => MissingEpisode::Ends,
        _ => MissingEpisode::Unchanged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseStage::*;

    #[test]
    fn missing_episodes_start_and_end() {
        assert_eq!(missing_episode(Active, Missing), MissingEpisode::Starts);
        assert_eq!(missing_episode(Missing, Active), MissingEpisode::Ends);
        assert_eq!(missing_episode(Missing, Closed), MissingEpisode::Ends);
        assert_eq!(missing_episode(Plan, Active), MissingEpisode::Unchanged);
    }
}
