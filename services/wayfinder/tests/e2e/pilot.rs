//! A small pilot through the whole system on one shared clock (issue 13, acceptance 3): thirty
//! fictional youths referred by the hotline; partners accept, decline and ignore offers; an
//! emergent referral nobody contacts; a consent release to the receiving partner; a youth who exits
//! and returns ten months later. The clock is moved, never waited for, and at each step the test
//! reads the system as its users would: every referral's status and deadline, the escalation
//! queue, the cases of each youth, and each youth's disclosure report.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use wf_auth::{Role, TokenKind};
use wf_proto::audit::v1 as audit;
use wf_proto::cases::v1 as cases;
use wf_proto::common::v1::{ContactChannel, ContactOutcome, InformationCategory, ReportFormat, TriageTier};
use wf_proto::intake::v1 as intake;
use wf_proto::intake::v1::ReferralStatus;
use wf_proto::routing::v1 as routing;
use wf_proto::routing::v1::{EscalationReason, OfferStatus};
use wf_proto::time::{datetime, timestamp};
use wf_testkit::{AuthedChannel, Engine, TestServer};
use wf_types::TestClock;

use crate::authorization::all_services;
use crate::support::{example_referral, with_reference};

const REFERRALS: usize = 30;
const HOTLINE: &str = "usr_pilot_hotline";
/// Fictional first names, one per youth (distinct, so the matcher proposes no false returns).
const NAMES: [&str; REFERRALS] = [
    "Arden", "Briar", "Cove", "Dune", "Ember", "Fable", "Grove", "Harbor", "Iris", "Juniper", "Kestrel", "Lark",
    "Meadow", "Nimbus", "Orchid", "Pebble", "Quill", "Rowan", "Sable", "Thistle", "Umber", "Vale", "Willow", "Xenia",
    "Yarrow", "Zephyr", "Aspen", "Bramble", "Cinder", "Delta",
];

/// What the pilot does with a referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// The partner accepts; the case manager reaches the youth.
    Accept,
    /// The partner accepts; nobody ever records a contact.
    AcceptNoContact,
    /// The first partner declines; the re-offer is accepted.
    DeclineThenAccept,
    /// Nobody answers the offer.
    Ignore,
}

fn tier_of(i: usize) -> TriageTier {
    match i {
        0..=4 => TriageTier::Emergent,
        5..=14 => TriageTier::Urgent,
        _ => TriageTier::Routine,
    }
}

fn plan_of(i: usize) -> Plan {
    match i {
        0 | 5 | 15 => Plan::Ignore,
        1 => Plan::AcceptNoContact,
        6 | 16 | 17 => Plan::DeclineThenAccept,
        _ => Plan::Accept,
    }
}

/// The youth who is a minor (a mandated report is due within 36 hours).
const MINOR: usize = 7;
/// The youth whose case gets a consent release to the receiving partner.
const RELEASED: usize = 8;
/// The youth who exits and returns ten months later.
const RETURNING: usize = 20;

fn window(tier: TriageTier) -> Duration {
    match tier {
        TriageTier::Emergent => Duration::minutes(90),
        TriageTier::Urgent => Duration::hours(24),
        _ => Duration::hours(48),
    }
}

/// The referral of youth `i`, received at `at`, as the hotline sends it.
fn referral(i: usize, reference: &str, at: DateTime<Utc>) -> intake::SubmitReferralRequest {
    let mut request = with_reference(example_referral(), reference);
    let referral = request.referral.as_mut().expect("referral");
    referral.received_at = Some(timestamp(at));
    referral.triage_tier = tier_of(i) as i32;
    referral.referring_organization_id.clear();
    referral.needs = vec!["victim_advocacy".to_owned()];
    referral.preferred_language = "en".to_owned();
    for screening in &mut referral.screenings {
        screening.screened_at = Some(timestamp(at));
    }
    let personal = referral.personal.as_mut().expect("personal");
    personal.legal_first_name = NAMES[i].to_owned();
    personal.preferred_name = NAMES[i].to_owned();
    personal.legal_last_name = format!("Pilotcase-{i:02}");
    personal.aliases.clear();
    personal.phones.clear();
    personal.emails.clear();
    personal.online_handles.clear();
    personal.guardians.clear();
    let year = if i == MINOR { 2011 } else { 2003 + (i % 4) as i32 };
    personal.estimated_age = 0;
    personal.date_of_birth =
        Some(wf_proto::common::v1::Date { year, month: (i % 12) as i32 + 1, day: (i % 27) as i32 + 1 });
    request
}

