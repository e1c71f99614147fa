//! Screenings (CSE-IT, Vera TVIT) recorded after intake, and the list of a referral's or a youth's
//! screenings. Part of the referral record: a recorded screening is also appended to the coded
//! referral `GetReferral` returns. A result never sets the trafficking status.

use tonic::{Request, Response, Status};
use wf_auth::Operation;
use wf_proto::intake::v1 as pb;

use super::IntakeApi;

impl IntakeApi {
    pub(super) async fn rpc_record_screening(
        &self,
        request: Request<pb::RecordScreeningRequest>,
    ) -> Result<Response<pb::RecordScreeningResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::ManageCases)?;
        Ok(Response::new(self.app.record_screening(&principal, request.into_inner()).await?))
    }

    pub(super) async fn rpc_list_screenings(
        &self,
        request: Request<pb::ListScreeningsRequest>,
    ) -> Result<Response<pb::ListScreeningsResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::ReadReferral)?;
        Ok(Response::new(self.app.list_screenings(&principal, request.into_inner()).await?))
    }
}
