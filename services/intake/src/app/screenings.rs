//! Screenings (CSE-IT, Vera TVIT) recorded after intake, and the list of a referral's or a youth's
//! screenings. Part of the referral record: a recorded screening is also appended to the coded
//! referral `GetReferral` returns to staff (never to the record as submitted, which its submitter
//! reads). A result never sets the trafficking status.

use prost::Message;
use wf_auth::{Principal, Role};
use wf_events::{Envelope, outbox};
use wf_proto::events::v1 as events;
use wf_proto::intake::v1 as pb;
use wf_server::pagination::{next_page, page_token};
use wf_server::{ApiError, FieldViolation};
use wf_types::ScreeningId;

use super::referrals::NO_ORGANIZATION;
use super::{App, PAGE_LIMITS, distinct, in_scope, own_organization};
use crate::store::screenings::{self as store, ScreeningRow};
use crate::{SERVICE, domain};

impl App {
    pub(crate) async fn record_screening(
        &self,
        principal: &Principal,
        request: pb::RecordScreeningRequest,
    ) -> Result<pb::RecordScreeningResponse, ApiError> {
        let now = self.clock.now();
        let mut violations = Vec::new();
        if request.referral_id.is_empty() {
            violations.push(FieldViolation::new("referral_id", "is required"));
        }
        violations.extend(domain::validate_screening(request.screening.as_ref(), now));
        ApiError::check(violations)?;
        let mut screening = request.screening.unwrap_or_default();
        screening.screening_id = ScreeningId::generate().to_string();

        let mut tx = self.db.begin().await?;
        let stored = self.lock_visible(&mut tx, principal, &request.referral_id, "RecordScreening").await?;
        let mut referral = pb::Referral::decode(stored.coded.as_slice()).map_err(ApiError::internal)?;
        referral.screenings.push(screening.clone());
        let practice = stored.practice != 0;
        let row = ScreeningRow::submitted(&stored.id, &screening, &principal.subject, practice, false);
        store::insert(&mut tx, &row, wf_db::to_micros(now)).await?;
        crate::store::set_coded(&mut tx, &stored.id, referral.encode_to_vec()).await?;
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
        tracing::debug!(referral.id = %stored.id, screening.id = %screening.screening_id, tool = screening.tool, result = screening.result, "screening recorded");
        Ok(pb::RecordScreeningResponse { screening_id: screening.screening_id })
    }

    /// A referral's or a youth's screenings. Staff and services: every one. A partner: only those
    /// that came with the submission of a referral it submitted (never one staff recorded later), by
    /// the youth id its submission was answered with, naming the screener only when the screening
    /// names the partner's own organization ([`domain::submitter::partner_screening`]).
    pub(crate) async fn list_screenings(
        &self,
        principal: &Principal,
        request: pb::ListScreeningsRequest,
    ) -> Result<pb::ListScreeningsResponse, ApiError> {
        let mut violations = Vec::new();
        if request.referral_id.is_empty() && request.youth_id.is_empty() {
            violations.push(FieldViolation::new("referral_id", "one of referral_id or youth_id is required"));
        }
        let page_size = PAGE_LIMITS.size_within(request.page_size, &mut violations);
        page_token::<ScreeningId>(&request.page_token, &mut violations);
        ApiError::check(violations)?;
        // A partner lists only what it submitted with its referrals; a referral it cannot see is not found.
        let partner = match principal.role {
            Role::Partner => Some(own_organization(principal).unwrap_or(NO_ORGANIZATION)),
            _ => None,
        };
        if !request.referral_id.is_empty() {
            let not_found = || super::not_found("referral", &request.referral_id);
            let stored = crate::store::get_referral(&self.db, &request.referral_id).await?.ok_or_else(not_found)?;
            if !in_scope(principal, stored.origin()) {
                self.out_of_scope(principal, "ListScreenings", &stored.id);
                return Err(not_found());
            }
        }
        let mut rows = store::list(
            &self.db,
            &request.referral_id,
            &request.youth_id,
            partner,
            &request.page_token,
            page_size as i64 + 1,
        )
        .await?;
        let next_page_token = next_page(&mut rows, page_size, |row| row.id.clone());
        let screenings = rows
            .iter()
            .map(|row| {
                let screening = pb::Screening::decode(row.coded.as_slice()).map_err(ApiError::internal)?;
                Ok(match partner {
                    Some(partner) => domain::submitter::partner_screening(screening, partner),
                    None => screening,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        // Each referral whose screenings are returned is a coded read, on the record before the answer.
        let accesses = distinct(rows.iter().map(|row| row.referral_id.as_str()))
            .map(|referral_id| self.access_envelope(principal, referral_id, "", vec![SCREENINGS_FIELD.to_owned()], ""))
            .collect();
        self.commit_accesses(accesses).await?;
        Ok(pb::ListScreeningsResponse { screenings, next_page_token })
    }
}

/// The field path a screenings read records.
pub(crate) const SCREENINGS_FIELD: &str = "referral.screenings";
