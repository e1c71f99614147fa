//! RebuildDataset and SeedSyntheticCohort (the program manager's).

use tonic::{Request, Response, Status};
use wf_auth::Operation;
use wf_proto::evaluation::v1 as pb;
use wf_server::ApiError;

use super::EvaluationApi;
use crate::app::dataset;
use crate::domain::synthetic;

pub(super) async fn rebuild(
    api: &EvaluationApi,
    request: Request<pb::RebuildDatasetRequest>,
) -> Result<Response<pb::RebuildDatasetResponse>, Status> {
    wf_auth::principal(&request)?.authorize(Operation::ManageEvaluation)?;
    let (dataset_version, youth_count) = dataset::rebuild(&api.db, api.clock.now_micros()).await?;
    Ok(Response::new(pb::RebuildDatasetResponse { dataset_version, youth_count }))
}

pub(super) async fn seed_synthetic(
    api: &EvaluationApi,
    request: Request<pb::SeedSyntheticCohortRequest>,
) -> Result<Response<pb::SeedSyntheticCohortResponse>, Status> {
    wf_auth::principal(&request)?.authorize(Operation::ManageEvaluation)?;
    let request = request.into_inner();
    if !(synthetic::MIN_SIZE..=synthetic::MAX_SIZE).contains(&request.size) {
        return Err(ApiError::invalid(
            "size",
            format!("{} is out of range; allowed: {} to {}", request.size, synthetic::MIN_SIZE, synthetic::MAX_SIZE),
        )
        .into());
    }
    // In range, so positive.
    let size = request.size as usize;
    let (dataset_version, youth_count) =
        dataset::seed_synthetic(&api.db, size, request.seed, api.clock.now_micros()).await?;
    Ok(Response::new(pb::SeedSyntheticCohortResponse { dataset_version, youth_count }))
}
