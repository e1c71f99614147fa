//! Issue 12, findings 4, 6 and 8: a partner acts on a case only while it holds an accepted offer
//! for it (routed, pending, declined, expired or withdrawn: NOT_FOUND, identical to an unknown
//! case id); every read of a case record is a `record.accessed` entry with a purpose code from the
//! closed list, never free text.

use tonic::Code;
use wf_auth::Role;
use wf_cases::events::RoutedOutcome;
use wf_proto::cases::v1::{self as pb, CaseClosureReason, UnitType, case_service_server::CaseService};
use wf_proto::common::v1::{ContactChannel, ContactOutcome, Date, Site};
use wf_proto::events::v1 as events;
use wf_testkit::both_engines;
use wf_types::{CaseId, ReferralId, YouthId};

use crate::harness::{
    Assembled, Harness, ROUTED_PARTNER, TestDb, offer_accepted, outbox_of, referral_received_for, referral_routed_to,
    request_as, request_as_partner, request_as_user,
};

const FIRST: &str = ROUTED_PARTNER;
const SECOND: &str = "org_0192f1c4d5e67a8b9c0d1e2f3a4b5c6e";
const THIRD: &str = "org_0192f1c4d5e67a8b9c0d1e2f3a4b5c6f";

fn staff<T>(message: T) -> tonic::Request<T> {
    request_as_user(Role::CaseManager, "usr_reader", message)
}

fn intervention(case_id: &str) -> pb::RecordInterventionRequest {
    pb::RecordInterventionRequest {
        intervention: Some(pb::Intervention {
            case_id: case_id.to_owned(),
            service_type: "mental_health".into(),
            delivered_on: Some(Date { year: 2025, month: 12, day: 30 }),
            units: 1.0,
            unit_type: UnitType::Sessions as i32,
            ..Default::default()
        }),
    }
}

fn contact_attempt(case_id: &str) -> pb::RecordContactAttemptRequest {
    pb::RecordContactAttemptRequest {
        contact_attempt: Some(pb::ContactAttempt {
            case_id: case_id.to_owned(),
            attempted_at: Some(wf_proto::time::timestamp_from_micros(1_700_000_000_000_000)),
            channel: ContactChannel::PhoneCall as i32,
            outcome: ContactOutcome::NotReached as i32,
            ..Default::default()
        }),
    }
}

/// What `partner` is answered on each case RPC a partner may call, in order: RecordIntervention,
/// RecordContactAttempt, ListContactAttempts (`Ok` or the refusal's code and message).
async fn partner_answers(harness: &Harness, partner: &str, case_id: &str) -> Vec<Result<(), (Code, String)>> {
    let api = harness.cases.api();
    let refused = |status: tonic::Status| (status.code(), status.message().to_owned());
    vec![
        api.record_intervention(request_as_partner(partner, intervention(case_id))).await.map(|_| ()).map_err(refused),
        api.record_contact_attempt(request_as_partner(partner, contact_attempt(case_id)))
            .await
            .map(|_| ())
            .map_err(refused),
        api.list_contact_attempts(request_as_partner(
            partner,
            pb::ListContactAttemptsRequest { case_id: case_id.to_owned(), ..Default::default() },
        ))
        .await
        .map(|_| ())
        .map_err(refused),
    ]
}

/// The answers for a case id that does not exist: what every case outside a partner's scope must
/// look like.
async fn unknown_case_answers(harness: &Harness, partner: &str) -> Vec<Result<(), (Code, String)>> {
    let unknown = CaseId::generate().to_string();
    let answers = partner_answers(harness, partner, &unknown).await;
    assert!(answers.iter().all(|a| matches!(a, Err((Code::NotFound, _)))), "{answers:?}");
    answers
}

async fn opened(harness: &Harness, envelope: &wf_events::Envelope) -> String {
    match harness.cases.event_handler().on_referral_routed(envelope).await.expect("routed") {
        RoutedOutcome::Opened { case_id, .. } | RoutedOutcome::Reopened { case_id, .. } => case_id,
        RoutedOutcome::CaseExists { case_id } | RoutedOutcome::Joined { case_id } => case_id,
        RoutedOutcome::Duplicate => panic!("a fresh referral.routed"),
    }
}

