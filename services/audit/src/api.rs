//! `wayfinder.audit.v1.AuditService`: queries for auditors, chain and checkpoint verification,
//! checkpoints and Merkle proofs, exports of a range, and per-youth disclosure reports.

mod checkpoints;
mod disclosure;
mod export;
pub use checkpoints::{checkpoint_from_proto, checkpoint_to_proto};

use tonic::{Request, Response, Status};
use wf_auth::Operation;
use wf_db::Db;
use wf_proto::audit::v1 as pb;
use wf_proto::audit::v1::audit_service_server::AuditService;
use wf_server::{ApiError, FieldViolation};

use crate::domain::chain::{Entry, VerifyReport};
use crate::domain::checkpoint::CheckpointVerifier;
use crate::domain::query;
use crate::{store, verify};

#[derive(Debug, Clone)]
pub struct AuditApi {
    db: Db,
    /// The public half of the checkpoint key, for `VerifyChain`.
    key: CheckpointVerifier,
}

impl AuditApi {
    pub fn new(db: Db, key: CheckpointVerifier) -> Self {
        Self { db, key }
    }
}

use wf_proto::time::timestamp_from_micros as timestamp;

/// The wire form of an entry. `youth_id` stays empty: entries reach a youth through the referrals
/// that name them, resolved at query time (`ListEntries.youth_id`, disclosure reports).
pub fn entry_to_proto(entry: Entry) -> pb::AuditEntry {
    let content = entry.content;
    pb::AuditEntry {
        sequence: entry.sequence,
        event_id: content.event_id,
        r#type: content.event_type,
        aggregate_id: content.aggregate_id,
        correlation_id: content.correlation_id,
        producer: content.producer,
        actor: content.actor,
        occurred_at: Some(timestamp(content.occurred_at_micros)),
        recorded_at: Some(timestamp(content.recorded_at_micros)),
        entry_hash: entry.entry_hash,
        previous_hash: entry.previous_hash,
        payload: content.payload,
        schema_version: content.schema_version,
        actor_role: content.actor_role,
        purpose: content.purpose,
        release_id: content.release_id,
        fields: content.fields,
        youth_id: String::new(),
    }
}

/// Microseconds of a wire timestamp (exact for timestamps made from microseconds).
pub fn micros_of(at: Option<&prost_types::Timestamp>) -> i64 {
    at.map_or(0, |at| at.seconds.saturating_mul(1_000_000).saturating_add(i64::from(at.nanos / 1000)))
}

/// The stored form of a wire entry, for verifying what an API returned (exports).
pub fn entry_from_proto(entry: pb::AuditEntry) -> Entry {
    Entry {
        sequence: entry.sequence,
        content: crate::domain::chain::EntryContent {
            event_id: entry.event_id,
            event_type: entry.r#type,
            schema_version: entry.schema_version,
            aggregate_id: entry.aggregate_id,
            correlation_id: entry.correlation_id,
            producer: entry.producer,
            actor: entry.actor,
            actor_role: entry.actor_role,
            purpose: entry.purpose,
            release_id: entry.release_id,
            fields: entry.fields,
            occurred_at_micros: micros_of(entry.occurred_at.as_ref()),
            recorded_at_micros: micros_of(entry.recorded_at.as_ref()),
            payload: entry.payload,
        },
        previous_hash: entry.previous_hash,
        entry_hash: entry.entry_hash,
    }
}

pub fn report_to_proto(report: &VerifyReport) -> pb::VerifyChainResponse {
    pb::VerifyChainResponse {
        ok: report.is_ok(),
        verified_through: report.verified_through,
        first_bad_sequence: report.problem.as_ref().map_or(0, |p| p.sequence),
        problem: report.problem.as_ref().map_or_else(String::new, |p| p.kind.code().to_owned()),
        entries_verified: report.entries_verified,
        checkpoints_verified: report.checkpoints_verified,
    }
}

