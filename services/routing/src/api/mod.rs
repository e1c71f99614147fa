//! The `RoutingService` gRPC API: handlers only — authorize, parse (typed ids at this edge,
//! each refusal naming its field), call `app` or read `store`, map to proto (`to_proto`).
//! One module per area; this one holds the service's entry points and what they share.

mod decisions;
mod directory;
mod escalations;
mod hsds;
mod offers;
mod policy;
mod to_proto;

use std::str::FromStr;

use tonic::{Request, Response, Status};
use wf_auth::{Operation, Principal};
use wf_db::Db;
use wf_proto::common::v1::Site;
use wf_proto::routing::v1 as pb;
use wf_proto::routing::v1::routing_service_server::RoutingService;
use wf_server::pagination::PageLimits;
use wf_server::{ApiError, Refusals};
use wf_types::{FieldViolation, IdError};

use crate::app::directory::DirectoryWriter;
use crate::app::policy::ActivePolicy;
use crate::app::route::Router;

pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 500;
/// `page_size` of every list: 0 means the default, above the maximum is capped, negative is refused.
pub(crate) const PAGE_LIMITS: PageLimits = PageLimits::new(DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);

/// The gRPC API over a database, the directory in memory and the policy in force.
#[derive(Clone)]
pub struct RoutingApi {
    pub(crate) db: Db,
    pub(crate) router: Router,
    pub(crate) writer: DirectoryWriter,
    pub(crate) policy: ActivePolicy,
    /// Where a partner answered NOT_FOUND for another partner's offer is put on the record
    /// (`ctx.refusals(SERVICE)`, the recorder `Component::refusals` returns, so its writer runs).
    pub(crate) refusals: Refusals,
}

impl RoutingApi {
    pub fn new(db: Db, router: Router, writer: DirectoryWriter, policy: ActivePolicy, refusals: Refusals) -> Self {
        Self { db, router, writer, policy, refusals }
    }
}

/// Directory, policy and escalation reads are open to whoever may read routing decisions (staff and services, who
/// need to see where referrals can go and what decisions name) and to whoever manages the
/// directory (program managers, admins). Partners are not: the directory will hold
/// confidential shelter locations, and a partner-facing view is its own decision.
pub(crate) fn authorize_staff_read(principal: &Principal) -> Result<(), Status> {
    principal.authorize_any(&[Operation::ReadRoutingDecision, Operation::ManageDirectory])
}

/// `value` as an id, or INVALID_ARGUMENT naming `field` and the shape expected.
pub(crate) fn parse_id<Id: FromStr<Err = IdError>>(field: &str, value: &str) -> Result<Id, ApiError> {
    value.parse().map_err(|err: IdError| ApiError::invalid(field, err.to_string()))
}

/// An optional id (empty = none); a malformed one is added to `violations`.
pub(crate) fn optional_id<Id: FromStr<Err = IdError>>(
    field: &str,
    value: &str,
    violations: &mut Vec<FieldViolation>,
) -> Option<Id> {
    if value.is_empty() {
        return None;
    }
    value.parse().map_err(|err: IdError| violations.push(FieldViolation::new(field, err.to_string()))).ok()
}

/// A required message field.
pub(crate) fn required<T>(value: Option<T>, field: &str) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::invalid(field, "is required"))
}

/// A `TimeRange` filter `[start, end)` as microseconds (`None` = open); a bound that is no valid
/// instant, or an end before the start, is added to `violations` under `field.start` / `field.end`.
pub(crate) fn time_range(
    field: &str,
    range: Option<&wf_proto::common::v1::TimeRange>,
    violations: &mut Vec<FieldViolation>,
) -> (Option<i64>, Option<i64>) {
    let Some(range) = range else {
        return (None, None);
    };
    let mut bound = |name: &str, ts: &Option<prost_types::Timestamp>| {
        let ts = ts.as_ref()?;
        match wf_proto::time::datetime(ts) {
            Some(at) => Some(wf_db::to_micros(at)),
            None => {
                violations.push(FieldViolation::new(
                    format!("{field}.{name}"),
                    "is not a valid timestamp (seconds out of range, or nanos outside 0 to 999999999)",
                ));
                None
            }
        }
    };
    let (start, end) = (bound("start", &range.start), bound("end", &range.end));
    if let (Some(start), Some(end)) = (start, end)
        && end < start
    {
        violations.push(FieldViolation::new(format!("{field}.end"), "is before start; the range is [start, end)"));
    }
    (start, end)
}

pub(crate) fn site_filter(value: i32, field: &str, violations: &mut Vec<FieldViolation>) -> Site {
    Site::try_from(value).unwrap_or_else(|_| {
        violations.push(FieldViolation::new(field, format!("{value} is not a Site value")));
        Site::Unspecified
    })
}

/// One page of `items` (sorted by id) after `token`; the next token is the last id returned
/// when more may follow.
pub(crate) fn paginate<T>(items: Vec<(String, T)>, token: &str, size: usize) -> (Vec<T>, String) {
    let mut rest: Vec<(String, T)> =
        items.into_iter().filter(|(id, _)| token.is_empty() || id.as_str() > token).collect();
    let next = wf_server::pagination::next_page(&mut rest, size, |(id, _)| id.clone());
    (rest.into_iter().map(|(_, item)| item).collect(), next)
}

#[tonic::async_trait]
impl RoutingService for RoutingApi {
    async fn get_organization(
        &self,
        request: Request<pb::GetOrganizationRequest>,
    ) -> Result<Response<pb::GetOrganizationResponse>, Status> {
        self.get_organization_rpc(request).await
    }

    async fn list_organizations(
        &self,
        request: Request<pb::ListOrganizationsRequest>,
    ) -> Result<Response<pb::ListOrganizationsResponse>, Status> {
        self.list_organizations_rpc(request).await
    }

    async fn get_partner_service(
        &self,
        request: Request<pb::GetPartnerServiceRequest>,
    ) -> Result<Response<pb::GetPartnerServiceResponse>, Status> {
        self.get_partner_service_rpc(request).await
    }

    async fn list_partner_services(
        &self,
        request: Request<pb::ListPartnerServicesRequest>,
    ) -> Result<Response<pb::ListPartnerServicesResponse>, Status> {
        self.list_partner_services_rpc(request).await
    }

    async fn get_decision(
        &self,
        request: Request<pb::GetDecisionRequest>,
    ) -> Result<Response<pb::GetDecisionResponse>, Status> {
        self.get_decision_rpc(request).await
    }

    async fn list_decisions(
        &self,
        request: Request<pb::ListDecisionsRequest>,
    ) -> Result<Response<pb::ListDecisionsResponse>, Status> {
        self.list_decisions_rpc(request).await
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
        assert_eq!(PAGE_LIMITS.size(0, &mut violations), DEFAULT_PAGE_SIZE);
        assert_eq!(PAGE_LIMITS.size(10_000, &mut violations), MAX_PAGE_SIZE);
        assert_eq!(PAGE_LIMITS.size(7, &mut violations), 7);
        assert!(violations.is_empty());
        PAGE_LIMITS.size(-1, &mut violations);
        assert_eq!(violations[0].field, "page_size");
    }
}
