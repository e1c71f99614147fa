//! Which partner serves a case: the one that accepted an offer for the case's current referral
//! (`offer.accepted`). Routing a referral to a partner is only an offer; while it is pending, and
//! once it is declined, expired or withdrawn, the partner has no case to act on (see
//! [`super::case_in_scope`]). Stored apart from the case, so an acceptance that overtakes
//! `referral.routed` still counts once the case is opened.

use wf_events::{Envelope, inbox};
use wf_types::{OfferId, PartnerId, PartnerServiceId, ReferralId};

use super::App;
use crate::SERVICE;
use crate::store::{self, offers::AcceptedOffer};

/// An accepted offer, as `offer.accepted` says.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub offer_id: OfferId,
    pub referral_id: ReferralId,
    pub partner_id: PartnerId,
    /// The service the offer was for, when the event names one.
    pub partner_service_id: Option<PartnerServiceId>,
    pub accepted_at: i64,
}

/// Records the acceptance (once, whatever is redelivered).
pub async fn record_accepted(app: &App, envelope: &Envelope, accepted: Accepted) -> Result<(), wf_db::DbError> {
    let mut tx = app.db.begin().await?;
    if inbox::record(&mut tx, SERVICE, envelope).await? {
        let offer = AcceptedOffer {
            offer_id: accepted.offer_id.to_string(),
            referral_id: accepted.referral_id.to_string(),
            partner_id: accepted.partner_id.to_string(),
            partner_service_id: accepted.partner_service_id.map(String::from).unwrap_or_default(),
            accepted_at: accepted.accepted_at,
        };
        store::offers::insert_accepted(&mut tx, &offer).await?;
        tracing::debug!(offer.id = %offer.offer_id, referral.id = %offer.referral_id, partner.id = %offer.partner_id, "accepted offer recorded; the partner serves the referral's case");
    }
    tx.commit().await?;
    Ok(())
}
