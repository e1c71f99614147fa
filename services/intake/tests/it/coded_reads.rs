//! Reads of coded records are on the record (issue 12, finding 8): a referral's coded record, its
//! screenings and its mandated reports each leave a `record.accessed` event naming what was read, so a
//! youth's disclosure report shows who looked at the case, not only who opened the vault.

use chrono::{Duration, Utc};
use wf_auth::Role;
use wf_proto::intake::v1 as pb;
use wf_testkit::both_engines;

use crate::{Harness, example};

both_engines!(coded_reads_of_a_referral_are_access_events, |engine| async move {
    let harness = Harness::start(engine).await;
    let submitted = harness.client(Role::Hotline).await.submit_referral(example()).await.expect("submit").into_inner();
    let id = submitted.referral_id.clone();
    let mut staff = harness.client(Role::CaseManager).await;
    staff
        .record_mandated_report(pb::RecordMandatedReportRequest {
            report: Some(pb::MandatedReport {
                referral_id: id.clone(),
                agency: pb::MandatedReportAgency::ChildWelfare as i32,
                reported_at: Some(wf_proto::time::timestamp(Utc::now() - Duration::minutes(30))),
                agency_reference: "DCFS-DEMO-0002".into(),
                ..Default::default()
            }),
        })
        .await
        .expect("record");
    assert!(harness.people_accesses_now().await.is_empty(), "recording is not reading");

    staff.get_referral(pb::GetReferralRequest { referral_id: id.clone(), purpose: String::new() }).await.expect("get");
    staff
        .get_referral(pb::GetReferralRequest { referral_id: id.clone(), purpose: "supervision".into() })
        .await
        .expect("get with a purpose");
    let screenings = staff
        .list_screenings(pb::ListScreeningsRequest { referral_id: id.clone(), ..Default::default() })
        .await
        .expect("screenings")
        .into_inner();
    assert!(!screenings.screenings.is_empty(), "the example comes with a screening");
    // By youth: the same screenings, recorded against their referral.
    staff
        .list_screenings(pb::ListScreeningsRequest { youth_id: submitted.youth_id.clone(), ..Default::default() })
        .await
        .expect("screenings by youth");
    let reports = staff
        .list_mandated_reports(pb::ListMandatedReportsRequest { referral_id: id.clone(), ..Default::default() })
        .await
        .expect("mandated reports")
        .into_inner();
    assert_eq!(reports.reports.len(), 1);

    let accesses = harness.people_accesses(5).await;
    let read: Vec<(&str, &str, Vec<&str>)> = accesses
        .iter()
        .map(|a| (a.record_id.as_str(), a.purpose.as_str(), a.fields.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(
        read,
        vec![
            (id.as_str(), "", vec!["referral.coded"]),
            (id.as_str(), "supervision", vec!["referral.coded", "personal"]),
            (id.as_str(), "", vec!["referral.screenings"]),
            (id.as_str(), "", vec!["referral.screenings"]),
            (id.as_str(), "", vec!["referral.mandated_reports"]),
        ]
    );
    for access in &accesses {
        assert_eq!((access.actor.as_str(), access.actor_role.as_str()), ("test-case_manager", "case_manager"));
        assert!(access.at.is_some());
    }

    // A list that returns nothing read nothing.
    staff
        .list_mandated_reports(pb::ListMandatedReportsRequest {
            referral_id: "ref_0193a1b2c3d4e5f60718293a4b5c6dfe".into(),
            ..Default::default()
        })
        .await
        .expect("empty list");
    assert_eq!(harness.people_accesses_now().await.len(), 5);
    harness.server.stop().await;
});

both_engines!(a_partner_reading_its_own_referral_is_on_the_record, |engine| async move {
    let harness = Harness::start(engine).await;
    let partner = "org_0193a1b2c3d4e5f60718293a4b5c6d3a";
    let mut client = harness.partner(partner).await;
    let submitted = client.submit_referral(example_from(partner)).await.expect("submit").into_inner();
    client
        .get_referral(pb::GetReferralRequest { referral_id: submitted.referral_id.clone(), purpose: String::new() })
        .await
        .expect("own referral");
    let accesses = harness.people_accesses(1).await;
    assert_eq!(accesses[0].fields, vec!["referral.coded"]);
    assert_eq!((accesses[0].actor_role.as_str(), accesses[0].actor_organization_id.as_str()), ("partner", partner));
    harness.server.stop().await;
});

both_engines!(every_referral_a_list_returns_is_a_read_and_a_partner_sees_no_youth_id, |engine| async move {
    let harness = Harness::start(engine).await;
    let partner = "org_0193a1b2c3d4e5f60718293a4b5c6d3b";
    let mut client = harness.partner(partner).await;
    let own = client.submit_referral(example_from(partner)).await.expect("submit").into_inner();
    let hotline = harness.client(Role::Hotline).await.submit_referral(example()).await.expect("submit").into_inner();

    let listed = harness
        .client(Role::CaseManager)
        .await
        .list_referrals(pb::ListReferralsRequest::default())
        .await
        .expect("staff list")
        .into_inner()
        .referrals;
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|r| r.youth_id.starts_with("yth_")), "staff see the youth id");
    let mine = client.list_referrals(pb::ListReferralsRequest::default()).await.expect("partner list").into_inner();
    assert_eq!(mine.referrals.len(), 1);
    assert_eq!(mine.referrals[0].referral_id, own.referral_id);
    assert_eq!(mine.referrals[0].youth_id, "", "a submitting partner is not told which youth it is");

    let reads: Vec<(String, String, Vec<String>)> = harness
        .people_accesses(3)
        .await
        .into_iter()
        .filter(|a| a.fields == ["referral.summary"])
        .map(|a| (a.record_id, a.actor_role, a.fields))
        .collect();
    let summary = || vec!["referral.summary".to_owned()];
    let mut staff_reads: Vec<String> = reads.iter().filter(|r| r.1 == "case_manager").map(|r| r.0.clone()).collect();
    staff_reads.sort();
    let mut both = vec![own.referral_id.clone(), hotline.referral_id.clone()];
    both.sort();
    assert_eq!(staff_reads, both);
    assert_eq!(
        reads.iter().filter(|r| r.1 == "partner").cloned().collect::<Vec<_>>(),
        [(own.referral_id.clone(), "partner".to_owned(), summary())]
    );
    harness.server.stop().await;
});

fn example_from(organization: &str) -> pb::SubmitReferralRequest {
    let mut request = example();
    request.referral.as_mut().expect("referral").referring_organization_id = organization.to_owned();
    request
}
