//! Staff steps of the referral lifecycle: triage, hold and resume, closure, and the practice purge.
//! Each step locks the referral, checks the transition (`domain::lifecycle`), records the status
//! change in the history and writes its event in the same transaction. A closure while the referral
//! is still in intake's hands is its hand-off (`domain::submitter`).

use chrono::Utc;
use prost::Message;
use wf_auth::Principal;
use wf_db::Tx;
use wf_events::{Envelope, outbox};
use wf_proto::common::v1::TriageTier;
use wf_proto::events::v1 as events;
use wf_proto::intake::v1 as pb;
use wf_proto::intake::v1::{ReferralClosureReason, ReferralStatus};
use wf_server::{ApiError, FieldViolation};

use super::{App, in_scope};
use crate::domain::Origin;
use crate::domain::lifecycle::{self, Step};
use crate::domain::submitter::{HandOff, HandOffBy};
use crate::store::{self, lifecycle as referrals};

/// Practice referrals deleted per transaction.
const PURGE_BATCH: i64 = 200;

fn code_violation(field: &str, value: &str, required: bool, example: &str) -> Option<FieldViolation> {
    if value.is_empty() {
        return required.then(|| {
            FieldViolation::new(field, format!("is required; allowed: a lower_snake_case code, e.g. {example}"))
        });
    }
    (!crate::domain::is_code(value)).then(|| {
        FieldViolation::new(
            field,
            format!("must be a code of lowercase letters, digits and underscores (at most 64), e.g. {example}"),
        )
    })
}

fn current_status(stored: &referrals::LockedReferral) -> ReferralStatus {
    ReferralStatus::try_from(stored.status).unwrap_or(ReferralStatus::Unspecified)
}

impl App {
    /// Locks a referral the principal may see, or answers NOT_FOUND (the same for one outside its
    /// scope, which `rpc` records as a refusal).
    pub(crate) async fn lock_visible(
        &self,
        tx: &mut Tx,
        principal: &Principal,
        referral_id: &str,
        rpc: &str,
    ) -> Result<referrals::LockedReferral, ApiError> {
        let not_found = || super::not_found("referral", referral_id);
        let stored = referrals::lock_referral(tx, self.db.backend(), referral_id).await?.ok_or_else(not_found)?;
        if !in_scope(principal, stored.origin()) {
            self.out_of_scope(principal, rpc, &stored.id);
            return Err(not_found());
        }
        Ok(stored)
    }

    /// The end of every lifecycle step: the status history entry, the event in the outbox, the
    /// commit, and a nudge to the relay.
    pub(crate) async fn commit_step(
        &self,
        mut tx: Tx,
        referral_id: &str,
        envelope: &Envelope,
        status: i32,
        at: chrono::DateTime<Utc>,
        detail: &str,
    ) -> Result<(), ApiError> {
        let event_id = envelope.event_id.to_string();
        store::record_status_change(&mut tx, referral_id, &event_id, status, wf_db::to_micros(at), detail).await?;
        self.commit_event(tx, envelope).await
    }

    /// The event in the outbox, the commit, and a nudge to the relay.
    async fn commit_event(&self, mut tx: Tx, envelope: &Envelope) -> Result<(), ApiError> {
        outbox::enqueue(&mut tx, self.db.backend(), envelope).await?;
        tx.commit().await?;
        self.relay.wake();
        Ok(())
    }

    pub(crate) async fn triage(
        &self,
        principal: &Principal,
        request: pb::TriageReferralRequest,
    ) -> Result<pb::TriageReferralResponse, ApiError> {
        let mut violations = Vec::new();
        if request.referral_id.is_empty() {
            violations.push(FieldViolation::new("referral_id", "is required"));
        }
        let tier = TriageTier::try_from(request.triage_tier).unwrap_or(TriageTier::Unspecified);
        if tier == TriageTier::Unspecified {
            violations.push(FieldViolation::new(
                "triage_tier",
                "is required; allowed: TRIAGE_TIER_EMERGENT, TRIAGE_TIER_URGENT, TRIAGE_TIER_ROUTINE",
            ));
        }
        violations.extend(code_violation("triage_reason", &request.triage_reason, true, "imminent_danger"));
        ApiError::check(violations)?;
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        let stored = self.lock_visible(&mut tx, principal, &request.referral_id, "TriageReferral").await?;
        let next = lifecycle::next_status(current_status(&stored), Step::Triage, None)
            .map_err(|refusal| ApiError::FailedPrecondition(format!("referral {}: {refusal}", stored.id)))?;
        let mut referral = pb::Referral::decode(stored.coded.as_slice()).map_err(ApiError::internal)?;
        referral.triage_tier = tier as i32;
        referral.triage_reason = request.triage_reason.clone();
        referrals::set_triage(
            &mut tx,
            &stored.id,
            next as i32,
            tier as i32,
            referral.encode_to_vec(),
            wf_db::to_micros(now),
        )
        .await?;
        let deadline =
            lifecycle::tier_deadline(tier, wf_db::from_micros(stored.received_at)).map(wf_proto::time::timestamp);
        let event = events::ReferralTriaged {
            referral_id: stored.id.clone(),
            triage_tier: tier as i32,
            triage_reason: request.triage_reason.clone(),
            deadline,
            practice: stored.practice != 0,
            triaged_at: Some(wf_proto::time::timestamp(now)),
        };
        let envelope = Envelope::new(crate::SERVICE, stored.id.as_str(), stored.id.as_str(), &event);
        let detail = format!("{} {}", tier.as_str_name().to_lowercase(), request.triage_reason);
        self.commit_step(tx, &stored.id, &envelope, next as i32, now, &detail).await?;
        tracing::debug!(referral.id = %stored.id, tier = tier as i32, "referral triaged");
        Ok(pb::TriageReferralResponse { status: next as i32, deadline })
    }

