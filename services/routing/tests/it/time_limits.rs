//! The referral time limits (DESIGN.md: emergent contact within 90 minutes; urgent accepted within
//! 24 hours, routine within 48), enforced by the time-limit worker on the service clock: a missed
//! limit is escalated exactly once (`referral.escalated` and the escalation queue) across passes,
//! restarts, redeliveries, re-triages and concurrent passes; a referral contacted, accepted or
//! closed in time never is. Tests move a `TestClock`; the worker's first pass runs at once, and a
//! cancelled token makes it the only one.

use chrono::{DateTime, Duration, Utc};
use tokio_util::sync::CancellationToken;
use wf_auth::Role;
use wf_events::{Envelope, EventHandler};
use wf_proto::common::v1::{ContactChannel, ContactOutcome, Site, TriageTier};
use wf_proto::events::v1::{
    ContactAttemptRecorded, ReferralClosed, ReferralEscalated, ReferralReceived, ReferralTriaged,
};
use wf_proto::routing::v1 as pb;
use wf_proto::routing::v1::EscalationReason;
use wf_proto::routing::v1::routing_service_server::RoutingService;
use wf_routing::store::escalations::{self, EscalationRecord};
use wf_routing::store::offers::{self, OfferFilter};
use wf_testkit::{Engine, both_engines, eventually};
use wf_types::{Clock, TestClock};

use crate::harness::Harness;
use crate::hosted::Hosted;
use crate::{HARBOR_SHELTER_ORG, received, referral, request_as};

const CASE_ID: &str = "case_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d";

async fn start(engine: Engine) -> (Harness, TestClock) {
    let clock = TestClock::at(Utc::now());
    (Harness::start_with_clock(engine, clock.shared()).await, clock)
}

/// A referral of `tier` received now by `clock`.
fn received_now(tier: TriageTier, clock: &TestClock) -> ReferralReceived {
    ReferralReceived {
        triage_tier: tier as i32,
        received_at: Some(wf_proto::time::timestamp(clock.now())),
        ..referral(&["emergency_shelter", "crisis_intervention"])
    }
}

fn contact(referral_id: &str, outcome: ContactOutcome, at: DateTime<Utc>) -> Envelope {
    let event = ContactAttemptRecorded {
        contact_attempt_id: "cat_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d".into(),
        case_id: CASE_ID.into(),
        referral_id: referral_id.into(),
        attempted_at: Some(wf_proto::time::timestamp(at)),
        channel: ContactChannel::PhoneCall as i32,
        engagement_approach: "peer_advocate".into(),
        outcome: outcome as i32,
        first_contact: outcome == ContactOutcome::Reached,
        practice: true,
        ..Default::default()
    };
    Envelope::new("cases", CASE_ID, referral_id, &event)
}

fn closed(referral_id: &str, at: DateTime<Utc>) -> Envelope {
    let event = ReferralClosed {
        referral_id: referral_id.into(),
        reason: wf_proto::intake::v1::ReferralClosureReason::Duplicate as i32,
        closed_at: Some(wf_proto::time::timestamp(at)),
        practice: true,
        ..Default::default()
    };
    Envelope::new("intake", referral_id, referral_id, &event)
}

fn triaged(referral_id: &str, tier: TriageTier, at: DateTime<Utc>) -> Envelope {
    let event = ReferralTriaged {
        referral_id: referral_id.into(),
        triage_tier: tier as i32,
        triage_reason: "screening_result".into(),
        practice: true,
        triaged_at: Some(wf_proto::time::timestamp(at)),
        ..Default::default()
    };
    Envelope::new("intake", referral_id, referral_id, &event)
}

/// One pass of the time-limit worker, at the instant the clock reads.
async fn worker_pass(h: &Harness) {
    let stop = CancellationToken::new();
    stop.cancel();
    h.routing.run_time_limits(stop).await;
}

/// The referral's escalations for a missed time limit.
async fn limit_escalations(h: &Harness, referral_id: &str) -> Vec<EscalationRecord> {
    escalations::escalations_of(&h.db, referral_id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| {
            matches!(e.reason, EscalationReason::EmergentContactOverdue | EscalationReason::MatchDeadlineMissed)
        })
        .collect()
}

/// The `referral.escalated` events for a missed time limit relayed so far, for `referral_id`.
async fn limit_events(h: &Harness, referral_id: &str) -> Vec<ReferralEscalated> {
    h.relayed::<ReferralEscalated>("referral.escalated")
        .await
        .into_iter()
        .filter(|e| e.referral_id == referral_id)
        .filter(|e| {
            matches!(e.reason(), EscalationReason::EmergentContactOverdue | EscalationReason::MatchDeadlineMissed)
        })
        .collect()
}

fn micros(at: DateTime<Utc>) -> i64 {
    wf_db::to_micros(at)
}

