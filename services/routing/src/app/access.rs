//! Reads of offers on the record (DESIGN.md privacy rule 4): every offer GetOffer or ListOffers
//! returns is a `record.accessed` event in routing's outbox — who (actor, role, organization),
//! which offer, which part ([`OFFER_FIELD`]), and a purpose code. The offer RPCs take no purpose,
//! so the code is fixed by who reads ([`purpose_of`]).
//!
//! The envelope's aggregate is the offer (the record read) and its correlation the offer's
//! referral; the audit service ties the offer to its youth through `offer.made`. The events commit
//! before the answer leaves: a read that cannot be put on the record fails.

use wf_auth::{Principal, Role};
use wf_db::DbError;
use wf_events::{Envelope, outbox};
use wf_types::Purpose;

use super::route::Router;
use crate::SERVICE;
use crate::store::offers::OfferRecord;

/// The part of an offer a read returns (`RecordAccessed.fields`): its coded record — ids, status,
/// triage tier, site, times and the answer — and the referral's coded facts the partner decides
/// on: needs (service type codes), preferred language, whether the youth is a minor and the age in
/// whole years. Offers hold no personal data (no name, date of birth, contact or free text), but
/// these facts are about the youth, which is why each read is on their record.
pub const OFFER_FIELD: &str = "offer.coded";

/// Why `principal` reads offers: a partner deciding on a referral offered to it
/// (`service_referral`); anyone else (staff, services) reviewing routing (`routing_review`).
pub fn purpose_of(principal: &Principal) -> Purpose {
    if principal.role == Role::Partner { Purpose::ServiceReferral } else { Purpose::RoutingReview }
}

/// The `record.accessed` event of `principal` reading `offer` at `at` (microseconds).
pub fn access_event(principal: &Principal, offer: &OfferRecord, at: i64) -> Envelope {
    let purpose = purpose_of(principal).code();
    let access =
        wf_server::access::record_accessed(principal, &offer.offer_id, purpose, vec![OFFER_FIELD.to_owned()], at);
    Envelope::new(SERVICE, &offer.offer_id, &offer.referral_id, &access)
}

impl Router {
    /// Puts `principal`'s read of each of `offers` on the record: one entry per offer, in one
    /// transaction, then the relay is woken. Nothing is written for an empty list.
    pub async fn record_reads(&self, principal: &Principal, offers: &[OfferRecord]) -> Result<(), DbError> {
        if offers.is_empty() {
            return Ok(());
        }
        let at = self.clock.now_micros();
        let mut tx = self.db.begin().await?;
        for offer in offers {
            outbox::enqueue(&mut tx, self.db.backend(), &access_event(principal, offer, at)).await?;
        }
        tx.commit().await?;
        self.relay.wake();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, partner_id: Option<&str>) -> Principal {
        Principal {
            subject: "usr_fictional_reader".into(),
            role,
            partner_id: partner_id.map(str::to_owned),
            kind: if role == Role::Partner { wf_auth::TokenKind::Partner } else { wf_auth::TokenKind::User },
            token_id: "jti_1".into(),
        }
    }

    #[test]
    fn a_read_names_the_offer_its_referral_and_why() {
        let offer = OfferRecord {
            offer_id: "off_1".into(),
            decision_id: "dec_1".into(),
            referral_id: "ref_1".into(),
            attempt: 1,
            partner_id: "org_1".into(),
            partner_service_id: "svc_1".into(),
            status: wf_proto::routing::v1::OfferStatus::Pending,
            triage_tier: wf_proto::common::v1::TriageTier::Urgent,
            site: wf_proto::common::v1::Site::SouthLosAngeles,
            offered_at: 0,
            deadline: 0,
            responded_at: None,
            responded_by: None,
            decline_reason: wf_proto::routing::v1::DeclineReason::Unspecified,
            decline_detail: String::new(),
            practice: false,
            facts: crate::domain::OfferFacts {
                needs: vec!["mental_health".into()],
                preferred_language: "es".into(),
                is_minor: true,
                age_years: Some(16),
            },
        };
        let envelope = access_event(&principal(Role::Partner, Some("org_1")), &offer, 1_700_000_000_000_000);
        assert_eq!((envelope.aggregate_id.as_str(), envelope.correlation_id.as_str()), ("off_1", "ref_1"));
        let access: wf_proto::events::v1::RecordAccessed = envelope.payload_as().unwrap();
        assert_eq!((access.record_id.as_str(), access.purpose.as_str()), ("off_1", "service_referral"));
        assert_eq!((access.actor_role.as_str(), access.actor_organization_id.as_str()), ("partner", "org_1"));
        assert_eq!(access.fields, vec![OFFER_FIELD]);
        assert_eq!(access.at.unwrap().seconds, 1_700_000_000);

        let staff = access_event(&principal(Role::CaseManager, None), &offer, 0);
        let access: wf_proto::events::v1::RecordAccessed = staff.payload_as().unwrap();
        assert_eq!((access.purpose.as_str(), access.actor_organization_id.as_str()), ("routing_review", ""));
        assert_eq!(purpose_of(&principal(Role::Service, None)), Purpose::RoutingReview);
    }
}
