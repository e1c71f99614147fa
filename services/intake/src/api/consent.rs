//! Consent releases and the partner-facing read they allow.
//!
//! Staff record, list and revoke releases. A partner reads a referral's details only through
//! `GetReleasedDetails`, and only the categories an active release naming that partner covers; anything
//! else answers NOT_FOUND, the same as a referral that does not exist, so nothing leaks.

use tonic::{Request, Response, Status};
use wf_auth::Operation;
use wf_proto::intake::v1 as pb;

use super::IntakeApi;

impl IntakeApi {
    // The RPC entry points: authenticate, authorize, run.

    pub(super) async fn rpc_create_release(
        &self,
        request: Request<pb::CreateConsentReleaseRequest>,
    ) -> Result<Response<pb::CreateConsentReleaseResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::ManageCases)?;
        Ok(Response::new(self.app.create_release(&principal, request.into_inner()).await?))
    }

    pub(super) async fn rpc_get_release(
        &self,
        request: Request<pb::GetConsentReleaseRequest>,
    ) -> Result<Response<pb::GetConsentReleaseResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::ManageCases)?;
        Ok(Response::new(self.app.get_release(&principal, request.into_inner()).await?))
    }

    pub(super) async fn rpc_list_releases(
        &self,
        request: Request<pb::ListConsentReleasesRequest>,
    ) -> Result<Response<pb::ListConsentReleasesResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::ManageCases)?;
        Ok(Response::new(self.app.list_releases(&principal, request.into_inner()).await?))
    }

    pub(super) async fn rpc_revoke_release(
        &self,
        request: Request<pb::RevokeConsentReleaseRequest>,
    ) -> Result<Response<pb::RevokeConsentReleaseResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::ManageCases)?;
        Ok(Response::new(self.app.revoke_release(&principal, request.into_inner()).await?))
    }

    pub(super) async fn rpc_released_details(
        &self,
        request: Request<pb::GetReleasedDetailsRequest>,
    ) -> Result<Response<pb::GetReleasedDetailsResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::ReadPersonalDetails)?;
        Ok(Response::new(self.app.released_details(&principal, request.into_inner()).await?))
    }
}
