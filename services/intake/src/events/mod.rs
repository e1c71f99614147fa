//! Intake follows each referral through routing and cases: every event that moves a referral (the
//! bindings of "intake" in `wf_events::topology`) is parsed here into what it says
//! (`app::progress::Signal`) and handed to `app::progress`.

use wf_db::Db;
use wf_events::{Envelope, EnvelopeError, EventHandler, EventPayload, HandleError};
use wf_proto::cases::v1::CaseStage;
use wf_proto::events::v1 as events;
use wf_proto::routing::v1::{DeclineReason, EscalationReason};

use crate::app::progress::{Event, Extras, ReopenedEpisode, Signal, follow, is_enrolled_stage};

pub struct StatusUpdater {
    db: Db,
}

impl StatusUpdater {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

/// An event about referrals, parsed: which referrals, what it says, and what else intake keeps.
struct Parsed {
    referral_ids: Vec<String>,
    event: Event,
    extras: Extras,
}

fn payload<P: EventPayload>(envelope: &Envelope) -> Result<P, HandleError> {
    envelope.payload_as().map_err(|err: EnvelopeError| HandleError::Permanent(err.to_string()))
}

/// The payload's instant (micros), else when the event occurred.
fn instant(envelope: &Envelope, at: Option<&prost_types::Timestamp>) -> i64 {
    at.and_then(wf_proto::time::datetime).map_or_else(|| wf_db::to_micros(envelope.occurred_at), wf_db::to_micros)
}

fn micros(at: Option<&prost_types::Timestamp>) -> Option<i64> {
    at.and_then(wf_proto::time::datetime).map(wf_db::to_micros)
}

/// "no_capacity" for `DECLINE_REASON_NO_CAPACITY` (codes only reach the history).
fn enum_code(name: &str, prefix: &str) -> String {
    name.trim_start_matches(prefix).to_lowercase()
}

/// What `envelope` says about referrals, or `None` for an event that moves none (a contact attempt
/// that did not reach the youth for the first time, a stage change before enrollment).
fn parse(envelope: &Envelope) -> Result<Option<Parsed>, HandleError> {
    let one = |referral_id: String, at: i64, signal: Signal, extras: Extras| {
        Some(Parsed {
            referral_ids: vec![referral_id],
            event: Event { event_id: envelope.event_id.to_string(), at, signal },
            extras,
        })
    };
    let case = |case_id: &str, gives_case: bool| Extras {
        case_id: Some(case_id.to_owned()).filter(|id| !id.is_empty()),
        gives_case,
        accepted: None,
    };
    let with_case = |case_id: &str| case(case_id, false);
    let gives_case = |case_id: &str| case(case_id, true);
    let occurred = wf_db::to_micros(envelope.occurred_at);
    Ok(match envelope.event_type.as_str() {
        events::ReferralRouted::TYPE => {
            let routed: events::ReferralRouted = payload(envelope)?;
            one(routed.referral_id, occurred, Signal::Routed { partner_id: routed.partner_id }, Extras::default())
        }
        events::OfferMade::TYPE => {
            let made: events::OfferMade = payload(envelope)?;
            let signal = Signal::OfferMade {
                offer_id: made.offer_id,
                partner_id: made.partner_id,
                deadline: micros(made.deadline.as_ref()),
            };
            one(made.referral_id, instant(envelope, made.offered_at.as_ref()), signal, Extras::default())
        }
        events::OfferAccepted::TYPE => {
            let accepted: events::OfferAccepted = payload(envelope)?;
            let extras = Extras {
                case_id: None,
                gives_case: false,
                accepted: Some((
                    accepted.offer_id.clone(),
                    accepted.partner_id.clone(),
                    accepted.partner_service_id,
                    accepted.accepted_by,
                )),
            };
            let signal = Signal::OfferAccepted { offer_id: accepted.offer_id, partner_id: accepted.partner_id };
            one(accepted.referral_id, instant(envelope, accepted.accepted_at.as_ref()), signal, extras)
        }
        events::OfferDeclined::TYPE => {
            let declined: events::OfferDeclined = payload(envelope)?;
            let reason = DeclineReason::try_from(declined.reason).unwrap_or(DeclineReason::Unspecified);
            let signal = Signal::OfferDeclined {
                offer_id: declined.offer_id,
                partner_id: declined.partner_id,
                reason: enum_code(reason.as_str_name(), "DECLINE_REASON_"),
            };
            one(declined.referral_id, instant(envelope, declined.declined_at.as_ref()), signal, Extras::default())
        }
        events::OfferExpired::TYPE => {
            let expired: events::OfferExpired = payload(envelope)?;
            let signal = Signal::OfferExpired { offer_id: expired.offer_id, partner_id: expired.partner_id };
            one(expired.referral_id, occurred, signal, Extras::default())
        }
        events::OfferWithdrawn::TYPE => {
            let withdrawn: events::OfferWithdrawn = payload(envelope)?;
            let signal = Signal::OfferWithdrawn {
                offer_id: withdrawn.offer_id,
                partner_id: withdrawn.partner_id,
                reason: coded(&withdrawn.reason),
            };
            one(withdrawn.referral_id, occurred, signal, Extras::default())
        }
        events::ReferralEscalated::TYPE => {
            let escalated: events::ReferralEscalated = payload(envelope)?;
            let reason = EscalationReason::try_from(escalated.reason).unwrap_or(EscalationReason::Unspecified);
            let signal = Signal::Escalated {
                escalation_id: escalated.escalation_id,
                reason: enum_code(reason.as_str_name(), "ESCALATION_REASON_"),
            };
            one(escalated.referral_id, instant(envelope, escalated.escalated_at.as_ref()), signal, Extras::default())
        }
        events::EscalationResolved::TYPE => {
            let resolved: events::EscalationResolved = payload(envelope)?;
            let signal = Signal::EscalationResolved {
                escalation_id: resolved.escalation_id,
                resolution: coded(&resolved.resolution),
            };
            one(resolved.referral_id, instant(envelope, resolved.resolved_at.as_ref()), signal, Extras::default())
        }
        events::CaseAssigned::TYPE => {
            let assigned: events::CaseAssigned = payload(envelope)?;
            let extras = gives_case(&assigned.case_id);
            let signal = Signal::CaseAssigned { case_id: assigned.case_id, case_manager_id: assigned.case_manager_id };
            one(assigned.referral_id, instant(envelope, assigned.assigned_at.as_ref()), signal, extras)
        }
        events::CaseReopened::TYPE => {
            let reopened: events::CaseReopened = payload(envelope)?;
            let at = instant(envelope, reopened.reopened_at.as_ref());
            let (referral_ids, episode) = reopened_episode(&reopened);
            let extras = gives_case(&reopened.case_id);
            let signal =
                Signal::CaseReopened { case_id: reopened.case_id, case_manager_id: reopened.case_manager_id, episode };
            Some(Parsed { referral_ids, event: Event { event_id: envelope.event_id.to_string(), at, signal }, extras })
        }
        events::CaseAwaitingAssignment::TYPE => {
            let queued: events::CaseAwaitingAssignment = payload(envelope)?;
            let at = instant(envelope, queued.queued_at.as_ref());
            let mut referral_ids = vec![queued.referral_id];
            referral_ids.extend(queued.linked_referral_ids);
            // It gives the referral its case: a new case, or the waiting case its own merged into.
            let extras = gives_case(&queued.case_id);
            let signal = Signal::CaseAwaitingAssignment { case_id: queued.case_id };
            Some(Parsed { referral_ids, event: Event { event_id: envelope.event_id.to_string(), at, signal }, extras })
        }
        events::ContactAttemptRecorded::TYPE => {
            let attempt: events::ContactAttemptRecorded = payload(envelope)?;
            if !attempt.first_contact {
                return Ok(None);
            }
            let extras = with_case(&attempt.case_id);
            let signal = Signal::FirstContact { case_id: attempt.case_id };
            one(attempt.referral_id, instant(envelope, attempt.attempted_at.as_ref()), signal, extras)
        }
        events::CaseStageChanged::TYPE => {
            let changed: events::CaseStageChanged = payload(envelope)?;
            let stage = CaseStage::try_from(changed.to_stage).unwrap_or(CaseStage::Unspecified);
            if !is_enrolled_stage(stage) {
                return Ok(None);
            }
            let extras = with_case(&changed.case_id);
            let signal = Signal::Enrolled { case_id: changed.case_id, stage };
            one(changed.referral_id, instant(envelope, changed.effective_at.as_ref()), signal, extras)
        }
        events::CaseClosed::TYPE => {
            let closed: events::CaseClosed = payload(envelope)?;
            let at = instant(envelope, closed.closed_at.as_ref());
            let mut referral_ids = vec![closed.referral_id];
            referral_ids.extend(closed.linked_referral_ids);
            let extras = with_case(&closed.case_id);
            Some(Parsed {
                referral_ids,
                event: Event {
                    event_id: envelope.event_id.to_string(),
                    at,
                    signal: Signal::CaseClosed { case_id: closed.case_id, reason: closed.reason },
                },
                extras,
            })
        }
        other => {
            tracing::debug!(event.r#type = other, "intake ignores this event type");
            None
        }
    })
}

/// The referrals a reopening moves (every referral of the episode current after it, `referral_id`
/// first), and which episode that is. An older producer's event names no episode: it moves
/// `referral_id` alone and does not say whether the episode is new ([`ReopenedEpisode::Unsaid`]).
fn reopened_episode(reopened: &events::CaseReopened) -> (Vec<String>, ReopenedEpisode) {
    if reopened.episode_referral_ids.is_empty() {
        return (vec![reopened.referral_id.clone()], ReopenedEpisode::Unsaid);
    }
    let mut referral_ids = vec![reopened.referral_id.clone()];
    referral_ids.extend(reopened.episode_referral_ids.iter().filter(|id| **id != reopened.referral_id).cloned());
    let episode = if reopened.new_episode { ReopenedEpisode::New } else { ReopenedEpisode::CarriedOn };
    (referral_ids, episode)
}

/// A coded field of another service, kept only when it is a code (history details are codes).
fn coded(value: &str) -> String {
    if crate::domain::is_code(value) { value.to_owned() } else { "other".to_owned() }
}

#[async_trait::async_trait]
impl EventHandler for StatusUpdater {
    async fn handle(&self, envelope: Envelope) -> Result<(), HandleError> {
        let Some(parsed) = parse(&envelope)? else { return Ok(()) };
        let referral_ids: Vec<String> = parsed.referral_ids.into_iter().filter(|id| !id.is_empty()).collect();
        follow(&self.db, &envelope, &referral_ids, &parsed.event, &parsed.extras).await?;
        Ok(())
    }
}
