//! Decision reads: one decision with its explanation, or a page of them by referral, policy
//! version and decision time.

use tonic::{Request, Response, Status};
use wf_auth::Operation;
use wf_proto::routing::v1 as pb;
use wf_server::ApiError;
use wf_server::pagination::{next_page, page_token};
use wf_types::{DecisionId, FieldViolation, ReferralId};

use super::{PAGE_LIMITS, RoutingApi, optional_id, parse_id, to_proto};
use crate::store::decisions::{self, DecisionFilter};

/// A range bound as microseconds; an out-of-range timestamp is added to `violations`.
fn micros(field: &str, ts: &Option<prost_types::Timestamp>, violations: &mut Vec<FieldViolation>) -> Option<i64> {
    ts.as_ref().and_then(|ts| match chrono::DateTime::from_timestamp(ts.seconds, ts.nanos.max(0) as u32) {
        Some(at) => Some(wf_db::to_micros(at)),
        None => {
            violations.push(FieldViolation::new(field, "timestamp is out of range"));
            None
        }
    })
}

impl RoutingApi {
    pub(super) async fn get_decision_rpc(
        &self,
        request: Request<pb::GetDecisionRequest>,
    ) -> Result<Response<pb::GetDecisionResponse>, Status> {
        wf_auth::principal(&request)?.authorize(Operation::ReadRoutingDecision)?;
        let id: DecisionId = parse_id("decision_id", &request.get_ref().decision_id)?;
        let record = decisions::get_decision(&self.db, id.as_str())
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::NotFound("decision".into()))?;
        Ok(Response::new(pb::GetDecisionResponse { decision: Some(to_proto::decision(&record)) }))
    }

    pub(super) async fn list_decisions_rpc(
        &self,
        request: Request<pb::ListDecisionsRequest>,
    ) -> Result<Response<pb::ListDecisionsResponse>, Status> {
        wf_auth::principal(&request)?.authorize(Operation::ReadRoutingDecision)?;
        let req = request.get_ref();
        let mut violations = Vec::new();
        let size = PAGE_LIMITS.size(req.page_size, &mut violations);
        let referral: Option<ReferralId> = optional_id("referral_id", &req.referral_id, &mut violations);
        let after: Option<DecisionId> = page_token(&req.page_token, &mut violations);
        let range = req.decided.unwrap_or_default();
        let filter = DecisionFilter {
            referral_id: referral.map(String::from).unwrap_or_default(),
            policy_version: req.policy_version.clone(),
            decided_from: micros("decided.start", &range.start, &mut violations),
            decided_until: micros("decided.end", &range.end, &mut violations),
        };
        ApiError::check(violations)?;
        let after = after.map(String::from).unwrap_or_default();
        let mut records =
            decisions::list_decisions(&self.db, &filter, &after, size as i64 + 1).await.map_err(ApiError::from)?;
        let next_page_token = next_page(&mut records, size, |r| r.decision_id.clone());
        Ok(Response::new(pb::ListDecisionsResponse {
            decisions: records.iter().map(to_proto::decision).collect(),
            next_page_token,
        }))
    }
}