struct Pilot {
    server: TestServer,
    clock: TestClock,
}

impl Pilot {
    async fn channel(&self, role: Role) -> AuthedChannel {
        self.server.channel(&self.server.tokens.user(role)).await
    }

    async fn intake(&self) -> intake::intake_service_client::IntakeServiceClient<AuthedChannel> {
        intake::intake_service_client::IntakeServiceClient::new(self.channel(Role::Supervisor).await)
    }

    async fn routing(&self) -> routing::routing_service_client::RoutingServiceClient<AuthedChannel> {
        routing::routing_service_client::RoutingServiceClient::new(self.channel(Role::ProgramManager).await)
    }

    async fn cases(&self) -> cases::case_service_client::CaseServiceClient<AuthedChannel> {
        cases::case_service_client::CaseServiceClient::new(self.channel(Role::Supervisor).await)
    }

    async fn partner(&self, org: &str) -> routing::routing_service_client::RoutingServiceClient<AuthedChannel> {
        routing::routing_service_client::RoutingServiceClient::new(
            self.server.channel(&self.server.tokens.partner(org)).await,
        )
    }

    fn now(&self) -> DateTime<Utc> {
        wf_types::Clock::now(&self.clock)
    }

    /// Every referral's summary, by id.
    async fn summaries(&self) -> BTreeMap<String, intake::ReferralSummary> {
        let listed = self
            .intake()
            .await
            .list_referrals(intake::ListReferralsRequest { page_size: 500, ..Default::default() })
            .await
            .expect("list referrals")
            .into_inner()
            .referrals;
        listed.into_iter().map(|s| (s.referral_id.clone(), s)).collect()
    }

    async fn offers_of(&self, referral_id: &str) -> Vec<routing::Offer> {
        self.routing()
            .await
            .list_offers(routing::ListOffersRequest {
                referral_id: referral_id.to_owned(),
                page_size: 100,
                ..Default::default()
            })
            .await
            .expect("list offers")
            .into_inner()
            .offers
    }

    async fn pending_offer(&self, referral_id: &str) -> Option<routing::Offer> {
        self.offers_of(referral_id).await.into_iter().find(|o| o.status == OfferStatus::Pending as i32)
    }

    async fn escalations(&self) -> Vec<routing::Escalation> {
        self.routing()
            .await
            .list_escalations(routing::ListEscalationsRequest { page_size: 500, ..Default::default() })
            .await
            .expect("list escalations")
            .into_inner()
            .escalations
    }

    /// The partner of `offer` accepts it; a partner whose places are all taken declines it
    /// (`DECLINE_REASON_NO_CAPACITY`, as the refusal says to) and the next partner offered accepts.
    /// The offer accepted.
    async fn accept(&self, i: usize, referral_id: &str, mut offer: routing::Offer) -> routing::Offer {
        loop {
            let mut partner = self.partner(&offer.partner_id).await;
            match partner.accept_offer(routing::AcceptOfferRequest { offer_id: offer.offer_id.clone() }).await {
                Ok(_) => return offer,
                Err(status)
                    if status.code() == tonic::Code::FailedPrecondition && status.message().contains("capacity") =>
                {
                    partner
                        .decline_offer(routing::DeclineOfferRequest {
                            offer_id: offer.offer_id.clone(),
                            reason: routing::DeclineReason::NoCapacity as i32,
                            detail: String::new(),
                        })
                        .await
                        .unwrap_or_else(|e| panic!("decline {i} for capacity: {e}"));
                    let declined = offer.offer_id.clone();
                    offer = eventually(&format!("another offer for referral {i}"), || async {
                        self.pending_offer(referral_id).await.filter(|o| o.offer_id != declined)
                    })
                    .await;
                }
                Err(status) => panic!("accept {i}: {status}"),
            }
        }
    }

    /// Moves the shared clock to `start + offset`.
    fn at(&self, start: DateTime<Utc>, offset: Duration) {
        self.clock.set(start + offset);
    }
}

/// The first `Some` that `check` gives within a minute of real time.
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + StdDuration::from_secs(60);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "waited a minute for {what}");
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
}