both_engines!(a_partner_acts_on_a_case_only_while_it_holds_an_accepted_offer, |engine| async move {
    let test = TestDb::new(engine).await;
    let harness = Harness::start(&test, None).await;
    let unknown = unknown_case_answers(&harness, FIRST).await;
    let referral = ReferralId::generate();
    harness.received(&referral, Site::SouthLosAngeles).await;

    // Routed to FIRST: an offer, pending. FIRST cannot touch the case yet.
    let case_id = opened(&harness, &referral_routed_to(&referral, Site::SouthLosAngeles, false, FIRST, 1)).await;
    assert_eq!(partner_answers(&harness, FIRST, &case_id).await, unknown, "pending offer");

    // FIRST declines; routing re-routes to SECOND (pending). Neither acts on the case.
    opened(&harness, &referral_routed_to(&referral, Site::SouthLosAngeles, false, SECOND, 2)).await;
    assert_eq!(partner_answers(&harness, FIRST, &case_id).await, unknown, "declined offer");
    assert_eq!(partner_answers(&harness, SECOND, &case_id).await, unknown, "pending offer");

    // SECOND's offer expires (or is withdrawn); THIRD is offered the referral and accepts.
    opened(&harness, &referral_routed_to(&referral, Site::SouthLosAngeles, false, THIRD, 3)).await;
    assert_eq!(partner_answers(&harness, SECOND, &case_id).await, unknown, "expired offer");
    assert_eq!(partner_answers(&harness, THIRD, &case_id).await, unknown, "pending offer");
    harness.accept(&referral, THIRD).await;
    assert_eq!(partner_answers(&harness, THIRD, &case_id).await, vec![Ok(()), Ok(()), Ok(())], "accepted offer");
    for (partner, why) in [(FIRST, "declined"), (SECOND, "expired")] {
        assert_eq!(partner_answers(&harness, partner, &case_id).await, unknown, "{why} offer, after THIRD accepted");
    }

    // An offer FIRST accepted for another referral gives it nothing on this case.
    let elsewhere = ReferralId::generate();
    harness.received(&elsewhere, Site::SouthLosAngeles).await;
    opened(&harness, &referral_routed_to(&elsewhere, Site::SouthLosAngeles, false, FIRST, 1)).await;
    harness.accept(&elsewhere, FIRST).await;
    assert_eq!(partner_answers(&harness, FIRST, &case_id).await, unknown);

    // Redelivered, the acceptance is recorded once; a malformed one is refused for good.
    let accepted = offer_accepted(&referral, THIRD);
    harness.cases.event_handler().on_offer_accepted(&accepted).await.expect("first");
    harness.cases.event_handler().on_offer_accepted(&accepted).await.expect("redelivered");
    assert_eq!(harness.count("SELECT COUNT(*) FROM accepted_offers").await, 3);
    let mut garbled = offer_accepted(&referral, THIRD);
    garbled.payload = prost::Message::encode_to_vec(&events::OfferAccepted {
        offer_id: "off_x".into(),
        referral_id: referral.to_string(),
        partner_id: THIRD.into(),
        ..Default::default()
    });
    let refused = harness.cases.event_handler().on_offer_accepted(&garbled).await;
    assert!(matches!(refused, Err(wf_events::HandleError::Permanent(_))), "{refused:?}");
});

both_engines!(an_acceptance_that_overtakes_the_routing_still_names_the_serving_partner, |engine| async move {
    let test = TestDb::new(engine).await;
    let harness = Harness::start(&test, None).await;
    let referral = ReferralId::generate();
    harness.received(&referral, Site::SouthLosAngeles).await;
    harness.accept(&referral, SECOND).await;
    let case_id = opened(&harness, &referral_routed_to(&referral, Site::SouthLosAngeles, false, SECOND, 1)).await;
    assert_eq!(partner_answers(&harness, SECOND, &case_id).await, vec![Ok(()), Ok(()), Ok(())]);
});

