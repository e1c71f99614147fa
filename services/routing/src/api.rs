//! The `RoutingService` gRPC API: decisions from the store, directory reads from
//! the loaded directory. Each RPC: authorize → validate → read → respond.

use tonic::{Request, Response, Status};
use wf_auth::{Operation, Principal, is_allowed};
use wf_db::Db;
use wf_proto::common::v1::Site;
use wf_proto::routing::v1 as pb;
use wf_proto::routing::v1::routing_service_server::RoutingService;
use wf_server::{ApiError, FieldViolation};
use wf_types::{DecisionId, PartnerId, ReferralId};

use crate::convert;
use crate::directory_store;
use crate::directory_writer::DirectoryWriter;
use crate::domain::directory::is_service_id;
use crate::policy_load::ActivePolicy;
use crate::router::Router;
use crate::store::{self, DecisionFilter};

pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 500;

/// The gRPC API over a database, the directory in memory and the policy in force.
#[derive(Clone)]
pub struct RoutingApi {
    pub(crate) db: Db,
    pub(crate) router: Router,
    pub(crate) writer: DirectoryWriter,
    pub(crate) policy: ActivePolicy,
}

impl RoutingApi {
    pub fn new(db: Db, router: Router, writer: DirectoryWriter, policy: ActivePolicy) -> Self {
        Self { db, router, writer, policy }
    }
}

/// Directory reads are open to whoever may read routing decisions (staff and services, who
/// need to see where referrals can go and what decisions name) and to whoever manages the
/// directory (program managers, admins). Partners are not: the directory will hold
/// confidential shelter locations, and a partner-facing view is its own decision.
#[allow(clippy::result_large_err)]
pub(crate) fn authorize_directory_read(principal: &Principal) -> Result<(), Status> {
    if is_allowed(principal.role, Operation::ReadRoutingDecision)
        || is_allowed(principal.role, Operation::ManageDirectory)
    {
        Ok(())
    } else {
        Err(Status::permission_denied(format!("role {} may not read the service directory", principal.role)))
    }
}

/// `page_size` 0 means the default; above the maximum is capped; negative is refused.
pub(crate) fn page_size(value: i32, violations: &mut Vec<FieldViolation>) -> usize {
    match usize::try_from(value) {
        Ok(0) => DEFAULT_PAGE_SIZE,
        Ok(size) => size.min(MAX_PAGE_SIZE),
        Err(_) => {
            violations.push(FieldViolation::new(
                "page_size",
                format!("{value} is negative; allowed 0 (default {DEFAULT_PAGE_SIZE}) to {MAX_PAGE_SIZE}"),
            ));
            DEFAULT_PAGE_SIZE
        }
    }
}

pub(crate) fn site_filter(value: i32, field: &str, violations: &mut Vec<FieldViolation>) -> Site {
    Site::try_from(value).unwrap_or_else(|_| {
        violations.push(FieldViolation::new(field, format!("{value} is not a Site value")));
        Site::Unspecified
    })
}

pub(crate) fn check(violations: Vec<FieldViolation>) -> Result<(), ApiError> {
    if violations.is_empty() { Ok(()) } else { Err(ApiError::InvalidArgument(violations)) }
}

/// One page of `items` (sorted by id) after `token`; the next token is the last id returned
/// when more may follow.
pub(crate) fn paginate<T>(items: Vec<(String, T)>, token: &str, size: usize) -> (Vec<T>, String) {
    let mut rest: Vec<(String, T)> =
        items.into_iter().filter(|(id, _)| token.is_empty() || id.as_str() > token).collect();
    let more = rest.len() > size;
    rest.truncate(size);
    let next = if more { rest.last().map(|(id, _)| id.clone()).unwrap_or_default() } else { String::new() };
    (rest.into_iter().map(|(_, item)| item).collect(), next)
}

