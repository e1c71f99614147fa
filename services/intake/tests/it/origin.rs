//! Who a referral comes from (issue 12, finding 1): a partner or a hotline client submits only as the
//! organization its credentials name, idempotency never crosses from one submitter to another, and
//! staff entering a referral on an organization's behalf are recorded as themselves.

use prost::Message;
use tonic::Code;
use wf_auth::Role;
use wf_proto::events::v1 as events;
use wf_proto::intake::v1 as pb;
use wf_testkit::both_engines;

use crate::{Harness, fields_of, with_reference};

const ORG_A: &str = "org_0193a1b2c3d4e5f60718293a4b5c6d0a";
const ORG_B: &str = "org_0193a1b2c3d4e5f60718293a4b5c6d0b";

/// The example referral under `reference`, naming `organization` as its referrer ("" for none).
fn from(organization: &str, reference: &str) -> pb::SubmitReferralRequest {
    let mut request = with_reference(reference);
    request.referral.as_mut().expect("referral").referring_organization_id = organization.to_owned();
    request
}

async fn referral_count(harness: &Harness) -> i64 {
    let (count,): (i64,) =
        wf_db::sqlx::query_as("SELECT COUNT(*) FROM referral").fetch_one(harness.db.pool()).await.expect("count");
    count
}

both_engines!(a_partner_naming_another_organization_is_refused_on_that_field, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut b = harness.partner(ORG_B).await;
    let status = b.submit_referral(from(ORG_A, "A-0001")).await.expect_err("spoofed origin");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(fields_of(&status), vec!["referral.referring_organization_id"]);
    assert!(status.message().contains("must match the caller's organization"), "{}", status.message());
    assert!(!status.message().contains(ORG_A) && !status.message().contains(ORG_B), "{}", status.message());
    assert_eq!(referral_count(&harness).await, 0, "nothing stored");
    harness.server.stop().await;
});

both_engines!(a_partner_submission_takes_its_organization_from_the_token, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut a = harness.partner(ORG_A).await;
    let submitted = a.submit_referral(from("", "A-0002")).await.expect("empty: filled in").into_inner();
    let same = a.submit_referral(from(ORG_A, "A-0003")).await.expect("its own organization").into_inner();
    let announced = harness.published("referral.received", 2).await;
    for envelope in &announced {
        let received: events::ReferralReceived = envelope.payload_as().expect("payload");
        assert_eq!(received.referring_organization_id, ORG_A, "the event names the token's organization");
    }
    let (coded, partner): (Vec<u8>, Option<String>) =
        wf_db::sqlx::query_as("SELECT coded, submitted_by_partner FROM referral WHERE id = $1")
            .bind(&submitted.referral_id)
            .fetch_one(harness.db.pool())
            .await
            .expect("row");
    assert_eq!(pb::Referral::decode(coded.as_slice()).expect("coded").referring_organization_id, ORG_A);
    assert_eq!(partner.as_deref(), Some(ORG_A));
    assert_ne!(same.referral_id, submitted.referral_id);
    harness.server.stop().await;
});

both_engines!(a_decoy_cannot_take_or_reveal_another_organizations_referral, |engine| async move {
    // The probe's attack: B submits "from" A with A's next reference, then A submits for real.
    let harness = Harness::start(engine).await;
    let mut a = harness.partner(ORG_A).await;
    let mut b = harness.partner(ORG_B).await;
    b.submit_referral(from(ORG_A, "A-0100")).await.expect_err("B cannot name A");
    let decoy = b.submit_referral(from("", "A-0100")).await.expect("B under its own name").into_inner();

    let real = a.submit_referral(from(ORG_A, "A-0100")).await.expect("A's real referral").into_inner();
    assert!(!real.duplicate, "A's referral is stored, not answered with the decoy");
    assert_ne!(real.referral_id, decoy.referral_id);
    let read = |id: &str| pb::GetReferralRequest { referral_id: id.to_owned(), purpose: String::new() };
    a.get_referral(read(&real.referral_id)).await.expect("A reads the id it was handed");

    // B probing with A's reference learns only its own decoy, never A's ids or status.
    let probe = b.submit_referral(from("", "A-0100")).await.expect("probe").into_inner();
    assert_eq!((probe.referral_id.as_str(), probe.duplicate), (decoy.referral_id.as_str(), true));
    assert_ne!(probe.youth_id, real.youth_id);
    let again = a.submit_referral(from(ORG_A, "A-0100")).await.expect("A retries").into_inner();
    assert_eq!((again.referral_id.as_str(), again.duplicate), (real.referral_id.as_str(), true));
    assert_eq!(referral_count(&harness).await, 2);
    harness.server.stop().await;
});