both_engines!(a_partner_of_an_earlier_episode_does_not_act_on_the_reopened_case, |engine| async move {
    let test = TestDb::new(engine).await;
    let harness = Harness::start(&test, None).await;
    let unknown = unknown_case_answers(&harness, FIRST).await;
    let youth = YouthId::generate();
    let first = ReferralId::generate();
    let received = referral_received_for(&first, &youth, Site::SouthLosAngeles, "");
    harness.cases.event_handler().on_referral_received(&received).await.expect("received");
    let case_id = opened(&harness, &referral_routed_to(&first, Site::SouthLosAngeles, false, FIRST, 1)).await;
    harness.accept(&first, FIRST).await;
    assert_eq!(partner_answers(&harness, FIRST, &case_id).await, vec![Ok(()), Ok(()), Ok(())]);
    let close = pb::CloseCaseRequest {
        case_id: case_id.clone(),
        reason: CaseClosureReason::GoalsMet as i32,
        ..Default::default()
    };
    harness.cases.api().close_case(request_as(Role::Supervisor, close)).await.expect("close");

    // The youth comes back; the new referral reopens the case and is offered to SECOND.
    let second = ReferralId::generate();
    let received = referral_received_for(&second, &youth, Site::SouthLosAngeles, "");
    harness.cases.event_handler().on_referral_received(&received).await.expect("received");
    let reopened = opened(&harness, &referral_routed_to(&second, Site::SouthLosAngeles, false, SECOND, 1)).await;
    assert_eq!(reopened, case_id, "the closed case took the referral");
    assert_eq!(partner_answers(&harness, FIRST, &case_id).await, unknown, "the earlier episode's partner");
    assert_eq!(partner_answers(&harness, SECOND, &case_id).await, unknown, "pending offer");
    harness.accept(&second, SECOND).await;
    assert_eq!(partner_answers(&harness, SECOND, &case_id).await, vec![Ok(()), Ok(()), Ok(())]);
    assert_eq!(partner_answers(&harness, FIRST, &case_id).await, unknown);
});

