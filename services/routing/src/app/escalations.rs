//! The program manager's hand in routing: re-running routing for a referral
//! (`RerouteReferral`) and resolving escalations — by offering the referral to a chosen
//! service (a manual decision whose one verdict records that eligibility was bypassed)
//! or by noting how it was handled. Each runs in one transaction with its events. A referral
//! staff closed is neither re-routed nor offered by hand (`FAILED_PRECONDITION`), checked under the
//! referral's lock ([`Router::lock_referral`]); its escalations can still be resolved otherwise.

use wf_db::{DbError, Tx};
use wf_proto::events::v1::{EscalationResolved, OfferMade, ReferralRouted};
use wf_proto::routing::v1::{DecisionOutcome, DeclineReason, EscalationReason, OfferStatus};
use wf_proto::time::timestamp;
use wf_server::ApiError;
use wf_types::{DecisionId, EscalationId, OfferId, PartnerServiceId};

use super::enqueue;
use super::policy::ActivePolicy;
use super::route::{Routed, Router, closed_referral_message};
use crate::domain::Candidate;
use crate::domain::directory::DirectoryEntries;
use crate::store::decisions::{self, DecisionRecord};
use crate::store::escalations::{self, EscalationRow};
use crate::store::offers::{self, OfferRecord, status_code};

/// `RoutingDecision.reason` of decisions a person asked for.
pub const REASON_MANUAL: &str = "manual";
/// Rule id of the one verdict of a manual offer.
pub const RULE_MANUAL: &str = "manual_choice";
/// Resolution codes of escalations.
pub const RESOLUTION_OFFERED_MANUALLY: &str = "offered_manually";
/// The referral was closed (by staff, in intake): nothing is left to match.
pub const RESOLUTION_REFERRAL_CLOSED: &str = "referral_closed";
pub const RESOLUTION_REROUTED: &str = "rerouted";
pub const RESOLUTIONS: &[&str] = &[
    RESOLUTION_OFFERED_MANUALLY,
    "handled_outside_network",
    RESOLUTION_REFERRAL_CLOSED,
    "referral_withdrawn",
    "duplicate",
    "youth_unreachable",
    RESOLUTION_REROUTED,
];

/// Why a re-route or resolution was refused.
#[derive(Debug, thiserror::Error)]
pub enum ManualError {
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The state does not allow it; the message names the state.
    #[error("{0}")]
    Precondition(String),
    /// A request field names something that does not exist.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for ManualError {
    fn from(err: sqlx::Error) -> Self {
        Self::Db(err.into())
    }
}

impl From<ManualError> for ApiError {
    fn from(err: ManualError) -> Self {
        match err {
            ManualError::NotFound(what) => ApiError::NotFound(what.into()),
            ManualError::Precondition(message) => ApiError::FailedPrecondition(message),
            ManualError::Invalid { field, message } => ApiError::invalid(field, message),
            ManualError::Db(err) => err.into(),
        }
    }
}

/// What a re-route was asked to do.
#[derive(Debug, Clone)]
pub struct RerouteRequest {
    pub referral_id: String,
    /// Coded reason, e.g. "needs_changed".
    pub reason: String,
    pub withdraw_pending_offer: bool,
    pub exclude_partner_ids: Vec<String>,
}

/// Withdraws the referral's open offer (when asked) and refuses when a partner accepted.
async fn clear_offers(
    tx: &mut Tx,
    router: &Router,
    referral_id: &str,
    withdraw: bool,
    reason: &str,
    at: i64,
    by: &str,
) -> Result<(), ManualError> {
    for (offer_id, partner_id, service_id, status) in offers::offer_states_of(tx, referral_id).await? {
        if status == status_code(OfferStatus::Accepted) {
            return Err(ManualError::Precondition(format!(
                "offer {offer_id} was accepted by {partner_id} ({service_id}); the referral is being served and is not re-routed"
            )));
        }
        if status != status_code(OfferStatus::Pending) {
            continue;
        }
        if !withdraw {
            return Err(ManualError::Precondition(format!(
                "offer {offer_id} to {service_id} is still pending; set withdraw_pending_offer to withdraw it first"
            )));
        }
        let offer = offers::get_offer(&mut **tx, &offer_id).await?.ok_or(ManualError::NotFound("offer"))?;
        if !router.withdraw(tx, &offer, reason, at, by).await? {
            return Err(ManualError::Precondition(format!("offer {offer_id} was answered meanwhile; try again")));
        }
        tracing::info!(offer.id = %offer_id, referral.id = %referral_id, actor = by, "offer withdrawn for a re-route");
    }
    Ok(())
}

