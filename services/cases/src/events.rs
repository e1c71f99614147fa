//! Event handlers. `referral.routed` opens the referral's case and assigns it: inbox record,
//! case row, assignment and the `case.assigned` outbox event commit together or not at all.

use std::sync::Arc;

use wf_db::{Db, DbError};
use wf_events::{Envelope, EventHandler, EventPayload, HandleError, RelayHandle, inbox, outbox};
use wf_proto::cases::v1::CaseStage;
use wf_proto::common::v1::{Site as ProtoSite, TriageTier};
use wf_proto::events::v1 as pb;
use wf_types::{CaseId, PartnerId, ReferralId};

pub(crate) mod continuity;
mod returning;

pub use returning::MatchOutcome;

use crate::SERVICE;
use crate::clock::Clock;
use crate::domain::{self, Assignment, CaseFacts, CaseStatus, Site};
use crate::store::{self, AssignmentRecord, CaseRecord};

/// Consumes the cases subscription.
pub struct CaseEvents {
    db: Db,
    relay: RelayHandle,
    clock: Arc<dyn Clock>,
}

/// What handling one `referral.routed` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoutedOutcome {
    /// This event was handled before (redelivery): nothing changed.
    Duplicate,
    /// The referral already has a case (a re-route): nothing changed.
    CaseExists {
        case_id: String,
    },
    Opened {
        case_id: String,
        status: CaseStatus,
    },
    /// A returning youth's closed case took the referral and was reopened.
    Reopened {
        case_id: String,
        status: CaseStatus,
    },
}

impl CaseEvents {
    pub fn new(db: Db, relay: RelayHandle, clock: Arc<dyn Clock>) -> Self {
        Self { db, relay, clock }
    }

