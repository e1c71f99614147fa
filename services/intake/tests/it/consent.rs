//! Consent releases and the partner-facing read (acceptance 7).

use tonic::Code;
use wf_auth::Role;
use wf_proto::common::v1::InformationCategory as Cat;
use wf_proto::intake::v1 as pb;
use wf_testkit::both_engines;

use crate::{Harness, example};

const PARTNER: &str = "org_0193a1b2c3d4e5f60718293a4b5c6d11";
const OTHER_PARTNER: &str = "org_0193a1b2c3d4e5f60718293a4b5c6d12";

fn release(referral_id: &str, partner: &str, categories: &[Cat]) -> pb::CreateConsentReleaseRequest {
    let now = chrono::Utc::now();
    pb::CreateConsentReleaseRequest {
        release: Some(pb::ConsentRelease {
            referral_id: referral_id.to_owned(),
            recipient_organization_id: partner.to_owned(),
            categories: categories.iter().map(|c| *c as i32).collect(),
            purpose: "service_referral".into(),
            signed_at: Some(wf_proto::time::timestamp(now - chrono::Duration::minutes(10))),
            expires_at: Some(wf_proto::time::timestamp(now + chrono::Duration::days(30))),
            signers: vec![pb::ReleaseSigner {
                role: pb::SignerRole::Youth as i32,
                legal_basis: "minor_consent_sensitive_services".into(),
                ..Default::default()
            }],
            ..Default::default()
        }),
    }
}

fn read(referral_id: &str) -> pb::GetReleasedDetailsRequest {
    pb::GetReleasedDetailsRequest { referral_id: referral_id.to_owned(), purpose: "service_referral".into() }
}

both_engines!(a_partner_reads_only_what_an_active_release_covers, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut partner = harness.partner(PARTNER).await;
    let mut other = harness.partner(OTHER_PARTNER).await;
    let mut staff = harness.client(Role::CaseManager).await;
    let mut request = example();
    request.referral.as_mut().expect("referral").referring_organization_id = PARTNER.to_owned();
    let submitted = partner.submit_referral(request).await.expect("submit").into_inner();
    let id = submitted.referral_id.clone();

    // Without a release: nothing, answered like a referral that does not exist.
    let status = partner.get_released_details(read(&id)).await.expect_err("no release");
    assert_eq!(status.code(), Code::NotFound);

    // A release naming the partner for identity only.
    let created =
        staff.create_consent_release(release(&id, PARTNER, &[Cat::Identity])).await.expect("create").into_inner();
    assert!(created.release_id.starts_with("rel_"));
    let recorded = created.release.expect("release");
    assert!(recorded.active);
    assert_eq!(recorded.youth_id, submitted.youth_id);
    assert_eq!(harness.outbox_count("consent_release.created").await, 1);

    let released = partner.get_released_details(read(&id)).await.expect("released").into_inner();
    let personal = released.personal.expect("personal");
    assert_eq!(personal.legal_first_name, "Demo");
    assert!(personal.date_of_birth.is_some());
    assert!(personal.phones.is_empty() && personal.safe_contact.is_none() && personal.guardians.is_empty());
    assert!(released.referral.is_none(), "coded facts need the REFERRAL category");
    assert_eq!(released.categories, vec![Cat::Identity as i32]);
    assert_eq!(released.release_ids, vec![created.release_id.clone()]);

    // The read is an access event naming the release and the fields returned.
    let accesses = harness.people_accesses(1).await;
    let access = &accesses[0];
    assert_eq!(access.release_id, created.release_id);
    assert_eq!(access.actor_organization_id, PARTNER);
    assert_eq!(access.purpose, "service_referral");
    assert!(access.fields.contains(&"personal.legal_first_name".to_owned()), "{:?}", access.fields);
    assert!(!access.fields.iter().any(|f| f.starts_with("personal.phones")), "{:?}", access.fields);

    // A wrong purpose and another partner: not found.
    let mut wrong_purpose = read(&id);
    wrong_purpose.purpose = "legal_representation".into();
    assert_eq!(partner.get_released_details(wrong_purpose).await.expect_err("purpose").code(), Code::NotFound);
    assert_eq!(other.get_released_details(read(&id)).await.expect_err("other").code(), Code::NotFound);

    // Revocation takes effect at once; revoking twice keeps the first and announces once.
    let revoked = staff
        .revoke_consent_release(pb::RevokeConsentReleaseRequest {
            release_id: created.release_id.clone(),
            reason: "youth_request".into(),
        })
        .await
        .expect("revoke")
        .into_inner()
        .release
        .expect("release");
    assert!(!revoked.active && revoked.revoked_at.is_some());
    staff
        .revoke_consent_release(pb::RevokeConsentReleaseRequest {
            release_id: created.release_id.clone(),
            reason: "youth_request".into(),
        })
        .await
        .expect("revoke again");
    assert_eq!(harness.outbox_count("consent_release.revoked").await, 1);
    let status = partner.get_released_details(read(&id)).await.expect_err("revoked");
    assert_eq!(status.code(), Code::NotFound);

    // Exactly one access event: only the one successful read.
    assert_eq!(harness.people_accesses_now().await.len(), 1);
    harness.server.stop().await;
});

