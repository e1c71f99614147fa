//! The directory RPCs. Reads (organizations, partner services with their open places) are
//! open to staff who read decisions and to directory managers. Writes: program managers (and
//! admins) create and update organizations and services; partners update the capacity of
//! their own services (another partner's service answers NOT_FOUND). Each write validates
//! every field at once, names the field path and what is allowed, and takes an optional
//! `updated_at` for optimistic concurrency (a stale one answers ABORTED).

use tonic::{Request, Response, Status};
use wf_auth::{Operation, Principal, Role, is_allowed};
use wf_proto::common::v1::Site;
use wf_proto::routing::v1 as pb;
use wf_server::ApiError;
use wf_server::pagination::page_token;
use wf_types::{PartnerId, PartnerServiceId};

use super::{
    PAGE_LIMITS, RoutingApi, authorize_staff_read, optional_id, paginate, parse_id, required, site_filter, to_proto,
};
use crate::app::directory::CapacityScope;
use crate::store::capacity;

/// Who may change a service's capacity: a partner its own services, directory managers any.
fn capacity_scope(principal: &Principal) -> Result<CapacityScope, ApiError> {
    if principal.role == Role::Partner {
        // A partner token without a partner id changes nothing rather than everything.
        return Ok(CapacityScope::Partner(principal.partner_id.clone().unwrap_or_default()));
    }
    if is_allowed(principal.role, Operation::ManageDirectory) {
        Ok(CapacityScope::Any)
    } else {
        Err(ApiError::PermissionDenied(format!("role {} may not update partner capacity", principal.role)))
    }
}

impl RoutingApi {
    pub(super) async fn get_organization_rpc(
        &self,
        request: Request<pb::GetOrganizationRequest>,
    ) -> Result<Response<pb::GetOrganizationResponse>, Status> {
        authorize_staff_read(wf_auth::principal(&request)?)?;
        let id: PartnerId = parse_id("organization_id", &request.get_ref().organization_id)?;
        let entries = self.writer.entries();
        let org = entries.organization(id.as_str()).ok_or_else(|| ApiError::NotFound("organization".into()))?;
        Ok(Response::new(pb::GetOrganizationResponse { organization: Some(to_proto::organization(org)) }))
    }

    pub(super) async fn list_organizations_rpc(
        &self,
        request: Request<pb::ListOrganizationsRequest>,
    ) -> Result<Response<pb::ListOrganizationsResponse>, Status> {
        authorize_staff_read(wf_auth::principal(&request)?)?;
        let req = request.get_ref();
        let mut violations = Vec::new();
        let size = PAGE_LIMITS.size(req.page_size, &mut violations);
        let site = site_filter(req.site, "site", &mut violations);
        page_token::<PartnerId>(&req.page_token, &mut violations);
        ApiError::check(violations)?;
        let entries = self.writer.entries();
        let matching = entries
            .organizations
            .values()
            .filter(|org| req.include_inactive || org.record.active)
            .filter(|org| !req.in_network_only || org.record.in_network)
            .filter(|org| site == Site::Unspecified || org.sites().contains(&site))
            .map(|org| (org.record.organization_id.clone(), to_proto::organization(org)))
            .collect();
        let (organizations, next_page_token) = paginate(matching, &req.page_token, size);
        Ok(Response::new(pb::ListOrganizationsResponse { organizations, next_page_token }))
    }

    pub(super) async fn get_partner_service_rpc(
        &self,
        request: Request<pb::GetPartnerServiceRequest>,
    ) -> Result<Response<pb::GetPartnerServiceResponse>, Status> {
        authorize_staff_read(wf_auth::principal(&request)?)?;
        let id: PartnerServiceId = parse_id("partner_service_id", &request.get_ref().partner_service_id)?;
        let entries = self.writer.entries();
        let (_, service) = entries.service(id.as_str()).ok_or_else(|| ApiError::NotFound("partner service".into()))?;
        let open = capacity::open_places(self.db.pool()).await.map_err(ApiError::from)?;
        let shown = to_proto::partner_service(service, open.get(id.as_str()).copied());
        Ok(Response::new(pb::GetPartnerServiceResponse { partner_service: Some(shown) }))
    }

