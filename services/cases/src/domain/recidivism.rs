//! Recidivism, the primary outcome: which follow-up answers are recidivism events. Only a "yes"
//! counts; "no", "doesn't know", "prefers not to answer" and missing answers are not events, and
//! a youth not reached has no answers at all (censored, never "no recidivism").

use wf_proto::cases::v1::FollowUpOutcomes;
use wf_proto::common::v1::{NoYes, RecidivismKind};

fn yes(value: i32) -> bool {
    value == NoYes::Yes as i32
}

/// The recidivism kinds a completed follow-up's answers report, each once.
pub fn from_answers(outcomes: &FollowUpOutcomes) -> Vec<RecidivismKind> {
    let mut kinds = Vec::new();
    let sexual = outcomes
        .sexual_exploitation
        .as_ref()
        .is_some_and(|s| yes(s.exchanged_sex_last_three_months) || yes(s.made_persuaded_or_forced_last_three_months));
    let labor = outcomes.labor_exploitation.as_ref().is_some_and(|l| yes(l.either_in_last_three_months));
    if sexual || labor {
        kinds.push(RecidivismKind::ReExploitation);
    }
    if yes(outcomes.arrested_since_last_contact) {
        kinds.push(RecidivismKind::ReArrest);
    }
    if yes(outcomes.returned_to_trafficker) {
        kinds.push(RecidivismKind::ReturnToTrafficker);
    }
    kinds
}

#[cfg(test)]
mod tests {
    use super::*;
    use wf_proto::common::v1::{LaborExploitation, SexualExploitation};

    #[test]
    fn only_yes_answers_are_events() {
        assert!(from_answers(&FollowUpOutcomes::default()).is_empty());
        let no = FollowUpOutcomes {
            arrested_since_last_contact: NoYes::No as i32,
            returned_to_trafficker: NoYes::ClientPrefersNotToAnswer as i32,
            ..Default::default()
        };
        assert!(from_answers(&no).is_empty());
        let all = FollowUpOutcomes {
            sexual_exploitation: Some(SexualExploitation {
                // Ever, but not in the last three months: not a new event.
                ever_exchanged_sex: NoYes::Yes as i32,
                ..Default::default()
            }),
            labor_exploitation: Some(LaborExploitation {
                either_in_last_three_months: NoYes::Yes as i32,
                ..Default::default()
            }),
            arrested_since_last_contact: NoYes::Yes as i32,
            returned_to_trafficker: NoYes::Yes as i32,
            ..Default::default()
        };
        assert_eq!(
            from_answers(&all),
            [RecidivismKind::ReExploitation, RecidivismKind::ReArrest, RecidivismKind::ReturnToTrafficker]
        );
    }
}
