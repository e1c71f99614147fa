//! `GET /referrals/{id}/routing`: "why this partner". Every routing decision for the referral, each
//! candidate with every rule's verdict as routing stored it (capacity as it was at decision time),
//! and the latest decision explained as the referral page's checklist. Staff who read routing
//! decisions (ReadRoutingDecision); a partner gets not found.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use wf_auth::Operation;
use wf_proto::routing::v1 as routing;
use wf_types::ReferralId;

use super::auth::{Caller, OrApi as _};
use super::codes::{OutcomeCode, TierCode, VerdictCode, instant, some};
use super::error::{ApiError, ErrorBody};
use super::input::path_id;
use crate::api::referrals::Abilities;
use crate::app::App;
use crate::domain::queue::explain::{self, Outcome};

const MAX_PAGES: usize = 4;
const PAGE_SIZE: i32 = 500;

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleVerdict {
    /// The policy's rule (`serves_site`, `open_capacity`, …).
    pub rule_id: String,
    pub verdict: Option<VerdictCode>,
    /// Contribution to the candidate's score (scoring rules).
    pub score: f64,
    /// What routing found ("age 16 in 12..24", "capacity 3/8 open"); coded, never personal.
    pub detail: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Candidate {
    pub partner_id: String,
    pub partner_service_id: String,
    /// 1 = best; 0 for an excluded candidate.
    pub rank: i32,
    pub score: f64,
    /// Passed every eligibility rule.
    pub eligible: bool,
    pub verdicts: Vec<RuleVerdict>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Decision {
    pub decision_id: String,
    /// 1 for the first decision, 2+ for each re-route.
    pub attempt: i32,
    pub decided_at: Option<DateTime<Utc>>,
    pub outcome: Option<OutcomeCode>,
    /// Coded trigger: `referral_received`, `referral_triaged`, `offer_declined`, `offer_expired`, `manual`.
    pub reason: String,
    pub policy_version: String,
    pub triage_tier: Option<TierCode>,
    /// The chosen organization and service (null when none was chosen).
    pub partner_id: Option<String>,
    pub partner_service_id: Option<String>,
    pub offer_id: Option<String>,
    pub practice: bool,
    /// Ranked candidates, best first, then the excluded ones.
    pub candidates: Vec<Candidate>,
}

/// One line of the checklist.
#[derive(Debug, Serialize, ToSchema)]
pub struct Criterion {
    pub rule_id: String,
    /// The rule as a question the checklist answers ("Serves the youth's site").
    pub label: String,
    /// `met`, `not_met` or `does_not_apply`.
    #[schema(example = "met")]
    pub outcome: &'static str,
    pub detail: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Exclusion {
    /// The rule that excluded candidates, in words.
    pub rule: String,
    pub candidates: usize,
}

/// The latest decision, as the referral page explains it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Explanation {
    pub decision_id: String,
    /// The chosen service's criteria, met or not (empty when none was chosen).
    pub checklist: Vec<Criterion>,
    /// The chosen service's capacity when routing decided ("capacity 3/8 open").
    pub capacity_at_decision: Option<String>,
    /// Services considered.
    pub considered: usize,
    /// Nobody chosen: each rule that excluded candidates, most first.
    pub exclusions: Vec<Exclusion>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoutingAnswer {
    pub referral_id: String,
    /// Oldest attempt first.
    pub decisions: Vec<Decision>,
    /// The latest decision explained (null before routing decided).
    pub latest: Option<Explanation>,
}

fn outcome_code(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Met => "met",
        Outcome::NotMet => "not_met",
        Outcome::DoesNotApply => "does_not_apply",
    }
}

fn decision(d: &routing::RoutingDecision) -> Decision {
    Decision {
        decision_id: d.decision_id.clone(),
        attempt: d.attempt,
        decided_at: instant(&d.decided_at),
        outcome: OutcomeCode::of(d.outcome),
        reason: d.reason.clone(),
        policy_version: d.policy_version.clone(),
        triage_tier: TierCode::of(d.triage_tier),
        partner_id: some(&d.partner_id),
        partner_service_id: some(&d.partner_service_id),
        offer_id: some(&d.offer_id),
        practice: d.practice,
        candidates: d
            .candidates
            .iter()
            .map(|c| Candidate {
                partner_id: c.partner_id.clone(),
                partner_service_id: c.partner_service_id.clone(),
                rank: c.rank,
                score: c.score,
                eligible: c.eligible,
                verdicts: c
                    .verdicts
                    .iter()
                    .map(|v| RuleVerdict {
                        rule_id: v.rule_id.clone(),
                        verdict: VerdictCode::of(v.verdict),
                        score: v.score,
                        detail: v.detail.clone(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn explanation(d: &routing::RoutingDecision) -> Explanation {
    let chosen = explain::chosen(d);
    let checklist = chosen
        .map(|candidate| {
            explain::checklist(candidate)
                .into_iter()
                .zip(&candidate.verdicts)
                .map(|(criterion, verdict)| Criterion {
                    rule_id: verdict.rule_id.clone(),
                    label: criterion.label,
                    outcome: outcome_code(criterion.outcome),
                    detail: criterion.detail,
                })
                .collect()
        })
        .unwrap_or_default();
    Explanation {
        decision_id: d.decision_id.clone(),
        checklist,
        capacity_at_decision: chosen.and_then(explain::capacity_at_decision),
        considered: d.candidates.len(),
        exclusions: if chosen.is_none() {
            explain::exclusions(d).into_iter().map(|(rule, candidates)| Exclusion { rule, candidates }).collect()
        } else {
            Vec::new()
        },
    }
}

/// Why this partner: the referral's routing decisions and the latest one explained.
#[utoipa::path(
    get, path = "/referrals/{referral_id}/routing", tag = "referrals",
    params(("referral_id" = String, Path)),
    responses(
        (status = 200, body = RoutingAnswer),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    )
)]
pub async fn explain(
    State(app): State<App>,
    caller: Caller,
    Path(referral_id): Path<String>,
) -> Result<Json<RoutingAnswer>, ApiError> {
    caller.staff(Abilities::of(caller.role).routing, Operation::ReadRoutingDecision)?;
    let id: ReferralId = path_id(&referral_id)?;
    let mut client = caller.routing(&app)?;
    let mut decisions = Vec::new();
    let mut page_token = String::new();
    for _ in 0..MAX_PAGES {
        let request = routing::ListDecisionsRequest {
            referral_id: id.to_string(),
            page_size: PAGE_SIZE,
            page_token: page_token.clone(),
            ..Default::default()
        };
        let page = client.list_decisions(request).await.or_api(&caller)?;
        decisions.extend(page.decisions);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    decisions.sort_by_key(|d| (d.attempt, d.decided_at.as_ref().map(|t| (t.seconds, t.nanos))));
    Ok(Json(RoutingAnswer {
        referral_id: id.to_string(),
        latest: explain::latest(&decisions).map(explanation),
        decisions: decisions.iter().map(decision).collect(),
    }))
}
