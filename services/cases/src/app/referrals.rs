//! A referral's way into cases: its coded facts from `referral.received`, then, once routed,
//! its case (`domain::continuity::place`): the youth's open case takes it (one open case per
//! youth), or the youth's closed case is reopened for it, or a new case is opened and assigned
//! (earlier case manager first, then the least loaded eligible one). Inbox record, case row,
//! assignment and outbox events commit together or not at all.

use wf_db::{DbError, Tx};
use wf_events::{Envelope, HandleError, inbox};
use wf_proto::cases::v1::CaseStage;
use wf_proto::common::v1::TriageTier;
use wf_types::{CaseId, ReferralId};

use super::App;
use super::lifecycle::{Reopening, ReopeningReferral, reopen_in};
use crate::SERVICE;
use crate::domain::continuity::{self, Placement, YouthCases};
use crate::domain::lifecycle::{self, Move};
use crate::domain::{self, Assignment, CaseFacts, CaseStatus, Site, reassign};
use crate::store::continuity::{Episode, ReferralFacts};
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
    /// The youth's open case took the referral: a youth has one open case.
    Joined {
        case_id: String,
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

/// Gives a routed referral its case: the youth's open case, the youth's closed case reopened, or
/// a new case, opened and assigned.
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
    let open = store::open_case_of_youth(&mut tx, &referral.youth_id, practice, None).await?;
    let closed = match &open {
        Some(_) => None,
        None => store::latest_closed_case_of_youth(&mut tx, &referral.youth_id, practice, None).await?,
    };
    let youth_cases = YouthCases {
        open: open.is_some(),
        latest_closed_exit: closed.as_ref().map(|case| case.lifecycle.exited_at.or(case.lifecycle.closed_at)),
    };
    let placement = continuity::place(youth_cases, referral.received_at);
    if let (Placement::JoinOpen, Some(open)) = (placement, open) {
        return join_open_case(app, tx, &open, &referral, now).await;
    }
    let loads = store::open_caseloads_in(&mut tx).await?;
    let roster = store::roster::load_in(&mut tx).await?;
    let language = (!referral.language.is_empty()).then(|| referral.language.clone());
    let facts = CaseFacts { site, language, at: now, emergent: triage_tier == TriageTier::Emergent };
    let previous_owner = closed.as_ref().and_then(|case| case.case_manager_id.as_deref()?.parse().ok());
    let (assignment, continued) = reassign::with_continuity(&roster, &loads, &facts, previous_owner.as_ref());
    if let (Placement::Reopen(_), Some(closed)) = (placement, closed) {
        let reopen = ReopenFor { case: closed, referral: &referral, now };
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
        updated_by: SERVICE.to_owned(),
        lifecycle: Default::default(),
        engagement: Default::default(),
        merged_into: None,
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

/// The youth already has an open case: the referral joins it (the current episode), and
/// `case.assigned` (or `case.awaiting_assignment` while the case waits in the supervisors' queue)
/// names the referral with its case, so intake knows where it went.
async fn join_open_case(
    app: &App,
    mut tx: Tx,
    case: &CaseRecord,
    referral: &ReferralFacts,
    now: i64,
) -> Result<RoutedOutcome, HandleError> {
    store::continuity::link_referral(&mut tx, &referral.referral_id, &case.case_id, now, "joined", Episode::Current)
        .await?;
    // Announced as of the join, never before the referral was received (clocks differ).
    let event = super::assignment::joined(&mut tx, case, &referral.referral_id, now.max(referral.received_at)).await?;
    app.commit(tx, &[event]).await?;
    tracing::info!(
        case.id = %case.case_id,
        referral.id = %referral.referral_id,
        stage = domain::stage_code(case.stage),
        "referral of a youth with an open case joined that case"
    );
    Ok(RoutedOutcome::Joined { case_id: case.case_id.clone() })
}

/// A closed case taking a new referral.
struct ReopenFor<'a> {
    case: CaseRecord,
    referral: &'a ReferralFacts,
    now: i64,
}

/// Reopens a returning youth's closed case for the new referral, assigns it, and announces
/// `case.reopened` (and `case.assigned`). Judged from the case's exit to the referral's receipt
/// (`continuity::comeback`): 14 days or more is a return, and a new trafficking referral after
/// closure is re-exploitation (DOMAIN.md); within 14 days it is a transfer, neither a return nor a
/// recidivism event; received before the exit, it is neither either.
async fn reopen_for_referral(
    app: &App,
    mut tx: Tx,
    reopen: ReopenFor<'_>,
    assignment: Assignment,
    continued: bool,
) -> Result<RoutedOutcome, HandleError> {
    let ReopenFor { case, referral, now } = reopen;
    lifecycle::check(case.stage, CaseStage::Engagement, Move::Reopen)
        .map_err(|refused| HandleError::Permanent(refused.to_string()))?;
    let reopening = Reopening {
        referral: Some(ReopeningReferral { referral_id: &referral.referral_id, received_at: referral.received_at }),
        correlation_id: &referral.referral_id,
        reason: None,
        recorded_by: SERVICE,
        now,
    };
    let Some(reopened) = reopen_in(&mut tx, &case, &reopening, &assignment, continued).await? else {
        return Err(HandleError::Transient("the case changed stage concurrently; retrying".into()));
    };
    app.commit(tx, &reopened.events).await?;
    tracing::info!(
        case.id = %case.case_id,
        referral.id = %referral.referral_id,
        relation = reopened.comeback.relation(),
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
            // another delivery opened this referral's case, or the youth's one open case: retrying
            // finds it and joins it
            HandleError::Transient(format!("a case for this referral or youth was opened concurrently ({constraint})"))
        }
        other => other.into(),
    }
}
