//! A referral's way into cases: its coded facts from `referral.received`, then, once routed,
//! its case — opened and assigned (earlier case manager first, then the least loaded eligible
//! one), or a returning youth's closed case reopened for it. Inbox record, case row, assignment
//! and outbox events commit together or not at all.

use wf_db::{DbError, Tx};
use wf_events::{Envelope, HandleError, inbox};
use wf_proto::cases::v1::CaseStage;
use wf_proto::common::v1::TriageTier;
use wf_types::{CaseId, ReferralId};

use super::App;
use super::lifecycle::{Reopening, reopen_in};
use crate::SERVICE;
use crate::domain::lifecycle::{self, Comeback, Move};
use crate::domain::{self, Assignment, CaseFacts, CaseStatus, Site, reassign};
use crate::store::continuity::ReferralFacts;
use crate::store::{self, CaseRecord};

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

/// Stores the coded facts of a received referral (once, whatever is redelivered).
pub async fn record_facts(app: &App, envelope: &Envelope, facts: &ReferralFacts) -> Result<(), DbError> {
    let mut tx = app.db.begin().await?;
    if inbox::record(&mut tx, SERVICE, envelope).await? {
        store::continuity::insert_facts(&mut tx, facts).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A routed referral, as `referral.routed` says.
#[derive(Debug, Clone)]
pub struct Routed {
    pub referral_id: ReferralId,
    pub site: Site,
    pub triage_tier: TriageTier,
    pub practice: bool,
    pub attempt: i32,
}

/// Opens and assigns the case of a routed referral (or reopens the youth's closed one).
pub async fn open_for_routed(app: &App, envelope: &Envelope, routed: Routed) -> Result<RoutedOutcome, HandleError> {
    let Routed { referral_id, site, triage_tier, practice, attempt } = routed;
    let mut tx = app.db.begin().await?;
    // The lock comes first so everything below, the duplicate checks included, is serialized.
    store::lock_assignments(&mut tx, app.db.backend()).await?;
    if !inbox::record(&mut tx, SERVICE, envelope).await? {
        tx.commit().await?;
        tracing::debug!(event.id = %envelope.event_id, referral.id = %referral_id, "referral.routed already handled");
        return Ok(RoutedOutcome::Duplicate);
    }
    if let Some(case_id) = store::case_id_for_referral(&mut tx, referral_id.as_str()).await? {
        // A re-route offers the referral to another partner; which partner serves the case is
        // decided by the offer it accepts (`app::offers`), never by the routing.
        tx.commit().await?;
        tracing::info!(case.id = %case_id, referral.id = %referral_id, attempt, "referral re-routed; its case stays as it is");
        return Ok(RoutedOutcome::CaseExists { case_id });
    }

    // Who the youth is comes from referral.received; routing may overtake it on the way here.
    let Some(referral) = store::continuity::facts_of(&mut tx, referral_id.as_str()).await? else {
        tx.rollback().await?;
        return Err(HandleError::Transient(format!(
            "referral.received for {referral_id} has not arrived yet; retrying referral.routed"
        )));
    };
    let now = app.now();
    let earlier = store::continuity::latest_case_of_youth(&mut tx, &referral.youth_id).await?;
    let loads = store::open_caseloads_in(&mut tx).await?;
    let roster = store::roster::load_in(&mut tx).await?;
    let language = (!referral.language.is_empty()).then(|| referral.language.clone());
    let facts = CaseFacts { site, language, at: now, emergent: triage_tier == TriageTier::Emergent };
    let previous_owner = earlier.as_ref().and_then(|case| case.case_manager_id.as_deref()?.parse().ok());
    let (assignment, continued) = reassign::with_continuity(&roster, &loads, &facts, previous_owner.as_ref());
    if let Some(earlier) = earlier.filter(|case| lifecycle::is_closed(case.stage)) {
        let reopen = ReopenFor { case: earlier, referral_id: referral_id.to_string(), now };
        return reopen_for_referral(app, tx, reopen, assignment, continued).await;
    }
    let assigned = match &assignment {
        Assignment::Assigned(to) => Some(to),
        Assignment::AwaitingAssignment(_) => None,
    };
    let case = CaseRecord {
        case_id: CaseId::generate().to_string(),
        referral_id: referral_id.to_string(),
        youth_id: Some(referral.youth_id.clone()),
        site,
        triage_tier: domain::triage_tier_code(triage_tier).to_owned(),
        // Engagement starts at once: contact attempts begin whether or not an owner is found.
        stage: CaseStage::Engagement,
        status: if assigned.is_some() { CaseStatus::Assigned } else { CaseStatus::AwaitingAssignment },
        case_manager_id: assigned.map(|to| to.case_manager_id.to_string()),
        assigned_at: assigned.map(|_| now),
        practice,
        opened_at: now,
        updated_at: now,
        lifecycle: Default::default(),
        engagement: Default::default(),
    };
    store::insert_case(&mut tx, &case).await.map_err(retry_on_duplicate)?;

    match &assignment {
        Assignment::Assigned(to) => {
            let reason = reassign::continuity_reason(to, continued);
            super::assignment::record(&mut tx, &case.case_id, to, reason.clone(), now).await?;
            let event = wf_proto::events::v1::CaseAssigned {
                reason,
                ..super::assignment::assigned(&case, &case.referral_id, to, now)
            };
            let event = Envelope::new(SERVICE, case.case_id.clone(), case.referral_id.clone(), &event);
            app.commit(tx, &[event]).await?;
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
            let event = super::assignment::queued(&mut tx, &case, &case.referral_id, *why, now).await?;
            app.commit(tx, &[event]).await?;
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

/// A closed case taking a new referral.
struct ReopenFor {
    case: CaseRecord,
    referral_id: String,
    now: i64,
}

/// Reopens a returning youth's closed case for the new referral, assigns it, and announces
/// `case.reopened` (and `case.assigned`). A referral more than 14 days after closure is a
/// return, and a new trafficking referral after closure is re-exploitation (DOMAIN.md); within
/// 14 days it is a transfer, neither a return nor a recidivism event.
async fn reopen_for_referral(
    app: &App,
    mut tx: Tx,
    reopen: ReopenFor,
    assignment: Assignment,
    continued: bool,
) -> Result<RoutedOutcome, HandleError> {
    let ReopenFor { case, referral_id, now } = reopen;
    let closed_at = case.lifecycle.closed_at.unwrap_or(case.updated_at);
    let comeback = lifecycle::comeback(closed_at, now);
    let (relation, stage_reason) = match comeback {
        Comeback::Return => ("return", "youth_returned"),
        Comeback::Transfer => ("transfer", "transfer"),
    };
    lifecycle::check(case.stage, CaseStage::Engagement, Move::Reopen)
        .map_err(|refused| HandleError::Permanent(refused.to_string()))?;
    let reopening = Reopening {
        referral_id: &referral_id,
        correlation_id: &referral_id,
        reason: stage_reason,
        recorded_by: SERVICE,
        closed_at,
        now,
    };
    let Some(reopened) = reopen_in(&mut tx, &case, &reopening, &assignment, continued).await? else {
        return Err(HandleError::Transient("the case changed stage concurrently; retrying".into()));
    };
    // The new referral is the case's current one: a partner that accepted an offer for an earlier
    // episode acts on the case again only once it accepts an offer for this referral.
    store::continuity::link_referral(&mut tx, &referral_id, &case.case_id, now, relation).await?;
    let mut events = reopened.events;
    if comeback == Comeback::Return {
        let youth_id = case.youth_id.clone().unwrap_or_default();
        events.push(super::recidivism::for_new_referral(&mut tx, &case, &youth_id, &referral_id, now).await?);
    }
    app.commit(tx, &events).await?;
    tracing::info!(
        case.id = %case.case_id,
        referral.id = %referral_id,
        relation,
        continuity = continued,
        status = reopened.status.code(),
        "closed case reopened for a returning youth's referral"
    );
    Ok(RoutedOutcome::Reopened { case_id: case.case_id, status: reopened.status })
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
