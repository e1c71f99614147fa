//! Returning youth at run time: for every new referral, store its keyed identity hashes and record
//! the possible matches staff then confirm or reject (`app::matches`). Never merges by itself: only a
//! confirmation gives a referral the earlier youth id. The matching worker (`workers::matching`)
//! repeats [`Matcher::process_pending`].

use std::sync::Arc;

use wf_crypto::IdentityHasher;
use wf_db::Db;
use wf_events::{Envelope, RelayHandle, outbox};
use wf_proto::events::v1 as events;
use wf_proto::intake::v1 as pb;
use wf_types::{PossibleMatchId, SharedClock};

use super::vault::{LiveKeys, open_sealed};
use crate::SERVICE;
use crate::domain::matching::{self, Identity};
use crate::store::matches::{self as store, MatchRow};

/// The `record.accessed` event of the matcher opening `record_id`'s identity fields while matching
/// `matching_referral_id` (the correlation id ties one run's reads together).
fn matching_access(record_id: &str, matching_referral_id: &str, at: i64) -> Envelope {
    let access = events::RecordAccessed {
        actor: SERVICE.to_owned(),
        actor_role: wf_auth::Role::Service.to_string(),
        record_id: record_id.to_owned(),
        purpose: matching::ACCESS_PURPOSE.to_owned(),
        fields: matching::FIELDS_READ.iter().map(|f| (*f).to_owned()).collect(),
        at: Some(wf_proto::time::timestamp_from_micros(at)),
        ..Default::default()
    };
    Envelope::new(SERVICE, record_id, matching_referral_id, &access)
}

/// Finds earlier referrals of the same youth for referrals not yet processed.
pub struct Matcher {
    pub db: Db,
    pub keys: Arc<LiveKeys>,
    pub hasher: Arc<IdentityHasher>,
    pub relay: RelayHandle,
    pub clock: SharedClock,
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
        let now = self.clock.now_micros();
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
        outbox::enqueue(&mut tx, self.db.backend(), &matching_access(referral_id, referral_id, now)).await?;
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
            outbox::enqueue(&mut tx, self.db.backend(), &matching_access(&candidate_referral, referral_id, now))
                .await?;
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
                id: PossibleMatchId::generate().to_string(),
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
            tracing::debug!(referral.id = %referral_id, found, "possible matches for staff to review");
        }
        Ok(found)
    }
}
