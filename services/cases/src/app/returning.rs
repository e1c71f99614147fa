//! Returning youth (#3): staff confirmed in intake that a new referral is a youth seen before
//! (`possible_match.confirmed`, carrying the earlier youth id). Intake never merges on its own; the
//! confirmed link is what gives continuity (`domain::continuity::confirmed_link`).
//!
//! - The referral has no case yet: its stored facts take the earlier youth id, so when it is
//!   routed it joins the youth's open case, or reopens their closed case, as any further referral
//!   of the youth does.
//! - The referral has its own open case and the youth has another open case: a youth has one open
//!   case, so the newer case joins the earlier one (`app::merge`) and is closed as merged;
//!   `case.linked` (relation `concurrent`) announces the link.
//! - Otherwise the referral's case takes the earlier youth id and is linked to the youth's earlier
//!   case (`case.linked`: a return, a transfer within 14 days of its exit, or concurrent when only
//!   the earlier case is open). While it is still in engagement, it moves to the earlier case
//!   manager when they are active, not on leave and have room (`REASSIGN_REASON_CONTINUITY`);
//!   further along, the youth keeps the case manager they are working with and a supervisor
//!   decides. A return is also a re-exploitation recidivism event on the earlier case, dated when
//!   the referral was received, as when a new referral reopens it.
//!
//! Inbox-deduplicated and one row per confirmed match: a redelivered event changes nothing.

use wf_events::{Envelope, HandleError, inbox};
use wf_proto::cases::v1::{CaseStage, ReassignReason};
use wf_proto::events::v1 as pb;
use wf_types::{CaseManagerId, ReferralId, YouthId};

use super::{App, assignment, merge, recidivism};
use crate::SERVICE;
use crate::domain::continuity::{self, Comeback, ConfirmedLink};
use crate::domain::{CaseFacts, lifecycle, reassign};
use crate::store;
use crate::store::continuity::CaseLink;

/// What handling one `possible_match.confirmed` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchOutcome {
    /// Handled before (redelivery): nothing changed.
    Duplicate,
    /// The referral has no case yet; its facts now name the earlier youth.
    FactsUpdated,
    /// The referral's case already belongs to the earlier youth (it reopened their case).
    AlreadyTheSameYouth { case_id: String },
    /// The youth has no other case here: the case only took the earlier youth id.
    NoEarlierCase { case_id: String },
    Linked {
        case_id: String,
        earlier_case_id: String,
        relation: &'static str,
        /// Moved to the earlier case manager.
        reassigned: bool,
    },
    /// Both cases were open: the referral's case joined the youth's open case and was closed as
    /// merged.
    Merged { case_id: String, into_case_id: String },
}

/// A match staff confirmed in intake: `referral_id` is the youth `youth_id` seen before.
#[derive(Debug, Clone)]
pub struct ConfirmedMatch {
    pub possible_match_id: String,
    pub referral_id: ReferralId,
    pub youth_id: YouthId,
}