/// Emergent, nobody reached the youth (an attempt that did not reach them does not count): not
/// escalated at 89 or at 90 minutes, escalated once just after — with the event, the queue entry and
/// the missed deadline — and never again: not by another pass, a redelivery, a restart, a re-triage
/// to the same tier or two passes at once.
async fn an_emergent_referral_without_contact_is_escalated_once_after_90_minutes(engine: Engine) {
    let (h, clock) = start(engine).await;
    let received_at = clock.now();
    let event = received_now(TriageTier::Emergent, &clock);
    let envelope = received(&event);
    h.handler.handle(envelope.clone()).await.unwrap();
    h.handler
        .handle(contact(&event.referral_id, ContactOutcome::NotReached, received_at + Duration::minutes(20)))
        .await
        .unwrap();

    clock.advance(Duration::minutes(89));
    worker_pass(&h).await;
    clock.advance(Duration::minutes(1));
    worker_pass(&h).await;
    assert!(limit_escalations(&h, &event.referral_id).await.is_empty(), "90 minutes is still in time");

    clock.advance(Duration::seconds(1));
    worker_pass(&h).await;
    let raised = limit_escalations(&h, &event.referral_id).await;
    assert_eq!(raised.len(), 1, "{raised:?}");
    let escalation = &raised[0];
    assert_eq!(escalation.reason, EscalationReason::EmergentContactOverdue);
    assert_eq!(escalation.deadline, micros(received_at + Duration::minutes(90)));
    assert_eq!(escalation.escalated_at, micros(clock.now()));
    assert_eq!((escalation.triage_tier, escalation.site), (TriageTier::Emergent, Site::SouthLosAngeles));
    assert!(escalation.practice, "a practice referral's escalation is practice");

    let events = limit_events(&h, &event.referral_id).await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].escalation_id.as_str(), events[0].reason()),
        (escalation.escalation_id.as_str(), EscalationReason::EmergentContactOverdue)
    );
    assert_eq!(events[0].deadline.unwrap().seconds, (received_at + Duration::minutes(90)).timestamp());
    assert_eq!(events[0].decision_id, escalation.decision_id);
    assert!(events[0].practice);
    assert_eq!(events[0].triage_tier(), TriageTier::Emergent);

    // The queue shows it, open.
    let queue = pb::ListEscalationsRequest { open_only: true, ..Default::default() };
    let listed = h.routing.api().list_escalations(request_as(Role::Supervisor, queue)).await.unwrap().into_inner();
    let shown = listed.escalations.iter().find(|e| e.escalation_id == escalation.escalation_id).expect("in the queue");
    assert_eq!(shown.reason(), pb::EscalationReason::EmergentContactOverdue);
    assert!(shown.resolved_at.is_none());

    // Again: another pass later, a redelivered receipt, the same tier triaged again, a restart.
    clock.advance(Duration::hours(3));
    worker_pass(&h).await;
    h.handler.handle(envelope).await.unwrap();
    h.handler.handle(triaged(&event.referral_id, TriageTier::Emergent, clock.now())).await.unwrap();
    worker_pass(&h).await;
    assert_eq!(limit_escalations(&h, &event.referral_id).await.len(), 1);
    let database = h.database.clone();
    h.finish().await;
    let restarted = Harness::start_on(database, clock.shared()).await;
    worker_pass(&restarted).await;
    assert_eq!(limit_escalations(&restarted, &event.referral_id).await.len(), 1);

    // Two instances passing at once over a new missed referral escalate it once between them.
    let other = received_now(TriageTier::Emergent, &clock);
    restarted.handler.handle(received(&other)).await.unwrap();
    clock.advance(Duration::minutes(91));
    let (a, b) =
        (restarted.routing.router(restarted.relay.handle()), restarted.routing.router(restarted.relay.handle()));
    let (first, second) = tokio::join!(a.escalate_missed_limits(), b.escalate_missed_limits());
    assert_eq!(first.unwrap() + second.unwrap(), 1);
    assert_eq!(limit_escalations(&restarted, &other.referral_id).await.len(), 1);
    assert_eq!(limit_events(&restarted, &other.referral_id).await.len(), 1);
    assert_eq!(limit_events(&restarted, &event.referral_id).await.len(), 0, "nothing new for the first one");
    restarted.finish().await;
}