/// Marks `escalation` resolved with `resolution` and announces `escalation.resolved`; `false` when
/// it was resolved already (nothing written). In the caller's transaction.
pub(super) async fn resolve(
    tx: &mut Tx,
    router: &Router,
    escalation: &EscalationRow,
    resolution: &str,
    at: i64,
    by: &str,
) -> Result<bool, DbError> {
    let record = &escalation.record;
    if !escalations::resolve_escalation(tx, &record.escalation_id, at, by, resolution).await? {
        return Ok(false);
    }
    let event = EscalationResolved {
        escalation_id: record.escalation_id.clone(),
        referral_id: record.referral_id.clone(),
        resolution: resolution.to_owned(),
        resolved_by: by.to_owned(),
        resolved_at: Some(wf_proto::time::timestamp_from_micros(at)),
        practice: record.practice,
    };
    enqueue(tx, router.db().backend(), &record.referral_id, &event).await?;
    tracing::debug!(escalation.id = %record.escalation_id, referral.id = %record.referral_id, resolution, actor = by, "escalation resolved");
    Ok(true)
}

/// Re-runs routing for a referral: a new decision (reason `manual`) over the directory and
/// policy in force, leaving out services already offered and the excluded organizations.
/// An offer resolves the referral's open escalations (`rerouted`); nobody eligible opens a
/// `manual` escalation.
pub async fn reroute(
    router: &Router,
    entries: &DirectoryEntries,
    request: &RerouteRequest,
    by: &str,
) -> Result<DecisionRecord, ManualError> {
    let mut excluded_services = Vec::new();
    for (index, partner) in request.exclude_partner_ids.iter().enumerate() {
        let organization = entries.organization(partner).ok_or_else(|| ManualError::Invalid {
            field: format!("exclude_partner_ids[{index}]"),
            message: format!("{partner} names no organization in the directory"),
        })?;
        excluded_services.extend(organization.services.keys().cloned());
    }
    let at = wf_db::to_micros(router.clock().now());
    let mut tx = router.db().begin().await?;
    if router.lock_referral(&mut tx, &request.referral_id).await?.is_some() {
        return Err(ManualError::Precondition(closed_referral_message(
            &request.referral_id,
            "a closed referral is not re-routed",
        )));
    }
    let latest =
        decisions::latest_decision_of(&mut tx, &request.referral_id).await?.ok_or(ManualError::NotFound("referral"))?;
    let mut facts = latest.facts.clone().ok_or_else(|| {
        ManualError::Precondition(format!(
            "decision {} was stored before routing kept the facts it decided on; the referral cannot be re-routed",
            latest.decision_id
        ))
    })?;
    clear_offers(&mut tx, router, &request.referral_id, request.withdraw_pending_offer, &request.reason, at, by)
        .await?;
    facts.already_offered = offers::offered_services(&mut tx, &request.referral_id).await?;
    facts.already_offered.extend(excluded_services);
    let source = format!("reroute:{}:{by}", request.reason);
    let routed =
        router.route(&mut tx, &facts, latest.attempt + 1, REASON_MANUAL, &source, EscalationReason::Manual).await?;
    let decision_id = match &routed {
        Routed::Offered { decision_id, .. } => {
            for escalation in escalations::open_escalations_of(&mut tx, &request.referral_id).await? {
                resolve(&mut tx, router, &escalation, RESOLUTION_REROUTED, at, by).await?;
            }
            decision_id.clone()
        }
        Routed::Escalated { decision_id, .. } => decision_id.clone(),
        // Refused above, under the same lock.
        Routed::ReferralClosed => {
            return Err(ManualError::Precondition(closed_referral_message(
                &request.referral_id,
                "a closed referral is not re-routed",
            )));
        }
    };
    tx.commit().await?;
    router.wake_relay();
    tracing::debug!(referral.id = %request.referral_id, decision.id = %decision_id, reason = %request.reason, actor = by, "referral re-routed by hand");
    decisions::get_decision(router.db(), &decision_id).await?.ok_or(ManualError::NotFound("decision"))
}