both_engines!(an_expired_release_releases_nothing_and_contact_covers_safe_contact, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut partner = harness.partner(PARTNER).await;
    let mut staff = harness.client(Role::CaseManager).await;
    let mut request = example();
    request.referral.as_mut().expect("referral").referring_organization_id = PARTNER.to_owned();
    let id = partner.submit_referral(request).await.expect("submit").into_inner().referral_id;
    let created = staff
        .create_consent_release(release(&id, PARTNER, &[Cat::Contact, Cat::Referral]))
        .await
        .expect("create")
        .into_inner();
    let released = partner.get_released_details(read(&id)).await.expect("released").into_inner();
    let personal = released.personal.expect("personal");
    assert!(personal.legal_first_name.is_empty() && personal.date_of_birth.is_none());
    assert!(!personal.phones.is_empty());
    assert_eq!(personal.safe_contact.expect("safe contact").code_word, "blue notebook");
    assert!(released.referral.expect("coded referral").personal.is_none());

    // Time passes beyond the expiry (moved in the table: expiry cannot be set in the past through the API).
    wf_db::sqlx::query("UPDATE consent_release SET expires_at = $1 WHERE id = $2")
        .bind(wf_db::now_micros() - 1)
        .bind(&created.release_id)
        .execute(harness.db.pool())
        .await
        .expect("expire");
    assert_eq!(partner.get_released_details(read(&id)).await.expect_err("expired").code(), Code::NotFound);
    let listed = staff
        .list_consent_releases(pb::ListConsentReleasesRequest {
            referral_id: id.clone(),
            active_only: true,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert!(listed.releases.is_empty(), "expired releases are not active");
    let all = staff
        .list_consent_releases(pb::ListConsentReleasesRequest { referral_id: id.clone(), ..Default::default() })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(all.releases.len(), 1);
    assert!(!all.releases[0].active);
    harness.server.stop().await;
});

both_engines!(bad_releases_are_refused_by_field_and_partners_cannot_manage_them, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut staff = harness.client(Role::CaseManager).await;
    let id =
        harness.client(Role::Hotline).await.submit_referral(example()).await.expect("submit").into_inner().referral_id;

    let mut no_expiry = release(&id, PARTNER, &[Cat::Identity]);
    no_expiry.release.as_mut().expect("release").expires_at = None;
    let status = staff.create_consent_release(no_expiry).await.expect_err("no expiry");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("release.expires_at"), "{}", status.message());

    // A minor signing alone without a legal basis needs a guardian or representative.
    let mut alone = release(&id, PARTNER, &[Cat::Identity]);
    alone.release.as_mut().expect("release").signers[0].legal_basis.clear();
    let status = staff.create_consent_release(alone).await.expect_err("minor alone");
    assert!(status.message().contains("release.signers"), "{}", status.message());

    let status = staff
        .create_consent_release(release("ref_0193a1b2c3d4e5f60718293a4b5c6d7e", PARTNER, &[Cat::Identity]))
        .await
        .expect_err("unknown referral");
    assert!(status.message().contains("release.referral_id"), "{}", status.message());

    let mut partner = harness.partner(PARTNER).await;
    let status = partner.create_consent_release(release(&id, PARTNER, &[Cat::Identity])).await.expect_err("partner");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(harness.outbox_count("consent_release.created").await, 0);
    harness.server.stop().await;
});

both_engines!(intake_never_depends_on_a_release, |engine| async move {
    // Submission and staff reads work with no release at all; releases only gate partner reads.
    let harness = Harness::start(engine).await;
    let id =
        harness.client(Role::Hotline).await.submit_referral(example()).await.expect("submit").into_inner().referral_id;
    let read = harness
        .client(Role::CaseManager)
        .await
        .get_referral(pb::GetReferralRequest { referral_id: id, purpose: "triage".into() })
        .await
        .expect("staff read without a release")
        .into_inner();
    assert!(read.referral.and_then(|r| r.personal).is_some());
    harness.server.stop().await;
});
