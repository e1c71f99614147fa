//! The offer RPCs. A partner sees and answers only offers made to its own services
//! (anything else is NOT_FOUND, so offer ids leak nothing); staff who may read routing
//! decisions see every offer but answer none. Every offer returned by GetOffer and ListOffers is
//! a `record.accessed` entry (`app::access`), and a partner reaching for another partner's offer
//! an `access.refused` one (`out_of_scope`); an unknown id is no refusal of a record.

use tonic::{Request, Response, Status};
use wf_auth::{Operation, Principal, Role, is_allowed};
use wf_proto::routing::v1 as pb;
use wf_proto::routing::v1::{DeclineReason, OfferStatus};
use wf_server::ApiError;
use wf_server::pagination::{next_page, page_token};
use wf_types::{FieldViolation, OfferId, PartnerId, PartnerServiceId, ReferralId};

use super::{PAGE_LIMITS, RoutingApi, optional_id, parse_id, time_range, to_proto};
use crate::app::offers::OfferError;
use crate::store::offers::{self, OfferFilter, status_code};

/// The method paths of the offer RPCs that answer NOT_FOUND for another partner's offer (a
/// refusal names its operation).
pub(crate) mod methods {
    pub const GET_OFFER: &str = "/wayfinder.routing.v1.RoutingService/GetOffer";
    pub const ACCEPT_OFFER: &str = "/wayfinder.routing.v1.RoutingService/AcceptOffer";
    pub const DECLINE_OFFER: &str = "/wayfinder.routing.v1.RoutingService/DeclineOffer";
}

/// The partner whose offers the principal sees: `Some(partner)` for partners, `None` for staff
/// who see all; other roles are refused.
fn offer_scope(principal: &Principal) -> Result<Option<String>, ApiError> {
    if principal.role == Role::Partner {
        // A partner token without a partner id sees nothing rather than everything.
        return Ok(Some(principal.partner_id.clone().unwrap_or_default()));
    }
    if is_allowed(principal.role, Operation::ReadRoutingDecision) {
        Ok(None)
    } else {
        Err(ApiError::PermissionDenied(format!("role {} may not read offers", principal.role)))
    }
}

