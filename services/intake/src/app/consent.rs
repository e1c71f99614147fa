//! Consent releases and the partner-facing read they allow.
//!
//! Staff record, list and revoke releases. A partner reads a referral's details only through
//! `GetReleasedDetails` (a referral it submitted or serves now: `App::serves`), and only the categories an
//! active release naming that partner covers; anything else answers NOT_FOUND, the same as a referral
//! that does not exist, so nothing leaks.

use prost::Message;
use wf_auth::{Principal, Role};
use wf_events::{Envelope, outbox};
use wf_proto::events::v1 as events;
use wf_proto::intake::v1 as pb;
use wf_proto::time::timestamp_from_micros as timestamp;
use wf_server::pagination::{next_page, page_token};
use wf_server::{ApiError, FieldViolation};
use wf_types::{Purpose, ReleaseId};

use super::{App, PAGE_LIMITS, own_organization};
use crate::domain::consent as consent_rules;
use crate::store::consent::{self as releases, ReleaseRow};
use crate::{SERVICE, store};

fn release_from_row(row: &ReleaseRow, now: i64) -> Result<pb::ConsentRelease, ApiError> {
    let mut release = pb::ConsentRelease::decode(row.coded.as_slice()).map_err(ApiError::internal)?;
    release.release_id = row.id.clone();
    release.revoked_at = row.revoked_at.map(timestamp);
    release.active = consent_rules::is_active(row.signed_at, row.expires_at, row.revoked_at, now);
    Ok(release)
}

/// Releases are staff work: a partner (or hotline) never records, reads, lists or revokes them. The
/// role table already refuses them (ManageCases); this answers like an unknown release if one got here.
fn staff_only(principal: &Principal, release_id: &str) -> Result<(), ApiError> {
    if matches!(principal.role, Role::Partner | Role::Hotline) {
        return Err(super::not_found("consent release", release_id));
    }
    Ok(())
}

impl App {
    pub(crate) fn open_personal(
        &self,
        stored: &store::StoredReferral,
    ) -> Result<Option<pb::PersonalDetails>, ApiError> {
        super::vault::open_sealed(&self.keys.current(), &stored.id, stored.personal_sealed.as_deref())
            .map_err(ApiError::internal)
    }

    pub(crate) async fn create_release(
        &self,
        principal: &Principal,
        request: pb::CreateConsentReleaseRequest,
    ) -> Result<pb::CreateConsentReleaseResponse, ApiError> {
        staff_only(principal, "")?;
        let now = self.clock.now();
        let referral_id = request.release.as_ref().map(|r| r.referral_id.clone()).unwrap_or_default();
        let stored = if referral_id.is_empty() { None } else { store::get_referral(&self.db, &referral_id).await? };
        if !referral_id.is_empty() && stored.is_none() {
            return Err(ApiError::invalid("release.referral_id", "names no referral"));
        }
        // Signer rules need the guardians, which live sealed; they are read here and dropped at once.
        let facts = match &stored {
            Some(stored) => {
                consent_rules::SignerFacts::from_details(stored.is_minor, self.open_personal(stored)?.as_ref())
            }
            None => consent_rules::SignerFacts::default(),
        };
        let violations = consent_rules::validate_release(request.release.as_ref(), facts, now);
        ApiError::check(violations)?;
        let (Some(stored), Some(mut release)) = (stored, request.release) else {
            return Err(ApiError::internal(anyhow::anyhow!("validated release lost its referral")));
        };
        let practice = pb::Referral::decode(stored.coded.as_slice()).map_err(ApiError::internal)?.practice;
        let release_id = ReleaseId::generate().to_string();
        release.release_id = release_id.clone();
        release.youth_id = stored.youth_id.clone();
        release.recorded_by = principal.subject.clone();
        release.active = false;
        let micros = |t: &Option<prost_types::Timestamp>| {
            t.as_ref().and_then(wf_proto::time::datetime).map(wf_db::to_micros).unwrap_or_default()
        };
        let row = ReleaseRow {
            id: release_id.clone(),
            referral_id: stored.id.clone(),
            youth_id: stored.youth_id.clone(),
            recipient_organization_id: release.recipient_organization_id.clone(),
            purpose: release.purpose.clone(),
            signed_at: micros(&release.signed_at),
            expires_at: micros(&release.expires_at),
            revoked_at: None,
            practice: i32::from(practice),
            coded: release.encode_to_vec(),
        };
        let event = events::ConsentReleaseCreated {
            release_id: release_id.clone(),
            referral_id: stored.id.clone(),
            youth_id: stored.youth_id.clone(),
            recipient_organization_id: release.recipient_organization_id.clone(),
            categories: release.categories.clone(),
            purpose: release.purpose.clone(),
            signed_at: release.signed_at,
            expires_at: release.expires_at,
            signer_roles: release.signers.iter().map(|s| s.role).collect(),
            practice,
        };
        let envelope = Envelope::new(SERVICE, release_id.as_str(), stored.id.as_str(), &event);
        let mut tx = self.db.begin().await?;
        releases::insert(&mut tx, &row, self.clock.now_micros()).await?;
        outbox::enqueue(&mut tx, self.db.backend(), &envelope).await?;
        tx.commit().await?;
        self.relay.wake();
        tracing::debug!(release.id = %release_id, referral.id = %stored.id, "consent release recorded");
        let release = release_from_row(&row, self.clock.now_micros())?;
        Ok(pb::CreateConsentReleaseResponse { release_id, release: Some(release) })
    }

