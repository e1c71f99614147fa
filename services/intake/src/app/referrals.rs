//! The referral itself: submitting it through the gRPC door, reading it (personal details only with a
//! purpose, each such read an audited event), and listing summaries.

use prost::Message;
use wf_auth::{Operation, Principal, Role};
use wf_events::{Envelope, outbox};
use wf_proto::events::v1 as events;
use wf_proto::intake::v1 as pb;
use wf_proto::time::timestamp_from_micros as timestamp;
use wf_server::ApiError;
use wf_server::pagination::{next_page, page_token};
use wf_types::ReferralId;

use super::vault::personal_aad;
use super::{App, PAGE_LIMITS, visible_to};
use crate::{SERVICE, store};

impl App {
    pub(crate) async fn submit(
        &self,
        principal: &Principal,
        request: pb::SubmitReferralRequest,
    ) -> Result<pb::SubmitReferralResponse, ApiError> {
        let submitter = super::submit::Submitter {
            subject: &principal.subject,
            partner_id: principal.partner_id.as_deref(),
            channel: pb::IntakeChannel::Grpc,
        };
        super::submit::submit(self, &submitter, request).await
    }

    pub(crate) async fn get(
        &self,
        principal: &Principal,
        request: pb::GetReferralRequest,
    ) -> Result<pb::GetReferralResponse, ApiError> {
        let not_found = || ApiError::NotFound(format!("referral {}", request.referral_id));
        let stored = store::get_referral(&self.db, &request.referral_id).await?.ok_or_else(not_found)?;
        if !visible_to(principal, &stored) {
            return Err(not_found());
        }
        let mut referral = pb::Referral::decode(stored.coded.as_slice()).map_err(ApiError::internal)?;
        let purpose = request.purpose.trim();
        // Partners read personal details only under a release (step 2); staff need a purpose.
        let reads_personal = !purpose.is_empty()
            && principal.role != Role::Partner
            && wf_auth::is_allowed(principal.role, Operation::ReadPersonalDetails);
        if reads_personal && let Some(sealed) = &stored.personal_sealed {
            let plain = self.keys.current().decrypt(sealed, &personal_aad(&stored.id)).map_err(ApiError::internal)?;
            referral.personal = Some(pb::PersonalDetails::decode(plain.as_slice()).map_err(ApiError::internal)?);
            let fields = vec!["personal".to_owned()];
            self.commit_access(self.access_envelope(principal, &stored.id, purpose, fields, "")).await?;
        }
        let history = store::history(&self.db, &stored.id)
            .await?
            .into_iter()
            .map(|(status, at, event_id, detail)| pb::StatusChange {
                status,
                at: Some(timestamp(at)),
                event_id,
                detail,
            })
            .collect();
        Ok(pb::GetReferralResponse {
            referral_id: stored.id,
            referral: Some(referral),
            status: stored.status,
            history,
            youth_id: stored.youth_id,
            is_minor: stored.is_minor,
            case_id: stored.case_id.unwrap_or_default(),
            closure_reason: stored.closure_reason.unwrap_or_default(),
            ..Default::default()
        })
    }

    /// Commits an access event ([`App::access_envelope`]) alone, before the data it records is returned.
    pub(crate) async fn commit_access(&self, access: Envelope) -> Result<(), ApiError> {
        let mut tx = self.db.begin().await?;
        outbox::enqueue(&mut tx, self.db.backend(), &access).await?;
        tx.commit().await?;
        self.relay.wake();
        Ok(())
    }

    /// The `record.accessed` event of a read of `fields` of a referral by `principal`. Every read of
    /// personal data is an audited event: the field paths returned and, for a partner, the release(s)
    /// that allowed it (comma-separated when several).
    pub(crate) fn access_envelope(
        &self,
        principal: &Principal,
        referral_id: &str,
        purpose: &str,
        fields: Vec<String>,
        release_id: &str,
    ) -> Envelope {
        let access = events::RecordAccessed {
            actor: principal.subject.clone(),
            actor_role: principal.role.to_string(),
            record_id: referral_id.to_owned(),
            purpose: purpose.to_owned(),
            fields,
            release_id: release_id.to_owned(),
            at: Some(wf_proto::time::timestamp(self.clock.now())),
            actor_organization_id: principal.partner_id.clone().unwrap_or_default(),
            trace_id: wf_telemetry::TraceContext::current().trace_id().unwrap_or_default(),
            ..Default::default()
        };
        Envelope::new(SERVICE, referral_id, referral_id, &access)
    }

    pub(crate) async fn list(
        &self,
        principal: &Principal,
        request: pb::ListReferralsRequest,
    ) -> Result<pb::ListReferralsResponse, ApiError> {
        let mut violations = Vec::new();
        let page_size = PAGE_LIMITS.size_within(request.page_size, &mut violations);
        page_token::<ReferralId>(&request.page_token, &mut violations);
        ApiError::check(violations)?;
        let partner = match principal.role {
            Role::Partner => principal.partner_id.as_deref(),
            _ => None,
        };
        let mut rows = store::list_referrals(
            &self.db,
            partner,
            request.include_practice,
            &request.page_token,
            page_size as i64 + 1,
        )
        .await?;
        let next_page_token = next_page(&mut rows, page_size, |row| row.0.clone());
        let referrals = rows
            .into_iter()
            .map(|(referral_id, youth_id, source, triage_tier, site, status, practice, received_at)| {
                pb::ReferralSummary {
                    referral_id,
                    youth_id,
                    source,
                    triage_tier,
                    site,
                    status,
                    practice: practice != 0,
                    received_at: Some(timestamp(received_at)),
                    ..Default::default()
                }
            })
            .collect();
        Ok(pb::ListReferralsResponse { referrals, next_page_token })
    }
}
