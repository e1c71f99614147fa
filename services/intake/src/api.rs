//! The gRPC face of intake: authenticate, validate, store, announce.

use std::sync::Arc;

use chrono::Utc;
use prost::Message;
use tonic::{Request, Response, Status};
use wf_auth::{Operation, Principal, Role};
use wf_db::Db;
use wf_events::{Envelope, RelayHandle, outbox};
use wf_proto::events::v1 as events;
use wf_proto::intake::v1 as pb;
use wf_proto::intake::v1::intake_service_server::IntakeService;
use wf_proto::time::timestamp_from_micros as timestamp;
use wf_server::ApiError;
use wf_types::ReferralId;

use crate::vault::LiveKeys;
use crate::{SERVICE, store};

const DEFAULT_PAGE_SIZE: i32 = 50;
const MAX_PAGE_SIZE: i32 = 500;

pub struct IntakeApi {
    db: Db,
    keys: Arc<LiveKeys>,
    relay: RelayHandle,
}

mod consent;
mod lifecycle;
mod mandated;
mod matches;
mod screenings;
mod update;

pub(crate) use matches::spawn_background;
pub(crate) use screenings::screening_id;

fn personal_aad(referral_id: &str) -> Vec<u8> {
    crate::vault::personal_aad(referral_id)
}

/// Partners see only referrals they submitted; everything else is "not found".
fn visible_to(principal: &Principal, stored: &store::StoredReferral) -> bool {
    visible_to_partner(principal, stored.submitted_by_partner.as_deref())
}

/// [`visible_to`] from the submitting partner alone.
fn visible_to_partner(principal: &Principal, submitted_by_partner: Option<&str>) -> bool {
    match principal.role {
        Role::Partner => principal.partner_id.is_some() && submitted_by_partner == principal.partner_id.as_deref(),
        _ => true,
    }
}

impl IntakeApi {
    pub fn new(db: Db, keys: Arc<LiveKeys>, relay: RelayHandle) -> Self {
        Self { db, keys, relay }
    }

    async fn submit(
        &self,
        principal: &Principal,
        request: pb::SubmitReferralRequest,
    ) -> Result<pb::SubmitReferralResponse, ApiError> {
        let submitter = crate::submit::Submitter {
            subject: &principal.subject,
            partner_id: principal.partner_id.as_deref(),
            channel: pb::IntakeChannel::Grpc,
        };
        crate::submit::submit(&self.db, &self.keys.current(), &self.relay, &submitter, request).await
    }

    async fn get(
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
            self.record_access(principal, &stored.id, purpose, vec!["personal".to_owned()], "").await?;
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

    /// Every read of personal data is an audited event, committed before the data is returned: the field
    /// paths returned and, for a partner, the release(s) that allowed it (comma-separated when several).
    async fn record_access(
        &self,
        principal: &Principal,
        referral_id: &str,
        purpose: &str,
        fields: Vec<String>,
        release_id: &str,
    ) -> Result<(), ApiError> {
        let envelope = self.access_envelope(principal, referral_id, purpose, fields, release_id);
        let mut tx = self.db.begin().await?;
        outbox::enqueue(&mut tx, self.db.backend(), &envelope).await?;
        tx.commit().await?;
        self.relay.wake();
        Ok(())
    }

    /// The `record.accessed` event of a read of `fields` of a referral by `principal`.
    fn access_envelope(
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
            at: Some(wf_proto::time::timestamp(Utc::now())),
            actor_organization_id: principal.partner_id.clone().unwrap_or_default(),
            trace_id: wf_telemetry::TraceContext::current().trace_id().unwrap_or_default(),
            ..Default::default()
        };
        Envelope::new(SERVICE, referral_id, referral_id, &access)
    }

    async fn list(
        &self,
        principal: &Principal,
        request: pb::ListReferralsRequest,
    ) -> Result<pb::ListReferralsResponse, ApiError> {
        let page_size = match request.page_size {
            0 => DEFAULT_PAGE_SIZE,
            n if (1..=MAX_PAGE_SIZE).contains(&n) => n,
            n => {
                return Err(ApiError::InvalidArgument(vec![wf_server::FieldViolation::new(
                    "page_size",
                    format!("{n} is out of range; allowed 1 to {MAX_PAGE_SIZE}"),
                )]));
            }
        };
        if !request.page_token.is_empty() && request.page_token.parse::<ReferralId>().is_err() {
            return Err(ApiError::InvalidArgument(vec![wf_server::FieldViolation::new(
                "page_token",
                "is not a token from an earlier response",
            )]));
        }
        let partner = match principal.role {
            Role::Partner => principal.partner_id.as_deref(),
            _ => None,
        };
        let rows = store::list_referrals(
            &self.db,
            partner,
            request.include_practice,
            &request.page_token,
            i64::from(page_size) + 1,
        )
        .await?;
        let more = rows.len() > page_size as usize;
        let referrals: Vec<pb::ReferralSummary> = rows
            .into_iter()
            .take(page_size as usize)
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
        let next_page_token =
            if more { referrals.last().map(|r| r.referral_id.clone()).unwrap_or_default() } else { String::new() };
        Ok(pb::ListReferralsResponse { referrals, next_page_token })
    }
}