/// Resolves an escalation; with `partner_service_id`, first offers the referral to that
/// service (a manual decision, deadline from the policy in force).
pub async fn resolve_escalation(
    router: &Router,
    entries: &DirectoryEntries,
    policy: &ActivePolicy,
    escalation_id: &EscalationId,
    partner_service_id: Option<&PartnerServiceId>,
    resolution: &str,
    by: &str,
) -> Result<(EscalationRow, Option<OfferRecord>), ManualError> {
    let (escalation_id, partner_service_id) =
        (escalation_id.as_str(), partner_service_id.map(PartnerServiceId::as_str));
    let now = router.clock().now();
    let at = wf_db::to_micros(now);
    let mut tx = router.db().begin().await?;
    let escalation =
        escalations::get_escalation(&mut *tx, escalation_id).await?.ok_or(ManualError::NotFound("escalation"))?;
    if let (Some(resolved_at), Some(how)) = (escalation.resolved_at, &escalation.resolution) {
        return Err(ManualError::Precondition(format!(
            "escalation is already resolved ({how}, at {} microseconds)",
            resolved_at
        )));
    }
    let mut offer = None;
    if let Some(service_id) = partner_service_id {
        let (organization, _) = entries.service(service_id).ok_or_else(|| ManualError::Invalid {
            field: "partner_service_id".to_owned(),
            message: format!("{service_id} names no service in the directory"),
        })?;
        let partner_id = organization.record.organization_id.clone();
        let referral_id = &escalation.record.referral_id;
        if router.lock_referral(&mut tx, referral_id).await?.is_some() {
            return Err(ManualError::Precondition(closed_referral_message(
                referral_id,
                "resolve the escalation without a partner_service_id (e.g. resolution \"referral_closed\")",
            )));
        }
        clear_offers(&mut tx, router, &escalation.record.referral_id, false, "", at, by).await?;
        let latest = decisions::latest_decision_of(&mut tx, &escalation.record.referral_id)
            .await?
            .ok_or(ManualError::NotFound("referral"))?;
        let tier = escalation.record.triage_tier;
        let deadline = wf_db::to_micros(now + policy.current().policy.response_window(tier));
        let candidate: Candidate = serde_json::from_value(serde_json::json!({
            "partner_id": partner_id,
            "partner_service_id": service_id,
            "rank": 1,
            "score": 0.0,
            "eligible": true,
            "verdicts": [{
                "rule_id": RULE_MANUAL,
                "verdict": "pass",
                "score": 0.0,
                "detail": format!("chosen by {by}; eligibility rules bypassed"),
            }],
        }))
        .map_err(|err| DbError::Other(sqlx::Error::Decode(Box::new(err))))?;
        let record = DecisionRecord {
            decision_id: DecisionId::generate().to_string(),
            referral_id: escalation.record.referral_id.clone(),
            attempt: latest.attempt + 1,
            policy_version: policy.current().policy.version.clone(),
            decided_at: at,
            triage_tier: tier,
            site: escalation.record.site,
            outcome: DecisionOutcome::Offered,
            partner_id: Some(partner_id.clone()),
            partner_service_id: Some(service_id.to_owned()),
            deadline,
            reason: REASON_MANUAL.to_owned(),
            explanation: format!("offered by hand to resolve escalation {escalation_id}"),
            candidates: vec![candidate],
            practice: escalation.record.practice,
            source_event_id: escalation_id.to_owned(),
            facts: latest.facts.clone(),
            offer_id: None,
        };
        decisions::insert_decision(&mut tx, &record).await?;
        let made = OfferRecord {
            offer_id: OfferId::generate().to_string(),
            decision_id: record.decision_id.clone(),
            referral_id: record.referral_id.clone(),
            attempt: record.attempt,
            partner_id: partner_id.clone(),
            partner_service_id: service_id.to_owned(),
            status: OfferStatus::Pending,
            triage_tier: tier,
            site: record.site,
            offered_at: at,
            deadline,
            responded_at: None,
            responded_by: None,
            decline_reason: DeclineReason::Unspecified,
            decline_detail: String::new(),
            practice: record.practice,
            // Decisions stored before facts were kept give the partner none.
            facts: latest.facts.as_ref().map(crate::domain::ReferralFacts::offer_facts).unwrap_or_default(),
        };
        offers::insert_offer(&mut tx, &made).await?;
        let key = &record.referral_id;
        let backend = router.db().backend();
        let routed = ReferralRouted {
            referral_id: record.referral_id.clone(),
            decision_id: record.decision_id.clone(),
            partner_id: partner_id.clone(),
            partner_service_id: service_id.to_owned(),
            triage_tier: tier as i32,
            site: record.site as i32,
            policy_version: record.policy_version.clone(),
            deadline: Some(timestamp(wf_db::from_micros(deadline))),
            practice: record.practice,
            reason: REASON_MANUAL.to_owned(),
            attempt: record.attempt,
        };
        let offered = OfferMade {
            offer_id: made.offer_id.clone(),
            decision_id: record.decision_id.clone(),
            referral_id: record.referral_id.clone(),
            partner_id,
            partner_service_id: service_id.to_owned(),
            triage_tier: tier as i32,
            site: record.site as i32,
            offered_at: Some(timestamp(now)),
            deadline: Some(timestamp(wf_db::from_micros(deadline))),
            practice: record.practice,
        };
        enqueue(&mut tx, backend, key, &routed).await?;
        enqueue(&mut tx, backend, key, &offered).await?;
        tracing::debug!(referral.id = %record.referral_id, offer.id = %made.offer_id, partner_service.id = %service_id, actor = by, "offer made by hand");
        offer = Some(made);
    }
    if !resolve(&mut tx, router, &escalation, resolution, at, by).await? {
        return Err(ManualError::Precondition("escalation was resolved meanwhile".into()));
    }
    tx.commit().await?;
    router.wake_relay();
    let resolved = escalations::get_escalation(router.db().pool(), escalation_id)
        .await?
        .ok_or(ManualError::NotFound("escalation"))?;
    let offer = match offer {
        Some(made) => offers::get_offer(router.db().pool(), &made.offer_id).await?,
        None => None,
    };
    Ok((resolved, offer))
}