both_engines!(a_duplicate_answer_goes_only_to_the_owner_of_the_original, |engine| async move {
    // A row stored under A's namespace by someone else (as the old key on the body's organization let a
    // decoy do): A's submission with that reference is refused without the row's ids.
    let harness = Harness::start(engine).await;
    let mut b = harness.partner(ORG_B).await;
    let decoy = b.submit_referral(from("", "A-0200")).await.expect("decoy").into_inner();
    wf_db::sqlx::query("UPDATE referral SET dedupe_key = $1 WHERE id = $2")
        .bind(format!("{ORG_A}|A-0200"))
        .bind(&decoy.referral_id)
        .execute(harness.db.pool())
        .await
        .expect("legacy key");
    let mut a = harness.partner(ORG_A).await;
    let status = a.submit_referral(from(ORG_A, "A-0200")).await.expect_err("not A's referral");
    assert_eq!(status.code(), Code::AlreadyExists);
    assert!(status.message().contains("referral.external_reference"), "{}", status.message());
    for secret in [&decoy.referral_id, &decoy.youth_id] {
        assert!(!status.message().contains(secret.as_str()), "{}", status.message());
        assert!(!status.details().windows(secret.len()).any(|w| w == secret.as_bytes()));
    }
    harness.server.stop().await;
});

both_engines!(a_hotline_client_with_an_organization_submits_only_as_it, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut hotline = harness.client_as("hotline-client-a", Role::Hotline, Some(ORG_A)).await;
    let status = hotline.submit_referral(from(ORG_B, "H-0001")).await.expect_err("another organization");
    assert_eq!(fields_of(&status), vec!["referral.referring_organization_id"]);
    assert!(!status.message().contains(ORG_B), "{}", status.message());
    let own = hotline.submit_referral(from(ORG_A, "H-0001")).await.expect("its own").into_inner();
    // Another client of the same organization shares its references (one organization, one namespace).
    let mut colleague = harness.client_as("hotline-client-a2", Role::Hotline, Some(ORG_A)).await;
    let again = colleague.submit_referral(from("", "H-0001")).await.expect("same organization").into_inner();
    assert_eq!((again.referral_id.as_str(), again.duplicate), (own.referral_id.as_str(), true));
    harness.server.stop().await;
});

both_engines!(hotline_clients_without_an_organization_never_share_a_reference, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut one = harness.client_as("hotline-1", Role::Hotline, None).await;
    let mut two = harness.client_as("hotline-2", Role::Hotline, None).await;
    let first = one.submit_referral(from(ORG_A, "H-0100")).await.expect("one").into_inner();
    let second = two.submit_referral(from(ORG_A, "H-0100")).await.expect("two").into_inner();
    assert!(!second.duplicate, "the other client's referral is its own, not an answer about the first");
    assert_ne!(second.referral_id, first.referral_id);
    let retry = one.submit_referral(from(ORG_A, "H-0100")).await.expect("retry").into_inner();
    assert_eq!((retry.referral_id.as_str(), retry.duplicate), (first.referral_id.as_str(), true));
    harness.server.stop().await;
});

both_engines!(staff_entering_a_referral_on_an_organizations_behalf_are_recorded_as_themselves, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut staff = harness.client(Role::CaseManager).await;
    let entered = staff.submit_referral(from(ORG_A, "A-0300")).await.expect("on A's behalf").into_inner();
    let (by, role, partner, coded): (String, String, Option<String>, Vec<u8>) = wf_db::sqlx::query_as(
        "SELECT submitted_by, submitted_by_role, submitted_by_partner, coded FROM referral WHERE id = $1",
    )
    .bind(&entered.referral_id)
    .fetch_one(harness.db.pool())
    .await
    .expect("row");
    assert_eq!((by.as_str(), role.as_str(), partner), ("test-case_manager", "case_manager", None));
    assert_eq!(pb::Referral::decode(coded.as_slice()).expect("coded").referring_organization_id, ORG_A);

    // A's own submission with the same reference is A's, not an answer with the staff entry's ids.
    let own = harness.partner(ORG_A).await.submit_referral(from(ORG_A, "A-0300")).await.expect("A").into_inner();
    assert!(!own.duplicate);
    assert_ne!(own.referral_id, entered.referral_id);
    let (role,): (String,) = wf_db::sqlx::query_as("SELECT submitted_by_role FROM referral WHERE id = $1")
        .bind(&own.referral_id)
        .fetch_one(harness.db.pool())
        .await
        .expect("row");
    assert_eq!(role, "partner");
    harness.server.stop().await;
});
