//! `offer.accepted`: the partner that accepted serves the referral's case from now on (see
//! `app::offers`). Declined, expired and withdrawn offers need no consumer: an offer grants
//! nothing until it is accepted, and routing never withdraws an accepted one.

use wf_events::{Envelope, HandleError};
use wf_proto::events::v1 as pb;

use super::{CaseEvents, id, payload};
use crate::app::offers::{self, Accepted};

impl CaseEvents {
    pub async fn on_offer_accepted(&self, envelope: &Envelope) -> Result<(), HandleError> {
        const EVENT: &str = "offer.accepted";
        let accepted: pb::OfferAccepted = payload(envelope)?;
        let accepted = Accepted {
            offer_id: id(EVENT, "offer_id", &accepted.offer_id)?,
            referral_id: id(EVENT, "referral_id", &accepted.referral_id)?,
            partner_id: id(EVENT, "partner_id", &accepted.partner_id)?,
            partner_service_id: match accepted.partner_service_id.as_str() {
                "" => None,
                service => Some(id(EVENT, "partner_service_id", service)?),
            },
            accepted_at: accepted
                .accepted_at
                .as_ref()
                .and_then(wf_proto::time::datetime)
                .map_or_else(|| self.app.now(), |at| at.timestamp_micros()),
        };
        Ok(offers::record_accepted(&self.app, envelope, accepted).await?)
    }
}