    pub(crate) async fn set_hold(
        &self,
        principal: &Principal,
        request: pb::SetReferralHoldRequest,
    ) -> Result<pb::SetReferralHoldResponse, ApiError> {
        let mut violations = Vec::new();
        if request.referral_id.is_empty() {
            violations.push(FieldViolation::new("referral_id", "is required"));
        }
        // Putting on hold needs a reason; resuming may name one.
        violations.extend(code_violation("reason", &request.reason, request.on_hold, "youth_missing"));
        ApiError::check(violations)?;
        let reason = if request.reason.is_empty() { "resumed".to_owned() } else { request.reason.clone() };
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        let stored = self.lock_visible(&mut tx, principal, &request.referral_id, "SetReferralHold").await?;
        let current = current_status(&stored);
        let step = if request.on_hold { Step::Hold } else { Step::Resume };
        let resume_to = stored.status_before_hold.and_then(|s| ReferralStatus::try_from(s).ok());
        let next = lifecycle::next_status(current, step, resume_to)
            .map_err(|refusal| ApiError::FailedPrecondition(format!("referral {}: {refusal}", stored.id)))?;
        let before_hold = request.on_hold.then_some(stored.status);
        referrals::set_status(&mut tx, &stored.id, next as i32, before_hold).await?;
        let event = events::ReferralHoldChanged {
            referral_id: stored.id.clone(),
            on_hold: request.on_hold,
            reason: reason.clone(),
            at: Some(wf_proto::time::timestamp(now)),
            practice: stored.practice != 0,
        };
        let envelope = Envelope::new(crate::SERVICE, stored.id.as_str(), stored.id.as_str(), &event);
        self.commit_step(tx, &stored.id, &envelope, next as i32, now, &reason).await?;
        tracing::debug!(referral.id = %stored.id, on_hold = request.on_hold, reason = %reason, "referral hold changed");
        Ok(pb::SetReferralHoldResponse { status: next as i32 })
    }

