//! The consumer: every bound event that feeds the analytic data set is stored (coded payload only)
//! in the same transaction as its inbox record ([`ingest::store_event`]; practice events are not
//! stored at all), and a youth seen for the first time gets a random study id. Analyses fold the
//! stored events, so arrival order does not matter.

use prost::Message;
use wf_db::Db;
use wf_events::{Envelope, EventHandler, EventPayload, HandleError};
use wf_proto::events::v1 as pb;
use wf_types::SharedClock;

use crate::app::ingest;

/// The event types the data set is built from; other types on the bound topics are acknowledged
/// without effect.
pub const DATASET_EVENTS: &[&str] = &[
    pb::ReferralReceived::TYPE,
    pb::PossibleMatchConfirmed::TYPE,
    pb::CaseAssigned::TYPE,
    pb::CaseStageChanged::TYPE,
    pb::CaseClosed::TYPE,
    pb::CaseReopened::TYPE,
    pb::InterventionDelivered::TYPE,
    pb::InterventionWithdrawn::TYPE,
    pb::FollowUpDue::TYPE,
    pb::FollowUpOverdue::TYPE,
    pb::FollowUpRecorded::TYPE,
    pb::RecidivismRecorded::TYPE,
    pb::ReferralTriaged::TYPE,
    pb::OfferMade::TYPE,
    pb::OfferAccepted::TYPE,
    pb::OfferDeclined::TYPE,
    pb::OfferExpired::TYPE,
    pb::OfferWithdrawn::TYPE,
];

#[derive(Clone)]
pub struct EvaluationEvents {
    db: Db,
    clock: SharedClock,
}

impl EvaluationEvents {
    pub fn new(db: Db, clock: SharedClock) -> Self {
        Self { db, clock }
    }

    /// Whether the event belongs to a practice referral: those are never stored (they never count
    /// in the evaluation, and purging them elsewhere must leave nothing here).
    fn is_practice(envelope: &Envelope) -> Result<bool, HandleError> {
        let permanent = |err: prost::DecodeError| {
            HandleError::Permanent(format!("{} payload does not decode: {err}", envelope.event_type))
        };
        let bytes = envelope.payload.as_slice();
        Ok(match envelope.event_type.as_str() {
            pb::ReferralReceived::TYPE => pb::ReferralReceived::decode(bytes).map_err(permanent)?.practice,
            pb::PossibleMatchConfirmed::TYPE => pb::PossibleMatchConfirmed::decode(bytes).map_err(permanent)?.practice,
            pb::CaseAssigned::TYPE => pb::CaseAssigned::decode(bytes).map_err(permanent)?.practice,
            pb::CaseStageChanged::TYPE => pb::CaseStageChanged::decode(bytes).map_err(permanent)?.practice,
            pb::CaseClosed::TYPE => pb::CaseClosed::decode(bytes).map_err(permanent)?.practice,
            pb::CaseReopened::TYPE => pb::CaseReopened::decode(bytes).map_err(permanent)?.practice,
            pb::InterventionDelivered::TYPE => pb::InterventionDelivered::decode(bytes).map_err(permanent)?.practice,
            pb::InterventionWithdrawn::TYPE => pb::InterventionWithdrawn::decode(bytes).map_err(permanent)?.practice,
            pb::FollowUpDue::TYPE => pb::FollowUpDue::decode(bytes).map_err(permanent)?.practice,
            pb::FollowUpOverdue::TYPE => pb::FollowUpOverdue::decode(bytes).map_err(permanent)?.practice,
            pb::FollowUpRecorded::TYPE => pb::FollowUpRecorded::decode(bytes).map_err(permanent)?.practice,
            pb::RecidivismRecorded::TYPE => pb::RecidivismRecorded::decode(bytes).map_err(permanent)?.practice,
            pb::ReferralTriaged::TYPE => pb::ReferralTriaged::decode(bytes).map_err(permanent)?.practice,
            pb::OfferMade::TYPE => pb::OfferMade::decode(bytes).map_err(permanent)?.practice,
            pb::OfferAccepted::TYPE => pb::OfferAccepted::decode(bytes).map_err(permanent)?.practice,
            pb::OfferDeclined::TYPE => pb::OfferDeclined::decode(bytes).map_err(permanent)?.practice,
            pb::OfferExpired::TYPE => pb::OfferExpired::decode(bytes).map_err(permanent)?.practice,
            pb::OfferWithdrawn::TYPE => pb::OfferWithdrawn::decode(bytes).map_err(permanent)?.practice,
            _ => false,
        })
    }

    /// The youth id that needs a study id, if the event names a (non-practice) youth.
    fn youth_of(envelope: &Envelope) -> Result<Option<String>, HandleError> {
        let permanent = |err: prost::DecodeError| {
            HandleError::Permanent(format!("{} payload does not decode: {err}", envelope.event_type))
        };
        let payload = envelope.payload.as_slice();
        Ok(match envelope.event_type.as_str() {
            pb::ReferralReceived::TYPE => {
                let received = pb::ReferralReceived::decode(payload).map_err(permanent)?;
                (!received.practice && !received.youth_id.is_empty()).then_some(received.youth_id)
            }
            pb::PossibleMatchConfirmed::TYPE => {
                let confirmed = pb::PossibleMatchConfirmed::decode(payload).map_err(permanent)?;
                (!confirmed.practice && !confirmed.youth_id.is_empty()).then_some(confirmed.youth_id)
            }
            _ => None,
        })
    }
}

#[async_trait::async_trait]
impl EventHandler for EvaluationEvents {
    async fn handle(&self, envelope: Envelope) -> Result<(), HandleError> {
        if !DATASET_EVENTS.contains(&envelope.event_type.as_str()) {
            tracing::debug!(event.id = %envelope.event_id, event.r#type = %envelope.event_type, "event does not feed the evaluation");
            return Ok(());
        }
        if Self::is_practice(&envelope)? {
            tracing::debug!(event.id = %envelope.event_id, event.r#type = %envelope.event_type, "practice event not stored");
            return Ok(());
        }
        let youth = Self::youth_of(&envelope)?;
        if !ingest::store_event(&self.db, &envelope, youth.as_deref(), self.clock.now_micros()).await? {
            tracing::debug!(event.id = %envelope.event_id, "event already in the evaluation data set");
            return Ok(());
        }
        tracing::debug!(event.id = %envelope.event_id, event.r#type = %envelope.event_type, "event stored for the evaluation");
        Ok(())
    }
}
