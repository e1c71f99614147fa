//! `possible_match.confirmed`: staff confirmed in intake that a new referral is a youth seen
//! before (see `app::returning` for what continuity that gives).

use wf_events::{Envelope, HandleError};
use wf_proto::events::v1 as pb;

use super::{CaseEvents, MatchOutcome, id, payload};
use crate::app::returning::{self, ConfirmedMatch};

impl CaseEvents {
    pub async fn on_possible_match_confirmed(&self, envelope: &Envelope) -> Result<MatchOutcome, HandleError> {
        const EVENT: &str = "possible_match.confirmed";
        let confirmed: pb::PossibleMatchConfirmed = payload(envelope)?;
        let referral_id = id(EVENT, "referral_id", &confirmed.referral_id)?;
        let youth_id = id(EVENT, "youth_id", &confirmed.youth_id)?;
        let match_id_ok = confirmed.possible_match_id.len() <= 64
            && !confirmed.possible_match_id.is_empty()
            && confirmed.possible_match_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !match_id_ok {
            return Err(HandleError::Permanent(format!("{EVENT} possible_match_id is not an id")));
        }
        let confirmed = ConfirmedMatch { possible_match_id: confirmed.possible_match_id, referral_id, youth_id };
        returning::link_confirmed(&self.app, envelope, confirmed).await
    }
}
