//! HSDS import and export RPCs (program managers and admins): the directory as Open
//! Referral HSDS 3.0 JSON, confidential locations never with their address.

use tonic::{Request, Response, Status};
use wf_auth::Operation;
use wf_proto::routing::v1 as pb;
use wf_server::ApiError;

use super::RoutingApi;
use crate::domain::hsds;
use crate::store::capacity;

/// Largest document `ImportHsds` reads (16 MiB, far above a county network's directory).
pub const MAX_IMPORT_BYTES: usize = 16 * 1024 * 1024;

impl RoutingApi {
    pub(super) async fn import_hsds_rpc(
        &self,
        request: Request<pb::ImportHsdsRequest>,
    ) -> Result<Response<pb::ImportHsdsResponse>, Status> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::ManageDirectory)?;
        let req = request.get_ref();
        if req.json.trim().is_empty() || req.json.len() > MAX_IMPORT_BYTES {
            let expected = format!("is required: an HSDS JSON document of at most {MAX_IMPORT_BYTES} bytes");
            return Err(ApiError::invalid("json", expected).into());
        }
        let plan = self.writer.import_hsds(&req.json, req.dry_run, &principal.subject).await.map_err(ApiError::from)?;
        let (organizations_created, organizations_updated, services_created, services_updated) = plan.counts();
        Ok(Response::new(pb::ImportHsdsResponse {
            organizations_created,
            organizations_updated,
            services_created,
            services_updated,
            issues: plan.issues,
        }))
    }

    pub(super) async fn export_hsds_rpc(
        &self,
        request: Request<pb::ExportHsdsRequest>,
    ) -> Result<Response<pb::ExportHsdsResponse>, Status> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::ManageDirectory)?;
        let req = request.get_ref();
        let entries = self.writer.entries();
        let open = capacity::open_places(self.db.pool()).await.map_err(ApiError::from)?;
        let document = hsds::export(&entries, &open, req.include_inactive, req.include_capacity);
        let json = serde_json::to_string_pretty(&document).map_err(ApiError::internal)?;
        tracing::info!(services = document.as_array().map_or(0, Vec::len), actor = %principal.subject, "hsds directory exported");
        Ok(Response::new(pb::ExportHsdsResponse { json }))
    }
}
