//! Purposes are codes from one closed list (issue 12, finding 6): free text in a purpose would stay
//! forever in the append-only audit log. Every purpose field of intake is checked; so is every other
//! caller-written value that reaches an event.

use tonic::Code;
use wf_auth::Role;
use wf_proto::intake::v1 as pb;
use wf_testkit::both_engines;

use crate::{Harness, example, fields_of};

const FREE_TEXT: &str = "looked up Jane Fictional because her aunt called";
const PARTNER: &str = "org_0193a1b2c3d4e5f60718293a4b5c6d2a";

fn refused_naming(status: &tonic::Status, field: &str) {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(fields_of(status), vec![field.to_owned()]);
    assert!(!status.message().contains("Jane"), "never repeats the value: {}", status.message());
}

both_engines!(a_read_with_a_purpose_outside_the_closed_list_is_refused_naming_the_field, |engine| async move {
    let harness = Harness::start(engine).await;
    let submitted = harness.client(Role::Hotline).await.submit_referral(example()).await.expect("submit").into_inner();
    let id = submitted.referral_id.clone();
    let mut staff = harness.client(Role::Supervisor).await;
    for purpose in [FREE_TEXT, "follow_up", "Triage", " triage", &"x".repeat(20_000)] {
        let status = staff
            .get_referral(pb::GetReferralRequest { referral_id: id.clone(), purpose: purpose.to_owned() })
            .await
            .expect_err("not a purpose code");
        refused_naming(&status, "purpose");
        assert!(status.message().contains("case_management"), "names what is allowed: {}", status.message());
    }
    let status = harness
        .partner(PARTNER)
        .await
        .get_released_details(pb::GetReleasedDetailsRequest { referral_id: id.clone(), purpose: FREE_TEXT.into() })
        .await
        .expect_err("not a purpose code");
    refused_naming(&status, "purpose");
    let (accesses,): (i64,) =
        wf_db::sqlx::query_as("SELECT COUNT(*) FROM event_outbox WHERE event_type = 'record.accessed'")
            .fetch_one(harness.db.pool())
            .await
            .expect("count");
    assert_eq!(accesses, 0, "a refused read is no read");
    harness.server.stop().await;
});

both_engines!(a_release_purpose_and_a_revocation_reason_are_codes, |engine| async move {
    let harness = Harness::start(engine).await;
    let submitted = harness.client(Role::Hotline).await.submit_referral(example()).await.expect("submit").into_inner();
    let mut staff = harness.client(Role::CaseManager).await;
    let now = chrono::Utc::now();
    let release = |purpose: &str| pb::CreateConsentReleaseRequest {
        release: Some(pb::ConsentRelease {
            referral_id: submitted.referral_id.clone(),
            recipient_organization_id: PARTNER.into(),
            categories: vec![wf_proto::common::v1::InformationCategory::Identity as i32],
            purpose: purpose.to_owned(),
            signed_at: Some(wf_proto::time::timestamp(now - chrono::Duration::minutes(10))),
            expires_at: Some(wf_proto::time::timestamp(now + chrono::Duration::days(30))),
            signers: vec![pb::ReleaseSigner {
                role: pb::SignerRole::Youth as i32,
                legal_basis: "minor_consent_sensitive_services".into(),
                ..Default::default()
            }],
            ..Default::default()
        }),
    };
    // A well-formed code that is not on the list is refused too.
    for purpose in ["shopping_for_names", FREE_TEXT] {
        let status = staff.create_consent_release(release(purpose)).await.expect_err("not a purpose code");
        refused_naming(&status, "release.purpose");
    }
    let created = staff.create_consent_release(release("service_referral")).await.expect("a listed purpose");
    let release_id = created.into_inner().release_id;
    let status = staff
        .revoke_consent_release(pb::RevokeConsentReleaseRequest { release_id, reason: "a".repeat(20_000) })
        .await
        .expect_err("a reason is a short code");
    assert_eq!(fields_of(&status), vec!["reason"]);
    assert_eq!(harness.outbox_count("consent_release.revoked").await, 0);
    harness.server.stop().await;
});