fn status_of(summary: &intake::ReferralSummary) -> ReferralStatus {
    ReferralStatus::try_from(summary.status).unwrap_or(ReferralStatus::Unspecified)
}

fn deadline_of(summary: &intake::ReferralSummary) -> Option<DateTime<Utc>> {
    summary.deadline.as_ref().and_then(datetime)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_pilot_keeps_every_promise_on_one_shared_clock() {
    let clock = TestClock::at(Utc::now() - Duration::days(400));
    let server = TestServer::start_many(Engine::Sqlite, clock.shared(), all_services()).await;
    let pilot = Pilot { server, clock };
    let start = pilot.now();
    let hotline_token = pilot.server.tokens.token(TokenKind::User, HOTLINE, Role::Hotline);
    let mut hotline =
        intake::intake_service_client::IntakeServiceClient::new(pilot.server.channel(&hotline_token).await);

    // ---- Day 1, 00:00: thirty calls.
    let mut ids = Vec::new();
    for i in 0..REFERRALS {
        let submitted = hotline
            .submit_referral(referral(i, &format!("PILOT-{i:03}"), start))
            .await
            .unwrap_or_else(|e| panic!("referral {i}: {e}"))
            .into_inner();
        ids.push(submitted.referral_id);
    }
    // Each is offered to a partner; its deadline is the earliest open time limit.
    let mut offers = BTreeMap::new();
    for (i, id) in ids.iter().enumerate() {
        let offer = eventually(&format!("an offer for referral {i}"), || pilot.pending_offer(id)).await;
        offers.insert(i, offer);
    }
    let summaries = eventually("every referral offered", || async {
        let all = pilot.summaries().await;
        ids.iter().all(|id| all.get(id).is_some_and(|s| status_of(s) == ReferralStatus::Offered)).then_some(all)
    })
    .await;
    for (i, id) in ids.iter().enumerate() {
        let summary = &summaries[id];
        let offer_deadline = offers[&i].deadline.as_ref().and_then(datetime).expect("an offer has a deadline");
        let mut expected = (start + window(tier_of(i))).min(offer_deadline);
        if i == MINOR {
            expected = expected.min(start + Duration::hours(36));
            assert!(summary.is_minor, "referral {i} is a minor");
        }
        assert_eq!(deadline_of(summary), Some(expected), "referral {i} ({:?}) deadline when offered", tier_of(i));
        assert_eq!(summary.needs, ["victim_advocacy"], "referral {i}");
        assert_eq!(
            (offers[&i].needs.clone(), offers[&i].preferred_language.as_str()),
            (vec!["victim_advocacy".to_owned()], "en")
        );
    }

    // ---- 00:10: partners answer.
    pilot.at(start, Duration::minutes(10));
    let mut serving = BTreeMap::new();
    for (i, id) in ids.iter().enumerate() {
        let offer = &offers[&i];
        match plan_of(i) {
            Plan::Ignore => continue,
            Plan::DeclineThenAccept => {
                pilot
                    .partner(&offer.partner_id)
                    .await
                    .decline_offer(routing::DeclineOfferRequest {
                        offer_id: offer.offer_id.clone(),
                        reason: routing::DeclineReason::NoCapacity as i32,
                        detail: String::new(),
                    })
                    .await
                    .unwrap_or_else(|e| panic!("decline {i}: {e}"));
                let again = eventually(&format!("a second offer for referral {i}"), || async {
                    pilot.pending_offer(id).await.filter(|o| o.offer_id != offer.offer_id)
                })
                .await;
                assert_ne!(again.partner_id, offer.partner_id, "referral {i} is re-offered to another partner");
                serving.insert(i, pilot.accept(i, id, again).await);
            }
            Plan::Accept | Plan::AcceptNoContact => {
                serving.insert(i, pilot.accept(i, id, offer.clone()).await);
            }
        }
    }
    // Accepted referrals get a case and a case manager.
    let summaries = eventually("every accepted referral assigned", || async {
        let all = pilot.summaries().await;
        serving
            .keys()
            .all(|i| {
                all.get(&ids[*i]).is_some_and(|s| status_of(s) == ReferralStatus::Assigned && !s.case_id.is_empty())
            })
            .then_some(all)
    })
    .await;
    let case_of: BTreeMap<usize, String> = serving.keys().map(|i| (*i, summaries[&ids[*i]].case_id.clone())).collect();

    // ---- 00:20: case managers reach every youth they were given, but one emergent one.
    pilot.at(start, Duration::minutes(20));
    let mut staff_cases = pilot.cases().await;
    for (i, case_id) in &case_of {
        if plan_of(*i) == Plan::AcceptNoContact {
            continue;
        }
        staff_cases
            .record_contact_attempt(cases::RecordContactAttemptRequest {
                contact_attempt: Some(cases::ContactAttempt {
                    case_id: case_id.clone(),
                    attempted_at: Some(timestamp(pilot.now())),
                    channel: ContactChannel::TextMessage as i32,
                    outcome: ContactOutcome::Reached as i32,
                    ..Default::default()
                }),
            })
            .await
            .unwrap_or_else(|e| panic!("contact {i}: {e}"));
    }
    let summaries = eventually("every reached youth in engagement", || async {
        let all = pilot.summaries().await;
        case_of
            .keys()
            .filter(|i| plan_of(**i) != Plan::AcceptNoContact)
            .all(|i| all.get(&ids[*i]).is_some_and(|s| status_of(s) == ReferralStatus::Engagement))
            .then_some(all)
    })
    .await;
    // Deadlines now: none for a matched, reached adult; the contact limit for the unreached
    // emergent youth; the mandated report for the minor; the open limits of the ignored ones.
    for (i, id) in ids.iter().enumerate() {
        let summary = &summaries[id];
        let expected = match plan_of(i) {
            Plan::AcceptNoContact => Some(start + Duration::minutes(90)),
            Plan::Ignore => {
                let offer_deadline = offers[&i].deadline.as_ref().and_then(datetime).expect("deadline");
                Some((start + window(tier_of(i))).min(offer_deadline))
            }
            _ if i == MINOR => Some(start + Duration::hours(36)),
            _ => None,
        };
        assert_eq!(deadline_of(summary), expected, "referral {i} deadline after answers and contact");
    }

    // ---- 01:29 and 01:31: the emergent contact limit.
    pilot.at(start, Duration::minutes(89));
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    let early: Vec<_> = pilot
        .escalations()
        .await
        .into_iter()
        .filter(|e| e.reason == EscalationReason::EmergentContactOverdue as i32)
        .collect();
    assert!(early.is_empty(), "nothing is overdue at 89 minutes: {early:?}");
    pilot.at(start, Duration::minutes(91));
    let uncontacted: BTreeSet<String> = (0..REFERRALS)
        .filter(|i| tier_of(*i) == TriageTier::Emergent && matches!(plan_of(*i), Plan::AcceptNoContact | Plan::Ignore))
        .map(|i| ids[i].clone())
        .collect();
    let overdue = eventually("the emergent contact escalations", || async {
        let raised: Vec<String> = pilot
            .escalations()
            .await
            .into_iter()
            .filter(|e| e.reason == EscalationReason::EmergentContactOverdue as i32)
            .map(|e| e.referral_id)
            .collect();
        (raised.len() >= uncontacted.len()).then_some(raised)
    })
    .await;
    assert_eq!(
        overdue.iter().cloned().collect::<BTreeSet<_>>(),
        uncontacted,
        "exactly the emergent youths nobody reached"
    );
    assert_eq!(overdue.len(), uncontacted.len(), "each escalated once");
    let no_contact = &ids[1];
    eventually("the unreached emergent referral escalated", || async {
        pilot.summaries().await.get(no_contact).is_some_and(|s| status_of(s) == ReferralStatus::Escalated).then_some(())
    })
    .await;

    // ---- Day 2 and day 3: the match limits of the ignored urgent and routine referrals.
    for (i, hours) in [(5usize, 24i64), (15, 48)] {
        pilot.at(start, Duration::hours(hours) + Duration::minutes(1));
        let id = &ids[i];
        eventually(&format!("referral {i}'s match deadline escalated"), || async {
            pilot
                .escalations()
                .await
                .iter()
                .any(|e| e.referral_id == *id && e.reason == EscalationReason::MatchDeadlineMissed as i32)
                .then_some(())
        })
        .await;
    }
    let missed: BTreeSet<String> = pilot
        .escalations()
        .await
        .into_iter()
        .filter(|e| e.reason == EscalationReason::MatchDeadlineMissed as i32)
        .map(|e| e.referral_id)
        .collect();
    assert_eq!(missed, [ids[5].clone(), ids[15].clone()].into_iter().collect(), "only the unmatched referrals");
    // The ignored offers expired and were re-offered or escalated, never left waiting.
    // (The expiry worker and the time-limit worker each run on the clock on their own: the
    // escalation seen above does not mean the expiry has run yet.)
    for i in [0usize, 5, 15] {
        let offer_id = offers[&i].offer_id.clone();
        eventually(&format!("referral {i}'s ignored offer expired"), || async {
            let first = pilot.offers_of(&ids[i]).await.into_iter().find(|o| o.offer_id == offer_id)?;
            (first.status == OfferStatus::Expired as i32).then_some(())
        })
        .await;
    }

    // ---- A consent release to the receiving partner.
    let released = &serving[&RELEASED];
    let mut staff_intake = pilot.intake().await;
    let now = pilot.now();
    staff_intake
        .create_consent_release(intake::CreateConsentReleaseRequest {
            release: Some(intake::ConsentRelease {
                referral_id: ids[RELEASED].clone(),
                recipient_organization_id: released.partner_id.clone(),
                categories: vec![InformationCategory::Contact as i32],
                purpose: "service_referral".to_owned(),
                signed_at: Some(timestamp(now - Duration::minutes(5))),
                expires_at: Some(timestamp(now + Duration::days(90))),
                signers: vec![intake::ReleaseSigner {
                    role: intake::SignerRole::Youth as i32,
                    legal_basis: "adult".to_owned(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
        })
        .await
        .expect("release recorded");
    let mut receiving = intake::intake_service_client::IntakeServiceClient::new(
        pilot.server.channel(&pilot.server.tokens.partner(&released.partner_id)).await,
    );
    let details = receiving
        .get_released_details(intake::GetReleasedDetailsRequest {
            referral_id: ids[RELEASED].clone(),
            purpose: "service_referral".to_owned(),
        })
        .await
        .expect("the receiving partner reads what the release covers")
        .into_inner();
    let personal = details.personal.expect("the released categories");
    assert!(personal.address.is_some() && personal.safe_contact.is_some(), "the contact details are released");
    assert!(personal.legal_first_name.is_empty() && personal.date_of_birth.is_none(), "not the identity");
    // Another partner, serving other youths, reaches neither the released details nor the referral.
    let stranger =
        serving.values().map(|o| o.partner_id.clone()).find(|p| *p != released.partner_id).expect("another partner");
    let mut other = intake::intake_service_client::IntakeServiceClient::new(
        pilot.server.channel(&pilot.server.tokens.partner(&stranger)).await,
    );
    let hidden = other
        .get_released_details(intake::GetReleasedDetailsRequest {
            referral_id: ids[RELEASED].clone(),
            purpose: "service_referral".to_owned(),
        })
        .await
        .expect_err("not the release's recipient");
    assert_eq!(hidden.code(), tonic::Code::NotFound);
    let coded = receiving
        .get_referral(intake::GetReferralRequest {
            referral_id: ids[RELEASED].clone(),
            purpose: "service_referral".to_owned(),
        })
        .await
        .expect("the receiving partner reads the coded referral")
        .into_inner();
    assert_eq!(coded.case_id, case_of[&RELEASED], "with the case id it records interventions against");

    // ---- The returning youth: enrolled, exits on day 30, comes back ten months later.
    let returning_case = case_of[&RETURNING].clone();
    staff_cases
        .transition_stage(cases::TransitionStageRequest {
            case_id: returning_case.clone(),
            to_stage: cases::CaseStage::Enrolled as i32,
            reason: "youth_ready".to_owned(),
            ..Default::default()
        })
        .await
        .expect("enrolled");
    pilot.at(start, Duration::days(30));
    let exited_at = pilot.now();
    staff_cases
        .close_case(cases::CloseCaseRequest {
            case_id: returning_case.clone(),
            reason: cases::CaseClosureReason::GoalsMet as i32,
            exited_at: Some(timestamp(exited_at)),
            ..Default::default()
        })
        .await
        .expect("closed at exit");
    let returned_at = exited_at + Duration::days(304);
    pilot.clock.set(returned_at);
    let again = hotline
        .submit_referral(referral(RETURNING, "PILOT-020-R", returned_at))
        .await
        .expect("the return is referred")
        .into_inner();
    let possible = eventually("a possible match for the return", || async {
        staff_intake
            .clone()
            .list_possible_matches(intake::ListPossibleMatchesRequest {
                referral_id: again.referral_id.clone(),
                ..Default::default()
            })
            .await
            .ok()
            .and_then(|answer| answer.into_inner().matches.into_iter().next())
    })
    .await;
    let returning_youth = summaries[&ids[RETURNING]].youth_id.clone();
    assert_eq!(possible.candidate_youth_id, returning_youth, "the matcher proposes the youth who exited");
    staff_intake
        .confirm_possible_match(intake::ConfirmPossibleMatchRequest { possible_match_id: possible.possible_match_id })
        .await
        .expect("confirmed");
    let offer = eventually("the return is offered", || pilot.pending_offer(&again.referral_id)).await;
    pilot.accept(RETURNING, &again.referral_id, offer).await;
    let recidivism = eventually("the return recorded as recidivism", || async {
        let events = staff_cases
            .clone()
            .list_recidivism_events(cases::ListRecidivismEventsRequest {
                youth_id: returning_youth.clone(),
                ..Default::default()
            })
            .await
            .ok()?
            .into_inner();
        (!events.events.is_empty()).then_some(events.events)
    })
    .await;
    assert_eq!(recidivism.len(), 1, "one return, one recidivism event: {recidivism:?}");

    // ---- One open case per youth, the returning youth included.
    let mut youths: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let summaries = pilot.summaries().await;
    for summary in summaries.values() {
        youths.entry(summary.youth_id.clone()).or_default().push(summary.referral_id.clone());
    }
    assert_eq!(youths.len(), REFERRALS, "thirty youths; the return joined its youth");
    assert_eq!(youths[&returning_youth].len(), 2);
    for youth in youths.keys() {
        let listed = staff_cases
            .list_cases(cases::ListCasesRequest { youth_id: youth.clone(), page_size: 50, ..Default::default() })
            .await
            .expect("cases of a youth")
            .into_inner()
            .cases;
        let open = listed.iter().filter(|c| c.stage != cases::CaseStage::Closed as i32).count();
        assert!(open <= 1, "youth {youth} has {open} open cases");
    }

    // ---- Each youth's disclosure report holds that youth's reads and changes, and nobody else's.
    let mut auditor = audit::audit_service_client::AuditServiceClient::new(pilot.channel(Role::Auditor).await);
    let mut records_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (youth, referrals) in &youths {
        let set = records_of.entry(youth.clone()).or_default();
        set.insert(youth.clone());
        for referral in referrals {
            set.insert(referral.clone());
            set.extend(pilot.offers_of(referral).await.into_iter().map(|o| o.offer_id));
            if let Some(summary) = summaries.get(referral).filter(|s| !s.case_id.is_empty()) {
                set.insert(summary.case_id.clone());
            }
        }
    }
    for (youth, own) in &records_of {
        let report = auditor
            .disclosure_report(audit::DisclosureReportRequest {
                subject: Some(audit::disclosure_report_request::Subject::YouthId(youth.clone())),
                format: ReportFormat::Csv as i32,
                purpose: "survivor_request".to_owned(),
                ..Default::default()
            })
            .await
            .expect("disclosure report")
            .into_inner();
        let text = String::from_utf8(report.content).expect("CSV");
        let rows: Vec<Vec<&str>> = text.lines().skip(1).map(|l| l.splitn(5, ',').collect()).collect();
        assert!(rows.iter().any(|r| r.get(3) == Some(&"read")), "youth {youth}'s report shows reads:\n{text}");
        assert!(rows.iter().any(|r| r.get(3) == Some(&"change")), "youth {youth}'s report shows changes:\n{text}");
        for row in &rows {
            let record = row.get(2).copied().unwrap_or_default();
            let record = record.split(' ').next().unwrap_or_default();
            assert!(
                record.is_empty() || own.contains(record),
                "youth {youth}'s report names {record}, not theirs:\n{text}"
            );
        }
        for (other, theirs) in &records_of {
            if other != youth {
                for id in theirs {
                    assert!(!text.contains(id.as_str()), "youth {youth}'s report names {id} of youth {other}");
                }
            }
        }
    }
    pilot.server.stop().await;
}
