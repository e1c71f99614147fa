//! A referral's routing as people read it: "why this partner" as a checklist of the chosen
//! service's criteria, met or not, with its capacity as it was when routing decided (the rule
//! verdicts are stored with the decision, so later capacity changes never rewrite them); and each
//! offer as a timeline: offered, then accepted, declined with its reason, expired or withdrawn.

use wf_proto::routing::v1::{Candidate, DecisionOutcome, Offer, OfferStatus, RoutingDecision, Verdict};

use super::labels::{self, DECISION_OUTCOMES, DECLINE_REASONS};
use super::time::{self, Urgency};

/// The rules routing's policy applies (`RuleVerdict.rule_id`), as questions a checklist answers.
pub fn rule_label(rule_id: &str) -> &str {
    match rule_id {
        "service_active" => "The service is active",
        "youth_program" => "Within the youth program",
        "serves_site" => "Serves the youth's site",
        "age_eligible" => "Serves the youth's age",
        "open_capacity" => "Has an open place",
        "emergent_24_7" => "Answers around the clock (emergent referrals)",
        "offers_needed_service" => "Offers a service the youth needs",
        "not_offered_before" => "Not offered this referral before",
        "needs_covered" => "Covers the youth's needs",
        "language_match" => "Speaks the youth's preferred language",
        "capacity_remaining" => "Places left",
        other => other,
    }
}

/// Whether a criterion held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Met,
    NotMet,
    /// The rule did not apply (no language preference, or switched off by the policy).
    DoesNotApply,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Met => "Met",
            Outcome::NotMet => "Not met",
            Outcome::DoesNotApply => "Does not apply",
        }
    }

    /// A shape beside the words, hidden from screen readers.
    pub fn icon(self) -> &'static str {
        match self {
            Outcome::Met => "✓",
            Outcome::NotMet => "✗",
            Outcome::DoesNotApply => "–",
        }
    }

    pub fn class(self) -> &'static str {
        match self {
            Outcome::Met => "check--met",
            Outcome::NotMet => "check--unmet",
            Outcome::DoesNotApply => "check--na",
        }
    }
}

/// One line of the checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Criterion {
    pub label: String,
    pub outcome: Outcome,
    /// What routing found, e.g. "age 16 in 12..24", "capacity 3/8 open" (coded, never personal).
    pub detail: String,
}

/// The checklist of one candidate: every rule in the policy's order. A scoring rule counts as met
/// when it added to the score (a language spoken, needs covered, places left).
pub fn checklist(candidate: &Candidate) -> Vec<Criterion> {
    candidate
        .verdicts
        .iter()
        .map(|verdict| {
            let outcome = match Verdict::try_from(verdict.verdict) {
                Ok(Verdict::Pass) => Outcome::Met,
                Ok(Verdict::Fail) => Outcome::NotMet,
                Ok(Verdict::Scored) if verdict.score > 0.0 => Outcome::Met,
                Ok(Verdict::Scored) => Outcome::NotMet,
                _ => Outcome::DoesNotApply,
            };
            Criterion { label: rule_label(&verdict.rule_id).to_owned(), outcome, detail: verdict.detail.clone() }
        })
        .collect()
}

/// The candidate's capacity when routing decided: the open-capacity rule's finding ("capacity 3/8
/// open"), else the places-left score's ("capacity 3 open"); `None` when neither looked.
pub fn capacity_at_decision(candidate: &Candidate) -> Option<String> {
    let finding = |rule: &str| {
        candidate
            .verdicts
            .iter()
            .find(|v| v.rule_id == rule && v.verdict != Verdict::NotApplicable as i32 && !v.detail.is_empty())
            .map(|v| v.detail.clone())
    };
    finding("open_capacity").or_else(|| finding("capacity_remaining"))
}

/// The candidate a decision chose (its offer's service), if it chose one.
pub fn chosen(decision: &RoutingDecision) -> Option<&Candidate> {
    if decision.partner_service_id.is_empty() {
        return None;
    }
    decision.candidates.iter().find(|c| c.partner_service_id == decision.partner_service_id)
}

