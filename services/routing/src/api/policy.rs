//! The policy RPCs. `LoadPolicy` (program managers, admins) validates a document with the
//! policy loader — each problem names its line and rule, and nothing is loaded while any
//! remains — then records the load as an audited `routing_policy.loaded` event and puts
//! the policy in force for every later decision. Versions are unique: a version already
//! loaded with another document is refused. Reads are open to whoever reads the directory.

use tonic::{Request, Response, Status};
use wf_auth::Operation;
use wf_proto::routing::v1 as pb;
use wf_server::ApiError;
use wf_server::pagination::page_token;
use wf_types::{FieldViolation, PolicyId};

use super::{PAGE_LIMITS, RoutingApi, authorize_staff_read, to_proto};
use crate::app::policy::{self, LoadedPolicy};
use crate::domain::{Policy, PolicyIssue};
use crate::store::policies::{self, PolicyRecord};

fn issue(issue: &PolicyIssue) -> pb::ImportIssue {
    let path = match (issue.line, issue.rule.is_empty()) {
        (0, true) => String::new(),
        (0, false) => format!("rule {}", issue.rule),
        (line, true) => format!("line {line}"),
        (line, false) => format!("line {line}, rule {}", issue.rule),
    };
    pb::ImportIssue { path, message: issue.message.clone(), fatal: true }
}

/// 1-based line of the top-level `version` key (0 when absent).
fn version_line(document: &str) -> usize {
    document.lines().position(|line| line.trim_start().starts_with("version")).map_or(0, |index| index + 1)
}

impl RoutingApi {
    pub(super) async fn load_policy_rpc(
        &self,
        request: Request<pb::LoadPolicyRequest>,
    ) -> Result<Response<pb::LoadPolicyResponse>, Status> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::ManageDirectory)?;
        let req = request.get_ref();
        if req.document.trim().is_empty() {
            return Err(ApiError::invalid("document", "is required: the policy document (TOML)").into());
        }
        let policy = match Policy::from_toml(&req.document) {
            Ok(policy) => policy,
            Err(err) => {
                let issues = err.issues().iter().map(issue).collect();
                return Ok(Response::new(pb::LoadPolicyResponse { policy: None, issues }));
            }
        };
        let loaded = LoadedPolicy { policy, document: req.document.clone() };
        let sha256 = loaded.sha256_hex();
        if let Some((earlier, _)) =
            policies::by_version(&self.db, &loaded.policy.version).await.map_err(ApiError::from)?
            && earlier.sha256 != sha256
        {
            let issues = vec![pb::ImportIssue {
                path: format!("line {}, rule version", version_line(&req.document)),
                message: format!(
                    "version {:?} was already loaded with another document; give this document a new version",
                    loaded.policy.version
                ),
                fatal: true,
            }];
            return Ok(Response::new(pb::LoadPolicyResponse { policy: None, issues }));
        }
        if req.dry_run {
            let policy = pb::RoutingPolicy {
                version: loaded.policy.version.clone(),
                document: loaded.document.clone(),
                sha256: hex::decode(&sha256).unwrap_or_default(),
                ..Default::default()
            };
            return Ok(Response::new(pb::LoadPolicyResponse { policy: Some(policy), issues: Vec::new() }));
        }
        let document = loaded.document.clone();
        let active = policy::put_in_force(&self.router, &self.policy, loaded, &principal.subject)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("policy load recorded but not found")))?;
        Ok(Response::new(pb::LoadPolicyResponse {
            policy: Some(to_proto::policy(&active, Some(document), true)),
            issues: Vec::new(),
        }))
    }

    pub(super) async fn get_policy_rpc(
        &self,
        request: Request<pb::GetPolicyRequest>,
    ) -> Result<Response<pb::GetPolicyResponse>, Status> {
        authorize_staff_read(wf_auth::principal(&request)?)?;
        let version = request.get_ref().version.trim();
        let active = policies::latest(&self.db).await.map_err(ApiError::from)?;
        let found = if version.is_empty() {
            match &active {
                Some(record) => policies::document_of(&self.db, &record.policy_id)
                    .await
                    .map_err(ApiError::from)?
                    .map(|document| (record.clone(), document)),
                None => None,
            }
        } else {
            policies::by_version(&self.db, version).await.map_err(ApiError::from)?
        };
        let (record, document) = found.ok_or_else(|| ApiError::NotFound(format!("policy version {version:?}")))?;
        let is_active = active.is_some_and(|a| a.policy_id == record.policy_id);
        Ok(Response::new(pb::GetPolicyResponse { policy: Some(to_proto::policy(&record, Some(document), is_active)) }))
    }

    pub(super) async fn list_policies_rpc(
        &self,
        request: Request<pb::ListPoliciesRequest>,
    ) -> Result<Response<pb::ListPoliciesResponse>, Status> {
        authorize_staff_read(wf_auth::principal(&request)?)?;
        let req = request.get_ref();
        let mut violations = Vec::new();
        let size = PAGE_LIMITS.size(req.page_size, &mut violations);
        let records = policies::all(&self.db).await.map_err(ApiError::from)?;
        let start = match page_token::<PolicyId>(&req.page_token, &mut violations) {
            None => 0,
            Some(after) => match records.iter().position(|r| r.policy_id == after.as_str()) {
                Some(index) => index + 1,
                None => {
                    violations
                        .push(FieldViolation::new("page_token", "must be the next_page_token of an earlier page"));
                    0
                }
            },
        };
        ApiError::check(violations)?;
        let active_id = records.first().map(|r| r.policy_id.clone());
        let page: Vec<&PolicyRecord> = records.iter().skip(start).take(size).collect();
        let next_page_token = if start + page.len() < records.len() {
            page.last().map(|r| r.policy_id.clone()).unwrap_or_default()
        } else {
            String::new()
        };
        let policies = page
            .iter()
            .map(|r| to_proto::policy(r, None, active_id.as_deref() == Some(r.policy_id.as_str())))
            .collect();
        Ok(Response::new(pb::ListPoliciesResponse { policies, next_page_token }))
    }
}
