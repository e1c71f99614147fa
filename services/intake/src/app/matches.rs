//! Returning youth at run time: the background matcher that stores keyed hashes for every new referral and
//! records possible matches, and the staff RPCs that list, confirm and reject them. Never merges by itself:
//! only a confirmation gives a referral the earlier youth id.

use wf_auth::Principal;
use wf_events::{Envelope, outbox};
use wf_proto::events::v1 as events;
use wf_proto::intake::v1 as pb;
use wf_proto::time::timestamp_from_micros as timestamp;
use wf_server::pagination::{next_page, page_token};
use wf_server::{ApiError, FieldViolation};
use wf_types::PossibleMatchId;

use super::{App, PAGE_LIMITS};
use crate::SERVICE;
use crate::store::matches::{self as store, MatchRow};

/// The field path a possible-match read records, on the new referral and on the candidate youth.
pub(crate) const MATCH_FIELD: &str = "referral.possible_matches";

pub(crate) fn to_proto(row: MatchRow) -> pb::PossibleMatch {
    pb::PossibleMatch {
        possible_match_id: row.id,
        referral_id: row.referral_id,
        candidate_youth_id: row.candidate_youth_id,
        matched_on: row.matched_on.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        score: row.score,
        status: row.status,
        found_at: Some(timestamp(row.found_at)),
        decided_at: row.decided_at.map(timestamp),
        decided_by: row.decided_by.unwrap_or_default(),
    }
}

impl App {
    pub(crate) async fn list_matches(
        &self,
        principal: &Principal,
        request: pb::ListPossibleMatchesRequest,
    ) -> Result<pb::ListPossibleMatchesResponse, ApiError> {
        let mut violations = Vec::new();
        if pb::PossibleMatchStatus::try_from(request.status).is_err() {
            violations.push(FieldViolation::new("status", "allowed PENDING, CONFIRMED, REJECTED or unset for all"));
        }
        let page_size = PAGE_LIMITS.size_within(request.page_size, &mut violations);
        page_token::<PossibleMatchId>(&request.page_token, &mut violations);
        ApiError::check(violations)?;
        let mut rows =
            store::list(&self.db, request.status, &request.referral_id, &request.page_token, page_size as i64 + 1)
                .await?;
        let next_page_token = next_page(&mut rows, page_size, |row| row.id.clone());
        let matches: Vec<pb::PossibleMatch> = rows.into_iter().map(to_proto).collect();
        // A possible match tells something of two youths: the new referral's and the earlier one it
        // may be. Both reads are on the record, before the page is returned.
        let accesses = matches
            .iter()
            .flat_map(|m| {
                [
                    self.access_envelope(principal, &m.referral_id, "", vec![MATCH_FIELD.into()], ""),
                    self.access_envelope_of(
                        principal,
                        &m.candidate_youth_id,
                        &m.referral_id,
                        "",
                        vec![MATCH_FIELD.into()],
                        "",
                    ),
                ]
            })
            .collect();
        self.commit_accesses(accesses).await?;
        Ok(pb::ListPossibleMatchesResponse { matches, next_page_token })
    }

    /// Confirms or rejects a pending match. Confirming gives the referral the earlier youth id.
    pub(crate) async fn decide_match(
        &self,
        principal: &Principal,
        id: &str,
        decision: pb::PossibleMatchStatus,
    ) -> Result<(MatchRow, String), ApiError> {
        let now = self.clock.now_micros();
        let mut tx = self.db.begin().await?;
        let row = store::get(&mut tx, id).await?.ok_or_else(|| super::not_found("possible match", id))?;
        if !store::decide(&mut tx, id, decision as i32, now, &principal.subject).await? {
            let current = pb::PossibleMatchStatus::try_from(row.status).map(|s| s.as_str_name()).unwrap_or("decided");
            return Err(ApiError::FailedPrecondition(format!("possible match {id} is already {current}")));
        }
        let practice = row.practice != 0;
        let (previous_youth, ..) = store::referral_facts(&mut tx, &row.referral_id)
            .await?
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("possible match without its referral")))?;
        let youth_id = if decision == pb::PossibleMatchStatus::Confirmed {
            store::set_youth(&mut tx, &row.referral_id, &row.candidate_youth_id).await?;
            let event = events::PossibleMatchConfirmed {
                possible_match_id: row.id.clone(),
                referral_id: row.referral_id.clone(),
                youth_id: row.candidate_youth_id.clone(),
                previous_youth_id: previous_youth.clone(),
                decided_by: principal.subject.clone(),
                practice,
            };
            outbox::enqueue(&mut tx, self.db.backend(), &Envelope::new(SERVICE, id, row.referral_id.as_str(), &event))
                .await?;
            row.candidate_youth_id.clone()
        } else {
            let event = events::PossibleMatchRejected {
                possible_match_id: row.id.clone(),
                referral_id: row.referral_id.clone(),
                candidate_youth_id: row.candidate_youth_id.clone(),
                decided_by: principal.subject.clone(),
                practice,
            };
            outbox::enqueue(&mut tx, self.db.backend(), &Envelope::new(SERVICE, id, row.referral_id.as_str(), &event))
                .await?;
            previous_youth
        };
        let decided = store::get(&mut tx, id).await?.unwrap_or(row);
        tx.commit().await?;
        self.relay.wake();
        Ok((decided, youth_id))
    }
}
