//! `UpdateReferral`: staff complete or correct a referral. The masked fields are applied to the stored
//! record, the result is validated with the submission's validator, the personal part is re-sealed
//! through the vault, and `referral.updated` names the changed paths (never values). Opening the sealed
//! personal part to merge into it is a read of personal data: it is recorded as `record.accessed`, also
//! when the merged record is then refused (the access event is committed alone).

use prost::Message;
use wf_auth::Principal;
use wf_crypto::KeyRing;
use wf_events::{Envelope, outbox};
use wf_proto::events::v1 as events;
use wf_proto::intake::v1 as pb;
use wf_server::{ApiError, FieldViolation};

use super::App;
use super::vault;
use crate::store::lifecycle::{self as referrals, Corrected};
use crate::{SERVICE, domain};

/// Purpose recorded on the access event of an update that opens the personal part.
pub(crate) const UPDATE_PURPOSE: &str = wf_types::Purpose::RecordCorrection.code();

impl App {
    pub(crate) async fn update(
        &self,
        principal: &Principal,
        request: pb::UpdateReferralRequest,
    ) -> Result<pb::UpdateReferralResponse, ApiError> {
        let now = self.clock.now();
        let mut violations = Vec::new();
        if request.referral_id.is_empty() {
            violations.push(FieldViolation::new("referral_id", "is required"));
        }
        if !request.reason.is_empty() && !domain::is_code(&request.reason) {
            violations.push(FieldViolation::new(
                "reason",
                "must be a code of lowercase letters, digits and underscores (at most 64), e.g. intake_interview",
            ));
        }
        let paths = request.update_mask.map(|mask| mask.paths).unwrap_or_default();
        let from = request.referral.unwrap_or_default();
        // Clearing is what an unset masked field means, but a referral always has a receipt time.
        if paths.iter().any(|p| p == "received_at") && from.received_at.is_none() {
            violations.push(FieldViolation::new(
                "referral.received_at",
                "is in update_mask but unset; allowed: the corrected instant, now or earlier",
            ));
        }
        // Check the mask before touching the store (the merge re-checks it on the real record).
        if let Err(mask_violations) = domain::apply_update_mask(&mut pb::Referral::default(), &from, &paths) {
            violations.extend(mask_violations);
        }
        ApiError::check(violations)?;
        let opens_personal = paths.iter().any(|p| p == "personal" || p.starts_with("personal."));

        let mut tx = self.db.begin().await?;
        let stored = self.lock_visible(&mut tx, principal, &request.referral_id, "UpdateReferral").await?;
        let mut referral = pb::Referral::decode(stored.coded.as_slice()).map_err(ApiError::internal)?;
        if opens_personal && let Some(sealed) = &stored.personal_sealed {
            referral.personal =
                Some(vault::open_personal(&self.keys.current(), &stored.id, sealed).map_err(ApiError::internal)?);
        }
        let opened_personal = opens_personal && stored.personal_sealed.is_some();
        let merged = domain::apply_update_mask(&mut referral, &from, &paths).and_then(|outcome| {
            // The same validator as a submission, over the whole merged record.
            let violations = domain::validate(Some(&referral), now);
            if violations.is_empty() { Ok(outcome) } else { Err(violations) }
        });
        let outcome = match merged {
            Ok(outcome) => outcome,
            Err(violations) => {
                // The personal part was read in memory: that read is recorded although nothing else is stored.
                if opened_personal {
                    self.record_update_access(&mut tx, principal, &stored.id).await?;
                    tx.commit().await?;
                    self.relay.wake();
                }
                return Err(ApiError::InvalidArgument(violations));
            }
        };
        let facts = domain::derive_facts(&referral, now.date_naive());
        let personal = referral.personal.take();
        let (sealed, key_version) = if outcome.personal_changed {
            match &personal {
                Some(personal) => {
                    let sealed =
                        vault::seal_personal(&self.keys.current(), &stored.id, personal).map_err(ApiError::internal)?;
                    let version = KeyRing::key_version_of(&sealed).ok().map(|v| v as i32);
                    (Some(sealed), version)
                }
                None => (None, None),
            }
        } else {
            let version =
                stored.personal_sealed.as_deref().and_then(|s| KeyRing::key_version_of(s).ok()).map(|v| v as i32);
            (stored.personal_sealed.clone(), version)
        };
        let received_at = referral.received_at.as_ref().and_then(wf_proto::time::datetime).map(wf_db::to_micros);
        if !outcome.changed.is_empty() {
            referrals::save_corrected(
                &mut tx,
                &stored.id,
                &Corrected {
                    source: referral.source,
                    site: referral.site,
                    is_minor: facts.is_minor,
                    outside_program: facts.outside_youth_program,
                    received_at: received_at.unwrap_or(stored.received_at),
                    coded: referral.encode_to_vec(),
                    personal_sealed: sealed,
                    personal_key_version: key_version,
                },
            )
            .await?;
            if outcome.identity_changed {
                referrals::rematch(&mut tx, &stored.id).await?;
            }
            let event = events::ReferralUpdated {
                referral_id: stored.id.clone(),
                changed_fields: outcome.changed.clone(),
                reason: request.reason.clone(),
                practice: stored.practice != 0,
            };
            outbox::enqueue(
                &mut tx,
                self.db.backend(),
                &Envelope::new(SERVICE, stored.id.as_str(), stored.id.as_str(), &event),
            )
            .await?;
        }
        if opened_personal {
            self.record_update_access(&mut tx, principal, &stored.id).await?;
        }
        tx.commit().await?;
        self.relay.wake();
        tracing::debug!(referral.id = %stored.id, changed = ?outcome.changed, "referral updated");
        // The coded record only: personal details are read with GetReferral and a purpose.
        Ok(pb::UpdateReferralResponse { referral: Some(referral) })
    }

    /// Queues `record.accessed` for opening the personal part to merge an update into it.
    pub(crate) async fn record_update_access(
        &self,
        tx: &mut wf_db::Tx,
        principal: &Principal,
        referral_id: &str,
    ) -> Result<(), ApiError> {
        let fields = vec!["personal".to_owned()];
        outbox::enqueue(
            tx,
            self.db.backend(),
            &self.access_envelope(principal, referral_id, UPDATE_PURPOSE, fields, ""),
        )
        .await?;
        Ok(())
    }
}