/// A contact that reached the youth within 90 minutes keeps an emergent referral off the queue for
/// good (a redelivery of it is harmless); one made after the 90 minutes does not.
async fn an_emergent_referral_contacted_in_time_is_never_escalated(engine: Engine) {
    let (h, clock) = start(engine).await;
    let in_time = received_now(TriageTier::Emergent, &clock);
    let late = received_now(TriageTier::Emergent, &clock);
    let received_at = clock.now();
    h.handler.handle(received(&in_time)).await.unwrap();
    h.handler.handle(received(&late)).await.unwrap();

    clock.advance(Duration::minutes(60));
    let reached = contact(&in_time.referral_id, ContactOutcome::Reached, clock.now());
    h.handler.handle(reached.clone()).await.unwrap();
    h.handler.handle(reached).await.unwrap();
    clock.advance(Duration::minutes(40));
    h.handler
        .handle(contact(&late.referral_id, ContactOutcome::Reached, received_at + Duration::minutes(95)))
        .await
        .unwrap();
    worker_pass(&h).await;
    clock.advance(Duration::days(3));
    worker_pass(&h).await;

    assert!(limit_escalations(&h, &in_time.referral_id).await.is_empty());
    assert!(limit_events(&h, &in_time.referral_id).await.is_empty());
    let raised = limit_escalations(&h, &late.referral_id).await;
    assert_eq!(raised.iter().map(|e| e.reason).collect::<Vec<_>>(), vec![EscalationReason::EmergentContactOverdue]);
    h.finish().await;
}

/// Urgent and routine referrals need an accepted offer, by 24 and 48 hours from receipt: each is
/// escalated `MATCH_DEADLINE_MISSED` just after its own limit (a non-practice one not marked
/// practice), one accepted in time never is, nor is one intake closed in time.
async fn urgent_and_routine_referrals_without_an_accepted_offer_are_escalated(engine: Engine) {
    let (h, clock) = start(engine).await;
    let received_at = clock.now();
    let urgent = received_now(TriageTier::Urgent, &clock);
    let routine = ReferralReceived { practice: false, ..received_now(TriageTier::Routine, &clock) };
    let accepted = received_now(TriageTier::Urgent, &clock);
    let closed_early = received_now(TriageTier::Routine, &clock);
    for event in [&urgent, &routine, &accepted, &closed_early] {
        h.handler.handle(received(event)).await.unwrap();
    }
    // The shelter accepts one at 23 hours; intake closes another (a duplicate) after 2 hours.
    clock.advance(Duration::hours(2));
    h.handler.handle(closed(&closed_early.referral_id, clock.now())).await.unwrap();
    clock.advance(Duration::hours(21));
    let filter =
        OfferFilter { referral_id: accepted.referral_id.clone(), include_practice: true, ..Default::default() };
    let offer = offers::list_offers(&h.db, &filter, "", 10).await.unwrap().remove(0);
    assert_eq!(offer.partner_id, HARBOR_SHELTER_ORG);
    h.routing.router(h.relay.handle()).accept(&offer.offer_id, HARBOR_SHELTER_ORG, "usr_partner").await.unwrap();

    clock.set(received_at + Duration::hours(24));
    worker_pass(&h).await;
    assert!(limit_escalations(&h, &urgent.referral_id).await.is_empty(), "24 hours is still in time");
    clock.advance(Duration::seconds(1));
    worker_pass(&h).await;
    let raised = limit_escalations(&h, &urgent.referral_id).await;
    assert_eq!(raised.len(), 1);
    assert_eq!(
        (raised[0].reason, raised[0].deadline, raised[0].triage_tier),
        (EscalationReason::MatchDeadlineMissed, micros(received_at + Duration::hours(24)), TriageTier::Urgent)
    );
    assert!(limit_escalations(&h, &routine.referral_id).await.is_empty(), "routine has 48 hours");

    clock.set(received_at + Duration::hours(48) + Duration::seconds(1));
    worker_pass(&h).await;
    let raised = limit_escalations(&h, &routine.referral_id).await;
    assert_eq!(raised.len(), 1);
    assert_eq!(
        (raised[0].reason, raised[0].deadline, raised[0].practice),
        (EscalationReason::MatchDeadlineMissed, micros(received_at + Duration::hours(48)), false)
    );
    let events = limit_events(&h, &routine.referral_id).await;
    assert_eq!(events.len(), 1);
    assert!(!events[0].practice);
    assert_eq!(events[0].reason(), EscalationReason::MatchDeadlineMissed);

    clock.advance(Duration::days(7));
    worker_pass(&h).await;
    assert!(limit_escalations(&h, &accepted.referral_id).await.is_empty(), "accepted in time");
    assert!(limit_escalations(&h, &closed_early.referral_id).await.is_empty(), "closed in time");
    assert_eq!(limit_escalations(&h, &urgent.referral_id).await.len(), 1);
    h.finish().await;
}