#[tonic::async_trait]
impl RoutingService for RoutingApi {
    async fn get_organization(
        &self,
        request: Request<pb::GetOrganizationRequest>,
    ) -> Result<Response<pb::GetOrganizationResponse>, Status> {
        authorize_directory_read(wf_auth::principal(&request)?)?;
        let id = &request.get_ref().organization_id;
        if let Err(err) = id.parse::<PartnerId>() {
            return Err(ApiError::InvalidArgument(vec![FieldViolation::new("organization_id", err.to_string())]).into());
        }
        let entries = self.writer.entries();
        let org = entries.organization(id).ok_or_else(|| ApiError::NotFound("organization".into()))?;
        Ok(Response::new(pb::GetOrganizationResponse { organization: Some(convert::organization(org)) }))
    }

    async fn list_organizations(
        &self,
        request: Request<pb::ListOrganizationsRequest>,
    ) -> Result<Response<pb::ListOrganizationsResponse>, Status> {
        authorize_directory_read(wf_auth::principal(&request)?)?;
        let req = request.get_ref();
        let mut violations = Vec::new();
        let size = page_size(req.page_size, &mut violations);
        let site = site_filter(req.site, "site", &mut violations);
        if !req.page_token.is_empty() && req.page_token.parse::<PartnerId>().is_err() {
            violations.push(FieldViolation::new("page_token", "must be the next_page_token of an earlier page"));
        }
        check(violations)?;
        let entries = self.writer.entries();
        let matching = entries
            .organizations
            .values()
            .filter(|org| req.include_inactive || org.record.active)
            .filter(|org| !req.in_network_only || org.record.in_network)
            .filter(|org| site == Site::Unspecified || org.sites().contains(&site))
            .map(|org| (org.record.organization_id.clone(), convert::organization(org)))
            .collect();
        let (organizations, next_page_token) = paginate(matching, &req.page_token, size);
        Ok(Response::new(pb::ListOrganizationsResponse { organizations, next_page_token }))
    }

    async fn get_partner_service(
        &self,
        request: Request<pb::GetPartnerServiceRequest>,
    ) -> Result<Response<pb::GetPartnerServiceResponse>, Status> {
        authorize_directory_read(wf_auth::principal(&request)?)?;
        let id = &request.get_ref().partner_service_id;
        if !is_service_id(id) {
            return Err(ApiError::InvalidArgument(vec![FieldViolation::new(
                "partner_service_id",
                "expected `svc_` followed by 32 lowercase hex digits",
            )])
            .into());
        }
        let entries = self.writer.entries();
        let (_, service) = entries.service(id).ok_or_else(|| ApiError::NotFound("partner service".into()))?;
        let open = directory_store::open_places(&self.db).await.map_err(ApiError::from)?;
        let shown = convert::partner_service(service, open.get(id).copied());
        Ok(Response::new(pb::GetPartnerServiceResponse { partner_service: Some(shown) }))
    }

    async fn list_partner_services(
        &self,
        request: Request<pb::ListPartnerServicesRequest>,
    ) -> Result<Response<pb::ListPartnerServicesResponse>, Status> {
        authorize_directory_read(wf_auth::principal(&request)?)?;
        let req = request.get_ref();
        let mut violations = Vec::new();
        let size = page_size(req.page_size, &mut violations);
        let site = site_filter(req.site, "site", &mut violations);
        if !req.organization_id.is_empty()
            && let Err(err) = req.organization_id.parse::<PartnerId>()
        {
            violations.push(FieldViolation::new("organization_id", err.to_string()));
        }
        if !req.page_token.is_empty() && !is_service_id(&req.page_token) {
            violations.push(FieldViolation::new("page_token", "must be the next_page_token of an earlier page"));
        }
        check(violations)?;
        let language = req.language.trim().to_lowercase();
        let entries = self.writer.entries();
        let open = directory_store::open_places(&self.db).await.map_err(ApiError::from)?;
        let mut matching: Vec<(String, pb::PartnerService)> = entries
            .organizations
            .values()
            .filter(|org| req.organization_id.is_empty() || org.record.organization_id == req.organization_id)
            .filter(|org| req.include_inactive || org.record.active)
            .flat_map(|org| org.services.values())
            .filter(|s| req.include_inactive || s.status == pb::ServiceStatus::Active as i32)
            .filter(|s| req.service_type.is_empty() || s.service_types.contains(&req.service_type))
            .filter(|s| site == Site::Unspecified || s.service_areas.iter().any(|area| area.site == site as i32))
            .filter(|s| language.is_empty() || s.languages.contains(&language))
            .map(|s| {
                (s.partner_service_id.clone(), convert::partner_service(s, open.get(&s.partner_service_id).copied()))
            })
            .collect();
        matching.sort_by(|a, b| a.0.cmp(&b.0));
        let (partner_services, next_page_token) = paginate(matching, &req.page_token, size);
        Ok(Response::new(pb::ListPartnerServicesResponse { partner_services, next_page_token }))
    }

