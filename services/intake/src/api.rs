//! The gRPC face of intake: authenticate, validate, store, announce.

use std::sync::Arc;

use chrono::Utc;
use prost::Message;
use tonic::{Request, Response, Status};
use wf_auth::{Operation, Principal, Role};
use wf_crypto::KeyRing;
use wf_db::Db;
use wf_events::{Envelope, RelayHandle, outbox};
use wf_proto::events::v1 as events;
use wf_proto::intake::v1 as pb;
use wf_proto::intake::v1::intake_service_server::IntakeService;
use wf_proto::time::timestamp_from_micros as timestamp;
use wf_server::ApiError;
use wf_types::{ReferralId, YouthId};

use crate::{SERVICE, domain, store};

const DEFAULT_PAGE_SIZE: i32 = 50;
const MAX_PAGE_SIZE: i32 = 500;

pub struct IntakeApi {
    db: Db,
    keys: Arc<KeyRing>,
    relay: RelayHandle,
}

use wf_server::later_step;

fn personal_aad(referral_id: &str) -> Vec<u8> {
    format!("{referral_id}/personal").into_bytes()
}

/// Partners see only referrals they submitted; everything else is "not found".
fn visible_to(principal: &Principal, stored: &store::StoredReferral) -> bool {
    match principal.role {
        Role::Partner => principal.partner_id.is_some() && stored.submitted_by_partner == principal.partner_id,
        _ => true,
    }
}

impl IntakeApi {
    pub fn new(db: Db, keys: Arc<KeyRing>, relay: RelayHandle) -> Self {
        Self { db, keys, relay }
    }

