//! HSDS import and export RPCs (program managers and admins): the directory as Open
//! Referral HSDS 3.0 JSON, confidential locations never with their address.

use tonic::{Request, Response, Status};
use wf_auth::Operation;
use wf_proto::routing::v1 as pb;
use wf_server::{ApiError, FieldViolation};

use crate::api::RoutingApi;
use crate::api_directory::write_error;
use crate::directory_store;
use crate::hsds;

/// Largest document `ImportHsds` reads (16 MiB, far above a county network's directory).
pub const MAX_IMPORT_BYTES: usize = 16 * 1024 * 1024;

impl RoutingApi {
    pub(crate) async fn import_hsds_rpc(
        &self,
        request: Request<pb::ImportHsdsRequest>,
    ) -> Result<Response<pb::ImportHsdsResponse>, Status> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::ManageDirectory)?;
        let req = request.get_ref();
        if req.json.trim().is_empty() || req.json.len() > MAX_IMPORT_BYTES {
            return Err(ApiError::InvalidArgument(vec![FieldViolation::new(
                "json",
                format!("is required: an HSDS JSON document of at most {MAX_IMPORT_BYTES} bytes"),
            )])
            .into());
        }
        let plan = self.writer.import_hsds(&req.json, req.dry_run, &principal.subject).await.map_err(write_error)?;
        let (organizations_created, organizations_updated, services_created, services_updated) = plan.counts();
        Ok(Response::new(pb::ImportHsdsResponse {
            organizations_created,
            organizations_updated,
            services_created,
            services_updated,
            issues: plan.issues,
        }))
    }

    pub(crate) async fn export_hsds_rpc(
        &self,
        request: Request<pb::ExportHsdsRequest>,
    ) -> Result<Response<pb::ExportHsdsResponse>, Status> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::ManageDirectory)?;
        let req = request.get_ref();
        let entries = self.writer.entries();
        let open = directory_store::open_places(&self.db).await.map_err(ApiError::from)?;
        let document = hsds::export(&entries, &open, req.include_inactive, req.include_capacity);
        let json = serde_json::to_string_pretty(&document).map_err(ApiError::internal)?;
        tracing::info!(services = document.as_array().map_or(0, Vec::len), actor = %principal.subject, "hsds directory exported");
        Ok(Response::new(pb::ExportHsdsResponse { json }))
    }
}
