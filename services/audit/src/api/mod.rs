//! `wayfinder.audit.v1.AuditService`: queries for auditors, chain and checkpoint verification,
//! checkpoints and Merkle proofs, exports of a range, and per-youth disclosure reports. Each
//! handler authorizes, then hands the request to its area's module.

mod checkpoints;
mod disclosure;
mod entries;
mod export;
mod to_proto;

pub use to_proto::{
    checkpoint_from_proto, checkpoint_to_proto, entry_from_proto, entry_to_proto, micros_of, report_to_proto,
};
use tonic::{Request, Response, Status};
use wf_auth::Operation;
use wf_db::Db;
use wf_proto::audit::v1 as pb;
use wf_proto::audit::v1::audit_service_server::AuditService;
use wf_types::SharedClock;

use crate::domain::checkpoint::CheckpointVerifier;

#[derive(Debug, Clone)]
pub struct AuditApi {
    db: Db,
    /// The public half of the checkpoint key, for `VerifyChain`.
    key: CheckpointVerifier,
    /// When a disclosure report is made (and logged).
    clock: SharedClock,
}

impl AuditApi {
    pub fn new(db: Db, key: CheckpointVerifier, clock: SharedClock) -> Self {
        Self { db, key, clock }
    }
}

#[tonic::async_trait]
impl AuditService for AuditApi {
    async fn list_entries(
        &self,
        request: Request<pb::ListEntriesRequest>,
    ) -> Result<Response<pb::ListEntriesResponse>, Status> {
        wf_auth::principal(&request)?.authorize(Operation::ReadAudit)?;
        Ok(Response::new(entries::list_entries(&self.db, request.into_inner()).await?))
    }

    async fn list_record_views(
        &self,
        request: Request<pb::ListRecordViewsRequest>,
    ) -> Result<Response<pb::ListRecordViewsResponse>, Status> {
        wf_auth::principal(&request)?.authorize(Operation::ManageCases)?;
        Ok(Response::new(entries::list_record_views(&self.db, request.into_inner()).await?))
    }

    async fn get_entry(&self, request: Request<pb::GetEntryRequest>) -> Result<Response<pb::GetEntryResponse>, Status> {
        wf_auth::principal(&request)?.authorize(Operation::ReadAudit)?;
        Ok(Response::new(entries::get_entry(&self.db, request.into_inner()).await?))
    }

    async fn verify_chain(
        &self,
        request: Request<pb::VerifyChainRequest>,
    ) -> Result<Response<pb::VerifyChainResponse>, Status> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::VerifyAudit)?;
        let caller = principal.subject.clone();
        Ok(Response::new(entries::verify_chain(&self.db, &self.key, &caller, request.into_inner()).await?))
    }

    async fn get_checkpoint(
        &self,
        request: Request<pb::GetCheckpointRequest>,
    ) -> Result<Response<pb::GetCheckpointResponse>, Status> {
        wf_auth::principal(&request)?.authorize(Operation::ReadAudit)?;
        Ok(Response::new(checkpoints::get(&self.db, request.into_inner()).await?))
    }

    async fn list_checkpoints(
        &self,
        request: Request<pb::ListCheckpointsRequest>,
    ) -> Result<Response<pb::ListCheckpointsResponse>, Status> {
        wf_auth::principal(&request)?.authorize(Operation::ReadAudit)?;
        Ok(Response::new(checkpoints::list(&self.db, request.into_inner()).await?))
    }

    async fn get_inclusion_proof(
        &self,
        request: Request<pb::GetInclusionProofRequest>,
    ) -> Result<Response<pb::GetInclusionProofResponse>, Status> {
        wf_auth::principal(&request)?.authorize(Operation::ReadAudit)?;
        Ok(Response::new(checkpoints::inclusion(&self.db, request.into_inner()).await?))
    }

    async fn get_consistency_proof(
        &self,
        request: Request<pb::GetConsistencyProofRequest>,
    ) -> Result<Response<pb::GetConsistencyProofResponse>, Status> {
        wf_auth::principal(&request)?.authorize(Operation::ReadAudit)?;
        Ok(Response::new(checkpoints::consistency(&self.db, request.into_inner()).await?))
    }

    async fn disclosure_report(
        &self,
        request: Request<pb::DisclosureReportRequest>,
    ) -> Result<Response<pb::DisclosureReportResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::ReadAudit)?;
        let report =
            disclosure::disclosure_report(&self.db, self.clock.as_ref(), &principal, request.into_inner()).await?;
        Ok(Response::new(report))
    }

    async fn export_range(
        &self,
        request: Request<pb::ExportRangeRequest>,
    ) -> Result<Response<pb::ExportRangeResponse>, Status> {
        wf_auth::principal(&request)?.authorize(Operation::ReadAudit)?;
        Ok(Response::new(export::export_range(&self.db, request.into_inner()).await?))
    }
}
