//! Staff steps of the referral lifecycle: triage, hold and resume, closure, and the practice purge.
//! Each step locks the referral, checks the transition (`domain::lifecycle`), records the status
//! change in the history and writes its event in the same transaction.

use tonic::{Request, Response, Status};
use wf_auth::Operation;
use wf_proto::intake::v1 as pb;

use super::IntakeApi;

impl IntakeApi {
    pub(super) async fn rpc_triage(
        &self,
        request: Request<pb::TriageReferralRequest>,
    ) -> Result<Response<pb::TriageReferralResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::ManageCases)?;
        Ok(Response::new(self.app.triage(&principal, request.into_inner()).await?))
    }

    pub(super) async fn rpc_set_hold(
        &self,
        request: Request<pb::SetReferralHoldRequest>,
    ) -> Result<Response<pb::SetReferralHoldResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::ManageCases)?;
        Ok(Response::new(self.app.set_hold(&principal, request.into_inner()).await?))
    }

    pub(super) async fn rpc_close(
        &self,
        request: Request<pb::CloseReferralRequest>,
    ) -> Result<Response<pb::CloseReferralResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::ManageCases)?;
        Ok(Response::new(self.app.close(&principal, request.into_inner()).await?))
    }

    pub(super) async fn rpc_purge_practice(
        &self,
        request: Request<pb::PurgePracticeReferralsRequest>,
    ) -> Result<Response<pb::PurgePracticeReferralsResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::ManageCases)?;
        Ok(Response::new(self.app.purge_practice(&principal, request.into_inner()).await?))
    }
}