both_engines!(every_read_of_a_case_record_is_an_access_event_with_its_purpose, |engine| async move {
    let test = TestDb::new(engine).await;
    let roster = crate::harness::roster(&[("cm_000000000000000000000000000000a1", "south_los_angeles", 5)]);
    let assembled = Assembled::start(&test, &roster).await;
    let api = &assembled.api;
    let (case_id, referral_id) = assembled.open_case(Site::SouthLosAngeles).await;
    let case = wf_cases::store::get_case(&assembled.db, &case_id).await.unwrap().unwrap();
    let id = case_id.clone();

    api.get_case(staff(pb::GetCaseRequest { case_id: id.clone(), purpose: "case_management".into() })).await.unwrap();
    api.list_cases(staff(pb::ListCasesRequest { referral_id: referral_id.to_string(), ..Default::default() }))
        .await
        .unwrap();
    let purpose = || "safety_planning".to_owned();
    api.list_contact_attempts(staff(pb::ListContactAttemptsRequest {
        case_id: id.clone(),
        purpose: purpose(),
        ..Default::default()
    }))
    .await
    .unwrap();
    api.list_goals(staff(pb::ListGoalsRequest { case_id: id.clone(), purpose: purpose(), ..Default::default() }))
        .await
        .unwrap();
    api.list_interventions(staff(pb::ListInterventionsRequest {
        case_id: id.clone(),
        purpose: purpose(),
        ..Default::default()
    }))
    .await
    .unwrap();
    api.list_follow_ups(staff(pb::ListFollowUpsRequest {
        case_id: id.clone(),
        purpose: purpose(),
        ..Default::default()
    }))
    .await
    .unwrap();
    api.list_recidivism_events(staff(pb::ListRecidivismEventsRequest {
        case_id: id.clone(),
        purpose: purpose(),
        ..Default::default()
    }))
    .await
    .unwrap();
    api.list_case_notes(staff(pb::ListCaseNotesRequest {
        case_id: id.clone(),
        purpose: purpose(),
        ..Default::default()
    }))
    .await
    .unwrap();

    let accesses = outbox_of::<events::RecordAccessed>(&assembled.db, "record.accessed").await;
    let fields: Vec<Vec<String>> = accesses.iter().map(|(_, access)| access.fields.clone()).collect();
    let expected = [
        "case",
        "case",
        "contact_attempts",
        "service_plan_goals",
        "interventions",
        "follow_ups",
        "recidivism_events",
        "case_notes",
    ];
    assert_eq!(fields, expected.iter().map(|f| vec![(*f).to_owned()]).collect::<Vec<_>>());
    for (index, (envelope, access)) in accesses.iter().enumerate() {
        assert_eq!((access.actor.as_str(), access.actor_role.as_str()), ("usr_reader", "case_manager"));
        assert_eq!(access.record_id, case_id);
        let purpose = match index {
            0 => "case_management",
            1 => "",
            _ => "safety_planning",
        };
        assert_eq!(access.purpose, purpose, "{}", access.fields[0]);
        assert!(access.at.is_some());
        assert_eq!(envelope.producer, "cases");
        assert_eq!(envelope.correlation_id, referral_id.as_str());
        assert_eq!(Some(envelope.aggregate_id.as_str()), case.youth_id.as_deref());
    }

    // A purpose off the closed list is refused on every read, named and never repeated.
    let free_text = "Jordan asked me to look, 555-0100";
    let refusals = [
        api.get_case(staff(pb::GetCaseRequest { case_id: id.clone(), purpose: free_text.into() })).await.err(),
        api.list_cases(staff(pb::ListCasesRequest { purpose: free_text.into(), ..Default::default() })).await.err(),
        api.list_contact_attempts(staff(pb::ListContactAttemptsRequest {
            case_id: id.clone(),
            purpose: free_text.into(),
            ..Default::default()
        }))
        .await
        .err(),
        api.list_goals(staff(pb::ListGoalsRequest {
            case_id: id.clone(),
            purpose: free_text.into(),
            ..Default::default()
        }))
        .await
        .err(),
        api.list_interventions(staff(pb::ListInterventionsRequest {
            case_id: id.clone(),
            purpose: free_text.into(),
            ..Default::default()
        }))
        .await
        .err(),
        api.list_follow_ups(staff(pb::ListFollowUpsRequest {
            case_id: id.clone(),
            purpose: free_text.into(),
            ..Default::default()
        }))
        .await
        .err(),
        api.list_recidivism_events(staff(pb::ListRecidivismEventsRequest {
            case_id: id.clone(),
            purpose: free_text.into(),
            ..Default::default()
        }))
        .await
        .err(),
        api.list_case_notes(staff(pb::ListCaseNotesRequest {
            case_id: id.clone(),
            purpose: free_text.into(),
            ..Default::default()
        }))
        .await
        .err(),
    ];
    for (index, status) in refusals.into_iter().enumerate() {
        let status = status.unwrap_or_else(|| panic!("read {index} accepted a free-text purpose"));
        assert_eq!(status.code(), Code::InvalidArgument, "read {index}");
        let shown = format!("{status:?}");
        assert!(shown.contains("purpose") && !shown.contains("Jordan") && !shown.contains("555"), "{shown}");
    }
    assert_eq!(
        outbox_of::<events::RecordAccessed>(&assembled.db, "record.accessed").await.len(),
        8,
        "refused: no read"
    );

    // A list across cases puts each case listed on the record; an empty one nothing.
    let (second, _) = assembled.open_case(Site::SouthLosAngeles).await;
    let listed = api.list_cases(staff(pb::ListCasesRequest::default())).await.unwrap().into_inner().cases;
    assert_eq!(listed.len(), 2);
    let accesses = outbox_of::<events::RecordAccessed>(&assembled.db, "record.accessed").await;
    let read: Vec<&str> = accesses[8..].iter().map(|(_, access)| access.record_id.as_str()).collect();
    assert_eq!(read, [case_id.as_str(), second.as_str()]);
    api.list_follow_ups(staff(pb::ListFollowUpsRequest::default())).await.unwrap();
    assert_eq!(outbox_of::<events::RecordAccessed>(&assembled.db, "record.accessed").await.len(), 10);

    // A partner's read names its organization.
    let events = &assembled.events;
    events.on_offer_accepted(&offer_accepted(&referral_id, FIRST)).await.expect("accepted");
    api.list_contact_attempts(request_as_partner(
        FIRST,
        pb::ListContactAttemptsRequest { case_id: id.clone(), ..Default::default() },
    ))
    .await
    .expect("serving partner reads");
    let accesses = outbox_of::<events::RecordAccessed>(&assembled.db, "record.accessed").await;
    let partner_read = &accesses.last().unwrap().1;
    assert_eq!((partner_read.actor_role.as_str(), partner_read.actor_organization_id.as_str()), ("partner", FIRST));
    assert_eq!(partner_read.fields, ["contact_attempts"]);
});

