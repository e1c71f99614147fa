//! RunAnalysis and GetDataCompleteness.

use tonic::{Request, Response, Status};
use wf_auth::Operation;
use wf_proto::evaluation::v1 as pb;
use wf_proto::time::timestamp_from_micros as timestamp;
use wf_server::ApiError;
use wf_types::FieldViolation;

use super::{EvaluationApi, validate_scope};
use crate::app::analyses;
use crate::domain::analysis::completeness::Completeness;
use crate::domain::catalog;
use crate::domain::dataset::DIMENSIONS;

pub(super) async fn run(
    api: &EvaluationApi,
    request: Request<pb::RunAnalysisRequest>,
) -> Result<Response<pb::RunAnalysisResponse>, Status> {
    wf_auth::principal(&request)?.authorize(Operation::RunEvaluation)?;
    let request = request.into_inner();
    let now = api.clock.now_micros();
    let mut violations = Vec::new();
    let kind = analysis_kind(request.kind, &mut violations);
    let groupings = kind.map(catalog::analysis_groupings);
    let grouped = kind.zip(groupings.as_deref()).map(|(kind, groupings)| (kind.as_str_name(), groupings));
    let scope = validate_scope(request.scope.as_ref(), now, grouped).map_err(|v| violations.extend(v)).ok();
    // Each check that gives None has named its field.
    let (Some(kind), Some(scope)) = (kind, scope) else {
        return Err(ApiError::InvalidArgument(violations).into());
    };
    let computed = analyses::run(&api.db, kind, &scope)
        .await?
        .ok_or_else(|| wf_server::later_step(&format!("RunAnalysis {}", kind.as_str_name())))?;
    Ok(Response::new(pb::RunAnalysisResponse {
        kind: kind as i32,
        scope: request.scope,
        tables: computed.value.tables.iter().map(|t| t.to_proto()).collect(),
        computed_at: Some(timestamp(now)),
        dataset_version: computed.version,
        synthetic: computed.synthetic,
    }))
}

pub(super) async fn completeness(
    api: &EvaluationApi,
    request: Request<pb::GetDataCompletenessRequest>,
) -> Result<Response<pb::GetDataCompletenessResponse>, Status> {
    wf_auth::principal(&request)?.authorize(Operation::RunEvaluation)?;
    let grouped = Some(("GetDataCompleteness", DIMENSIONS));
    let scope = validate_scope(request.get_ref().scope.as_ref(), api.clock.now_micros(), grouped)
        .map_err(ApiError::InvalidArgument)?;
    let completeness = analyses::completeness(&api.db, &scope).await?;
    Ok(Response::new(completeness_to_proto(&completeness)))
}

/// The analysis kind asked for; None (and the field named) for none or an unknown one.
fn analysis_kind(raw: i32, violations: &mut Vec<FieldViolation>) -> Option<pb::AnalysisKind> {
    match pb::AnalysisKind::try_from(raw) {
        Ok(pb::AnalysisKind::Unspecified) | Err(_) => {
            violations.push(FieldViolation::new(
                "kind",
                format!(
                    "{raw} is not an analysis kind; allowed: ANALYSIS_KIND_RECIDIVISM_SURVIVAL, \
                     ANALYSIS_KIND_RECIDIVISM_COMPETING_RISKS, ANALYSIS_KIND_INTERVENTION_COMBINATIONS, \
                     ANALYSIS_KIND_FOLLOW_UP_RETENTION, ANALYSIS_KIND_ENROLLMENT_PROGRESS, \
                     ANALYSIS_KIND_ENGAGEMENT_BY_APPROACH, ANALYSIS_KIND_MISSING_EPISODES, \
                     ANALYSIS_KIND_LONG_TERM_DOMAINS, ANALYSIS_KIND_DEADLINE_COMPLIANCE, \
                     ANALYSIS_KIND_PARTNER_RESPONSIVENESS"
                ),
            ));
            None
        }
        Ok(kind) => Some(kind),
    }
}

fn completeness_to_proto(c: &Completeness) -> pb::GetDataCompletenessResponse {
    // −1 stands for a count of 1 to 10 (suppressed).
    let count = |value: Option<u64>| value.map_or(-1, |v| i64::try_from(v).unwrap_or(i64::MAX));
    pb::GetDataCompletenessResponse {
        fields: c
            .fields
            .iter()
            .map(|line| pb::FieldCompleteness {
                field: line.field.clone(),
                group: line.group.clone().into_iter().collect(),
                required: line.required as i64,
                answered: line.answered as i64,
                refused_or_unknown: line.refused_or_unknown as i64,
                missing: line.missing as i64,
                suppressed: line.suppressed,
            })
            .collect(),
        overdue_assessments: count(c.overdue_assessments),
        overdue_follow_ups: count(c.overdue_follow_ups),
        incomplete_cases: count(c.incomplete_cases),
        total_cases: count(c.total_cases),
    }
}
