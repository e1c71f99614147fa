//! Decision reads: one decision with its explanation, or a page of them by referral, policy
//! version and decision time.

use tonic::{Request, Response, Status};
use wf_auth::Operation;
use wf_proto::routing::v1 as pb;
use wf_server::ApiError;
use wf_server::pagination::{next_page, page_token};
use wf_types::{DecisionId, ReferralId};

use super::{PAGE_LIMITS, RoutingApi, optional_id, parse_id, time_range, to_proto};
use crate::store::decisions::{self, DecisionFilter};

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
        let (decided_from, decided_until) = time_range("decided", req.decided.as_ref(), &mut violations);
        let filter = DecisionFilter {
            referral_id: referral.map(String::from).unwrap_or_default(),
            policy_version: req.policy_version.clone(),
            decided_from,
            decided_until,
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