    async fn get_decision(
        &self,
        request: Request<pb::GetDecisionRequest>,
    ) -> Result<Response<pb::GetDecisionResponse>, Status> {
        wf_auth::principal(&request)?.authorize(Operation::ReadRoutingDecision)?;
        let id = &request.get_ref().decision_id;
        if let Err(err) = id.parse::<DecisionId>() {
            return Err(ApiError::InvalidArgument(vec![FieldViolation::new("decision_id", err.to_string())]).into());
        }
        let record = store::get_decision(&self.db, id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::NotFound("decision".into()))?;
        Ok(Response::new(pb::GetDecisionResponse { decision: Some(convert::decision(&record)) }))
    }

    async fn list_decisions(
        &self,
        request: Request<pb::ListDecisionsRequest>,
    ) -> Result<Response<pb::ListDecisionsResponse>, Status> {
        wf_auth::principal(&request)?.authorize(Operation::ReadRoutingDecision)?;
        let req = request.get_ref();
        let mut violations = Vec::new();
        let size = page_size(req.page_size, &mut violations);
        if !req.referral_id.is_empty()
            && let Err(err) = req.referral_id.parse::<ReferralId>()
        {
            violations.push(FieldViolation::new("referral_id", err.to_string()));
        }
        if !req.page_token.is_empty() && req.page_token.parse::<DecisionId>().is_err() {
            violations.push(FieldViolation::new("page_token", "must be the next_page_token of an earlier page"));
        }
        let micros = |field: &str, ts: &Option<prost_types::Timestamp>, violations: &mut Vec<FieldViolation>| {
            ts.as_ref().and_then(|ts| match chrono::DateTime::from_timestamp(ts.seconds, ts.nanos.max(0) as u32) {
                Some(at) => Some(wf_db::to_micros(at)),
                None => {
                    violations.push(FieldViolation::new(field, "timestamp is out of range"));
                    None
                }
            })
        };
        let range = req.decided.unwrap_or_default();
        let filter = DecisionFilter {
            referral_id: req.referral_id.clone(),
            policy_version: req.policy_version.clone(),
            decided_from: micros("decided.start", &range.start, &mut violations),
            decided_until: micros("decided.end", &range.end, &mut violations),
        };
        check(violations)?;
        let mut records =
            store::list_decisions(&self.db, &filter, &req.page_token, size as i64 + 1).await.map_err(ApiError::from)?;
        let more = records.len() > size;
        records.truncate(size);
        let next_page_token =
            if more { records.last().map(|r| r.decision_id.clone()).unwrap_or_default() } else { String::new() };
        Ok(Response::new(pb::ListDecisionsResponse {
            decisions: records.iter().map(convert::decision).collect(),
            next_page_token,
        }))
    }

    async fn create_organization(
        &self,
        request: Request<pb::CreateOrganizationRequest>,
    ) -> Result<Response<pb::CreateOrganizationResponse>, Status> {
        self.create_organization_rpc(request).await
    }

    async fn update_organization(
        &self,
        request: Request<pb::UpdateOrganizationRequest>,
    ) -> Result<Response<pb::UpdateOrganizationResponse>, Status> {
        self.update_organization_rpc(request).await
    }

    async fn create_partner_service(
        &self,
        request: Request<pb::CreatePartnerServiceRequest>,
    ) -> Result<Response<pb::CreatePartnerServiceResponse>, Status> {
        self.create_partner_service_rpc(request).await
    }

