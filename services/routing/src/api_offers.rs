//! The offer RPCs. A partner sees and answers only offers made to its own services
//! (anything else is NOT_FOUND, so offer ids leak nothing); staff who may read routing
//! decisions see every offer but answer none.

use tonic::{Request, Response, Status};
use wf_auth::{Operation, Principal, Role, is_allowed};
use wf_proto::routing::v1 as pb;
use wf_proto::routing::v1::{DeclineReason, OfferStatus};
use wf_server::{ApiError, FieldViolation};
use wf_types::ReferralId;

use crate::api::{RoutingApi, check, page_size};
use crate::domain::directory::is_service_id;
use crate::events::timestamp;
use crate::offer_store::{self, OfferFilter, OfferRecord, status_code};
use crate::router::OfferError;

const OFFER_ID_PREFIX: &str = "off_";

/// "off_" followed by 32 lowercase hex digits.
fn is_offer_id(value: &str) -> bool {
    value
        .strip_prefix(OFFER_ID_PREFIX)
        .is_some_and(|rest| rest.len() == 32 && rest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

#[allow(clippy::result_large_err)]
fn offer_id_field(value: &str) -> Result<(), Status> {
    if is_offer_id(value) {
        Ok(())
    } else {
        Err(ApiError::InvalidArgument(vec![FieldViolation::new(
            "offer_id",
            "expected `off_` followed by 32 lowercase hex digits",
        )])
        .into())
    }
}

/// The partner whose offers the principal sees: `Some(partner)` for partners, `None` for staff
/// who see all; other roles are refused.
#[allow(clippy::result_large_err)]
fn offer_scope(principal: &Principal) -> Result<Option<String>, Status> {
    if principal.role == Role::Partner {
        // A partner token without a partner id sees nothing rather than everything.
        return Ok(Some(principal.partner_id.clone().unwrap_or_default()));
    }
    if is_allowed(principal.role, Operation::ReadRoutingDecision) {
        Ok(None)
    } else {
        Err(Status::permission_denied(format!("role {} may not read offers", principal.role)))
    }
}

/// The partner answering: a partner principal's own id; NOT_FOUND for any other principal.
#[allow(clippy::result_large_err)]
fn answering_partner(principal: &Principal) -> Result<String, Status> {
    principal.authorize(Operation::RespondToOffer)?;
    principal.partner_id.clone().filter(|p| !p.is_empty()).ok_or_else(|| ApiError::NotFound("offer".into()).into())
}

fn offer_error(err: OfferError) -> Status {
    match err {
        OfferError::NotFound => ApiError::NotFound("offer".into()).into(),
        OfferError::NotOpen(_) | OfferError::DeadlinePassed | OfferError::NoCapacity => {
            ApiError::FailedPrecondition(err.to_string()).into()
        }
        OfferError::Db(err) => ApiError::from(err).into(),
    }
}

pub(crate) fn offer(record: &OfferRecord) -> pb::Offer {
    pb::Offer {
        offer_id: record.offer_id.clone(),
        decision_id: record.decision_id.clone(),
        referral_id: record.referral_id.clone(),
        partner_id: record.partner_id.clone(),
        partner_service_id: record.partner_service_id.clone(),
        status: record.status as i32,
        triage_tier: record.triage_tier as i32,
        site: record.site as i32,
        offered_at: Some(timestamp(wf_db::from_micros(record.offered_at))),
        deadline: Some(timestamp(wf_db::from_micros(record.deadline))),
        responded_at: record.responded_at.map(|at| timestamp(wf_db::from_micros(at))),
        responded_by: record.responded_by.clone().unwrap_or_default(),
        decline_reason: record.decline_reason as i32,
        decline_detail: record.decline_detail.clone(),
        practice: record.practice,
        ..Default::default()
    }
}

impl RoutingApi {
    pub(crate) async fn get_offer_rpc(
        &self,
        request: Request<pb::GetOfferRequest>,
    ) -> Result<Response<pb::GetOfferResponse>, Status> {
        let scope = offer_scope(wf_auth::principal(&request)?)?;
        let id = &request.get_ref().offer_id;
        offer_id_field(id)?;
        let record = offer_store::get_offer(&self.db, id)
            .await
            .map_err(ApiError::from)?
            .filter(|o| scope.as_ref().is_none_or(|partner| *partner == o.partner_id))
            .ok_or_else(|| ApiError::NotFound("offer".into()))?;
        Ok(Response::new(pb::GetOfferResponse { offer: Some(offer(&record)) }))
    }

    pub(crate) async fn list_offers_rpc(
        &self,
        request: Request<pb::ListOffersRequest>,
    ) -> Result<Response<pb::ListOffersResponse>, Status> {
        let scope = offer_scope(wf_auth::principal(&request)?)?;
        let req = request.get_ref();
        let mut violations = Vec::new();
        let size = page_size(req.page_size, &mut violations);
        if !req.referral_id.is_empty()
            && let Err(err) = req.referral_id.parse::<ReferralId>()
        {
            violations.push(FieldViolation::new("referral_id", err.to_string()));
        }
        if !req.partner_service_id.is_empty() && !is_service_id(&req.partner_service_id) {
            violations
                .push(FieldViolation::new("partner_service_id", "expected `svc_` followed by 32 lowercase hex digits"));
        }
        if !req.page_token.is_empty() && !is_offer_id(&req.page_token) {
            violations.push(FieldViolation::new("page_token", "must be the next_page_token of an earlier page"));
        }
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
        check(violations)?;
        // A partner's own id overrides whatever partner it asked for.
        let partner_id = scope.unwrap_or_else(|| req.partner_id.clone());
        let filter = OfferFilter {
            partner_id,
            partner_service_id: req.partner_service_id.clone(),
            referral_id: req.referral_id.clone(),
            statuses,
            include_practice: req.include_practice,
        };
        let mut records = offer_store::list_offers(&self.db, &filter, &req.page_token, size as i64 + 1)
            .await
            .map_err(ApiError::from)?;
        let more = records.len() > size;
        records.truncate(size);
        let next_page_token =
            if more { records.last().map(|r| r.offer_id.clone()).unwrap_or_default() } else { String::new() };
        Ok(Response::new(pb::ListOffersResponse { offers: records.iter().map(offer).collect(), next_page_token }))
    }

    pub(crate) async fn accept_offer_rpc(
        &self,
        request: Request<pb::AcceptOfferRequest>,
    ) -> Result<Response<pb::AcceptOfferResponse>, Status> {
        let principal = wf_auth::principal(&request)?;
        let partner = answering_partner(principal)?;
        let id = &request.get_ref().offer_id;
        offer_id_field(id)?;
        let record = self.router.accept(id, &partner, &principal.subject).await.map_err(offer_error)?;
        Ok(Response::new(pb::AcceptOfferResponse { offer: Some(offer(&record)) }))
    }

    pub(crate) async fn decline_offer_rpc(
        &self,
        request: Request<pb::DeclineOfferRequest>,
    ) -> Result<Response<pb::DeclineOfferResponse>, Status> {
        let principal = wf_auth::principal(&request)?;
        let partner = answering_partner(principal)?;
        let req = request.get_ref();
        offer_id_field(&req.offer_id)?;
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
        if detail.chars().count() > 500 {
            violations.push(FieldViolation::new("detail", "at most 500 characters"));
        }
        check(violations)?;
        let (record, _) = self
            .router
            .decline(&req.offer_id, &partner, &principal.subject, reason, detail)
            .await
            .map_err(offer_error)?;
        Ok(Response::new(pb::DeclineOfferResponse { offer: Some(offer(&record)) }))
    }
}
