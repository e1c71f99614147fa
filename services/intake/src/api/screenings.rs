//! Screenings (CSE-IT, Vera TVIT) recorded after intake, and the list of a referral's or a youth's
//! screenings. Part of the referral record: a recorded screening is also appended to the coded
//! referral `GetReferral` returns. A result never sets the trafficking status.

use chrono::Utc;
use prost::Message;
use tonic::{Request, Response, Status};
use wf_auth::{Operation, Principal, Role};
use wf_events::{Envelope, outbox};
use wf_proto::events::v1 as events;
use wf_proto::intake::v1 as pb;
use wf_server::{ApiError, FieldViolation};

use super::{DEFAULT_PAGE_SIZE, IntakeApi, MAX_PAGE_SIZE, visible_to_partner};
use crate::store::lifecycle as referrals;
use crate::store::screenings::{self as store, ScreeningRow};
use crate::{SERVICE, domain};

/// A new screening id ("scr_" and a UUIDv7, sortable by recording time).
pub(crate) fn screening_id() -> String {
    format!("scr_{}", uuid::Uuid::now_v7().simple())
}

impl IntakeApi {
    pub(super) async fn rpc_record_screening(
        &self,
        request: Request<pb::RecordScreeningRequest>,
    ) -> Result<Response<pb::RecordScreeningResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::ManageCases)?;
        Ok(Response::new(self.record_screening(&principal, request.into_inner()).await?))
    }

    pub(super) async fn rpc_list_screenings(
        &self,
        request: Request<pb::ListScreeningsRequest>,
    ) -> Result<Response<pb::ListScreeningsResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::ReadReferral)?;
        Ok(Response::new(self.list_screenings(&principal, request.into_inner()).await?))
    }

    async fn record_screening(
        &self,
        principal: &Principal,
        request: pb::RecordScreeningRequest,
    ) -> Result<pb::RecordScreeningResponse, ApiError> {
        let now = Utc::now();
        let mut violations = Vec::new();
        if request.referral_id.is_empty() {
            violations.push(FieldViolation::new("referral_id", "is required"));
        }
        violations.extend(domain::validate_screening(request.screening.as_ref(), now));
        if !violations.is_empty() {
            return Err(ApiError::InvalidArgument(violations));
        }
        let mut screening = request.screening.unwrap_or_default();
        screening.screening_id = screening_id();

        let mut tx = self.db.begin().await?;
        let stored = referrals::lock_referral(&mut tx, self.db.backend(), &request.referral_id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("referral {}", request.referral_id)))?;
        let mut referral = pb::Referral::decode(stored.coded.as_slice()).map_err(ApiError::internal)?;
        referral.screenings.push(screening.clone());
        let practice = stored.practice != 0;
        store::insert(&mut tx, &ScreeningRow::submitted(&stored.id, &screening, &principal.subject, practice)).await?;
        sqlx::query("UPDATE referral SET coded = $1 WHERE id = $2")
            .bind(referral.encode_to_vec())
            .bind(stored.id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(wf_db::DbError::from)?;
        // Coded only: no screener id (a user id is not needed downstream), never free text.
        let event = events::ScreeningRecorded {
            screening_id: screening.screening_id.clone(),
            referral_id: stored.id.clone(),
            youth_id: stored.youth_id.clone(),
            tool: screening.tool,
            result: screening.result,
            score: screening.score,
            screened_at: screening.screened_at,
            screener_organization_id: screening.screener_organization_id.clone(),
            practice,
        };
        outbox::enqueue(
            &mut tx,
            self.db.backend(),
            &Envelope::new(SERVICE, screening.screening_id.as_str(), stored.id.as_str(), &event),
        )
        .await?;
        tx.commit().await?;
        self.relay.wake();
        tracing::info!(referral.id = %stored.id, screening.id = %screening.screening_id, tool = screening.tool, result = screening.result, "screening recorded");
        Ok(pb::RecordScreeningResponse { screening_id: screening.screening_id })
    }

    async fn list_screenings(
        &self,
        principal: &Principal,
        request: pb::ListScreeningsRequest,
    ) -> Result<pb::ListScreeningsResponse, ApiError> {
        let mut violations = Vec::new();
        if request.referral_id.is_empty() && request.youth_id.is_empty() {
            violations.push(FieldViolation::new("referral_id", "one of referral_id or youth_id is required"));
        }
        let page_size = match request.page_size {
            0 => DEFAULT_PAGE_SIZE,
            n if (1..=MAX_PAGE_SIZE).contains(&n) => n,
            n => {
                violations.push(FieldViolation::new(
                    "page_size",
                    format!("{n} is out of range; allowed 1 to {MAX_PAGE_SIZE}"),
                ));
                0
            }
        };
        if !request.page_token.is_empty() && !request.page_token.starts_with("scr_") {
            violations.push(FieldViolation::new("page_token", "is not a token from an earlier response"));
        }
        if !violations.is_empty() {
            return Err(ApiError::InvalidArgument(violations));
        }
        // A partner lists only screenings of referrals it submitted; a referral it cannot see is not found.
        let partner = match principal.role {
            Role::Partner => Some(principal.partner_id.as_deref().unwrap_or("-")),
            _ => None,
        };
        if !request.referral_id.is_empty() {
            let not_found = || ApiError::NotFound(format!("referral {}", request.referral_id));
            let stored = crate::store::get_referral(&self.db, &request.referral_id).await?.ok_or_else(not_found)?;
            if !visible_to_partner(principal, stored.submitted_by_partner.as_deref()) {
                return Err(not_found());
            }
        }
        let rows = store::list(
            &self.db,
            &request.referral_id,
            &request.youth_id,
            partner,
            &request.page_token,
            i64::from(page_size) + 1,
        )
        .await?;
        let more = rows.len() > page_size as usize;
        let screenings = rows
            .iter()
            .take(page_size as usize)
            .map(|row| pb::Screening::decode(row.coded.as_slice()).map_err(ApiError::internal))
            .collect::<Result<Vec<_>, _>>()?;
        let next_page_token =
            if more { screenings.last().map(|s| s.screening_id.clone()).unwrap_or_default() } else { String::new() };
        Ok(pb::ListScreeningsResponse { screenings, next_page_token })
    }
}