    async fn update_partner_service(
        &self,
        request: Request<pb::UpdatePartnerServiceRequest>,
    ) -> Result<Response<pb::UpdatePartnerServiceResponse>, Status> {
        self.update_partner_service_rpc(request).await
    }

    async fn update_capacity(
        &self,
        request: Request<pb::UpdateCapacityRequest>,
    ) -> Result<Response<pb::UpdateCapacityResponse>, Status> {
        self.update_capacity_rpc(request).await
    }

    async fn import_hsds(
        &self,
        request: Request<pb::ImportHsdsRequest>,
    ) -> Result<Response<pb::ImportHsdsResponse>, Status> {
        self.import_hsds_rpc(request).await
    }

    async fn export_hsds(
        &self,
        request: Request<pb::ExportHsdsRequest>,
    ) -> Result<Response<pb::ExportHsdsResponse>, Status> {
        self.export_hsds_rpc(request).await
    }

    async fn reroute_referral(
        &self,
        request: Request<pb::RerouteReferralRequest>,
    ) -> Result<Response<pb::RerouteReferralResponse>, Status> {
        self.reroute_referral_rpc(request).await
    }

    async fn get_offer(&self, request: Request<pb::GetOfferRequest>) -> Result<Response<pb::GetOfferResponse>, Status> {
        self.get_offer_rpc(request).await
    }

    async fn list_offers(
        &self,
        request: Request<pb::ListOffersRequest>,
    ) -> Result<Response<pb::ListOffersResponse>, Status> {
        self.list_offers_rpc(request).await
    }

    async fn accept_offer(
        &self,
        request: Request<pb::AcceptOfferRequest>,
    ) -> Result<Response<pb::AcceptOfferResponse>, Status> {
        self.accept_offer_rpc(request).await
    }

    async fn decline_offer(
        &self,
        request: Request<pb::DeclineOfferRequest>,
    ) -> Result<Response<pb::DeclineOfferResponse>, Status> {
        self.decline_offer_rpc(request).await
    }

    async fn list_escalations(
        &self,
        request: Request<pb::ListEscalationsRequest>,
    ) -> Result<Response<pb::ListEscalationsResponse>, Status> {
        self.list_escalations_rpc(request).await
    }

    async fn resolve_escalation(
        &self,
        request: Request<pb::ResolveEscalationRequest>,
    ) -> Result<Response<pb::ResolveEscalationResponse>, Status> {
        self.resolve_escalation_rpc(request).await
    }

    async fn load_policy(
        &self,
        request: Request<pb::LoadPolicyRequest>,
    ) -> Result<Response<pb::LoadPolicyResponse>, Status> {
        self.load_policy_rpc(request).await
    }

    async fn get_policy(
        &self,
        request: Request<pb::GetPolicyRequest>,
    ) -> Result<Response<pb::GetPolicyResponse>, Status> {
        self.get_policy_rpc(request).await
    }

    async fn list_policies(
        &self,
        request: Request<pb::ListPoliciesRequest>,
    ) -> Result<Response<pb::ListPoliciesResponse>, Status> {
        self.list_policies_rpc(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_the_last_seen_id() {
        let items: Vec<(String, u32)> = (1..=5).map(|n| (format!("id{n}"), n)).collect();
        let (first, token) = paginate(items.clone(), "", 2);
        assert_eq!(first, vec![1, 2]);
        assert_eq!(token, "id2");
        let (second, token) = paginate(items.clone(), &token, 2);
        assert_eq!(second, vec![3, 4]);
        let (last, token) = paginate(items, &token, 2);
        assert_eq!(last, vec![5]);
        assert!(token.is_empty());
    }

    #[test]
    fn page_size_defaults_caps_and_refuses_negative() {
        let mut violations = Vec::new();
        assert_eq!(page_size(0, &mut violations), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(10_000, &mut violations), MAX_PAGE_SIZE);
        assert_eq!(page_size(7, &mut violations), 7);
        assert!(violations.is_empty());
        page_size(-1, &mut violations);
        assert_eq!(violations[0].field, "page_size");
    }
}
