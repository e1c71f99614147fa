//! The escalation queue and manual routing RPCs. Staff who read routing decisions and
//! directory managers list the queue; only directory managers (program managers,
//! admins) resolve escalations and re-route referrals.

use tonic::{Request, Response, Status};
use wf_auth::{Operation, Principal, is_allowed};
use wf_proto::common::v1::TriageTier;
use wf_proto::routing::v1 as pb;
use wf_server::{ApiError, FieldViolation};
use wf_types::{PartnerId, ReferralId};

use crate::api::{RoutingApi, check, page_size, site_filter};
use crate::api_offers::offer;
use crate::convert;
use crate::domain::directory::is_service_id;
use crate::domain::directory_validate::is_snake_code;
use crate::escalations::{self, ManualError, RESOLUTION_OFFERED_MANUALLY, RESOLUTIONS, RerouteRequest};
use crate::store::{self, EscalationFilter, EscalationRow};

const MAX_CODE_CHARS: usize = 64;

fn is_escalation_id(value: &str) -> bool {
    value
        .strip_prefix("esc_")
        .is_some_and(|rest| rest.len() == 32 && rest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

#[allow(clippy::result_large_err)]
fn authorize_queue_read(principal: &Principal) -> Result<(), Status> {
    if is_allowed(principal.role, Operation::ReadRoutingDecision)
        || is_allowed(principal.role, Operation::ManageDirectory)
    {
        Ok(())
    } else {
        Err(Status::permission_denied(format!("role {} may not read the escalation queue", principal.role)))
    }
}

fn manual_error(err: ManualError) -> Status {
    match err {
        ManualError::NotFound(what) => ApiError::NotFound(what.into()).into(),
        ManualError::Precondition(message) => ApiError::FailedPrecondition(message).into(),
        ManualError::Invalid { field, message } => {
            ApiError::InvalidArgument(vec![FieldViolation::new(field, message)]).into()
        }
        ManualError::Db(err) => ApiError::from(err).into(),
    }
}

fn escalation(row: &EscalationRow) -> pb::Escalation {
    let record = &row.record;
    pb::Escalation {
        escalation_id: record.escalation_id.clone(),
        referral_id: record.referral_id.clone(),
        reason: record.reason as i32,
        triage_tier: record.triage_tier as i32,
        site: record.site as i32,
        escalated_at: Some(wf_proto::time::timestamp_from_micros(record.escalated_at)),
        deadline: Some(wf_proto::time::timestamp_from_micros(record.deadline)),
        resolved_at: row.resolved_at.map(wf_proto::time::timestamp_from_micros),
        resolved_by: row.resolved_by.clone().unwrap_or_default(),
        resolution: row.resolution.clone().unwrap_or_default(),
        decision_id: record.decision_id.clone(),
        practice: record.practice,
    }
}

fn code_field(field: &str, value: &str, violations: &mut Vec<FieldViolation>) {
    if value.is_empty() {
        violations.push(FieldViolation::new(field, "is required: a lower snake_case code, e.g. needs_changed"));
    } else if !is_snake_code(value) || value.len() > MAX_CODE_CHARS {
        violations.push(FieldViolation::new(
            field,
            format!("{value:?} is not a lower snake_case code of at most {MAX_CODE_CHARS} characters"),
        ));
    }
}

impl RoutingApi {
    pub(crate) async fn list_escalations_rpc(
        &self,
        request: Request<pb::ListEscalationsRequest>,
    ) -> Result<Response<pb::ListEscalationsResponse>, Status> {
        authorize_queue_read(wf_auth::principal(&request)?)?;
        let req = request.get_ref();
        let mut violations = Vec::new();
        let size = page_size(req.page_size, &mut violations);
        let site = site_filter(req.site, "site", &mut violations);
        let tier = TriageTier::try_from(req.triage_tier).unwrap_or_else(|_| {
            violations
                .push(FieldViolation::new("triage_tier", format!("{} is not a TriageTier value", req.triage_tier)));
            TriageTier::Unspecified
        });
        if !req.page_token.is_empty() && !is_escalation_id(&req.page_token) {
            violations.push(FieldViolation::new("page_token", "must be the next_page_token of an earlier page"));
        }
        check(violations)?;
        let filter = EscalationFilter {
            open_only: req.open_only,
            site: (site != wf_proto::common::v1::Site::Unspecified).then_some(site),
            triage_tier: (tier != TriageTier::Unspecified).then_some(tier),
        };
        let mut rows = store::list_escalations(&self.db, &filter, &req.page_token, size as i64 + 1)
            .await
            .map_err(ApiError::from)?;
        let more = rows.len() > size;
        rows.truncate(size);
        let next_page_token =
            if more { rows.last().map(|r| r.record.escalation_id.clone()).unwrap_or_default() } else { String::new() };
        Ok(Response::new(pb::ListEscalationsResponse {
            escalations: rows.iter().map(escalation).collect(),
            next_page_token,
        }))
    }

    pub(crate) async fn resolve_escalation_rpc(
        &self,
        request: Request<pb::ResolveEscalationRequest>,
    ) -> Result<Response<pb::ResolveEscalationResponse>, Status> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::ManageDirectory)?;
        let req = request.get_ref();
        let mut violations = Vec::new();
        if !is_escalation_id(&req.escalation_id) {
            violations
                .push(FieldViolation::new("escalation_id", "expected `esc_` followed by 32 lowercase hex digits"));
        }
        let service = (!req.partner_service_id.is_empty()).then_some(req.partner_service_id.as_str());
        if service.is_some_and(|id| !is_service_id(id)) {
            violations
                .push(FieldViolation::new("partner_service_id", "expected `svc_` followed by 32 lowercase hex digits"));
        }
        let resolution = match (req.resolution.trim(), service) {
            ("", Some(_)) => RESOLUTION_OFFERED_MANUALLY,
            (code, _) => code,
        };
        if resolution.is_empty() {
            violations
                .push(FieldViolation::new("resolution", format!("is required; allowed: {}", RESOLUTIONS.join(", "))));
        } else if !RESOLUTIONS.contains(&resolution) {
            violations.push(FieldViolation::new(
                "resolution",
                format!("{resolution:?} is not allowed; allowed: {}", RESOLUTIONS.join(", ")),
            ));
        } else if (resolution == RESOLUTION_OFFERED_MANUALLY) != service.is_some() {
            violations.push(FieldViolation::new(
                "resolution",
                format!("{RESOLUTION_OFFERED_MANUALLY} goes with partner_service_id, and only it does"),
            ));
        }
        check(violations)?;
        let entries = self.writer.entries();
        let (row, made) = escalations::resolve_escalation(
            &self.router,
            &entries,
            &self.policy,
            &req.escalation_id,
            service,
            resolution,
            &principal.subject,
        )
        .await
        .map_err(manual_error)?;
        Ok(Response::new(pb::ResolveEscalationResponse {
            escalation: Some(escalation(&row)),
            offer: made.as_ref().map(offer),
        }))
    }

    pub(crate) async fn reroute_referral_rpc(
        &self,
        request: Request<pb::RerouteReferralRequest>,
    ) -> Result<Response<pb::RerouteReferralResponse>, Status> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::ManageDirectory)?;
        let req = request.get_ref();
        let mut violations = Vec::new();
        if let Err(err) = req.referral_id.parse::<ReferralId>() {
            violations.push(FieldViolation::new("referral_id", err.to_string()));
        }
        code_field("reason", req.reason.trim(), &mut violations);
        for (index, partner) in req.exclude_partner_ids.iter().enumerate() {
            if let Err(err) = partner.parse::<PartnerId>() {
                violations.push(FieldViolation::new(format!("exclude_partner_ids[{index}]"), err.to_string()));
            } else if req.exclude_partner_ids[..index].contains(partner) {
                violations.push(FieldViolation::new(format!("exclude_partner_ids[{index}]"), "is listed twice"));
            }
        }
        check(violations)?;
        let reroute = RerouteRequest {
            referral_id: req.referral_id.clone(),
            reason: req.reason.trim().to_owned(),
            withdraw_pending_offer: req.withdraw_pending_offer,
            exclude_partner_ids: req.exclude_partner_ids.clone(),
        };
        let entries = self.writer.entries();
        let record =
            escalations::reroute(&self.router, &entries, &reroute, &principal.subject).await.map_err(manual_error)?;
        Ok(Response::new(pb::RerouteReferralResponse { decision: Some(convert::decision(&record)) }))
    }
}
