//! Intake keeps each referral's status from the events of routing and cases.

use wf_db::Db;
use wf_events::{Envelope, EventHandler, HandleError, inbox};
use wf_proto::events::v1 as events;
use wf_proto::intake::v1::ReferralStatus;

use crate::domain::lifecycle::status_rank;
use crate::{SERVICE, store};

pub struct StatusUpdater {
    db: Db,
}

impl StatusUpdater {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

#[async_trait::async_trait]
impl EventHandler for StatusUpdater {
    async fn handle(&self, envelope: Envelope) -> Result<(), HandleError> {
        let decode_error = |err: wf_events::EnvelopeError| HandleError::Permanent(err.to_string());
        let (referral_id, status, detail, case_id) = match envelope.event_type.as_str() {
            "referral.routed" => {
                let routed: events::ReferralRouted = envelope.payload_as().map_err(decode_error)?;
                (routed.referral_id, ReferralStatus::Routed, format!("partner {}", routed.partner_id), None)
            }
            "case.assigned" => {
                let assigned: events::CaseAssigned = envelope.payload_as().map_err(decode_error)?;
                let detail = format!("case {} case manager {}", assigned.case_id, assigned.case_manager_id);
                (assigned.referral_id, ReferralStatus::Assigned, detail, Some(assigned.case_id))
            }
            other => {
                tracing::debug!(event.r#type = other, "intake ignores this event type");
                return Ok(());
            }
        };
        let mut tx = self.db.begin().await?;
        if !inbox::record(&mut tx, SERVICE, &envelope).await? {
            tx.commit().await?;
            return Ok(());
        }
        if !store::advance_status(&mut tx, &referral_id, status as i32, status_rank).await? {
            // Not ours (e.g. another deployment's referral): nothing to update, and not worth retrying.
            tracing::warn!(referral.id = %referral_id, event.id = %envelope.event_id, "status event for an unknown referral");
            tx.commit().await?;
            return Ok(());
        }
        store::record_status_change(
            &mut tx,
            &referral_id,
            &envelope.event_id.to_string(),
            status as i32,
            wf_db::to_micros(envelope.occurred_at),
            &detail,
        )
        .await?;
        if let Some(case_id) = case_id {
            store::set_case(&mut tx, &referral_id, &case_id).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
