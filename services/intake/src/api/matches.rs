//! Returning youth at run time: the background matcher that stores keyed hashes for every new referral and
//! records possible matches, and the staff RPCs that list, confirm and reject them. Never merges by itself:
//! only a confirmation gives a referral the earlier youth id.

use tonic::{Request, Response, Status};
use wf_auth::Operation;
use wf_proto::intake::v1 as pb;

use super::IntakeApi;
use crate::app::matches::to_proto;

impl IntakeApi {
    pub(super) async fn rpc_list_matches(
        &self,
        request: Request<pb::ListPossibleMatchesRequest>,
    ) -> Result<Response<pb::ListPossibleMatchesResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::ManageCases)?;
        Ok(Response::new(self.app.list_matches(&principal, request.into_inner()).await?))
    }

    pub(super) async fn rpc_confirm_match(
        &self,
        request: Request<pb::ConfirmPossibleMatchRequest>,
    ) -> Result<Response<pb::ConfirmPossibleMatchResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::ManageCases)?;
        let id = request.into_inner().possible_match_id;
        let (row, youth_id) = self.app.decide_match(&principal, &id, pb::PossibleMatchStatus::Confirmed).await?;
        Ok(Response::new(pb::ConfirmPossibleMatchResponse { r#match: Some(to_proto(row)), youth_id }))
    }

    pub(super) async fn rpc_reject_match(
        &self,
        request: Request<pb::RejectPossibleMatchRequest>,
    ) -> Result<Response<pb::RejectPossibleMatchResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::ManageCases)?;
        let id = request.into_inner().possible_match_id;
        let (row, _) = self.app.decide_match(&principal, &id, pb::PossibleMatchStatus::Rejected).await?;
        Ok(Response::new(pb::RejectPossibleMatchResponse { r#match: Some(to_proto(row)) }))
    }
}