#[tonic::async_trait]
impl IntakeService for IntakeApi {
    async fn submit_referral(
        &self,
        request: Request<pb::SubmitReferralRequest>,
    ) -> Result<Response<pb::SubmitReferralResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::SubmitReferral)?;
        Ok(Response::new(self.submit(&principal, request.into_inner()).await?))
    }

    async fn get_referral(
        &self,
        request: Request<pb::GetReferralRequest>,
    ) -> Result<Response<pb::GetReferralResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::ReadReferral)?;
        Ok(Response::new(self.get(&principal, request.into_inner()).await?))
    }

    async fn list_referrals(
        &self,
        request: Request<pb::ListReferralsRequest>,
    ) -> Result<Response<pb::ListReferralsResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::ListReferrals)?;
        Ok(Response::new(self.list(&principal, request.into_inner()).await?))
    }

    async fn update_referral(
        &self,
        request: Request<pb::UpdateReferralRequest>,
    ) -> Result<Response<pb::UpdateReferralResponse>, Status> {
        self.rpc_update(request).await
    }

    async fn triage_referral(
        &self,
        request: Request<pb::TriageReferralRequest>,
    ) -> Result<Response<pb::TriageReferralResponse>, Status> {
        self.rpc_triage(request).await
    }

    async fn set_referral_hold(
        &self,
        request: Request<pb::SetReferralHoldRequest>,
    ) -> Result<Response<pb::SetReferralHoldResponse>, Status> {
        self.rpc_set_hold(request).await
    }

    async fn close_referral(
        &self,
        request: Request<pb::CloseReferralRequest>,
    ) -> Result<Response<pb::CloseReferralResponse>, Status> {
        self.rpc_close(request).await
    }

    async fn purge_practice_referrals(
        &self,
        request: Request<pb::PurgePracticeReferralsRequest>,
    ) -> Result<Response<pb::PurgePracticeReferralsResponse>, Status> {
        self.rpc_purge_practice(request).await
    }

    async fn create_consent_release(
        &self,
        request: Request<pb::CreateConsentReleaseRequest>,
    ) -> Result<Response<pb::CreateConsentReleaseResponse>, Status> {
        self.rpc_create_release(request).await
    }

    async fn get_consent_release(
        &self,
        request: Request<pb::GetConsentReleaseRequest>,
    ) -> Result<Response<pb::GetConsentReleaseResponse>, Status> {
        self.rpc_get_release(request).await
    }

    async fn list_consent_releases(
        &self,
        request: Request<pb::ListConsentReleasesRequest>,
    ) -> Result<Response<pb::ListConsentReleasesResponse>, Status> {
        self.rpc_list_releases(request).await
    }

    async fn revoke_consent_release(
        &self,
        request: Request<pb::RevokeConsentReleaseRequest>,
    ) -> Result<Response<pb::RevokeConsentReleaseResponse>, Status> {
        self.rpc_revoke_release(request).await
    }

    async fn record_screening(
        &self,
        request: Request<pb::RecordScreeningRequest>,
    ) -> Result<Response<pb::RecordScreeningResponse>, Status> {
        self.rpc_record_screening(request).await
    }

    async fn list_screenings(
        &self,
        request: Request<pb::ListScreeningsRequest>,
    ) -> Result<Response<pb::ListScreeningsResponse>, Status> {
        self.rpc_list_screenings(request).await
    }

    async fn record_mandated_report(
        &self,
        request: Request<pb::RecordMandatedReportRequest>,
    ) -> Result<Response<pb::RecordMandatedReportResponse>, Status> {
        self.rpc_record_mandated(request).await
    }

    async fn list_mandated_reports(
        &self,
        request: Request<pb::ListMandatedReportsRequest>,
    ) -> Result<Response<pb::ListMandatedReportsResponse>, Status> {
        self.rpc_list_mandated(request).await
    }

    async fn list_possible_matches(
        &self,
        request: Request<pb::ListPossibleMatchesRequest>,
    ) -> Result<Response<pb::ListPossibleMatchesResponse>, Status> {
        self.rpc_list_matches(request).await
    }

    async fn confirm_possible_match(
        &self,
        request: Request<pb::ConfirmPossibleMatchRequest>,
    ) -> Result<Response<pb::ConfirmPossibleMatchResponse>, Status> {
        self.rpc_confirm_match(request).await
    }

    async fn reject_possible_match(
        &self,
        request: Request<pb::RejectPossibleMatchRequest>,
    ) -> Result<Response<pb::RejectPossibleMatchResponse>, Status> {
        self.rpc_reject_match(request).await
    }

    async fn get_released_details(
        &self,
        request: Request<pb::GetReleasedDetailsRequest>,
    ) -> Result<Response<pb::GetReleasedDetailsResponse>, Status> {
        self.rpc_released_details(request).await
    }
}