#[tonic::async_trait]
impl AuditService for AuditApi {
    async fn list_entries(
        &self,
        request: Request<pb::ListEntriesRequest>,
    ) -> Result<Response<pb::ListEntriesResponse>, Status> {
        wf_auth::principal(&request)?.authorize(Operation::ReadAudit)?;
        let request = request.into_inner();
        let mut query = query::list_query(&request).map_err(ApiError::InvalidArgument)?;
        if !request.youth_id.is_empty() {
            if request.youth_id.len() > 200 {
                return Err(ApiError::InvalidArgument(vec![FieldViolation::new(
                    "youth_id",
                    "must be at most 200 characters",
                )])
                .into());
            }
            let referral_ids = disclosure::referrals_of(&self.db, &request.youth_id).await?;
            query.filter.youth = Some(query::YouthScope { youth_id: request.youth_id.clone(), referral_ids });
        }
        let mut entries = store::list_entries(&self.db, &query.filter, query.page_size + 1, query.omit_payload)
            .await
            .map_err(ApiError::from)?;
        let next_page_token = if entries.len() > query.page_size as usize {
            entries.truncate(query.page_size as usize);
            entries.last().map(|last| query::page_token(last.sequence)).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListEntriesResponse {
            entries: entries.into_iter().map(entry_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn get_entry(&self, request: Request<pb::GetEntryRequest>) -> Result<Response<pb::GetEntryResponse>, Status> {
        use pb::get_entry_request::Key;
        wf_auth::principal(&request)?.authorize(Operation::ReadAudit)?;
        let found = match request.into_inner().key {
            Some(Key::Sequence(sequence)) if sequence >= 1 => store::entry_by_sequence(&self.db, sequence).await,
            Some(Key::EventId(event_id)) if !event_id.is_empty() => store::entry_by_event_id(&self.db, &event_id).await,
            _ => {
                return Err(ApiError::InvalidArgument(vec![FieldViolation::new(
                    "key",
                    "set sequence (from 1) or event_id",
                )])
                .into());
            }
        }
        .map_err(ApiError::from)?;
        let entry = found.ok_or_else(|| ApiError::NotFound("audit entry".to_owned()))?;
        Ok(Response::new(pb::GetEntryResponse { entry: Some(entry_to_proto(entry)) }))
    }

    async fn verify_chain(
        &self,
        request: Request<pb::VerifyChainRequest>,
    ) -> Result<Response<pb::VerifyChainResponse>, Status> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::VerifyAudit)?;
        let caller = principal.subject.clone();
        let request = request.into_inner();
        if request.to_sequence != 0 && request.to_sequence < request.from_sequence {
            return Err(ApiError::InvalidArgument(vec![FieldViolation::new(
                "to_sequence",
                "must be 0 (to the end) or not below from_sequence",
            )])
            .into());
        }
        let to = (request.to_sequence != 0).then_some(request.to_sequence);
        let options = verify::VerifyOptions {
            from: request.from_sequence,
            to,
            key: Some(self.key.clone()),
            external: Vec::new(),
        };
        let report = verify::verify_with(&self.db, &options).await.map_err(ApiError::Internal)?;
        match &report.problem {
            None => tracing::info!(
                caller = %caller,
                from = report.from_sequence,
                verified_through = report.verified_through,
                "audit chain verified"
            ),
            Some(problem) => tracing::error!(
                caller = %caller,
                sequence = problem.sequence,
                problem = problem.kind.code(),
                detail = %problem.detail,
                "audit chain verification failed"
            ),
        }
        Ok(Response::new(report_to_proto(&report)))
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
        Ok(Response::new(disclosure::disclosure_report(&self.db, &principal, request.into_inner()).await?))
    }

    async fn export_range(
        &self,
        request: Request<pb::ExportRangeRequest>,
    ) -> Result<Response<pb::ExportRangeResponse>, Status> {
        wf_auth::principal(&request)?.authorize(Operation::ReadAudit)?;
        Ok(Response::new(export::export_range(&self.db, request.into_inner()).await?))
    }
}