/// Gives continuity to a confirmed returning youth (see the module documentation).
pub async fn link_confirmed(
    app: &App,
    envelope: &Envelope,
    confirmed: ConfirmedMatch,
) -> Result<MatchOutcome, HandleError> {
    let ConfirmedMatch { possible_match_id, referral_id, youth_id } = confirmed;
    let mut tx = app.db.begin().await?;
    // The case may move to another case manager: serialized with every other assignment.
    store::lock_assignments(&mut tx, app.db.backend()).await?;
    if !inbox::record(&mut tx, SERVICE, envelope).await? {
        tx.commit().await?;
        return Ok(MatchOutcome::Duplicate);
    }
    let facts = store::continuity::facts_of(&mut tx, referral_id.as_str()).await?;
    let case_id = store::case_id_for_referral(&mut tx, referral_id.as_str()).await?;
    let (Some(facts), case_id) = (facts, case_id) else {
        tx.rollback().await?;
        return Err(HandleError::Transient(format!(
            "referral.received for {referral_id} has not arrived yet; retrying possible_match.confirmed"
        )));
    };
    store::continuity::set_referral_youth(&mut tx, referral_id.as_str(), youth_id.as_str()).await?;
    let Some(case_id) = case_id else {
        tx.commit().await?;
        tracing::info!(referral.id = %referral_id, "confirmed returning youth; the referral's case will continue the earlier one");
        return Ok(MatchOutcome::FactsUpdated);
    };
    let case = store::get_case_in(&mut tx, &case_id)
        .await?
        .ok_or_else(|| HandleError::Permanent(format!("case {case_id} vanished")))?;
    if case.youth_id.as_deref() == Some(youth_id.as_str()) {
        tx.commit().await?;
        return Ok(MatchOutcome::AlreadyTheSameYouth { case_id });
    }
    let now = app.now();
    let earlier = match store::open_case_of_youth(&mut tx, youth_id.as_str(), case.practice, Some(&case_id)).await? {
        Some(open) => Some(open),
        None => store::latest_closed_case_of_youth(&mut tx, youth_id.as_str(), case.practice, Some(&case_id)).await?,
    };
    let Some(earlier) = earlier else {
        store::continuity::set_case_youth(&mut tx, &case_id, youth_id.as_str(), now).await?;
        tx.commit().await?;
        tracing::info!(case.id = %case_id, "confirmed returning youth has no earlier case here");
        return Ok(MatchOutcome::NoEarlierCase { case_id });
    };
    let earlier_exit = earlier.lifecycle.exited_at.or(earlier.lifecycle.closed_at);
    let link = continuity::confirmed_link(
        !lifecycle::is_closed(case.stage),
        !lifecycle::is_closed(earlier.stage),
        earlier_exit,
        facts.received_at,
    );
    let comeback = match link {
        ConfirmedLink::JoinOpen => Comeback::WhileOpen,
        ConfirmedLink::Link(comeback) => comeback,
    };
    let mut events = Vec::new();
    if link == ConfirmedLink::JoinOpen {
        // Retired first: the youth's one open case is the earlier one when the case takes the youth id.
        events.extend(merge::into_open(app, &mut tx, &case, &earlier, now).await?);
    }
    store::continuity::set_case_youth(&mut tx, &case_id, youth_id.as_str(), now).await?;
    let relation = comeback.relation();
    store::continuity::insert_link(
        &mut tx,
        &CaseLink {
            possible_match_id: possible_match_id.clone(),
            case_id: case_id.clone(),
            earlier_case_id: earlier.case_id.clone(),
            relation: relation.to_owned(),
            linked_at: now,
        },
    )
    .await?;
    events.insert(
        0,
        Envelope::new(
            SERVICE,
            case_id.clone(),
            referral_id.to_string(),
            &pb::CaseLinked {
                case_id: case_id.clone(),
                referral_id: referral_id.to_string(),
                youth_id: youth_id.to_string(),
                earlier_case_id: earlier.case_id.clone(),
                relation: relation.to_owned(),
                days_since_closure: match comeback {
                    Comeback::WhileOpen => -1,
                    _ => continuity::days_since_exit(earlier_exit, facts.received_at),
                },
                possible_match_id: possible_match_id.clone(),
                practice: case.practice,
            },
        ),
    );
    if link == ConfirmedLink::JoinOpen {
        app.commit(tx, &events).await?;
        tracing::info!(case.id = %case_id, into_case.id = %earlier.case_id, "confirmed returning youth: cases merged");
        return Ok(MatchOutcome::Merged { case_id, into_case_id: earlier.case_id });
    }

    // Continuity while the youth has not started working with the new case manager.
    let previous: Option<CaseManagerId> = earlier.case_manager_id.as_deref().and_then(|id| id.parse().ok());
    let current: Option<CaseManagerId> = case.case_manager_id.as_deref().and_then(|id| id.parse().ok());
    let mut reassigned = false;
    if let Some(previous) =
        previous.filter(|previous| case.stage == CaseStage::Engagement && current.as_ref() != Some(previous))
    {
        let roster = store::roster::load_in(&mut tx).await?;
        let loads = store::open_caseloads_in(&mut tx).await?;
        let language = (!facts.language.is_empty()).then(|| facts.language.clone());
        let emergent = facts.triage_tier == "emergent";
        let assignment_facts = CaseFacts { site: case.site, language, at: now, emergent };
        // An emergent case stays with the case manager on call unless the earlier one is on call too.
        let earlier_on_call = roster.case_manager(&previous).is_some_and(|cm| cm.on_call_at(now));
        let keep_for_emergency = emergent && current.is_some() && !earlier_on_call;
        match reassign::to_named(&roster, &loads, &assignment_facts, &previous, current.as_ref()) {
            Ok(to) if !keep_for_emergency => {
                assignment::give(&mut tx, &case_id, &to, reassign::continuity_reason(&to, true), now, SERVICE).await?;
                let event = pb::CaseAssigned {
                    reason: "continuity".to_owned(),
                    youth_id: youth_id.to_string(),
                    previous_case_manager_id: case.case_manager_id.clone().unwrap_or_default(),
                    reassign_reason: ReassignReason::Continuity as i32,
                    ..assignment::assigned(&case, referral_id.as_str(), &to, now)
                };
                events.push(Envelope::new(SERVICE, case_id.clone(), referral_id.to_string(), &event));
                reassigned = true;
            }
            Ok(_) => {}
            Err(why) => {
                tracing::info!(case.id = %case_id, case_manager.id = %previous, why = %why, "earlier case manager cannot take the linked case");
            }
        }
    }
    if comeback.is_recidivism() {
        let (youth, referral) = (youth_id.as_str(), referral_id.as_str());
        events.push(recidivism::for_new_referral(&mut tx, &earlier, youth, referral, facts.received_at, now).await?);
    }
    app.commit(tx, &events).await?;
    tracing::info!(
        case.id = %case_id,
        earlier_case.id = %earlier.case_id,
        relation,
        reassigned,
        "confirmed returning youth: cases linked"
    );
    Ok(MatchOutcome::Linked { case_id, earlier_case_id: earlier.case_id, relation, reassigned })
}