    pub(crate) async fn get_release(
        &self,
        principal: &Principal,
        request: pb::GetConsentReleaseRequest,
    ) -> Result<pb::GetConsentReleaseResponse, ApiError> {
        staff_only(principal, &request.release_id)?;
        let row = releases::get(&self.db, &request.release_id)
            .await?
            .ok_or_else(|| super::not_found("consent release", &request.release_id))?;
        Ok(pb::GetConsentReleaseResponse { release: Some(release_from_row(&row, self.clock.now_micros())?) })
    }

    pub(crate) async fn list_releases(
        &self,
        principal: &Principal,
        request: pb::ListConsentReleasesRequest,
    ) -> Result<pb::ListConsentReleasesResponse, ApiError> {
        staff_only(principal, "")?;
        let mut violations = Vec::new();
        if request.referral_id.is_empty() == request.youth_id.is_empty() {
            violations.push(FieldViolation::new("referral_id", "exactly one of referral_id or youth_id is required"));
        }
        let page_size = PAGE_LIMITS.size_within(request.page_size, &mut violations);
        page_token::<ReleaseId>(&request.page_token, &mut violations);
        ApiError::check(violations)?;
        let now = self.clock.now_micros();
        let mut rows = releases::list(
            &self.db,
            &releases::ListFilter {
                referral_id: &request.referral_id,
                youth_id: &request.youth_id,
                recipient: &request.recipient_organization_id,
                active_at: request.active_only.then_some(now),
                after_id: &request.page_token,
                limit: page_size as i64 + 1,
            },
        )
        .await?;
        let next_page_token = next_page(&mut rows, page_size, |row| row.id.clone());
        let releases = rows.iter().map(|row| release_from_row(row, now)).collect::<Result<Vec<_>, _>>()?;
        Ok(pb::ListConsentReleasesResponse { releases, next_page_token })
    }

