//! Returning youth at run time: the background matcher that stores keyed hashes for every new referral and
//! records possible matches, and the staff RPCs that list, confirm and reject them. Never merges by itself:
//! only a confirmation gives a referral the earlier youth id.

use std::sync::Arc;

use prost::Message;
use tonic::{Request, Response, Status};
use wf_auth::{Operation, Principal};
use wf_crypto::{IdentityHasher, KeyRing};

use crate::vault::LiveKeys;
use wf_db::Db;
use wf_events::{Envelope, RelayHandle, outbox};
use wf_proto::events::v1 as events;
use wf_proto::intake::v1 as pb;
use wf_proto::time::timestamp_from_micros as timestamp;
use wf_server::{ApiError, FieldViolation};

use super::{DEFAULT_PAGE_SIZE, IntakeApi, MAX_PAGE_SIZE, personal_aad};
use crate::SERVICE;
use crate::matching::{self, Identity};
use crate::store::matches::{self as store, MatchRow};

/// Opens a referral's sealed personal details in memory.
pub(crate) fn open_sealed(
    keys: &KeyRing,
    referral_id: &str,
    sealed: Option<&[u8]>,
) -> anyhow::Result<Option<pb::PersonalDetails>> {
    let Some(sealed) = sealed else { return Ok(None) };
    let plain = keys.decrypt(sealed, &personal_aad(referral_id))?;
    Ok(Some(pb::PersonalDetails::decode(plain.as_slice())?))
}

/// The `record.accessed` event of the matcher opening `record_id`'s identity fields while matching
/// `matching_referral_id` (the correlation id ties one run's reads together).
fn matching_access(record_id: &str, matching_referral_id: &str) -> Envelope {
    let access = events::RecordAccessed {
        actor: SERVICE.to_owned(),
        actor_role: wf_auth::Role::Service.to_string(),
        record_id: record_id.to_owned(),
        purpose: matching::ACCESS_PURPOSE.to_owned(),
        fields: matching::FIELDS_READ.iter().map(|f| (*f).to_owned()).collect(),
        at: Some(wf_proto::time::timestamp(chrono::Utc::now())),
        ..Default::default()
    };
    Envelope::new(SERVICE, record_id, matching_referral_id, &access)
}

fn match_id() -> String {
    format!("pm_{}", uuid::Uuid::now_v7().simple())
}

/// Finds earlier referrals of the same youth for referrals not yet processed.
pub(crate) struct Matcher {
    pub db: Db,
    pub keys: Arc<LiveKeys>,
    pub hasher: Arc<IdentityHasher>,
    pub relay: RelayHandle,
    pub threshold: f64,
}

impl Matcher {
    /// Processes every referral the matcher has not seen; returns how many possible matches it found.
    pub async fn process_pending(&self) -> anyhow::Result<usize> {
        let mut found = 0;
        // One batch per call: a referral that fails (logged) is retried on the next call, not in a loop.
        for referral_id in store::unmatched(&self.db, 200).await? {
            match self.match_one(&referral_id).await {
                Ok(n) => found += n,
                Err(err) => tracing::warn!(referral.id = %referral_id, error = %err, "matching failed; will retry"),
            }
        }
        Ok(found)
    }

    async fn match_one(&self, referral_id: &str) -> anyhow::Result<usize> {
        let now = wf_db::now_micros();
        let mut tx = self.db.begin().await?;
        if !store::claim(&mut tx, referral_id, now).await? {
            return Ok(0);
        }
        let Some((youth_id, practice, received_at, sealed)) = store::referral_facts(&mut tx, referral_id).await? else {
            return Ok(0);
        };
        let practice = practice != 0;
        let keyring = self.keys.current();
        let Some(details) = open_sealed(&keyring, referral_id, sealed.as_deref())? else {
            tx.commit().await?;
            return Ok(0);
        };
        // Every referral whose sealed details this run opens is recorded as read (one access event per
        // referral per run, in this transaction): the new referral and each candidate compared with it.
        outbox::enqueue(&mut tx, self.db.backend(), &matching_access(referral_id, referral_id)).await?;
        let received_year = chrono::Datelike::year(&wf_db::from_micros(received_at));
        let identity = Identity::from_details(&details, received_year);
        drop(details);
        let keys = matching::keys(&identity, &self.hasher);
        for key in &keys {
            store::insert_key(&mut tx, referral_id, key.kind, &key.hash, practice).await?;
        }
        let hashes: Vec<String> = keys.iter().map(|k| k.hash.clone()).collect();
        // Best score per earlier youth; candidates' details are opened here and dropped with the loop.
        let mut best: Vec<(String, String, matching::Score)> = Vec::new();
        for (candidate_referral, candidate_youth, sealed, candidate_received) in
            store::candidates(&mut tx, referral_id, &hashes, practice).await?
        {
            if candidate_youth == youth_id {
                continue;
            }
            let Some(other) = open_sealed(&keyring, &candidate_referral, sealed.as_deref())? else { continue };
            outbox::enqueue(&mut tx, self.db.backend(), &matching_access(&candidate_referral, referral_id)).await?;
            let other_year = chrono::Datelike::year(&wf_db::from_micros(candidate_received));
            let scored = matching::score(&identity, &Identity::from_details(&other, other_year));
            match best.iter_mut().find(|(_, youth, _)| *youth == candidate_youth) {
                Some(entry) if entry.2.score < scored.score => *entry = (candidate_referral, candidate_youth, scored),
                Some(_) => {}
                None => best.push((candidate_referral, candidate_youth, scored)),
            }
        }
        let mut found = 0;
        for (candidate_referral, candidate_youth, scored) in best {
            if scored.score < self.threshold {
                continue;
            }
            let row = MatchRow {
                id: match_id(),
                referral_id: referral_id.to_owned(),
                candidate_youth_id: candidate_youth.clone(),
                candidate_referral_id: candidate_referral,
                matched_on: scored.matched_on.join(","),
                score: (scored.score * 1000.0).round() / 1000.0,
                status: pb::PossibleMatchStatus::Pending as i32,
                practice: i32::from(practice),
                found_at: now,
                decided_at: None,
                decided_by: None,
            };
            if store::insert_match(&mut tx, &row).await? {
                let event = events::PossibleMatchFound {
                    possible_match_id: row.id.clone(),
                    referral_id: row.referral_id.clone(),
                    candidate_youth_id: candidate_youth,
                    matched_on: scored.matched_on.iter().map(|s| (*s).to_owned()).collect(),
                    score: row.score,
                    practice,
                };
                outbox::enqueue(
                    &mut tx,
                    self.db.backend(),
                    &Envelope::new(SERVICE, row.id.as_str(), referral_id, &event),
                )
                .await?;
                found += 1;
            }
        }
        tx.commit().await?;
        if found > 0 {
            self.relay.wake();
            tracing::info!(referral.id = %referral_id, found, "possible matches for staff to review");
        }
        Ok(found)
    }
}

