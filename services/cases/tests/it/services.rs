//! Interventions and plan goals; acceptance 4: a partner cannot record a service on a case it
//! does not serve (NOT_FOUND), and reads only its own services on a case it serves.

use tonic::Code;
use wf_auth::Role;
use wf_proto::cases::v1::{self as pb, GoalStatus, UnitType};
use wf_proto::common::v1::{Date, Site};
use wf_proto::events::v1 as events;
use wf_testkit::both_engines;

use crate::served::Served;

/// The partner `harness::referral_routed` routes every referral to.
const SERVING: &str = "org_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d";
const OTHER: &str = "org_0192f1c4d5e67a8b9c0d1e2f3a4b5c6e";

fn intervention(case_id: &str, provider_id: &str) -> pb::RecordInterventionRequest {
    pb::RecordInterventionRequest {
        intervention: Some(pb::Intervention {
            case_id: case_id.to_owned(),
            service_type: "mental_health".into(),
            delivered_on: Some(Date { year: 2025, month: 12, day: 30 }),
            units: 1.5,
            unit_type: UnitType::Hours as i32,
            provider_id: provider_id.to_owned(),
            ..Default::default()
        }),
    }
}

both_engines!(a_partner_records_services_only_on_cases_it_serves, |engine| async move {
    let served = Served::start(engine).await;
    let case_id = served.open_case(Site::SouthLosAngeles).await;
    let mut serving = served.partner(SERVING).await;
    let mut other = served.partner(OTHER).await;
    let mut staff = served.client(Role::CaseManager).await;

    let recorded = serving.record_intervention(intervention(&case_id, "")).await.expect("serving partner records");
    let partner_recorded = recorded.into_inner().intervention_id;
    assert!(partner_recorded.starts_with("int_"));

    // Another partner: the case does not exist for it, whatever it names as provider.
    for provider in ["", OTHER] {
        let status = other.record_intervention(intervention(&case_id, provider)).await.expect_err("not served");
        assert_eq!(status.code(), Code::NotFound, "{status:?}");
        assert_eq!(status.message(), "case not found");
    }
    // The same answer as for a case that does not exist at all.
    let nowhere = other
        .record_intervention(intervention("case_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d", ""))
        .await
        .expect_err("no such case");
    assert_eq!((nowhere.code(), nowhere.message()), (Code::NotFound, "case not found"));
    // A partner records its own services only.
    let status = serving.record_intervention(intervention(&case_id, OTHER)).await.expect_err("someone else's");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("intervention.provider_id"), "{}", status.message());
    // A case manager records on any case, naming the provider.
    let staff_recorded =
        staff.record_intervention(intervention(&case_id, OTHER)).await.expect("staff records").into_inner();
    let mut bad = intervention(&case_id, OTHER);
    let input = bad.intervention.as_mut().unwrap();
    input.service_type = "yoga".into();
    input.units = 0.0;
    input.delivered_on = Some(Date { year: 2026, month: 2, day: 30 });
    let status = staff.record_intervention(bad).await.expect_err("invalid");
    for field in ["intervention.service_type", "intervention.units", "intervention.delivered_on"] {
        assert!(status.message().contains(field) || format!("{status:?}").contains(field), "{field}: {status:?}");
    }

    // The serving partner reads its own interventions on the case, never another provider's; for
    // another partner the case does not exist.
    let own = serving
        .list_interventions(pb::ListInterventionsRequest { case_id: case_id.clone(), ..Default::default() })
        .await
        .expect("the serving partner lists its own")
        .into_inner()
        .interventions;
    assert_eq!(own.iter().map(|i| i.intervention_id.as_str()).collect::<Vec<_>>(), [partner_recorded.as_str()]);
    let status = serving
        .list_interventions(pb::ListInterventionsRequest {
            case_id: case_id.clone(),
            provider_id: OTHER.into(),
            ..Default::default()
        })
        .await
        .expect_err("another provider's");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(format!("{status:?}").contains("provider_id"), "{status:?}");
    let hidden = other
        .list_interventions(pb::ListInterventionsRequest { case_id: case_id.clone(), ..Default::default() })
        .await
        .expect_err("not served");
    assert_eq!((hidden.code(), hidden.message()), (Code::NotFound, "case not found"));

    let listed = staff
        .list_interventions(pb::ListInterventionsRequest { case_id: case_id.clone(), ..Default::default() })
        .await
        .expect("list")
        .into_inner()
        .interventions;
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].intervention_id, partner_recorded);
    assert_eq!(listed[0].provider_id, SERVING);
    assert_eq!(listed[0].recorded_by, "test-partner");
    assert_eq!(listed[0].delivered_on, Some(Date { year: 2025, month: 12, day: 30 }));
    assert_eq!((listed[0].units, listed[0].unit_type), (1.5, UnitType::Hours as i32));
    assert_eq!(listed[1].intervention_id, staff_recorded.intervention_id);
    assert_eq!(listed[1].recorded_by, "test-case_manager");
    let only_serving = staff
        .list_interventions(pb::ListInterventionsRequest {
            case_id: case_id.clone(),
            provider_id: SERVING.into(),
            ..Default::default()
        })
        .await
        .expect("filtered")
        .into_inner()
        .interventions;
    assert_eq!(only_serving.len(), 1);
    let in_range = |start: Date, end: Date| pb::ListInterventionsRequest {
        case_id: case_id.clone(),
        delivered: Some(wf_proto::common::v1::DateRange { start: Some(start), end: Some(end) }),
        ..Default::default()
    };
    let december = staff
        .list_interventions(in_range(Date { year: 2025, month: 12, day: 1 }, Date { year: 2026, month: 1, day: 1 }))
        .await
        .expect("in december");
    assert_eq!(december.into_inner().interventions.len(), 2);
    let after = staff
        .list_interventions(in_range(Date { year: 2025, month: 12, day: 31 }, Date { year: 2026, month: 1, day: 1 }))
        .await
        .expect("after the 30th");
    assert!(after.into_inner().interventions.is_empty(), "the range is [start, end)");

    let delivered = served.published(2, |e| e.event_type == "intervention.delivered").await;
    let first: events::InterventionDelivered = delivered[0].payload_as().expect("payload");
    assert_eq!((first.case_id.as_str(), first.service_type.as_str()), (case_id.as_str(), "mental_health"));
    assert_eq!(delivered.len(), 2, "refused requests announce nothing");
    served.server.stop().await;
});