    /// Opens and assigns the case of a routed referral.
    pub async fn on_referral_routed(&self, envelope: &Envelope) -> Result<RoutedOutcome, HandleError> {
        let routed: pb::ReferralRouted =
            envelope.payload_as().map_err(|err| HandleError::Permanent(err.to_string()))?;
        let referral_id: ReferralId = routed
            .referral_id
            .parse()
            .map_err(|err| HandleError::Permanent(format!("referral.routed referral_id: {err}")))?;
        // A referral without a site is not tied to one pilot site: it is handled as countywide.
        let site = match ProtoSite::try_from(routed.site) {
            Ok(site) => Site::from_proto(site).unwrap_or(Site::Countywide),
            Err(_) => return Err(HandleError::Permanent(format!("referral.routed site {} is not known", routed.site))),
        };
        let triage_tier = TriageTier::try_from(routed.triage_tier).unwrap_or(TriageTier::Unspecified);
        // The partner asked to serve the youth: the one partner that may record services on the case.
        let partner_id = match routed.partner_id.as_str() {
            "" => None,
            id => Some(
                id.parse::<PartnerId>()
                    .map_err(|err| HandleError::Permanent(format!("referral.routed partner_id: {err}")))?
                    .to_string(),
            ),
        };

        let mut tx = self.db.begin().await?;
        // The lock comes first so everything below, the duplicate checks included, is serialized.
        store::lock_assignments(&mut tx, self.db.backend()).await?;
        if !inbox::record(&mut tx, SERVICE, envelope).await? {
            tx.commit().await?;
            tracing::debug!(event.id = %envelope.event_id, referral.id = %referral_id, "referral.routed already handled");
            return Ok(RoutedOutcome::Duplicate);
        }
        if let Some(case_id) = store::case_id_for_referral(&mut tx, referral_id.as_str()).await? {
            // A re-route hands the referral to another partner: from now on that partner serves it.
            store::services::set_partner(&mut tx, &case_id, partner_id.as_deref()).await?;
            tx.commit().await?;
            tracing::info!(case.id = %case_id, referral.id = %referral_id, attempt = routed.attempt, "referral re-routed; its case stays as it is");
            return Ok(RoutedOutcome::CaseExists { case_id });
        }

        // Who the youth is comes from referral.received; routing may overtake it on the way here.
        let Some(referral) = store::continuity::facts_of(&mut tx, referral_id.as_str()).await? else {
            tx.rollback().await?;
            return Err(HandleError::Transient(format!(
                "referral.received for {referral_id} has not arrived yet; retrying referral.routed"
            )));
        };
        let now = self.clock.now_micros();
        let earlier = store::continuity::latest_case_of_youth(&mut tx, &referral.youth_id).await?;
        let loads = store::open_caseloads_in(&mut tx).await?;
        let roster = store::roster::load_in(&mut tx).await?;
        let language = (!referral.language.is_empty()).then(|| referral.language.clone());
        let facts = CaseFacts { site, language, at: now, emergent: triage_tier == TriageTier::Emergent };
        let previous_owner = earlier.as_ref().and_then(|case| case.case_manager_id.as_deref()?.parse().ok());
        let (assignment, continued) = continuity::assign(&roster, &loads, &facts, previous_owner.as_ref());
        if let Some(earlier) = earlier.filter(|case| domain::lifecycle::is_closed(case.stage)) {
            let reopened = continuity::Reopen { case: earlier, referral_id: referral_id.to_string(), partner_id, now };
            return self.reopen(tx, reopened, assignment, continued).await;
        }
        let case_id = CaseId::generate();
        let assigned = match &assignment {
            Assignment::Assigned(to) => Some(to),
            Assignment::AwaitingAssignment(_) => None,
        };
        let case = CaseRecord {
            case_id: case_id.to_string(),
            referral_id: referral_id.to_string(),
            youth_id: Some(referral.youth_id.clone()),
            site,
            triage_tier: domain::triage_tier_code(triage_tier).to_owned(),
            // Engagement starts at once: contact attempts begin whether or not an owner is found.
            stage: CaseStage::Engagement,
            status: if assigned.is_some() { CaseStatus::Assigned } else { CaseStatus::AwaitingAssignment },
            case_manager_id: assigned.map(|to| to.case_manager_id.to_string()),
            assigned_at: assigned.map(|_| now),
            practice: routed.practice,
            opened_at: now,
            updated_at: now,
            lifecycle: Default::default(),
            engagement: Default::default(),
        };
        store::insert_case(&mut tx, &case).await.map_err(retry_on_duplicate)?;
        store::services::set_partner(&mut tx, &case.case_id, partner_id.as_deref()).await?;

        match &assignment {
            Assignment::Assigned(to) => {
                let reason = continuity::reason(to, continued);
                store::insert_assignment(
                    &mut tx,
                    &AssignmentRecord {
                        case_id: case.case_id.clone(),
                        case_manager_id: to.case_manager_id.to_string(),
                        assigned_at: now,
                        reason: reason.clone(),
                        open_cases_before: to.open_cases,
                        max_caseload: to.max_caseload,
                    },
                )
                .await?;
                let event = pb::CaseAssigned {
                    case_id: case.case_id.clone(),
                    referral_id: case.referral_id.clone(),
                    case_manager_id: to.case_manager_id.to_string(),
                    site: case.site.to_proto() as i32,
                    assigned_at: Some(timestamp(now)),
                    practice: case.practice,
                    reason,
                    ..Default::default()
                };
                let event = Envelope::new(SERVICE, case.case_id.clone(), case.referral_id.clone(), &event);
                outbox::enqueue(&mut tx, self.db.backend(), &event).await?;
                tx.commit().await?;
                self.relay.wake();
                tracing::info!(
                    case.id = %case.case_id,
                    referral.id = %case.referral_id,
                    case_manager.id = %to.case_manager_id,
                    site = case.site.code(),
                    open_cases = to.open_cases,
                    max_caseload = to.max_caseload,
                    "case opened and assigned"
                );
            }
            Assignment::AwaitingAssignment(why) => {
                let event = continuity::queued(&mut tx, &case, &case.referral_id, *why, now).await?;
                outbox::enqueue(&mut tx, self.db.backend(), &event).await?;
                tx.commit().await?;
                self.relay.wake();
                tracing::warn!(
                    case.id = %case.case_id,
                    referral.id = %case.referral_id,
                    site = case.site.code(),
                    reason = why.code(),
                    "no eligible case manager; case awaits assignment in the supervisors' queue"
                );
            }
        }
        Ok(RoutedOutcome::Opened { case_id: case.case_id, status: case.status })
    }
}

#[async_trait::async_trait]
impl EventHandler for CaseEvents {
    async fn handle(&self, envelope: Envelope) -> Result<(), HandleError> {
        match envelope.event_type.as_str() {
            pb::ReferralReceived::TYPE => self.on_referral_received(&envelope).await,
            pb::ReferralRouted::TYPE => self.on_referral_routed(&envelope).await.map(|_| ()),
            pb::PossibleMatchConfirmed::TYPE => self.on_possible_match_confirmed(&envelope).await.map(|_| ()),
            // Bound for the enrollment flow of a later step; acknowledged without effect until then.
            pb::OfferAccepted::TYPE => {
                tracing::debug!(event.id = %envelope.event_id, event.r#type = %envelope.event_type, "event has no effect on cases yet");
                Ok(())
            }
            other => Err(HandleError::Permanent(format!("cases does not handle event type {other}"))),
        }
    }
}

/// A concurrent insert for the same referral means another delivery won: retrying finds its case.
fn retry_on_duplicate(err: DbError) -> HandleError {
    match err {
        DbError::UniqueViolation { constraint } => {
            HandleError::Transient(format!("case for this referral was opened concurrently ({constraint})"))
        }
        other => other.into(),
    }
}

pub(crate) use wf_proto::time::timestamp_from_micros as timestamp;
