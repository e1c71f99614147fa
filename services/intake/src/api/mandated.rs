//! Mandated reports: record the initial report and then its written follow-up; list them.

use tonic::{Request, Response, Status};
use wf_auth::Operation;
use wf_proto::intake::v1 as pb;

use super::IntakeApi;

impl IntakeApi {
    pub(super) async fn rpc_record_mandated(
        &self,
        request: Request<pb::RecordMandatedReportRequest>,
    ) -> Result<Response<pb::RecordMandatedReportResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::ManageCases)?;
        Ok(Response::new(self.app.record_mandated(&principal, request.into_inner()).await?))
    }

    pub(super) async fn rpc_list_mandated(
        &self,
        request: Request<pb::ListMandatedReportsRequest>,
    ) -> Result<Response<pb::ListMandatedReportsResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::ManageCases)?;
        Ok(Response::new(self.app.list_mandated(&principal, request.into_inner()).await?))
    }
}
