//! The escalation queue and manual routing RPCs. Staff who read routing decisions and
//! directory managers list the queue; only directory managers (program managers,
//! admins) resolve escalations and re-route referrals.

use tonic::{Request, Response, Status};
use wf_auth::Operation;
use wf_proto::common::v1::TriageTier;
use wf_proto::routing::v1 as pb;
use wf_server::ApiError;
use wf_server::pagination::{next_page, page_token};
use wf_types::{EscalationId, FieldViolation, PartnerId, PartnerServiceId, ReferralId};

use super::{PAGE_LIMITS, RoutingApi, authorize_staff_read, site_filter, to_proto};
use crate::app::escalations::{self, RESOLUTION_OFFERED_MANUALLY, RESOLUTIONS, RerouteRequest};
use crate::domain::directory::validate::is_snake_code;
use crate::store::escalations::{self as stored, EscalationFilter};

const MAX_CODE_CHARS: usize = 64;

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
    pub(super) async fn list_escalations_rpc(
        &self,
        request: Request<pb::ListEscalationsRequest>,
    ) -> Result<Response<pb::ListEscalationsResponse>, Status> {
        authorize_staff_read(wf_auth::principal(&request)?)?;
        let req = request.get_ref();
        let mut violations = Vec::new();
        let size = PAGE_LIMITS.size(req.page_size, &mut violations);
        let site = site_filter(req.site, "site", &mut violations);
        let tier = TriageTier::try_from(req.triage_tier).unwrap_or_else(|_| {
            violations
                .push(FieldViolation::new("triage_tier", format!("{} is not a TriageTier value", req.triage_tier)));
            TriageTier::Unspecified
        });
        let after: Option<EscalationId> = page_token(&req.page_token, &mut violations);
        ApiError::check(violations)?;
        let filter = EscalationFilter {
            open_only: req.open_only,
            site: (site != wf_proto::common::v1::Site::Unspecified).then_some(site),
            triage_tier: (tier != TriageTier::Unspecified).then_some(tier),
        };
        let after = after.map(String::from).unwrap_or_default();
        let mut rows =
            stored::list_escalations(&self.db, &filter, &after, size as i64 + 1).await.map_err(ApiError::from)?;
        let next_page_token = next_page(&mut rows, size, |r| r.record.escalation_id.clone());
        Ok(Response::new(pb::ListEscalationsResponse {
            escalations: rows.iter().map(to_proto::escalation).collect(),
            next_page_token,
        }))
    }

    pub(super) async fn resolve_escalation_rpc(
        &self,
        request: Request<pb::ResolveEscalationRequest>,
    ) -> Result<Response<pb::ResolveEscalationResponse>, Status> {
        let principal = wf_auth::principal(&request)?;
        principal.authorize(Operation::ManageDirectory)?;
        let req = request.get_ref();
        let mut violations = Vec::new();
        let escalation_id = req
            .escalation_id
            .parse::<EscalationId>()
            .map_err(|err| violations.push(FieldViolation::new("escalation_id", err.to_string())))
            .ok();
        let service = (!req.partner_service_id.is_empty()).then_some(req.partner_service_id.as_str());
        let service_id = service.and_then(|id| {
            id.parse::<PartnerServiceId>()
                .map_err(|err| violations.push(FieldViolation::new("partner_service_id", err.to_string())))
                .ok()
        });
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
        let (Some(escalation_id), true) = (escalation_id, violations.is_empty()) else {
            return Err(ApiError::InvalidArgument(violations).into());
        };
        let entries = self.writer.entries();
        let (row, made) = escalations::resolve_escalation(
            &self.router,
            &entries,
            &self.policy,
            &escalation_id,
            service_id.as_ref(),
            resolution,
            &principal.subject,
        )
        .await
        .map_err(ApiError::from)?;
        Ok(Response::new(pb::ResolveEscalationResponse {
            escalation: Some(to_proto::escalation(&row)),
            offer: made.as_ref().map(to_proto::offer),
        }))
    }

    pub(super) async fn reroute_referral_rpc(
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
        ApiError::check(violations)?;
        let reroute = RerouteRequest {
            referral_id: req.referral_id.clone(),
            reason: req.reason.trim().to_owned(),
            withdraw_pending_offer: req.withdraw_pending_offer,
            exclude_partner_ids: req.exclude_partner_ids.clone(),
        };
        let entries = self.writer.entries();
        let record =
            escalations::reroute(&self.router, &entries, &reroute, &principal.subject).await.map_err(ApiError::from)?;
        Ok(Response::new(pb::RerouteReferralResponse { decision: Some(to_proto::decision(&record)) }))
    }
}
