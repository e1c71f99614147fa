//! The offer lifecycle: accept (taking capacity), decline and expiry (each re-routing to the
//! next candidate), and the referral's case closing (giving the place back, withdrawing an
//! offer still open). Each runs in one transaction with its events, and each answer of an offer
//! first takes the referral's lock ([`Router::lock_referral`]): an offer of a referral staff closed
//! is not accepted, nor re-routed after a decline, and is withdrawn rather than expired.

use wf_db::{DbError, Tx};
use wf_proto::events::v1::{OfferAccepted, OfferDeclined, OfferExpired};
use wf_proto::routing::v1::{DeclineReason, EscalationReason, OfferStatus};
use wf_proto::time::timestamp;
use wf_server::ApiError;

use super::enqueue;
use super::route::{
    EXPIRED_BY, REASON_OFFER_DECLINED, REASON_OFFER_EXPIRED, Routed, Router, WITHDRAWN_BY, WITHDRAWN_CASE_CLOSED,
    WITHDRAWN_REFERRAL_CLOSED, closed_referral_message,
};
use crate::store::capacity::{self, ReturnedPlace};
use crate::store::offers::{self, OfferRecord};

/// How many due offers one expiry pass handles.
const EXPIRY_BATCH: i64 = 50;

/// Why an offer could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum OfferError {
    /// Unknown (no existence leaks).
    #[error("offer not found")]
    NotFound,
    /// Made to another partner: answered exactly as [`OfferError::NotFound`], and put on the
    /// record as an out-of-scope refusal by the API (which knows who asked).
    #[error("offer not found")]
    OutOfScope,
    #[error("offer is already {0}")]
    NotOpen(&'static str),
    #[error("offer deadline has passed; the referral is being re-routed")]
    DeadlinePassed,
    #[error("partner service has no open capacity; decline the offer with reason DECLINE_REASON_NO_CAPACITY")]
    NoCapacity,
    /// Staff closed the offer's referral (the message names it).
    #[error("{}", closed_referral_message(.0, "its offer can no longer be accepted"))]
    ReferralClosed(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for OfferError {
    fn from(err: sqlx::Error) -> Self {
        Self::Db(err.into())
    }
}

impl From<OfferError> for ApiError {
    fn from(err: OfferError) -> Self {
        match err {
            OfferError::NotFound | OfferError::OutOfScope => ApiError::NotFound("offer".into()),
            OfferError::NotOpen(_)
            | OfferError::DeadlinePassed
            | OfferError::NoCapacity
            | OfferError::ReferralClosed(_) => ApiError::FailedPrecondition(err.to_string()),
            OfferError::Db(err) => err.into(),
        }
    }
}

/// What routing did when a referral's case closed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseClosedEffect {
    /// Places given back, one per accepted offer that still held one.
    pub returned: Vec<ReturnedPlace>,
    /// Offers still open, withdrawn.
    pub withdrawn: Vec<String>,
}

impl Router {
    /// Accepts an offer made to `partner_id`, taking one open place of the service
    /// ([`OfferError::OutOfScope`] for another partner's offer, [`OfferError::ReferralClosed`]
    /// when staff closed its referral).
    pub async fn accept(&self, offer_id: &str, partner_id: &str, by: &str) -> Result<OfferRecord, OfferError> {
        let now = self.clock.now();
        let at = wf_db::to_micros(now);
        let mut tx = self.db.begin().await?;
        let closed = self.lock_referral_of(&mut tx, offer_id).await?;
        let offer = self.answerable(&mut tx, offer_id, partner_id, at).await?;
        if closed.is_some() {
            tx.rollback().await?;
            return Err(OfferError::ReferralClosed(offer.referral_id));
        }
        if !capacity::take_slot(&mut tx, &offer.partner_service_id, at).await? {
            tx.rollback().await?;
            return Err(OfferError::NoCapacity);
        }
        if !offers::close_offer(&mut tx, offer_id, OfferStatus::Accepted, at, by, None).await? {
            tx.rollback().await?;
            return Err(OfferError::NotOpen("answered"));
        }
        let accepted = OfferAccepted {
            offer_id: offer.offer_id.clone(),
            referral_id: offer.referral_id.clone(),
            partner_id: offer.partner_id.clone(),
            partner_service_id: offer.partner_service_id.clone(),
            accepted_at: Some(timestamp(now)),
            accepted_by: by.to_owned(),
            triage_tier: offer.triage_tier as i32,
            site: offer.site as i32,
            practice: offer.practice,
            offered_at: Some(timestamp(wf_db::from_micros(offer.offered_at))),
        };
        let key = &offer.referral_id;
        enqueue(&mut tx, self.db.backend(), key, &accepted).await?;
        tx.commit().await?;
        self.relay.wake();
        tracing::debug!(offer.id = %offer_id, referral.id = %offer.referral_id, partner.id = %partner_id, "offer accepted");
        offers::get_offer(self.db.pool(), offer_id).await?.ok_or(OfferError::NotFound)
    }

    /// Declines an offer made to `partner_id` and re-routes the referral
    /// ([`OfferError::OutOfScope`] for another partner's offer).
    pub async fn decline(
        &self,
        offer_id: &str,
        partner_id: &str,
        by: &str,
        reason: DeclineReason,
        detail: &str,
    ) -> Result<(OfferRecord, Routed), OfferError> {
        let now = self.clock.now();
        let at = wf_db::to_micros(now);
        let mut tx = self.db.begin().await?;
        self.lock_referral_of(&mut tx, offer_id).await?;
        let offer = self.answerable(&mut tx, offer_id, partner_id, at).await?;
        if !offers::close_offer(&mut tx, offer_id, OfferStatus::Declined, at, by, Some((reason, detail))).await? {
            tx.rollback().await?;
            return Err(OfferError::NotOpen("answered"));
        }
        let declined = OfferDeclined {
            offer_id: offer.offer_id.clone(),
            referral_id: offer.referral_id.clone(),
            partner_id: offer.partner_id.clone(),
            partner_service_id: offer.partner_service_id.clone(),
            reason: reason as i32,
            detail: detail.to_owned(),
            declined_at: Some(timestamp(now)),
            declined_by: by.to_owned(),
            practice: offer.practice,
        };
        let key = &offer.referral_id;
        enqueue(&mut tx, self.db.backend(), key, &declined).await?;
        let routed = self.reroute(&mut tx, &offer, REASON_OFFER_DECLINED, EscalationReason::AllDeclined).await?;
        tx.commit().await?;
        self.relay.wake();
        tracing::debug!(offer.id = %offer_id, referral.id = %offer.referral_id, reason = %offers::decline_code(reason), "offer declined");
        Ok((offers::get_offer(self.db.pool(), offer_id).await?.ok_or(OfferError::NotFound)?, routed))
    }

    /// Takes the lock of the referral offer `offer_id` was made for ([`Router::lock_referral`]) and
    /// returns when staff closed that referral, if they did.
    async fn lock_referral_of(&self, tx: &mut Tx, offer_id: &str) -> Result<Option<i64>, OfferError> {
        let referral_id = offers::referral_of(tx, offer_id).await?.ok_or(OfferError::NotFound)?;
        Ok(self.lock_referral(tx, &referral_id).await?)
    }

    /// The open, in-time offer `offer_id` made to `partner_id`; [`OfferError::OutOfScope`] when it
    /// was made to another partner.
    async fn answerable(
        &self,
        tx: &mut Tx,
        offer_id: &str,
        partner_id: &str,
        at: i64,
    ) -> Result<OfferRecord, OfferError> {
        let offer = offers::get_offer(&mut **tx, offer_id).await?.ok_or(OfferError::NotFound)?;
        if offer.partner_id != partner_id {
            return Err(OfferError::OutOfScope);
        }
        if offer.status != OfferStatus::Pending {
            return Err(OfferError::NotOpen(offers::status_code(offer.status)));
        }
        if offer.deadline < at {
            return Err(OfferError::DeadlinePassed);
        }
        Ok(offer)
    }

    /// The referral's case closed: gives back the place each accepted offer took (once, never
    /// above the service's maximum) and withdraws an offer still open, so no partner takes a
    /// place for a closed case and the expiry worker does not re-route it. In the caller's
    /// transaction, with the inbox record of the event.
    pub async fn on_case_closed(&self, tx: &mut Tx, referral_id: &str) -> Result<CaseClosedEffect, DbError> {
        let at = wf_db::to_micros(self.clock.now());
        // Before the offers, as every writer of them does (a case closing is not the referral closing).
        self.lock_referral(tx, referral_id).await?;
        let returned = capacity::return_places(tx, referral_id, at).await?;
        let mut withdrawn = Vec::new();
        for offer in offers::open_offers_of(tx, referral_id).await? {
            if self.withdraw(tx, &offer, WITHDRAWN_CASE_CLOSED, at, WITHDRAWN_BY).await? {
                withdrawn.push(offer.offer_id);
            }
        }
        Ok(CaseClosedEffect { returned, withdrawn })
    }

    /// Expires open offers past their deadline and re-routes each referral; returns how
    /// many it expired. Each offer is handled in its own transaction, under its referral's lock;
    /// an offer of a referral staff closed (made before routing learnt of the closure) is withdrawn
    /// instead, and nothing is re-routed or escalated for it.
    pub async fn expire_due(&self) -> Result<usize, DbError> {
        let mut expired = 0;
        loop {
            let now = self.clock.now();
            let at = wf_db::to_micros(now);
            let mut tx = self.db.begin().await?;
            let due = offers::due_offers(&mut tx, at, 1).await?;
            let Some(candidate) = due.into_iter().next() else {
                tx.commit().await?;
                break;
            };
            let closed = self.lock_referral(&mut tx, &candidate.referral_id).await?;
            // As of the lock: another instance may have expired it, or the partner answered, meanwhile.
            let offer = match offers::get_offer(&mut *tx, &candidate.offer_id).await? {
                Some(offer) if offer.status == OfferStatus::Pending && offer.deadline < at => offer,
                _ => {
                    tx.commit().await?;
                    continue;
                }
            };
            if closed.is_some() {
                if self.withdraw(&mut tx, &offer, WITHDRAWN_REFERRAL_CLOSED, at, WITHDRAWN_BY).await? {
                    tracing::debug!(offer.id = %offer.offer_id, referral.id = %offer.referral_id, "offer of a closed referral withdrawn, not expired");
                }
                tx.commit().await?;
                self.relay.wake();
                continue;
            }
            if offers::close_offer(&mut tx, &offer.offer_id, OfferStatus::Expired, at, EXPIRED_BY, None).await? {
                let event = OfferExpired {
                    offer_id: offer.offer_id.clone(),
                    referral_id: offer.referral_id.clone(),
                    partner_id: offer.partner_id.clone(),
                    partner_service_id: offer.partner_service_id.clone(),
                    deadline: Some(timestamp(wf_db::from_micros(offer.deadline))),
                    practice: offer.practice,
                };
                let key = &offer.referral_id;
                enqueue(&mut tx, self.db.backend(), key, &event).await?;
                self.reroute(&mut tx, &offer, REASON_OFFER_EXPIRED, EscalationReason::OfferExpired).await?;
                expired += 1;
                tracing::info!(offer.id = %offer.offer_id, referral.id = %offer.referral_id, "offer expired, referral re-routed");
            }
            tx.commit().await?;
            self.relay.wake();
            if expired as i64 >= EXPIRY_BATCH {
                break;
            }
        }
        Ok(expired)
    }
}