    pub(crate) async fn close(
        &self,
        principal: &Principal,
        request: pb::CloseReferralRequest,
    ) -> Result<pb::CloseReferralResponse, ApiError> {
        let mut violations = Vec::new();
        if request.referral_id.is_empty() {
            violations.push(FieldViolation::new("referral_id", "is required"));
        }
        let reason = ReferralClosureReason::try_from(request.reason).unwrap_or(ReferralClosureReason::Unspecified);
        if !lifecycle::closable_with(reason) {
            violations.push(FieldViolation::new(
                "reason",
                "allowed: ENROLLED, DECLINED_SERVICES, UNREACHABLE, INELIGIBLE, DUPLICATE, MISSING \
                 (PRACTICE_PURGED is set by PurgePracticeReferrals only)",
            ));
        }
        let duplicate_of = request.duplicate_of_referral_id.trim();
        match (reason, duplicate_of.is_empty()) {
            (ReferralClosureReason::Duplicate, true) => violations.push(FieldViolation::new(
                "duplicate_of_referral_id",
                "is required when the reason is DUPLICATE: the referral this one duplicates",
            )),
            (ReferralClosureReason::Duplicate, false) if duplicate_of == request.referral_id => violations.push(
                FieldViolation::new("duplicate_of_referral_id", "names this referral; allowed: another referral"),
            ),
            (ReferralClosureReason::Duplicate, false) => {}
            (_, false) => violations.push(FieldViolation::new(
                "duplicate_of_referral_id",
                "is set but the reason is not DUPLICATE; allowed only with DUPLICATE",
            )),
            (_, true) => {}
        }
        ApiError::check(violations)?;
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        let stored = self.lock_visible(&mut tx, principal, &request.referral_id, "CloseReferral").await?;
        if reason == ReferralClosureReason::Duplicate {
            let original = referrals::referral_submitter(&mut tx, duplicate_of).await?;
            let visible = original.as_ref().is_some_and(|(subject, organization)| {
                in_scope(principal, Origin { subject, organization: organization.as_deref() })
            });
            if !visible {
                return Err(ApiError::invalid("duplicate_of_referral_id", "names no referral you can see"));
            }
        }
        lifecycle::next_status(current_status(&stored), Step::Close, None)
            .map_err(|refusal| ApiError::FailedPrecondition(format!("referral {}: {refusal}", stored.id)))?;
        let duplicate_of = (!duplicate_of.is_empty()).then_some(duplicate_of);
        let now_micros = wf_db::to_micros(now);
        referrals::close(&mut tx, &stored.id, reason as i32, now_micros, duplicate_of).await?;
        let event = events::ReferralClosed {
            referral_id: stored.id.clone(),
            reason: reason as i32,
            closed_at: Some(wf_proto::time::timestamp(now)),
            duplicate_of_referral_id: duplicate_of.unwrap_or_default().to_owned(),
            practice: stored.practice != 0,
        };
        let envelope = Envelope::new(crate::SERVICE, stored.id.as_str(), stored.id.as_str(), &event);
        let detail = reason.as_str_name().trim_start_matches("REFERRAL_CLOSURE_REASON_").to_lowercase();
        let closed = ReferralStatus::Closed as i32;
        let seq = store::record_status_change(
            &mut tx,
            &stored.id,
            &envelope.event_id.to_string(),
            closed,
            now_micros,
            &detail,
        )
        .await?;
        // Closed while still in intake's hands: the closure is the hand-off its submitter sees, with
        // its reason. After a hand-off it is staff's and the case's, not the submitter's.
        if stored.handed_off_by.is_none() {
            let by = HandOffBy::StaffClosed;
            let hand_off = HandOff { by, at: now_micros, seq, matched_at: stored.matched_at };
            store::progress::record_hand_off(&mut tx, &stored.id, &hand_off).await?;
        }
        self.commit_event(tx, &envelope).await?;
        tracing::debug!(referral.id = %stored.id, reason = %detail, "referral closed");
        Ok(pb::CloseReferralResponse { status: ReferralStatus::Closed as i32 })
    }

    /// Deletes practice referrals received before the cutoff with all their data, in batches; one
    /// `referral.purged` per referral, in the transaction that deletes it.
    pub(crate) async fn purge_practice(
        &self,
        principal: &Principal,
        request: pb::PurgePracticeReferralsRequest,
    ) -> Result<pb::PurgePracticeReferralsResponse, ApiError> {
        let cutoff = match request.received_before.as_ref().map(wf_proto::time::datetime) {
            None => {
                return Err(ApiError::invalid(
                    "received_before",
                    "is required: practice referrals received before this instant are purged",
                ));
            }
            Some(None) => {
                return Err(ApiError::invalid(
                    "received_before",
                    "is not a valid timestamp (seconds and nanos within range)",
                ));
            }
            Some(Some(at)) => wf_db::to_micros(at),
        };
        if request.dry_run {
            return Ok(pb::PurgePracticeReferralsResponse {
                purged: referrals::count_practice_before(&self.db, cutoff).await?,
            });
        }
        let mut purged = 0i64;
        loop {
            let mut tx = self.db.begin().await?;
            let ids = referrals::practice_before(&mut tx, self.db.backend(), cutoff, PURGE_BATCH).await?;
            if ids.is_empty() {
                tx.commit().await?;
                break;
            }
            let now = self.clock.now();
            for id in &ids {
                referrals::delete_referral(&mut tx, id).await?;
                let event =
                    events::ReferralPurged { referral_id: id.clone(), purged_at: Some(wf_proto::time::timestamp(now)) };
                outbox::enqueue(
                    &mut tx,
                    self.db.backend(),
                    &Envelope::new(crate::SERVICE, id.as_str(), id.as_str(), &event),
                )
                .await?;
            }
            tx.commit().await?;
            self.relay.wake();
            purged += ids.len() as i64;
        }
        tracing::info!(purged, actor = %principal.subject, "practice referrals purged");
        Ok(pb::PurgePracticeReferralsResponse { purged })
    }
}