both_engines!(free_text_is_refused_in_every_field_that_travels_in_an_event, |engine| async move {
    let test = TestDb::new(engine).await;
    let harness = Harness::start(&test, None).await;
    let api = harness.cases.api();
    let referral = ReferralId::generate();
    let wf_cases::RoutedOutcome::Opened { case_id, .. } = harness.route(&referral, Site::SouthLosAngeles, false).await
    else {
        panic!("a case opens")
    };
    let name = "JordanSmith5550100";
    let check = |status: tonic::Status, field: &str| {
        assert_eq!(status.code(), Code::InvalidArgument, "{field}");
        let shown = format!("{status:?}");
        assert!(shown.contains(field), "{field}: {shown}");
        assert!(!shown.contains("Jordan"), "the value is repeated: {shown}");
    };
    for field in ["partner_service_id", "engagement_approach", "goal_id"] {
        let mut request = intervention(&case_id);
        let input = request.intervention.as_mut().unwrap();
        input.provider_id = ROUTED_PARTNER.into();
        match field {
            "partner_service_id" => input.partner_service_id = name.into(),
            "engagement_approach" => input.engagement_approach = name.into(),
            _ => input.goal_id = name.into(),
        }
        check(api.record_intervention(staff(request)).await.expect_err(field), &format!("intervention.{field}"));
    }
    let mut request = intervention(&case_id);
    request.intervention.as_mut().unwrap().service_type = name.into();
    check(api.record_intervention(staff(request)).await.expect_err("service type"), "intervention.service_type");

    let recidivism = pb::RecordRecidivismEventRequest {
        event: Some(pb::RecidivismEvent {
            case_id: case_id.clone(),
            kind: wf_proto::common::v1::RecidivismKind::ReArrest as i32,
            evidence: wf_proto::common::v1::RecidivismEvidence::ArrestRecord as i32,
            occurred_on: Some(Date { year: 2025, month: 0, day: 0 }),
            evidence_id: name.into(),
            ..Default::default()
        }),
    };
    check(api.record_recidivism_event(staff(recidivism)).await.expect_err("evidence id"), "event.evidence_id");

    let follow_up = pb::RecordFollowUpRequest {
        follow_up_id: wf_types::FollowUpId::generate().to_string(),
        status: pb::FollowUpStatus::Completed as i32,
        outcomes: Some(pb::FollowUpOutcomes {
            wellbeing_scale: "Jordan says she is fine".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    check(api.record_follow_up(staff(follow_up)).await.expect_err("scale"), "outcomes.wellbeing_scale");
    assert_eq!(harness.count("SELECT COUNT(*) FROM interventions").await, 0);
});

both_engines!(a_partner_refused_a_case_that_exists_is_on_the_record, |engine| async move {
    let test = TestDb::new(engine).await;
    let roster = crate::harness::roster(&[("cm_000000000000000000000000000000a1", "south_los_angeles", 5)]);
    let assembled = Assembled::start(&test, &roster).await;
    let (case_id, _) = assembled.open_case(Site::SouthLosAngeles).await;
    let api = &assembled.api;
    // Routed to FIRST, not accepted: NOT_FOUND, as for an unknown id — but only the real case is
    // a refusal worth recording.
    let refused = api.record_intervention(request_as_partner(FIRST, intervention(&case_id))).await.unwrap_err();
    let unknown = CaseId::generate().to_string();
    let nowhere = api.record_intervention(request_as_partner(FIRST, intervention(&unknown))).await.unwrap_err();
    assert_eq!((refused.code(), refused.message()), (nowhere.code(), nowhere.message()));
    let recorded = wf_testkit::eventually(std::time::Duration::from_secs(10), || async {
        !outbox_of::<events::AccessRefused>(&assembled.db, "access.refused").await.is_empty()
    })
    .await;
    assert!(recorded, "the refusal reaches the outbox");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let refusals = outbox_of::<events::AccessRefused>(&assembled.db, "access.refused").await;
    assert_eq!(refusals.len(), 1, "the unknown id is no refusal of a record");
    let entry = &refusals[0].1;
    assert_eq!(
        (
            entry.record_id.as_str(),
            entry.reason.as_str(),
            entry.actor_role.as_str(),
            entry.actor_organization_id.as_str()
        ),
        (case_id.as_str(), "out_of_scope", "partner", FIRST)
    );
    assert_eq!(entry.operation, "/wayfinder.cases.v1.CaseService/RecordIntervention");
    assert_eq!(assembled.refusals.total(), 1);
});
