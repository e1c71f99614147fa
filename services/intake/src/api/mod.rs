//! The gRPC face of intake: authenticate, authorize, hand the request to the use cases in `app`,
//! answer. One file per area; the hotline webhook (`webhook`) is intake's HTTP door.

mod consent;
mod lifecycle;
mod mandated;
mod matches;
mod screenings;
mod update;
pub mod webhook;

use tonic::{Request, Response, Status};
use wf_auth::Operation;
use wf_proto::intake::v1 as pb;
use wf_proto::intake::v1::intake_service_server::IntakeService;

use crate::app::App;

/// The gRPC service: each RPC authorizes and calls the use case of the same name.
#[derive(Clone)]
pub struct IntakeApi {
    app: App,
}

impl IntakeApi {
    pub fn new(app: App) -> Self {
        Self { app }
    }
}

#[tonic::async_trait]
impl IntakeService for IntakeApi {
    async fn submit_referral(
        &self,
        request: Request<pb::SubmitReferralRequest>,
    ) -> Result<Response<pb::SubmitReferralResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::SubmitReferral)?;
        Ok(Response::new(self.app.submit(&principal, request.into_inner()).await?))
    }

    async fn get_referral(
        &self,
        request: Request<pb::GetReferralRequest>,
    ) -> Result<Response<pb::GetReferralResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        // The coded record, or (a hotline) only the status of what it submitted.
        principal.authorize_any(&[Operation::ReadReferral, Operation::ReadReferralStatus])?;
        Ok(Response::new(self.app.get(&principal, request.into_inner()).await?))
    }

    async fn list_referrals(
        &self,
        request: Request<pb::ListReferralsRequest>,
    ) -> Result<Response<pb::ListReferralsResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::ListReferrals)?;
        Ok(Response::new(self.app.list(&principal, request.into_inner()).await?))
    }

    async fn update_referral(
        &self,
        request: Request<pb::UpdateReferralRequest>,
    ) -> Result<Response<pb::UpdateReferralResponse>, Status> {
        self.rpc_update(request).await
    }

    async fn triage_referral(
        &self,
        request: Request<pb::TriageReferralRequest>,
    ) -> Result<Response<pb::TriageReferralResponse>, Status> {
        self.rpc_triage(request).await
    }

    async fn set_referral_hold(
        &self,
        request: Request<pb::SetReferralHoldRequest>,
    ) -> Result<Response<pb::SetReferralHoldResponse>, Status> {
        self.rpc_set_hold(request).await
    }

    async fn close_referral(
        &self,
        request: Request<pb::CloseReferralRequest>,
    ) -> Result<Response<pb::CloseReferralResponse>, Status> {
        self.rpc_close(request).await
    }

    async fn purge_practice_referrals(
        &self,
        request: Request<pb::PurgePracticeReferralsRequest>,
    ) -> Result<Response<pb::PurgePracticeReferralsResponse>, Status> {
        self.rpc_purge_practice(request).await
    }

    async fn create_consent_release(
        &self,
        request: Request<pb::CreateConsentReleaseRequest>,
    ) -> Result<Response<pb::CreateConsentReleaseResponse>, Status> {
        self.rpc_create_release(request).await
    }

    async fn get_consent_release(
        &self,
        request: Request<pb::GetConsentReleaseRequest>,
    ) -> Result<Response<pb::GetConsentReleaseResponse>, Status> {
        self.rpc_get_release(request).await
    }

    async fn list_consent_releases(
        &self,
        request: Request<pb::ListConsentReleasesRequest>,
    ) -> Result<Response<pb::ListConsentReleasesResponse>, Status> {
        self.rpc_list_releases(request).await
    }

    async fn revoke_consent_release(
        &self,
        request: Request<pb::RevokeConsentReleaseRequest>,
    ) -> Result<Response<pb::RevokeConsentReleaseResponse>, Status> {
        self.rpc_revoke_release(request).await
    }

    async fn record_screening(
        &self,
        request: Request<pb::RecordScreeningRequest>,
    ) -> Result<Response<pb::RecordScreeningResponse>, Status> {
        self.rpc_record_screening(request).await
    }

    async fn list_screenings(
        &self,
        request: Request<pb::ListScreeningsRequest>,
    ) -> Result<Response<pb::ListScreeningsResponse>, Status> {
        self.rpc_list_screenings(request).await
    }

    async fn record_mandated_report(
        &self,
        request: Request<pb::RecordMandatedReportRequest>,
    ) -> Result<Response<pb::RecordMandatedReportResponse>, Status> {
        self.rpc_record_mandated(request).await
    }

    async fn list_mandated_reports(
        &self,
        request: Request<pb::ListMandatedReportsRequest>,
    ) -> Result<Response<pb::ListMandatedReportsResponse>, Status> {
        self.rpc_list_mandated(request).await
    }

    async fn list_possible_matches(
        &self,
        request: Request<pb::ListPossibleMatchesRequest>,
    ) -> Result<Response<pb::ListPossibleMatchesResponse>, Status> {
        self.rpc_list_matches(request).await
    }

    async fn confirm_possible_match(
        &self,
        request: Request<pb::ConfirmPossibleMatchRequest>,
    ) -> Result<Response<pb::ConfirmPossibleMatchResponse>, Status> {
        self.rpc_confirm_match(request).await
    }

    async fn reject_possible_match(
        &self,
        request: Request<pb::RejectPossibleMatchRequest>,
    ) -> Result<Response<pb::RejectPossibleMatchResponse>, Status> {
        self.rpc_reject_match(request).await
    }

    async fn get_released_details(
        &self,
        request: Request<pb::GetReleasedDetailsRequest>,
    ) -> Result<Response<pb::GetReleasedDetailsResponse>, Status> {
        self.rpc_released_details(request).await
    }
}
