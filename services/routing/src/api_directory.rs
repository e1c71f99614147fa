//! The directory-management RPCs: program managers (and admins) create and update
//! organizations and services; partners update the capacity of their own services
//! (another partner's service answers NOT_FOUND). Each write validates every field at
//! once, names the field path and what is allowed, and takes an optional `updated_at`
//! for optimistic concurrency (a stale one answers ABORTED).

use tonic::{Request, Response, Status};
use wf_auth::{Operation, Principal, Role, is_allowed};
use wf_proto::routing::v1 as pb;
use wf_server::{ApiError, FieldViolation};

use crate::api::RoutingApi;
use crate::convert;
use crate::directory_store;
use crate::directory_writer::{CapacityScope, WriteError};
use crate::domain::directory::is_service_id;
use crate::domain::directory_validate::EntryIssue;

pub(crate) fn violations(issues: Vec<EntryIssue>) -> Vec<FieldViolation> {
    issues.into_iter().map(|issue| FieldViolation::new(issue.field, issue.message)).collect()
}

pub(crate) fn write_error(err: WriteError) -> Status {
    match err {
        WriteError::Invalid(issues) => ApiError::InvalidArgument(violations(issues)).into(),
        WriteError::NotFound(what) => ApiError::NotFound(what.into()).into(),
        WriteError::AlreadyExists(what) => Status::already_exists(format!("{what} already exists")),
        WriteError::Changed { .. } => Status::aborted(err.to_string()),
        WriteError::Db(err) => ApiError::from(err).into(),
    }
}

#[allow(clippy::result_large_err)]
fn required<T>(value: Option<T>, field: &str) -> Result<T, Status> {
    value.ok_or_else(|| ApiError::InvalidArgument(vec![FieldViolation::new(field, "is required")]).into())
}

/// Who may change a service's capacity: a partner its own services, directory managers any.
#[allow(clippy::result_large_err)]
fn capacity_scope(principal: &Principal) -> Result<CapacityScope, Status> {
    if principal.role == Role::Partner {
        // A partner token without a partner id changes nothing rather than everything.
        return Ok(CapacityScope::Partner(principal.partner_id.clone().unwrap_or_default()));
    }
    if is_allowed(principal.role, Operation::ManageDirectory) {
        Ok(CapacityScope::Any)
    } else {
        Err(Status::permission_denied(format!("role {} may not update partner capacity", principal.role)))
    }
}

impl RoutingApi {
    pub(crate) async fn create_organization_rpc(
        &self,
        request: Request<pb::CreateOrganizationRequest>,
    ) -> Result<Response<pb::CreateOrganizationResponse>, Status> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::ManageDirectory)?;
        let record = required(request.get_ref().organization.clone(), "organization")?;
        let organization = self.writer.create_organization(record, &principal.subject).await.map_err(write_error)?;
        Ok(Response::new(pb::CreateOrganizationResponse { organization: Some(organization) }))
    }

    pub(crate) async fn update_organization_rpc(
        &self,
        request: Request<pb::UpdateOrganizationRequest>,
    ) -> Result<Response<pb::UpdateOrganizationResponse>, Status> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::ManageDirectory)?;
        let record = required(request.get_ref().organization.clone(), "organization")?;
        let organization = self.writer.update_organization(record, &principal.subject).await.map_err(write_error)?;
        Ok(Response::new(pb::UpdateOrganizationResponse { organization: Some(organization) }))
    }

    /// The service as the API shows it, with the open places held now.
    async fn shown(&self, record: pb::PartnerService) -> Result<pb::PartnerService, Status> {
        let open = directory_store::open_places(&self.db).await.map_err(ApiError::from)?;
        let places = open.get(&record.partner_service_id).copied();
        Ok(convert::partner_service(&record, places))
    }

    pub(crate) async fn create_partner_service_rpc(
        &self,
        request: Request<pb::CreatePartnerServiceRequest>,
    ) -> Result<Response<pb::CreatePartnerServiceResponse>, Status> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::ManageDirectory)?;
        let record = required(request.get_ref().partner_service.clone(), "partner_service")?;
        let service = self.writer.create_service(record, &principal.subject).await.map_err(write_error)?;
        Ok(Response::new(pb::CreatePartnerServiceResponse { partner_service: Some(self.shown(service).await?) }))
    }

    pub(crate) async fn update_partner_service_rpc(
        &self,
        request: Request<pb::UpdatePartnerServiceRequest>,
    ) -> Result<Response<pb::UpdatePartnerServiceResponse>, Status> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::ManageDirectory)?;
        let record = required(request.get_ref().partner_service.clone(), "partner_service")?;
        let service = self.writer.update_service(record, &principal.subject).await.map_err(write_error)?;
        Ok(Response::new(pb::UpdatePartnerServiceResponse { partner_service: Some(self.shown(service).await?) }))
    }

    pub(crate) async fn update_capacity_rpc(
        &self,
        request: Request<pb::UpdateCapacityRequest>,
    ) -> Result<Response<pb::UpdateCapacityResponse>, Status> {
        let principal = wf_auth::principal(&request)?;
        let scope = capacity_scope(principal)?;
        let req = request.get_ref();
        if !is_service_id(&req.partner_service_id) {
            return Err(ApiError::InvalidArgument(vec![FieldViolation::new(
                "partner_service_id",
                "expected `svc_` followed by 32 lowercase hex digits",
            )])
            .into());
        }
        let capacity = required(req.capacity.clone(), "capacity")?;
        let service = self
            .writer
            .update_capacity(&req.partner_service_id, capacity, &scope, &principal.subject)
            .await
            .map_err(write_error)?;
        Ok(Response::new(pb::UpdateCapacityResponse { partner_service: Some(self.shown(service).await?) }))
    }
}