/// The latest of a referral's decisions (the highest attempt; the later one on a tie).
pub fn latest(decisions: &[RoutingDecision]) -> Option<&RoutingDecision> {
    decisions.iter().max_by_key(|d| (d.attempt, d.decided_at.as_ref().map(|t| (t.seconds, t.nanos))))
}

/// What a decision came to, in words.
pub fn outcome_label(outcome: i32) -> &'static str {
    labels::label_of(DECISION_OUTCOMES, outcome, "Not recorded")
}

/// Why no service was chosen: each rule that excluded candidates, with how many it excluded, most
/// first (a candidate failing two rules counts under both).
pub fn exclusions(decision: &RoutingDecision) -> Vec<(String, usize)> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for verdict in decision.candidates.iter().flat_map(|c| &c.verdicts).filter(|v| v.verdict == Verdict::Fail as i32) {
        let label = rule_label(&verdict.rule_id).to_owned();
        match counts.iter_mut().find(|(seen, _)| *seen == label) {
            Some((_, count)) => *count += 1,
            None => counts.push((label, 1)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts
}

/// One step of an offer's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Microseconds; `None` when the step has no instant (an answer still awaited).
    pub at: Option<i64>,
    pub label: String,
    pub detail: String,
    pub class: &'static str,
}

/// An offer's steps, oldest first, with times read at `now`: offered (with its answer deadline),
/// then what came of it. `partner` names the organization it went to.
pub fn offer_steps(offer: &Offer, partner: &str, now: i64) -> Vec<Step> {
    let offered_at = super::micros(&offer.offered_at);
    let deadline = super::micros(&offer.deadline);
    let responded = super::micros(&offer.responded_at);
    let due = deadline.map(|d| format!("answer due {}", time::clock_time(d, now))).unwrap_or_default();
    let mut steps =
        vec![Step { at: offered_at, label: format!("Offered to {partner}"), detail: due, class: "step--offered" }];
    match OfferStatus::try_from(offer.status) {
        Ok(OfferStatus::Pending) => {
            let (detail, class) = match deadline {
                Some(d) => {
                    let countdown = time::countdown(d, now);
                    let class = if countdown.urgency == Urgency::Overdue { "step--overdue" } else { "step--waiting" };
                    (countdown.text, class)
                }
                None => (String::new(), "step--waiting"),
            };
            steps.push(Step { at: None, label: "Waiting for the partner's answer".to_owned(), detail, class });
        }
        Ok(OfferStatus::Accepted) => {
            steps.push(Step {
                at: responded,
                label: "Accepted".to_owned(),
                detail: String::new(),
                class: "step--accepted",
            });
        }
        Ok(OfferStatus::Declined) => {
            let reason = labels::label_of(DECLINE_REASONS, offer.decline_reason, "No reason given");
            let detail = if offer.decline_detail.is_empty() {
                reason.to_owned()
            } else {
                format!("{reason} ({})", labels::code_words(&offer.decline_detail))
            };
            steps.push(Step { at: responded, label: "Declined".to_owned(), detail, class: "step--declined" });
        }
        Ok(OfferStatus::Expired) => steps.push(Step {
            at: deadline,
            label: "Expired unanswered".to_owned(),
            detail: "routing offers the referral again or escalates it".to_owned(),
            class: "step--expired",
        }),
        Ok(OfferStatus::Withdrawn) => steps.push(Step {
            at: responded,
            label: "Withdrawn".to_owned(),
            detail: String::new(),
            class: "step--withdrawn",
        }),
        _ => {}
    }
    steps
}

/// A referral's offers, oldest first.
pub fn by_offer_time(offers: &mut [Offer]) {
    offers.sort_by_key(|offer| (super::micros(&offer.offered_at), offer.offer_id.clone()));
}

/// Whether the decision escalated (no service chosen) rather than offered.
pub fn escalated(decision: &RoutingDecision) -> bool {
    matches!(DecisionOutcome::try_from(decision.outcome), Ok(DecisionOutcome::NoMatch | DecisionOutcome::Exhausted))
}