    pub(crate) async fn revoke_release(
        &self,
        principal: &Principal,
        request: pb::RevokeConsentReleaseRequest,
    ) -> Result<pb::RevokeConsentReleaseResponse, ApiError> {
        staff_only(principal, &request.release_id)?;
        // The reason reaches the `consent.revoked` event: a short code, never text.
        if !request.reason.is_empty() && !crate::domain::is_code(&request.reason) {
            return Err(ApiError::invalid(
                "reason",
                "must be a code of lowercase letters, digits and underscores (at most 64), e.g. \"youth_request\"",
            ));
        }
        let row = releases::get(&self.db, &request.release_id)
            .await?
            .ok_or_else(|| super::not_found("consent release", &request.release_id))?;
        let now = self.clock.now_micros();
        let mut tx = self.db.begin().await?;
        // Revoking twice is harmless: the first revocation stands and no second event is sent.
        if releases::revoke(&mut tx, &row.id, now, &request.reason).await? {
            let event = events::ConsentReleaseRevoked {
                release_id: row.id.clone(),
                referral_id: row.referral_id.clone(),
                recipient_organization_id: row.recipient_organization_id.clone(),
                revoked_at: Some(timestamp(now)),
                reason: request.reason.clone(),
                practice: row.practice != 0,
            };
            let envelope = Envelope::new(SERVICE, row.id.as_str(), row.referral_id.as_str(), &event);
            outbox::enqueue(&mut tx, self.db.backend(), &envelope).await?;
        }
        tx.commit().await?;
        self.relay.wake();
        let row = releases::get(&self.db, &row.id).await?.unwrap_or(row);
        Ok(pb::RevokeConsentReleaseResponse { release: Some(release_from_row(&row, self.clock.now_micros())?) })
    }

    /// The partner-facing read. The referral must be one the partner submitted or serves now (an offer
    /// accepted in the case's current episode, the case not closed: [`App::serves`]) AND an active
    /// release naming the partner must cover it for the stated purpose. Otherwise NOT_FOUND. A
    /// partner other than the submitting organization never gets who referred the youth.
    pub(crate) async fn released_details(
        &self,
        principal: &Principal,
        request: pb::GetReleasedDetailsRequest,
    ) -> Result<pb::GetReleasedDetailsResponse, ApiError> {
        let mut violations = Vec::new();
        let purpose = Purpose::required(&request.purpose, "purpose", &mut violations);
        ApiError::check(violations)?;
        let purpose = purpose.map(|p| p.code()).unwrap_or_default();
        let not_found = || super::not_found("referral", &request.referral_id);
        let Some(partner) = own_organization(principal).filter(|_| principal.role == Role::Partner) else {
            // Staff read through GetReferral with a purpose; this read is for partners only.
            return Err(not_found());
        };
        let stored = store::get_referral(&self.db, &request.referral_id).await?.ok_or_else(not_found)?;
        let submitted = stored.submitted_by_partner.as_deref() == Some(partner);
        if !submitted && !self.serves(principal, &stored.id).await? {
            self.out_of_scope(principal, "GetReleasedDetails", &stored.id);
            return Err(not_found());
        }
        let now = self.clock.now_micros();
        let active: Vec<ReleaseRow> = releases::for_partner(&self.db, &stored.id, partner)
            .await?
            .into_iter()
            .filter(|row| {
                row.purpose == purpose && consent_rules::is_active(row.signed_at, row.expires_at, row.revoked_at, now)
            })
            .collect();
        if active.is_empty() {
            // Its own (or served) referral, but no active release for this purpose: outside its scope.
            self.out_of_scope(principal, "GetReleasedDetails", &stored.id);
            return Err(not_found());
        }
        let mut categories: Vec<i32> = Vec::new();
        for row in &active {
            let release = pb::ConsentRelease::decode(row.coded.as_slice()).map_err(ApiError::internal)?;
            categories.extend(release.categories);
        }
        categories.sort_unstable();
        categories.dedup();
        let personal = match self.open_personal(&stored)? {
            Some(details) => consent_rules::redact_to_categories(&details, &categories),
            None => pb::PersonalDetails::default(),
        };
        let coded = pb::Referral::decode(stored.coded.as_slice()).map_err(ApiError::internal)?;
        let mut referral = consent_rules::redact_referral(&coded, &categories);
        if !submitted && let Some(referral) = referral.as_mut() {
            // The REFERRAL category copies who referred the youth: that is the referring
            // organization's, not the receiving partner's.
            consent_rules::without_referrer(referral);
        }
        let release_ids: Vec<String> = active.iter().map(|row| row.id.clone()).collect();
        let fields = consent_rules::released_field_paths(&personal, referral.as_ref());
        self.commit_access(self.access_envelope(principal, &stored.id, purpose, fields, &release_ids.join(",")))
            .await?;
        Ok(pb::GetReleasedDetailsResponse {
            referral_id: stored.id,
            personal: Some(personal),
            referral,
            categories,
            release_ids,
        })
    }
}
