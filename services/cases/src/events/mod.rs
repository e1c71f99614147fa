//! Consumers of the cases subscription: each reads its event into plain input and hands it to
//! its use case in `app` (`referral.received` stores the referral's facts, `referral.routed`
//! opens or reopens its case, `offer.accepted` names the partner that serves it,
//! `possible_match.confirmed` gives a returning youth continuity).

mod offers;
mod referrals;
mod returning;

use wf_events::{Envelope, EventHandler, EventPayload, HandleError};
use wf_proto::events::v1 as pb;

pub use crate::app::referrals::RoutedOutcome;
pub use crate::app::returning::MatchOutcome;

use crate::app::App;

/// Consumes the cases subscription.
pub struct CaseEvents {
    app: App,
}

impl CaseEvents {
    pub fn new(app: App) -> Self {
        Self { app }
    }
}

#[async_trait::async_trait]
impl EventHandler for CaseEvents {
    async fn handle(&self, envelope: Envelope) -> Result<(), HandleError> {
        match envelope.event_type.as_str() {
            pb::ReferralReceived::TYPE => self.on_referral_received(&envelope).await,
            pb::ReferralRouted::TYPE => self.on_referral_routed(&envelope).await.map(|_| ()),
            pb::PossibleMatchConfirmed::TYPE => self.on_possible_match_confirmed(&envelope).await.map(|_| ()),
            pb::OfferAccepted::TYPE => self.on_offer_accepted(&envelope).await,
            other => Err(HandleError::Permanent(format!("cases does not handle event type {other}"))),
        }
    }
}

/// The payload of `envelope`; one that cannot be read never will be.
fn payload<P: EventPayload>(envelope: &Envelope) -> Result<P, HandleError> {
    envelope.payload_as().map_err(|err| HandleError::Permanent(err.to_string()))
}

/// An id field of `event`, refused for good when malformed.
fn id<Id: std::str::FromStr<Err = wf_types::IdError>>(
    event: &str,
    field: &str,
    value: &str,
) -> Result<Id, HandleError> {
    value.parse().map_err(|err| HandleError::Permanent(format!("{event} {field}: {err}")))
}