fn to_proto(row: MatchRow) -> pb::PossibleMatch {
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

impl IntakeApi {
    pub(super) async fn rpc_list_matches(
        &self,
        request: Request<pb::ListPossibleMatchesRequest>,
    ) -> Result<Response<pb::ListPossibleMatchesResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::ManageCases)?;
        Ok(Response::new(self.list_matches(request.into_inner()).await?))
    }

    pub(super) async fn rpc_confirm_match(
        &self,
        request: Request<pb::ConfirmPossibleMatchRequest>,
    ) -> Result<Response<pb::ConfirmPossibleMatchResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::ManageCases)?;
        let id = request.into_inner().possible_match_id;
        let (row, youth_id) = self.decide_match(&principal, &id, pb::PossibleMatchStatus::Confirmed).await?;
        Ok(Response::new(pb::ConfirmPossibleMatchResponse { r#match: Some(to_proto(row)), youth_id }))
    }

    pub(super) async fn rpc_reject_match(
        &self,
        request: Request<pb::RejectPossibleMatchRequest>,
    ) -> Result<Response<pb::RejectPossibleMatchResponse>, Status> {
        let principal = wf_auth::principal(&request)?.clone();
        principal.authorize(Operation::ManageCases)?;
        let id = request.into_inner().possible_match_id;
        let (row, _) = self.decide_match(&principal, &id, pb::PossibleMatchStatus::Rejected).await?;
        Ok(Response::new(pb::RejectPossibleMatchResponse { r#match: Some(to_proto(row)) }))
    }

    async fn list_matches(
        &self,
        request: pb::ListPossibleMatchesRequest,
    ) -> Result<pb::ListPossibleMatchesResponse, ApiError> {
        let mut violations = Vec::new();
        if pb::PossibleMatchStatus::try_from(request.status).is_err() {
            violations.push(FieldViolation::new("status", "allowed PENDING, CONFIRMED, REJECTED or unset for all"));
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
        if !request.page_token.is_empty() && !request.page_token.starts_with("pm_") {
            violations.push(FieldViolation::new("page_token", "is not a token from an earlier response"));
        }
        if !violations.is_empty() {
            return Err(ApiError::InvalidArgument(violations));
        }
        let rows =
            store::list(&self.db, request.status, &request.referral_id, &request.page_token, i64::from(page_size) + 1)
                .await?;
        let more = rows.len() > page_size as usize;
        let matches: Vec<pb::PossibleMatch> = rows.into_iter().take(page_size as usize).map(to_proto).collect();
        let next_page_token =
            if more { matches.last().map(|m| m.possible_match_id.clone()).unwrap_or_default() } else { String::new() };
        Ok(pb::ListPossibleMatchesResponse { matches, next_page_token })
    }

    /// Confirms or rejects a pending match. Confirming gives the referral the earlier youth id.
    async fn decide_match(
        &self,
        principal: &Principal,
        id: &str,
        decision: pb::PossibleMatchStatus,
    ) -> Result<(MatchRow, String), ApiError> {
        let now = wf_db::now_micros();
        let mut tx = self.db.begin().await?;
        let row = store::get(&mut tx, id).await?.ok_or_else(|| ApiError::NotFound(format!("possible match {id}")))?;
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

/// How often the background work looks for new referrals to match and for overdue mandated reports.
const BACKGROUND_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Starts intake's background work (returning-youth matching, mandated-report deadlines) until `shutdown`.
/// The identity key comes from `identity_key_file`, else the data folder (created on first use).
pub(crate) fn spawn_background(
    ctx: &wf_server::ServiceContext,
    keys: Arc<LiveKeys>,
    relay: RelayHandle,
    shutdown: tokio_util::sync::CancellationToken,
) -> anyhow::Result<()> {
    let hasher = crate::vault::load_identity_key(&ctx.config)?;
    let matcher = Matcher {
        db: ctx.db.clone(),
        keys,
        hasher: Arc::new(hasher),
        relay: relay.clone(),
        threshold: matching::DEFAULT_THRESHOLD,
    };
    tokio::spawn(async move {
        loop {
            if let Err(err) = matcher.process_pending().await {
                tracing::warn!(error = %err, "returning-youth matching failed; will retry");
            }
            match crate::mandated::check_overdue(&matcher.db, chrono::Utc::now()).await {
                Ok(0) => {}
                Ok(_) => relay.wake(),
                Err(err) => tracing::warn!(error = %err, "mandated report check failed; will retry"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(BACKGROUND_INTERVAL) => {}
            }
        }
    });
    Ok(())
}