    async fn submit(
        &self,
        principal: &Principal,
        request: pb::SubmitReferralRequest,
    ) -> Result<pb::SubmitReferralResponse, ApiError> {
        let today = Utc::now().date_naive();
        let violations = domain::validate(request.referral.as_ref(), today);
        if !violations.is_empty() {
            return Err(ApiError::InvalidArgument(violations));
        }
        let mut referral = request.referral.unwrap_or_default();
        let facts = domain::derive_facts(&referral, today);
        let dedupe_key = domain::dedupe_key(&referral, &principal.subject);
        let referral_id = ReferralId::generate();
        let youth_id = YouthId::generate();
        let now = Utc::now();
        let received_at = referral.received_at.as_ref().and_then(wf_proto::time::datetime).unwrap_or(now);
        referral.received_at = Some(wf_proto::time::timestamp(received_at));

        let personal = referral.personal.take();
        let sealed = match &personal {
            Some(personal) => Some(
                self.keys
                    .encrypt(&personal.encode_to_vec(), &personal_aad(referral_id.as_str()))
                    .map_err(ApiError::internal)?,
            ),
            None => None,
        };
        let event = events::ReferralReceived {
            referral_id: referral_id.to_string(),
            source: referral.source,
            referring_organization_id: referral.referring_organization_id.clone(),
            triage_tier: referral.triage_tier,
            site: referral.site,
            needs: referral.needs.clone(),
            preferred_language: referral.preferred_language.clone(),
            is_minor: facts.is_minor,
            outside_youth_program: facts.outside_youth_program,
            practice: referral.practice,
            received_at: referral.received_at,
            youth_id: youth_id.to_string(),
            age_years: facts.age_years.unwrap_or(0),
            trafficking_type: referral.trafficking_type,
            trafficking_status: referral.trafficking_status,
            system_involvement: referral.system_involvement.clone(),
            engagement_approach: referral.engagement_approach.clone(),
            contacting_prohibited: personal
                .as_ref()
                .and_then(|p| p.safe_contact.as_ref())
                .is_some_and(|safe| safe.contacting_prohibited),
            requested_partner_service_ids: referral.requested_partner_service_ids.clone(),
            ..Default::default()
        };
        let envelope = Envelope::new(SERVICE, referral_id.as_str(), referral_id.as_str(), &event);

        let mut tx = self.db.begin().await?;
        let inserted = store::insert_referral(
            &mut tx,
            &store::NewReferral {
                id: referral_id.as_str(),
                youth_id: youth_id.as_str(),
                dedupe_key: &dedupe_key,
                submitted_by: &principal.subject,
                submitted_by_partner: principal.partner_id.as_deref(),
                source: referral.source,
                triage_tier: referral.triage_tier,
                site: referral.site,
                practice: referral.practice,
                is_minor: facts.is_minor,
                outside_program: facts.outside_youth_program,
                status: pb::ReferralStatus::Received as i32,
                coded: referral.encode_to_vec(),
                personal_sealed: sealed.clone(),
                personal_key_version: sealed.as_deref().and_then(|s| KeyRing::key_version_of(s).ok()).map(|v| v as i32),
                received_at: wf_db::to_micros(received_at),
            },
        )
        .await?;
        if !inserted {
            let (id, youth, status) = store::find_by_dedupe_key(&mut tx, &dedupe_key)
                .await?
                .ok_or_else(|| ApiError::Unavailable("a concurrent submission is still settling, retry".into()))?;
            tx.commit().await?;
            tracing::info!(referral.id = %id, "duplicate submission answered with the existing referral");
            return Ok(pb::SubmitReferralResponse { referral_id: id, duplicate: true, status, youth_id: youth });
        }
        store::record_status_change(
            &mut tx,
            referral_id.as_str(),
            &envelope.event_id.to_string(),
            pb::ReferralStatus::Received as i32,
            wf_db::to_micros(now),
            "",
        )
        .await?;
        outbox::enqueue(&mut tx, self.db.backend(), &envelope).await?;
        tx.commit().await?;
        self.relay.wake();
        tracing::info!(referral.id = %referral_id, tier = referral.triage_tier, site = referral.site, practice = referral.practice, "referral received");
        Ok(pb::SubmitReferralResponse {
            referral_id: referral_id.to_string(),
            duplicate: false,
            status: pb::ReferralStatus::Received as i32,
            youth_id: youth_id.to_string(),
        })
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
            let plain = self.keys.decrypt(sealed, &personal_aad(&stored.id)).map_err(ApiError::internal)?;
            referral.personal = Some(pb::PersonalDetails::decode(plain.as_slice()).map_err(ApiError::internal)?);
            self.record_access(principal, &stored.id, purpose).await?;
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
            ..Default::default()
        })
    }

    /// Every read of personal data is an audited event, committed before the data is returned.
    async fn record_access(&self, principal: &Principal, referral_id: &str, purpose: &str) -> Result<(), ApiError> {
        let access = events::RecordAccessed {
            actor: principal.subject.clone(),
            actor_role: principal.role.to_string(),
            record_id: referral_id.to_owned(),
            purpose: purpose.to_owned(),
            fields: vec!["personal".to_owned()],
            at: Some(wf_proto::time::timestamp(Utc::now())),
            actor_organization_id: principal.partner_id.clone().unwrap_or_default(),
            trace_id: wf_telemetry::TraceContext::current().trace_id().unwrap_or_default(),
            ..Default::default()
        };
        let envelope = Envelope::new(SERVICE, referral_id, referral_id, &access);
        let mut tx = self.db.begin().await?;
        outbox::enqueue(&mut tx, self.db.backend(), &envelope).await?;
        tx.commit().await?;
        self.relay.wake();
        Ok(())
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
        _request: Request<pb::UpdateReferralRequest>,
    ) -> Result<Response<pb::UpdateReferralResponse>, Status> {
        Err(later_step("UpdateReferral"))
    }

    async fn triage_referral(
        &self,
        _request: Request<pb::TriageReferralRequest>,
    ) -> Result<Response<pb::TriageReferralResponse>, Status> {
        Err(later_step("TriageReferral"))
    }

    async fn set_referral_hold(
        &self,
        _request: Request<pb::SetReferralHoldRequest>,
    ) -> Result<Response<pb::SetReferralHoldResponse>, Status> {
        Err(later_step("SetReferralHold"))
    }

    async fn close_referral(
        &self,
        _request: Request<pb::CloseReferralRequest>,
    ) -> Result<Response<pb::CloseReferralResponse>, Status> {
        Err(later_step("CloseReferral"))
    }

    async fn purge_practice_referrals(
        &self,
        _request: Request<pb::PurgePracticeReferralsRequest>,
    ) -> Result<Response<pb::PurgePracticeReferralsResponse>, Status> {
        Err(later_step("PurgePracticeReferrals"))
    }

    async fn create_consent_release(
        &self,
        _request: Request<pb::CreateConsentReleaseRequest>,
    ) -> Result<Response<pb::CreateConsentReleaseResponse>, Status> {
        Err(later_step("CreateConsentRelease"))
    }

    async fn get_consent_release(
        &self,
        _request: Request<pb::GetConsentReleaseRequest>,
    ) -> Result<Response<pb::GetConsentReleaseResponse>, Status> {
        Err(later_step("GetConsentRelease"))
    }

    async fn list_consent_releases(
        &self,
        _request: Request<pb::ListConsentReleasesRequest>,
    ) -> Result<Response<pb::ListConsentReleasesResponse>, Status> {
        Err(later_step("ListConsentReleases"))
    }

    async fn revoke_consent_release(
        &self,
        _request: Request<pb::RevokeConsentReleaseRequest>,
    ) -> Result<Response<pb::RevokeConsentReleaseResponse>, Status> {
        Err(later_step("RevokeConsentRelease"))
    }

    async fn record_screening(
        &self,
        _request: Request<pb::RecordScreeningRequest>,
    ) -> Result<Response<pb::RecordScreeningResponse>, Status> {
        Err(later_step("RecordScreening"))
    }

    async fn list_screenings(
        &self,
        _request: Request<pb::ListScreeningsRequest>,
    ) -> Result<Response<pb::ListScreeningsResponse>, Status> {
        Err(later_step("ListScreenings"))
    }

    async fn record_mandated_report(
        &self,
        _request: Request<pb::RecordMandatedReportRequest>,
    ) -> Result<Response<pb::RecordMandatedReportResponse>, Status> {
        Err(later_step("RecordMandatedReport"))
    }

    async fn list_mandated_reports(
        &self,
        _request: Request<pb::ListMandatedReportsRequest>,
    ) -> Result<Response<pb::ListMandatedReportsResponse>, Status> {
        Err(later_step("ListMandatedReports"))
    }

    async fn list_possible_matches(
        &self,
        _request: Request<pb::ListPossibleMatchesRequest>,
    ) -> Result<Response<pb::ListPossibleMatchesResponse>, Status> {
        Err(later_step("ListPossibleMatches"))
    }

    async fn confirm_possible_match(
        &self,
        _request: Request<pb::ConfirmPossibleMatchRequest>,
    ) -> Result<Response<pb::ConfirmPossibleMatchResponse>, Status> {
        Err(later_step("ConfirmPossibleMatch"))
    }

    async fn reject_possible_match(
        &self,
        _request: Request<pb::RejectPossibleMatchRequest>,
    ) -> Result<Response<pb::RejectPossibleMatchResponse>, Status> {
        Err(later_step("RejectPossibleMatch"))
    }

    async fn get_released_details(
        &self,
        _request: Request<pb::GetReleasedDetailsRequest>,
    ) -> Result<Response<pb::GetReleasedDetailsResponse>, Status> {
        Err(later_step("GetReleasedDetails"))
    }
}
