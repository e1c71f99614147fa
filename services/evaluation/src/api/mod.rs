//! `wayfinder.evaluation.v1.EvaluationService`: aggregate analyses and reports for the program
//! manager and evaluators (`RunEvaluation`); rebuilding the data set and seeding the synthetic cohort
//! are the program manager's (`ManageEvaluation`). No RPC returns a row, a study id or a youth id.
//!
//! Handlers only: authorize, check the request, call [`crate::app`], map the answer to protobuf.

mod analyses;
mod dataset;
mod reports;
mod scope;

use tonic::{Request, Response, Status};
use wf_db::Db;
use wf_proto::evaluation::v1 as pb;
use wf_proto::evaluation::v1::evaluation_service_server::EvaluationService;
use wf_types::SharedClock;

pub use scope::validate_scope;

#[derive(Debug, Clone)]
pub struct EvaluationApi {
    db: Db,
    clock: SharedClock,
}

impl EvaluationApi {
    pub fn new(db: Db, clock: SharedClock) -> Self {
        Self { db, clock }
    }
}

#[tonic::async_trait]
impl EvaluationService for EvaluationApi {
    async fn generate_report(
        &self,
        request: Request<pb::GenerateReportRequest>,
    ) -> Result<Response<pb::GenerateReportResponse>, Status> {
        reports::generate(self, request).await
    }

    async fn get_report(
        &self,
        request: Request<pb::GetReportRequest>,
    ) -> Result<Response<pb::GetReportResponse>, Status> {
        reports::get(self, request).await
    }

    async fn list_reports(
        &self,
        request: Request<pb::ListReportsRequest>,
    ) -> Result<Response<pb::ListReportsResponse>, Status> {
        reports::list(self, request).await
    }

    async fn get_data_completeness(
        &self,
        request: Request<pb::GetDataCompletenessRequest>,
    ) -> Result<Response<pb::GetDataCompletenessResponse>, Status> {
        analyses::completeness(self, request).await
    }

    async fn run_analysis(
        &self,
        request: Request<pb::RunAnalysisRequest>,
    ) -> Result<Response<pb::RunAnalysisResponse>, Status> {
        analyses::run(self, request).await
    }

    async fn rebuild_dataset(
        &self,
        request: Request<pb::RebuildDatasetRequest>,
    ) -> Result<Response<pb::RebuildDatasetResponse>, Status> {
        dataset::rebuild(self, request).await
    }

    async fn seed_synthetic_cohort(
        &self,
        request: Request<pb::SeedSyntheticCohortRequest>,
    ) -> Result<Response<pb::SeedSyntheticCohortResponse>, Status> {
        dataset::seed_synthetic(self, request).await
    }
}