    pub(super) async fn list_partner_services_rpc(
        &self,
        request: Request<pb::ListPartnerServicesRequest>,
    ) -> Result<Response<pb::ListPartnerServicesResponse>, Status> {
        authorize_staff_read(wf_auth::principal(&request)?)?;
        let req = request.get_ref();
        let mut violations = Vec::new();
        let size = PAGE_LIMITS.size(req.page_size, &mut violations);
        let site = site_filter(req.site, "site", &mut violations);
        optional_id::<PartnerId>("organization_id", &req.organization_id, &mut violations);
        page_token::<PartnerServiceId>(&req.page_token, &mut violations);
        ApiError::check(violations)?;
        let language = req.language.trim().to_lowercase();
        let entries = self.writer.entries();
        let open = capacity::open_places(self.db.pool()).await.map_err(ApiError::from)?;
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
                (s.partner_service_id.clone(), to_proto::partner_service(s, open.get(&s.partner_service_id).copied()))
            })
            .collect();
        matching.sort_by(|a, b| a.0.cmp(&b.0));
        let (partner_services, next_page_token) = paginate(matching, &req.page_token, size);
        Ok(Response::new(pb::ListPartnerServicesResponse { partner_services, next_page_token }))
    }

    pub(super) async fn create_organization_rpc(
        &self,
        request: Request<pb::CreateOrganizationRequest>,
    ) -> Result<Response<pb::CreateOrganizationResponse>, Status> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::ManageDirectory)?;
        let record = required(request.get_ref().organization.clone(), "organization")?;
        let organization = self.writer.create_organization(record, &principal.subject).await.map_err(ApiError::from)?;
        Ok(Response::new(pb::CreateOrganizationResponse { organization: Some(organization) }))
    }

    pub(super) async fn update_organization_rpc(
        &self,
        request: Request<pb::UpdateOrganizationRequest>,
    ) -> Result<Response<pb::UpdateOrganizationResponse>, Status> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::ManageDirectory)?;
        let record = required(request.get_ref().organization.clone(), "organization")?;
        let organization = self.writer.update_organization(record, &principal.subject).await.map_err(ApiError::from)?;
        Ok(Response::new(pb::UpdateOrganizationResponse { organization: Some(organization) }))
    }

    /// The service as the API shows it, with the open places held now.
    async fn shown(&self, record: pb::PartnerService) -> Result<pb::PartnerService, Status> {
        let open = capacity::open_places(self.db.pool()).await.map_err(ApiError::from)?;
        let places = open.get(&record.partner_service_id).copied();
        Ok(to_proto::partner_service(&record, places))
    }

    pub(super) async fn create_partner_service_rpc(
        &self,
        request: Request<pb::CreatePartnerServiceRequest>,
    ) -> Result<Response<pb::CreatePartnerServiceResponse>, Status> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::ManageDirectory)?;
        let record = required(request.get_ref().partner_service.clone(), "partner_service")?;
        let service = self.writer.create_service(record, &principal.subject).await.map_err(ApiError::from)?;
        Ok(Response::new(pb::CreatePartnerServiceResponse { partner_service: Some(self.shown(service).await?) }))
    }

    pub(super) async fn update_partner_service_rpc(
        &self,
        request: Request<pb::UpdatePartnerServiceRequest>,
    ) -> Result<Response<pb::UpdatePartnerServiceResponse>, Status> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::ManageDirectory)?;
        let record = required(request.get_ref().partner_service.clone(), "partner_service")?;
        let service = self.writer.update_service(record, &principal.subject).await.map_err(ApiError::from)?;
        Ok(Response::new(pb::UpdatePartnerServiceResponse { partner_service: Some(self.shown(service).await?) }))
    }

    pub(super) async fn update_capacity_rpc(
        &self,
        request: Request<pb::UpdateCapacityRequest>,
    ) -> Result<Response<pb::UpdateCapacityResponse>, Status> {
        let principal = wf_auth::principal(&request)?;
        let scope = capacity_scope(principal)?;
        let req = request.get_ref();
        let id: PartnerServiceId = parse_id("partner_service_id", &req.partner_service_id)?;
        let capacity = required(req.capacity.clone(), "capacity")?;
        let service = self
            .writer
            .update_capacity(id.as_str(), capacity, &scope, &principal.subject)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(pb::UpdateCapacityResponse { partner_service: Some(self.shown(service).await?) }))
    }
}
