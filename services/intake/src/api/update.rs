//! `UpdateReferral`: staff complete or correct a referral. The masked fields are applied to the stored
//! record, the result is validated with the submission's validator, the personal part is re-sealed
//! through the vault, and `referral.updated` names the changed paths (never values). Opening the sealed
//! personal part to merge into it is a read of personal data: it is recorded as `record.accessed`, also
//! when the merged record is then refused (the access event is committed alone).

use tonic::{Request, Response, Status};
use wf_auth::Operation;
use wf_proto::intake::v1 as pb;

use super::IntakeApi;

impl IntakeApi {
    pub(super) async fn rpc_update(
        &self,
        request: Request<pb::UpdateReferralRequest>,
    ) -> Result<Response<pb::UpdateReferralResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::ManageCases)?;
        Ok(Response::new(self.app.update(&principal, request.into_inner()).await?))
    }
}
