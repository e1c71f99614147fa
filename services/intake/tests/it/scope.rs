//! Who reads what (issue 12, finding 2): a hotline sees the status of what it submitted and nothing
//! else; every intake read answers each role as the authorization table says; a record outside the
//! caller's scope answers exactly like an unknown id.

use tonic::Code;
use wf_auth::Role;
use wf_proto::intake::v1 as pb;
use wf_testkit::both_engines;

use crate::{Client, Harness, example, with_reference};

const ORG_A: &str = "org_0193a1b2c3d4e5f60718293a4b5c6d1a";
const ORG_B: &str = "org_0193a1b2c3d4e5f60718293a4b5c6d1b";
const UNKNOWN: &str = "ref_0193a1b2c3d4e5f60718293a4b5c6dff";
const CASE: &str = crate::flow::CASE;

fn get(id: &str, purpose: &str) -> pb::GetReferralRequest {
    pb::GetReferralRequest { referral_id: id.to_owned(), purpose: purpose.to_owned() }
}

/// Routing and cases move the referral to assigned: routed and offered to ORG_B, which accepts, and a
/// case manager owns the case (the history then names a partner and a case manager).
async fn route_and_assign(harness: &Harness, id: &str) {
    let offer = "off_0193a1b2c3d4e5f60718293a4b5c6d1c";
    crate::flow::publish(
        harness,
        &[
            &crate::flow::routed(id, ORG_B),
            &crate::flow::offer_made(id, offer, ORG_B, 60),
            &crate::flow::case_assigned(id),
            &crate::flow::offer_accepted(id, offer, ORG_B, 5),
        ],
    )
    .await;
    let mut staff = harness.client(Role::Supervisor).await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while staff.get_referral(get(id, "")).await.expect("read").into_inner().status
        != pb::ReferralStatus::Assigned as i32
    {
        assert!(tokio::time::Instant::now() < deadline, "the referral never reached assigned");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The example under `reference`, naming no organization (a partner's token supplies its own).
fn own_reference(reference: &str) -> pb::SubmitReferralRequest {
    let mut request = with_reference(reference);
    request.referral.as_mut().expect("referral").referring_organization_id.clear();
    request
}

/// A NOT_FOUND answer with the id asked for replaced, to compare answers about different ids.
fn shape(status: &tonic::Status, id: &str) -> (Code, String) {
    (status.code(), status.message().replace(id, "<id>"))
}

both_engines!(a_submitting_partner_never_learns_where_the_youth_went, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut partner = harness.partner(ORG_A).await;
    let submitted = partner.submit_referral(own_reference("A-where")).await.expect("submit").into_inner();
    route_and_assign(&harness, &submitted.referral_id).await;
    let read = partner.get_referral(get(&submitted.referral_id, "")).await.expect("own").into_inner();
    assert_eq!(read.status, pb::ReferralStatus::Assigned as i32);
    assert!(read.referral.is_some(), "what it sent stays readable");
    assert_eq!((read.youth_id.as_str(), read.case_id.as_str()), ("", ""), "no youth or case id");
    assert_eq!(read.history.len(), 4, "received, routed, offered, assigned: nothing after the hand-off");
    for change in &read.history {
        assert_eq!((change.detail.as_str(), change.event_id.as_str()), ("", ""), "no serving partner, no case manager");
    }
    // staff still see all of it
    let staff = harness.client(Role::Supervisor).await.get_referral(get(&submitted.referral_id, "")).await;
    let staff = staff.expect("staff").into_inner();
    assert_eq!(staff.case_id, CASE);
    assert!(staff.history.iter().any(|change| !change.detail.is_empty()));
});

both_engines!(a_hotline_reads_only_the_status_of_what_it_submitted, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut hotline = harness.client_as("hotline-1", Role::Hotline, None).await;
    let mut other_hotline = harness.client_as("hotline-2", Role::Hotline, None).await;
    let submitted = hotline.submit_referral(example()).await.expect("submit").into_inner();
    route_and_assign(&harness, &submitted.referral_id).await;
    let before = harness.people_accesses_now().await.len();

    for purpose in ["", "triage"] {
        let read = hotline.get_referral(get(&submitted.referral_id, purpose)).await.expect("own").into_inner();
        assert_eq!(read.referral_id, submitted.referral_id);
        assert_eq!(read.status, pb::ReferralStatus::Assigned as i32);
        assert!(read.referral.is_none(), "no coded record: no facts, screenings or personal details");
        assert_eq!((read.youth_id.as_str(), read.case_id.as_str(), read.is_minor), ("", "", false));
        assert_eq!((read.closure_reason, read.matched_at), (0, None));
        let statuses: Vec<i32> = read.history.iter().map(|change| change.status).collect();
        assert_eq!(
            statuses,
            [
                pb::ReferralStatus::Received,
                pb::ReferralStatus::Routed,
                pb::ReferralStatus::Offered,
                pb::ReferralStatus::Assigned,
            ]
            .map(|s| s as i32)
        );
        for change in &read.history {
            assert!(change.at.is_some());
            assert_eq!((change.detail.as_str(), change.event_id.as_str()), ("", ""), "no partner, no case manager");
        }
    }
    // Each status read is on the record, naming only what it returned and the purpose it gave.
    let accesses = harness.people_accesses(before + 2).await;
    let reads: Vec<(&str, &str, &str, Vec<&str>)> = accesses[before..]
        .iter()
        .map(|a| {
            let fields = a.fields.iter().map(String::as_str).collect();
            (a.actor.as_str(), a.actor_role.as_str(), a.purpose.as_str(), fields)
        })
        .collect();
    assert_eq!(
        reads,
        vec![
            ("hotline-1", "hotline", "", vec!["referral.status"]),
            ("hotline-1", "hotline", "triage", vec!["referral.status"]),
        ]
    );
    assert!(accesses[before..].iter().all(|a| a.record_id == submitted.referral_id));

    // Another hotline client: the same answer as for an id that does not exist.
    let hidden = other_hotline.get_referral(get(&submitted.referral_id, "")).await.expect_err("not its own");
    let unknown = other_hotline.get_referral(get(UNKNOWN, "")).await.expect_err("unknown");
    assert_eq!(hidden.code(), Code::NotFound);
    assert_eq!(shape(&hidden, &submitted.referral_id), shape(&unknown, UNKNOWN));
    // Nor anything submitted by a partner.
    let by_partner =
        harness.partner(ORG_A).await.submit_referral(own_reference("A-1")).await.expect("partner").into_inner();
    let status = hotline.get_referral(get(&by_partner.referral_id, "")).await.expect_err("a partner's");
    assert_eq!(shape(&status, &by_partner.referral_id), shape(&unknown, UNKNOWN));
    assert_eq!(harness.people_accesses_now().await.len(), before + 2, "an answer of not found read nothing");
    harness.server.stop().await;
});

both_engines!(
    a_hotline_of_an_organization_reads_the_status_of_that_organizations_referrals_only,
    |engine| async move {
        let harness = Harness::start(engine).await;
        let mut hotline_a = harness.client_as("hotline-a", Role::Hotline, Some(ORG_A)).await;
        let mut hotline_b = harness.client_as("hotline-b", Role::Hotline, Some(ORG_B)).await;
        let mut request = example();
        request.referral.as_mut().expect("referral").referring_organization_id = ORG_A.into();
        let own = hotline_a.submit_referral(request).await.expect("submit").into_inner();
        let read = hotline_a.get_referral(get(&own.referral_id, "")).await.expect("own").into_inner();
        assert!(read.referral.is_none() && read.youth_id.is_empty());
        let hidden = hotline_b.get_referral(get(&own.referral_id, "")).await.expect_err("another organization's");
        let unknown = hotline_b.get_referral(get(UNKNOWN, "")).await.expect_err("unknown");
        assert_eq!(shape(&hidden, &own.referral_id), shape(&unknown, UNKNOWN));
        harness.server.stop().await;
    }
);

/// Every read RPC of the intake service: how a role allowed to call it answers an id nobody holds.
const READS: &[(&str, Code)] = &[
    ("GetReferral", Code::NotFound),
    ("ListReferrals", Code::Ok),
    ("GetConsentRelease", Code::NotFound),
    ("ListConsentReleases", Code::Ok),
    ("ListScreenings", Code::NotFound),
    ("ListMandatedReports", Code::Ok),
    ("ListPossibleMatches", Code::Ok),
    ("GetReleasedDetails", Code::NotFound),
];

/// Calls read RPC `method` about the unknown referral (or release) id.
async fn call_read(client: &mut Client, method: &str) -> Code {
    let referral_id = UNKNOWN.to_owned();
    let answer = match method {
        "GetReferral" => client.get_referral(get(&referral_id, "")).await.map(|_| ()),
        "ListReferrals" => client.list_referrals(pb::ListReferralsRequest::default()).await.map(|_| ()),
        "GetConsentRelease" => client
            .get_consent_release(pb::GetConsentReleaseRequest {
                release_id: "rel_0193a1b2c3d4e5f60718293a4b5c6dff".into(),
            })
            .await
            .map(|_| ()),
        "ListConsentReleases" => client
            .list_consent_releases(pb::ListConsentReleasesRequest { referral_id, ..Default::default() })
            .await
            .map(|_| ()),
        "ListScreenings" => {
            client.list_screenings(pb::ListScreeningsRequest { referral_id, ..Default::default() }).await.map(|_| ())
        }
        "ListMandatedReports" => client
            .list_mandated_reports(pb::ListMandatedReportsRequest { referral_id, ..Default::default() })
            .await
            .map(|_| ()),
        "ListPossibleMatches" => client
            .list_possible_matches(pb::ListPossibleMatchesRequest { referral_id, ..Default::default() })
            .await
            .map(|_| ()),
        "GetReleasedDetails" => client
            .get_released_details(pb::GetReleasedDetailsRequest { referral_id, purpose: "service_referral".into() })
            .await
            .map(|_| ()),
        other => panic!("intake read {other} has no row in READS: add one with its expected answers"),
    };
    answer.map_or_else(|status| status.code(), |()| Code::Ok)
}

both_engines!(every_intake_read_answers_each_role_as_the_role_table_says, |engine| async move {
    // The read RPCs come from the service descriptor, so a read added later without a row fails here.
    let service = wf_proto::json::descriptor_pool()
        .get_service_by_name("wayfinder.intake.v1.IntakeService")
        .expect("intake service descriptor");
    let reads: Vec<String> = service
        .methods()
        .map(|method| method.name().to_owned())
        .filter(|name| name.starts_with("Get") || name.starts_with("List"))
        .collect();
    assert_eq!(reads.len(), READS.len(), "a row per read RPC: {reads:?}");
    let harness = Harness::start(engine).await;
    let mut cells = 0;
    for role in Role::ALL {
        let mut client = match role {
            Role::Partner => harness.partner(ORG_A).await,
            other => harness.client_as(&format!("test-{other}"), other, None).await,
        };
        for method in &reads {
            let path = format!("/wayfinder.intake.v1.IntakeService/{method}");
            let rule = wf_auth::rpc::rule(&path).unwrap_or_else(|| panic!("{path} has no row in the role table"));
            let (_, unknown) = READS.iter().find(|(name, _)| name == method).expect("a row");
            let expected = if rule.allows(role) { *unknown } else { Code::PermissionDenied };
            assert_eq!(call_read(&mut client, method).await, expected, "{role} calling {method}");
            cells += 1;
        }
    }
    assert_eq!(cells, Role::ALL.len() * READS.len());
    harness.server.stop().await;
});

both_engines!(a_referral_outside_the_callers_scope_answers_like_an_unknown_id, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut a = harness.partner(ORG_A).await;
    let submitted = a.submit_referral(own_reference("A-2")).await.expect("submit").into_inner();
    let id = submitted.referral_id.as_str();
    let mut b = harness.partner(ORG_B).await;

    let hidden = b.get_referral(get(id, "")).await.expect_err("B");
    let unknown = b.get_referral(get(UNKNOWN, "")).await.expect_err("unknown");
    assert_eq!(hidden.code(), Code::NotFound);
    assert_eq!(shape(&hidden, id), shape(&unknown, UNKNOWN));

    let screenings =
        |referral_id: &str| pb::ListScreeningsRequest { referral_id: referral_id.into(), ..Default::default() };
    let hidden = b.list_screenings(screenings(id)).await.expect_err("B");
    let unknown = b.list_screenings(screenings(UNKNOWN)).await.expect_err("unknown");
    assert_eq!(shape(&hidden, id), shape(&unknown, UNKNOWN));

    let details = |referral_id: &str| pb::GetReleasedDetailsRequest {
        referral_id: referral_id.into(),
        purpose: "service_referral".into(),
    };
    let hidden = b.get_released_details(details(id)).await.expect_err("B");
    let unknown = b.get_released_details(details(UNKNOWN)).await.expect_err("unknown");
    assert_eq!(shape(&hidden, id), shape(&unknown, UNKNOWN));
    // Its own referral without an active release: the same answer again.
    let unreleased = a.get_released_details(details(id)).await.expect_err("no release");
    assert_eq!(shape(&unreleased, id), shape(&unknown, UNKNOWN));

    // A NOT_FOUND never repeats what it was asked for when that is not an id.
    let huge = "ref_".to_owned() + &"x".repeat(200_000);
    let status = harness.client(Role::CaseManager).await.get_referral(get(&huge, "")).await.expect_err("huge");
    assert_eq!(status.code(), Code::NotFound);
    assert!(status.message().len() < 100, "{} bytes", status.message().len());
    harness.server.stop().await;
});