both_engines!(plan_goals_are_created_updated_and_listed, |engine| async move {
    let served = Served::start(engine).await;
    let case_id = served.open_case(Site::SanFernandoValley).await;
    let mut staff = served.client(Role::CaseManager).await;
    let goal = pb::ServicePlanGoal {
        case_id: case_id.clone(),
        domain: "housing_stability".into(),
        planned_service_types: vec!["transitional_housing".into()],
        description: "Demo goal wording".into(),
        ..Default::default()
    };
    let created = staff.upsert_goal(pb::UpsertGoalRequest { goal: Some(goal) }).await.expect("create").into_inner();
    let mut goal = created.goal.expect("goal");
    assert!(goal.goal_id.starts_with("goal_"));
    assert_eq!(goal.status, GoalStatus::Open as i32);
    goal.status = GoalStatus::Achieved as i32;
    let updated = staff.upsert_goal(pb::UpsertGoalRequest { goal: Some(goal.clone()) }).await.expect("update");
    assert_eq!(updated.into_inner().goal.expect("goal").created_at, goal.created_at);
    let listed = staff
        .list_goals(pb::ListGoalsRequest { case_id: case_id.clone(), ..Default::default() })
        .await
        .expect("list")
        .into_inner()
        .goals;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status, GoalStatus::Achieved as i32);

    let mut bad = goal.clone();
    bad.domain = "recidivism".into();
    let status = staff.upsert_goal(pb::UpsertGoalRequest { goal: Some(bad) }).await.expect_err("bad domain");
    assert_eq!(status.code(), Code::InvalidArgument);

    let changed = served.published(2, |e| e.event_type == "service_plan.goal_changed").await;
    assert_eq!(changed.len(), 2);
    for event in &changed {
        assert!(!event.payload.windows(4).any(|w| w == b"Demo"), "the description never travels");
    }
    served.server.stop().await;
});

