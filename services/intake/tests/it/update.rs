//! `UpdateReferral`: masked fields only, the submission's validator over the merged record, the
//! personal part re-sealed, `referral.updated` with paths only, and an access event for opening it.

use tonic::Code;
use wf_auth::Role;
use wf_proto::common::v1 as common;
use wf_proto::events::v1 as events;
use wf_proto::intake::v1 as pb;
use wf_testkit::both_engines;

use crate::{Harness, example, fields_of};

fn update(referral_id: &str, referral: pb::Referral, paths: &[&str], reason: &str) -> pb::UpdateReferralRequest {
    pb::UpdateReferralRequest {
        referral_id: referral_id.to_owned(),
        referral: Some(referral),
        update_mask: Some(prost_types::FieldMask { paths: paths.iter().map(|p| (*p).to_owned()).collect() }),
        reason: reason.to_owned(),
    }
}

async fn sealed(harness: &Harness, referral_id: &str) -> (Vec<u8>, Vec<u8>, i32) {
    wf_db::sqlx::query_as("SELECT coded, personal_sealed, is_minor FROM referral WHERE id = $1")
        .bind(referral_id)
        .fetch_one(harness.db.pool())
        .await
        .expect("row")
}

both_engines!(an_update_changes_masked_fields_reseals_and_announces_paths_only, |engine| async move {
    let harness = Harness::start(engine).await;
    let submitted = harness.client(Role::Hotline).await.submit_referral(example()).await.expect("submit").into_inner();
    let id = submitted.referral_id.clone();
    let (_, sealed_before, minor_before) = sealed(&harness, &id).await;
    assert_eq!(minor_before, 1);
    let mut staff = harness.client(Role::CaseManager).await;

    let changes = pb::Referral {
        school_status: common::SchoolStatus::ObtainedGed as i32,
        preferred_language: "en".into(),
        personal: Some(pb::PersonalDetails {
            // Now known to be an adult: the derived minor flag follows.
            date_of_birth: Some(common::Date { year: 2005, month: 4, day: 1 }),
            safe_contact: Some(pb::SafeContact { contacting_prohibited: true, ..Default::default() }),
            legal_last_name: "Not-In-The-Mask".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let updated = staff
        .update_referral(update(
            &id,
            changes,
            &["school_status", "preferred_language", "personal.date_of_birth", "personal.safe_contact"],
            "intake_interview",
        ))
        .await
        .expect("update")
        .into_inner();
    let referral = updated.referral.expect("referral");
    assert_eq!(referral.school_status, common::SchoolStatus::ObtainedGed as i32);
    assert!(referral.personal.is_none(), "personal details are read with GetReferral and a purpose");
    assert_eq!(referral.external_reference, "HL-2026-0001", "untouched");

    let read = staff
        .get_referral(pb::GetReferralRequest { referral_id: id.clone(), purpose: "case_management".into() })
        .await
        .expect("read")
        .into_inner();
    assert!(!read.is_minor);
    let personal = read.referral.and_then(|r| r.personal).expect("personal");
    assert!(personal.safe_contact.expect("safe contact").contacting_prohibited);
    assert_eq!(personal.legal_last_name, "Youth-Alpha", "not in the mask, not changed");
    assert_eq!(personal.legal_first_name, "Demo");

    let (coded, sealed_after, minor_after) = sealed(&harness, &id).await;
    assert_ne!(sealed_after, sealed_before, "re-sealed");
    assert_eq!(minor_after, 0);
    for bytes in [&coded, &sealed_after] {
        assert!(!bytes.windows(11).any(|w| w == b"Youth-Alpha"), "no plaintext at rest");
    }

    let event: events::ReferralUpdated =
        harness.published("referral.updated", 1).await[0].payload_as().expect("payload");
    assert_eq!(
        event.changed_fields,
        vec!["school_status", "preferred_language", "personal.date_of_birth", "personal.safe_contact"]
    );
    assert_eq!(event.reason, "intake_interview");
    let accesses = harness.people_accesses(2).await;
    let purposes: Vec<String> = accesses
        .into_iter()
        .filter(|a| a.record_id == id && a.actor_role == "case_manager")
        .map(|a| a.purpose)
        .collect();
    assert_eq!(purposes, vec!["record_correction", "case_management"], "opening for the update is a read too");
    harness.server.stop().await;
});

both_engines!(an_update_is_refused_field_by_field_and_changes_nothing, |engine| async move {
    let harness = Harness::start(engine).await;
    let submitted = harness.client(Role::Hotline).await.submit_referral(example()).await.expect("submit").into_inner();
    let id = submitted.referral_id.clone();
    let before = sealed(&harness, &id).await;
    let mut staff = harness.client(Role::CaseManager).await;

    let bad_mask = staff
        .update_referral(update(
            &id,
            pb::Referral::default(),
            &["external_reference", "personal.shoe_size", "site"],
            "correction",
        ))
        .await
        .expect_err("bad mask");
    assert_eq!(bad_mask.code(), Code::InvalidArgument);
    assert_eq!(fields_of(&bad_mask), vec!["update_mask.paths[0]", "update_mask.paths[1]"]);

    // The merged record goes through the submission's validator: same field paths as a submission.
    let invalid = pb::Referral {
        preferred_language: "english".into(),
        personal: Some(pb::PersonalDetails {
            phones: vec![pb::Phone { number: "call me".into(), ..Default::default() }],
            ..Default::default()
        }),
        ..Default::default()
    };
    let refused = staff
        .update_referral(update(&id, invalid, &["preferred_language", "personal.phones", "site"], "correction"))
        .await
        .expect_err("invalid values");
    assert_eq!(
        fields_of(&refused),
        vec!["referral.site", "referral.preferred_language", "referral.personal.phones[0].number"]
    );
    let cleared = staff
        .update_referral(update(&id, pb::Referral::default(), &["received_at"], "correction"))
        .await
        .expect_err("a referral always has a receipt time");
    assert_eq!(fields_of(&cleared), vec!["referral.received_at"]);
    let unknown = staff
        .update_referral(update("ref_0193a1b2c3d4e5f60718293a4b5c6d7e", pb::Referral::default(), &["site"], ""))
        .await
        .expect_err("no such referral");
    assert_eq!(unknown.code(), Code::NotFound);
    let partner = harness
        .partner("org_0193a1b2c3d4e5f60718293a4b5c6d01")
        .await
        .update_referral(update(&id, pb::Referral::default(), &["site"], ""))
        .await
        .expect_err("partners do not correct referrals");
    assert_eq!(partner.code(), Code::PermissionDenied);

    assert_eq!(sealed(&harness, &id).await, before, "nothing changed");
    let (count,): (i64,) =
        wf_db::sqlx::query_as("SELECT COUNT(*) FROM event_outbox WHERE event_type = 'referral.updated'")
            .fetch_one(harness.db.pool())
            .await
            .expect("count");
    assert_eq!(count, 0);
    harness.server.stop().await;
});

both_engines!(a_refused_update_that_opened_the_personal_part_records_only_the_read, |engine| async move {
    let harness = Harness::start(engine).await;
    let submitted = harness.client(Role::Hotline).await.submit_referral(example()).await.expect("submit").into_inner();
    let id = submitted.referral_id.clone();
    let before = sealed(&harness, &id).await;
    let mut staff = harness.client(Role::CaseManager).await;

    // The personal part is opened to merge the phones, then the validator refuses the merged record.
    let invalid = pb::Referral {
        personal: Some(pb::PersonalDetails {
            phones: vec![pb::Phone { number: "call me".into(), ..Default::default() }],
            ..Default::default()
        }),
        ..Default::default()
    };
    let refused = staff
        .update_referral(update(&id, invalid, &["personal.phones"], "correction"))
        .await
        .expect_err("invalid phone");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(fields_of(&refused), vec!["referral.personal.phones[0].number"]);

    assert_eq!(sealed(&harness, &id).await, before, "the referral is unchanged");
    let accesses = harness.people_accesses(1).await;
    assert_eq!(accesses.len(), 1, "exactly one read was recorded");
    assert_eq!(accesses[0].record_id, id);
    assert_eq!(accesses[0].actor_role, "case_manager");
    assert_eq!(accesses[0].purpose, "record_correction");
    assert_eq!(accesses[0].fields, vec!["personal"]);
    let (updates,): (i64,) =
        wf_db::sqlx::query_as("SELECT COUNT(*) FROM event_outbox WHERE event_type = 'referral.updated'")
            .fetch_one(harness.db.pool())
            .await
            .expect("count");
    assert_eq!(updates, 0, "nothing else is stored");

    // A refusal that never opened the personal part records no read.
    let coded_only = staff
        .update_referral(update(
            &id,
            pb::Referral { preferred_language: "english".into(), ..Default::default() },
            &["preferred_language"],
            "correction",
        ))
        .await
        .expect_err("invalid language");
    assert_eq!(fields_of(&coded_only), vec!["referral.preferred_language"]);
    assert_eq!(harness.people_accesses_now().await.len(), 1);
    harness.server.stop().await;
});