/// A re-triage changes which limit holds, counted from receipt: routine made emergent after two
/// hours has missed its 90 minutes already; emergent made routine after half an hour owes no
/// contact but an accepted offer by 48 hours.
async fn a_re_triage_puts_the_referral_under_the_new_tiers_limit(engine: Engine) {
    let (h, clock) = start(engine).await;
    let received_at = clock.now();
    let upgraded = received_now(TriageTier::Routine, &clock);
    let downgraded = received_now(TriageTier::Emergent, &clock);
    h.handler.handle(received(&upgraded)).await.unwrap();
    h.handler.handle(received(&downgraded)).await.unwrap();

    clock.advance(Duration::minutes(30));
    h.handler.handle(triaged(&downgraded.referral_id, TriageTier::Routine, clock.now())).await.unwrap();
    clock.advance(Duration::minutes(90));
    h.handler.handle(triaged(&upgraded.referral_id, TriageTier::Emergent, clock.now())).await.unwrap();
    worker_pass(&h).await;
    let raised = limit_escalations(&h, &upgraded.referral_id).await;
    assert_eq!(raised.len(), 1);
    assert_eq!(
        (raised[0].reason, raised[0].deadline, raised[0].triage_tier),
        (EscalationReason::EmergentContactOverdue, micros(received_at + Duration::minutes(90)), TriageTier::Emergent)
    );
    assert!(limit_escalations(&h, &downgraded.referral_id).await.is_empty(), "no contact limit any more");

    clock.set(received_at + Duration::hours(48) + Duration::seconds(1));
    worker_pass(&h).await;
    let raised = limit_escalations(&h, &downgraded.referral_id).await;
    assert_eq!(raised.iter().map(|e| e.reason).collect::<Vec<_>>(), vec![EscalationReason::MatchDeadlineMissed]);
    assert_eq!(raised[0].triage_tier, TriageTier::Routine);
    assert_eq!(limit_escalations(&h, &upgraded.referral_id).await.len(), 1, "emergent owes no match limit");
    h.finish().await;
}

both_engines!(
    an_emergent_referral_without_contact_is_escalated_once_after_90_minutes,
    an_emergent_referral_without_contact_is_escalated_once_after_90_minutes
);
both_engines!(
    an_emergent_referral_contacted_in_time_is_never_escalated,
    an_emergent_referral_contacted_in_time_is_never_escalated
);
both_engines!(
    urgent_and_routine_referrals_without_an_accepted_offer_are_escalated,
    urgent_and_routine_referrals_without_an_accepted_offer_are_escalated
);
both_engines!(
    a_re_triage_puts_the_referral_under_the_new_tiers_limit,
    a_re_triage_puts_the_referral_under_the_new_tiers_limit
);

// The hosted service: `contact_attempt.recorded` and `referral.closed` reach routing's queue
// through the bus bindings, and the worker its component runs escalates the one emergent
// referral neither contacted nor closed in time, in the queue staff read.
both_engines!(the_hosted_worker_escalates_what_the_bus_did_not_clear, |engine| async move {
    let clock = TestClock::at(Utc::now());
    let hosted = Hosted::start_with_clock(engine, clock.shared()).await;
    let (contacted, closed_early, missed) = (
        received_now(TriageTier::Emergent, &clock),
        received_now(TriageTier::Emergent, &clock),
        received_now(TriageTier::Emergent, &clock),
    );
    for event in [&contacted, &closed_early, &missed] {
        hosted.server.publish(&received(event)).await;
    }
    clock.advance(Duration::minutes(10));
    hosted.server.publish(&contact(&contacted.referral_id, ContactOutcome::Reached, clock.now())).await;
    hosted.server.publish(&closed(&closed_early.referral_id, clock.now())).await;

    // Routing is down past the 90 minutes; its worker's first pass after the restart escalates.
    clock.advance(Duration::minutes(81));
    let hosted = hosted.restart().await;
    let settled = || async {
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM routing_referral_limit WHERE settled_at IS NOT NULL")
                .fetch_one(hosted.db.pool())
                .await
                .unwrap();
        count == 3
    };
    assert!(eventually(std::time::Duration::from_secs(10), settled).await, "the worker looked at all three");
    let queue = pb::ListEscalationsRequest { open_only: true, ..Default::default() };
    let listed = hosted.as_role(Role::Supervisor).await.list_escalations(queue).await.unwrap().into_inner();
    let overdue: Vec<&str> = listed
        .escalations
        .iter()
        .filter(|e| e.reason() == pb::EscalationReason::EmergentContactOverdue)
        .map(|e| e.referral_id.as_str())
        .collect();
    assert_eq!(overdue, vec![missed.referral_id.as_str()]);
    let escalated: Vec<ReferralEscalated> = hosted
        .outbox()
        .await
        .iter()
        .filter(|e| e.event_type == "referral.escalated")
        .map(|e| e.payload_as().unwrap())
        .filter(|e: &ReferralEscalated| e.reason() == EscalationReason::EmergentContactOverdue)
        .collect();
    assert_eq!(escalated.iter().map(|e| e.referral_id.as_str()).collect::<Vec<_>>(), overdue);
    hosted.stop().await;
});