both_engines!(recidivism_events_carry_a_date_and_a_source, |engine| async move {
    use wf_proto::common::v1::{NoYes, RecidivismEvidence, RecidivismKind};
    let served = Served::start(engine).await;
    let case_id = served.open_case(Site::SouthLosAngeles).await;
    let mut staff = served.client(Role::CaseManager).await;
    let event =
        |kind: RecidivismKind, evidence: RecidivismEvidence, occurred_on: Date| pb::RecordRecidivismEventRequest {
            event: Some(pb::RecidivismEvent {
                case_id: case_id.clone(),
                kind: kind as i32,
                evidence: evidence as i32,
                occurred_on: Some(occurred_on),
                charge_category: "misdemeanor".into(),
                prostitution_related: NoYes::No as i32,
                ..Default::default()
            }),
        };
    let month_only = Date { year: 2025, month: 11, day: 0 };
    let id = staff
        .record_recidivism_event(event(RecidivismKind::ReArrest, RecidivismEvidence::ArrestRecord, month_only))
        .await
        .expect("record")
        .into_inner()
        .recidivism_event_id;
    assert!(id.starts_with("rcd_"));
    // Running away is its own kind, reported by the case manager or a partner.
    let ran_away = Date { year: 2025, month: 12, day: 3 };
    let mut running_away = event(RecidivismKind::RunningAway, RecidivismEvidence::CaseManagerReport, ran_away);
    if let Some(event) = running_away.event.as_mut() {
        event.charge_category.clear();
    }
    staff.record_recidivism_event(running_away).await.expect("running away is accepted");
    let mut unknown_kind = event(RecidivismKind::ReArrest, RecidivismEvidence::ArrestRecord, month_only);
    if let Some(event) = unknown_kind.event.as_mut() {
        event.kind = 99;
    }
    let status = staff.record_recidivism_event(unknown_kind).await.expect_err("unknown kind");
    assert!(format!("{status:?}").contains("RECIDIVISM_KIND_RUNNING_AWAY"), "the message lists every kind: {status:?}");
    for (bad, field) in [
        (event(RecidivismKind::Unspecified, RecidivismEvidence::ArrestRecord, month_only), "event.kind"),
        (event(RecidivismKind::ReArrest, RecidivismEvidence::Unspecified, month_only), "event.evidence"),
        (
            event(RecidivismKind::ReArrest, RecidivismEvidence::ArrestRecord, Date { year: 2027, month: 1, day: 1 }),
            "event.occurred_on",
        ),
    ] {
        let status = staff.record_recidivism_event(bad).await.expect_err(field);
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(format!("{status:?}").contains(field), "{field}: {status:?}");
    }
    let listed = staff
        .list_recidivism_events(pb::ListRecidivismEventsRequest { case_id: case_id.clone(), ..Default::default() })
        .await
        .expect("list")
        .into_inner()
        .events;
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].occurred_on, Some(month_only));
    assert_eq!(listed[0].evidence, RecidivismEvidence::ArrestRecord as i32);
    assert_eq!(listed[0].recorded_by, "test-case_manager");
    assert_eq!((listed[1].kind, listed[1].occurred_on), (RecidivismKind::RunningAway as i32, Some(ran_away)));
    let recorded = served.published(2, |e| e.event_type == "recidivism.recorded").await;
    let payload: events::RecidivismRecorded = recorded[0].payload_as().expect("payload");
    assert_eq!((payload.kind, payload.charge_category.as_str()), (RecidivismKind::ReArrest as i32, "misdemeanor"));
    let payload: events::RecidivismRecorded = recorded[1].payload_as().expect("payload");
    assert_eq!(
        (payload.kind, payload.evidence),
        (RecidivismKind::RunningAway as i32, RecidivismEvidence::CaseManagerReport as i32)
    );
    served.server.stop().await;
});