/// A coded decline detail: 1 to 64 of `a-z`, `0-9` and `_`.
fn is_detail_code(detail: &str) -> bool {
    detail.len() <= 64 && detail.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The partner answering: a partner principal's own id; NOT_FOUND for any other principal.
#[allow(clippy::result_large_err)]
fn answering_partner(principal: &Principal) -> Result<String, Status> {
    principal.authorize(Operation::RespondToOffer)?;
    principal.partner_id.clone().filter(|p| !p.is_empty()).ok_or_else(|| ApiError::NotFound("offer".into()).into())
}

impl RoutingApi {
    /// The outcome of answering offer `id` through `method`; another partner's offer is put on
    /// the record as an out-of-scope refusal and answered exactly as an unknown id.
    fn answered<T>(
        &self,
        principal: &Principal,
        method: &str,
        id: &OfferId,
        outcome: Result<T, OfferError>,
    ) -> Result<T, ApiError> {
        if let Err(OfferError::OutOfScope) = &outcome {
            self.refusals.out_of_scope(principal, method, id.as_str());
        }
        outcome.map_err(ApiError::from)
    }

    pub(super) async fn get_offer_rpc(
        &self,
        request: Request<pb::GetOfferRequest>,
    ) -> Result<Response<pb::GetOfferResponse>, Status> {
        let principal = wf_auth::principal(&request)?;
        let scope = offer_scope(principal)?;
        let id: OfferId = parse_id("offer_id", &request.get_ref().offer_id)?;
        let not_found = || ApiError::NotFound("offer".into());
        let record =
            offers::get_offer(self.db.pool(), id.as_str()).await.map_err(ApiError::from)?.ok_or_else(not_found)?;
        if let Some(partner) = &scope
            && *partner != record.partner_id
        {
            // The offer exists but was made to another partner: the same answer, on the record.
            self.refusals.out_of_scope(principal, methods::GET_OFFER, &record.offer_id);
            return Err(not_found().into());
        }
        self.router.record_reads(principal, std::slice::from_ref(&record)).await.map_err(ApiError::from)?;
        Ok(Response::new(pb::GetOfferResponse { offer: Some(to_proto::offer(&record)) }))
    }

    pub(super) async fn list_offers_rpc(
        &self,
        request: Request<pb::ListOffersRequest>,
    ) -> Result<Response<pb::ListOffersResponse>, Status> {
        let principal = wf_auth::principal(&request)?;
        let scope = offer_scope(principal)?;
        let req = request.get_ref();
        let mut violations = Vec::new();
        let size = PAGE_LIMITS.size(req.page_size, &mut violations);
        let partner: Option<PartnerId> = optional_id("partner_id", &req.partner_id, &mut violations);
        let referral: Option<ReferralId> = optional_id("referral_id", &req.referral_id, &mut violations);
        let service: Option<PartnerServiceId> =
            optional_id("partner_service_id", &req.partner_service_id, &mut violations);
        let after: Option<OfferId> = page_token(&req.page_token, &mut violations);
        let mut statuses = Vec::new();
        for (index, status) in req.statuses.iter().enumerate() {
            match OfferStatus::try_from(*status) {
                Ok(status) if status != OfferStatus::Unspecified => statuses.push(status_code(status)),
                _ => violations.push(FieldViolation::new(
                    format!("statuses[{index}]"),
                    format!("{status} is not an offer status; allowed PENDING, ACCEPTED, DECLINED, EXPIRED, WITHDRAWN"),
                )),
            }
        }
        let (offered_from, offered_until) = time_range("offered", req.offered.as_ref(), &mut violations);
        ApiError::check(violations)?;
        // A partner's own id overrides whatever partner it asked for.
        let partner_id = scope.unwrap_or_else(|| partner.map(String::from).unwrap_or_default());
        let filter = OfferFilter {
            partner_id,
            partner_service_id: service.map(String::from).unwrap_or_default(),
            referral_id: referral.map(String::from).unwrap_or_default(),
            statuses,
            include_practice: req.include_practice,
            offered_from,
            offered_until,
        };
        let after = after.map(String::from).unwrap_or_default();
        let mut records =
            offers::list_offers(&self.db, &filter, &after, size as i64 + 1).await.map_err(ApiError::from)?;
        let next_page_token = next_page(&mut records, size, |r| r.offer_id.clone());
        // One entry per offer returned, so each youth's disclosure report shows the read.
        self.router.record_reads(principal, &records).await.map_err(ApiError::from)?;
        Ok(Response::new(pb::ListOffersResponse {
            offers: records.iter().map(to_proto::offer).collect(),
            next_page_token,
        }))
    }

    pub(super) async fn accept_offer_rpc(
        &self,
        request: Request<pb::AcceptOfferRequest>,
    ) -> Result<Response<pb::AcceptOfferResponse>, Status> {
        let principal = wf_auth::principal(&request)?;
        let partner = answering_partner(principal)?;
        let id: OfferId = parse_id("offer_id", &request.get_ref().offer_id)?;
        let accepted = self.router.accept(id.as_str(), &partner, &principal.subject).await;
        let record = self.answered(principal, methods::ACCEPT_OFFER, &id, accepted)?;
        Ok(Response::new(pb::AcceptOfferResponse { offer: Some(to_proto::offer(&record)) }))
    }

    pub(super) async fn decline_offer_rpc(
        &self,
        request: Request<pb::DeclineOfferRequest>,
    ) -> Result<Response<pb::DeclineOfferResponse>, Status> {
        let principal = wf_auth::principal(&request)?;
        let partner = answering_partner(principal)?;
        let req = request.get_ref();
        let id: OfferId = parse_id("offer_id", &req.offer_id)?;
        let mut violations = Vec::new();
        let reason = match DeclineReason::try_from(req.reason) {
            Ok(reason) if reason != DeclineReason::Unspecified => reason,
            _ => {
                violations.push(FieldViolation::new(
                    "reason",
                    format!("{} is not a decline reason; give one of DeclineReason other than UNSPECIFIED", req.reason),
                ));
                DeclineReason::Unspecified
            }
        };
        let detail = req.detail.trim();
        if reason == DeclineReason::Other && detail.is_empty() {
            violations.push(FieldViolation::new("detail", "required when reason is DECLINE_REASON_OTHER"));
        }
        // It travels in offer.declined to the append-only audit log: a code, never a sentence.
        if !detail.is_empty() && !is_detail_code(detail) {
            violations.push(FieldViolation::new(
                "detail",
                "must be a code: 1 to 64 lowercase letters, digits and underscores (e.g. \"no_bilingual_staff\")",
            ));
        }
        ApiError::check(violations)?;
        let declined = self.router.decline(id.as_str(), &partner, &principal.subject, reason, detail).await;
        let (record, _) = self.answered(principal, methods::DECLINE_OFFER, &id, declined)?;
        Ok(Response::new(pb::DeclineOfferResponse { offer: Some(to_proto::offer(&record)) }))
    }
}

#[cfg(test)]
mod tests {
    use super::methods;

    /// A refusal names a method the service really serves (the authorization table has its row).
    #[test]
    fn refusals_name_real_methods() {
        for method in [methods::GET_OFFER, methods::ACCEPT_OFFER, methods::DECLINE_OFFER] {
            assert!(wf_auth::rpc::rule(method).is_some(), "{method}");
            let service = wf_proto::routing::v1::routing_service_server::SERVICE_NAME;
            assert!(method.starts_with(&format!("/{service}/")), "{method}");
        }
    }
}
