//! Envelopes of routing and cases as they announce a referral's steps, and reads of the referral as
//! staff and partners see it, for the tests that follow a referral through them.

use chrono::{DateTime, Utc};
use wf_auth::Role;
use wf_events::Envelope;
use wf_proto::events::v1 as events;
use wf_proto::intake::v1 as pb;

use crate::Harness;

pub const CASE: &str = "case_0193a1b2c3d4e5f60718293a4b5c6d7e";
pub const CASE_MANAGER: &str = "cm_0193a1b2c3d4e5f60718293a4b5c6d55";

/// `minutes` after a base an hour after this test binary started (whole seconds), so the steps of
/// routing and cases come after intake recorded the referral (its clock is the wall clock).
pub fn at(minutes: i64) -> DateTime<Utc> {
    static BASE: std::sync::OnceLock<DateTime<Utc>> = std::sync::OnceLock::new();
    let base = *BASE.get_or_init(|| {
        let now = Utc::now() + chrono::Duration::hours(1);
        DateTime::from_timestamp(now.timestamp(), 0).expect("whole seconds")
    });
    base + chrono::Duration::minutes(minutes)
}

pub fn ts(minutes: i64) -> Option<prost_types::Timestamp> {
    Some(wf_proto::time::timestamp(at(minutes)))
}

fn routing<P: wf_events::EventPayload>(referral_id: &str, payload: &P) -> Envelope {
    Envelope::new("routing", referral_id, referral_id, payload)
}

fn cases<P: wf_events::EventPayload>(referral_id: &str, payload: &P) -> Envelope {
    Envelope::new("cases", CASE, referral_id, payload)
}

pub fn routed(referral_id: &str, partner: &str) -> Envelope {
    routing(
        referral_id,
        &events::ReferralRouted { referral_id: referral_id.into(), partner_id: partner.into(), ..Default::default() },
    )
}

pub fn offer_made(referral_id: &str, offer: &str, partner: &str, deadline_minutes: i64) -> Envelope {
    routing(
        referral_id,
        &events::OfferMade {
            offer_id: offer.into(),
            referral_id: referral_id.into(),
            partner_id: partner.into(),
            partner_service_id: "svc_0193a1b2c3d4e5f60718293a4b5c6d99".into(),
            offered_at: ts(0),
            deadline: ts(deadline_minutes),
            ..Default::default()
        },
    )
}

pub fn offer_accepted(referral_id: &str, offer: &str, partner: &str, minutes: i64) -> Envelope {
    routing(
        referral_id,
        &events::OfferAccepted {
            offer_id: offer.into(),
            referral_id: referral_id.into(),
            partner_id: partner.into(),
            partner_service_id: "svc_0193a1b2c3d4e5f60718293a4b5c6d99".into(),
            accepted_at: ts(minutes),
            accepted_by: "client-of-partner".into(),
            ..Default::default()
        },
    )
}

pub fn offer_declined(referral_id: &str, offer: &str, partner: &str) -> Envelope {
    routing(
        referral_id,
        &events::OfferDeclined {
            offer_id: offer.into(),
            referral_id: referral_id.into(),
            partner_id: partner.into(),
            reason: wf_proto::routing::v1::DeclineReason::NoCapacity as i32,
            declined_at: ts(5),
            ..Default::default()
        },
    )
}

pub fn offer_expired(referral_id: &str, offer: &str, partner: &str) -> Envelope {
    routing(
        referral_id,
        &events::OfferExpired {
            offer_id: offer.into(),
            referral_id: referral_id.into(),
            partner_id: partner.into(),
            ..Default::default()
        },
    )
}

pub fn escalated(referral_id: &str, escalation: &str) -> Envelope {
    routing(
        referral_id,
        &events::ReferralEscalated {
            escalation_id: escalation.into(),
            referral_id: referral_id.into(),
            reason: wf_proto::routing::v1::EscalationReason::OfferExpired as i32,
            escalated_at: ts(30),
            ..Default::default()
        },
    )
}

pub fn resolved(referral_id: &str, escalation: &str) -> Envelope {
    routing(
        referral_id,
        &events::EscalationResolved {
            escalation_id: escalation.into(),
            referral_id: referral_id.into(),
            resolution: "offered_manually".into(),
            resolved_at: ts(40),
            ..Default::default()
        },
    )
}

pub fn case_assigned(referral_id: &str) -> Envelope {
    cases(
        referral_id,
        &events::CaseAssigned {
            case_id: CASE.into(),
            referral_id: referral_id.into(),
            case_manager_id: CASE_MANAGER.into(),
            assigned_at: ts(1),
            ..Default::default()
        },
    )
}

pub fn first_contact(referral_id: &str, minutes: i64) -> Envelope {
    cases(
        referral_id,
        &events::ContactAttemptRecorded {
            contact_attempt_id: "ca_0193a1b2c3d4e5f60718293a4b5c6d01".into(),
            case_id: CASE.into(),
            referral_id: referral_id.into(),
            attempted_at: ts(minutes),
            outcome: wf_proto::common::v1::ContactOutcome::Reached as i32,
            first_contact: true,
            ..Default::default()
        },
    )
}

pub fn stage_changed(referral_id: &str, to: wf_proto::cases::v1::CaseStage, minutes: i64) -> Envelope {
    cases(
        referral_id,
        &events::CaseStageChanged {
            case_id: CASE.into(),
            referral_id: referral_id.into(),
            to_stage: to as i32,
            effective_at: ts(minutes),
            ..Default::default()
        },
    )
}

pub fn case_closed(
    referral_id: &str,
    linked: &[&str],
    reason: wf_proto::cases::v1::CaseClosureReason,
    minutes: i64,
) -> Envelope {
    cases(
        referral_id,
        &events::CaseClosed {
            case_id: CASE.into(),
            referral_id: referral_id.into(),
            reason: reason as i32,
            closed_at: ts(minutes),
            linked_referral_ids: linked.iter().map(|id| (*id).to_owned()).collect(),
            ..Default::default()
        },
    )
}

pub fn case_reopened(referral_id: &str, minutes: i64) -> Envelope {
    cases(
        referral_id,
        &events::CaseReopened {
            case_id: CASE.into(),
            referral_id: referral_id.into(),
            case_manager_id: CASE_MANAGER.into(),
            reopened_at: ts(minutes),
            ..Default::default()
        },
    )
}

/// Publishes each envelope in turn (each handled before the next is sent).
pub async fn publish(harness: &Harness, envelopes: &[&Envelope]) {
    for envelope in envelopes {
        harness.server.publish(envelope).await;
    }
}

/// The referral as a supervisor reads it.
pub async fn read(harness: &Harness, referral_id: &str) -> pb::GetReferralResponse {
    harness
        .client(Role::Supervisor)
        .await
        .get_referral(pb::GetReferralRequest { referral_id: referral_id.to_owned(), purpose: String::new() })
        .await
        .expect("read")
        .into_inner()
}

pub fn status(status: i32) -> pb::ReferralStatus {
    pb::ReferralStatus::try_from(status).unwrap_or(pb::ReferralStatus::Unspecified)
}

/// The statuses of a referral's history, oldest first.
pub fn history(read: &pb::GetReferralResponse) -> Vec<pb::ReferralStatus> {
    read.history.iter().map(|change| status(change.status)).collect()
}
