//! The partner that accepted an offer serves the youth (issue 13, finding 4): it reads the coded
//! referral with the case id (never the youth id or who else serves them) and, under an active release
//! naming it, the released categories. Before it accepts, and for anyone else, the referral answers
//! NOT_FOUND exactly like an unknown id, and the refusal is on the record.

use tonic::Code;
use wf_auth::Role;
use wf_events::Envelope;
use wf_proto::common::v1::InformationCategory as Cat;
use wf_proto::events::v1 as events;
use wf_proto::intake::v1 as pb;
use wf_testkit::both_engines;

use crate::flow::{self, CASE};
use crate::{Harness, example};

const RECEIVING: &str = "org_0193a1b2c3d4e5f60718293a4b5c6d4a";
const OTHER: &str = "org_0193a1b2c3d4e5f60718293a4b5c6d4b";
const OFFER: &str = "off_0193a1b2c3d4e5f60718293a4b5c6d4c";
const UNKNOWN: &str = "ref_0193a1b2c3d4e5f60718293a4b5c6dff";

fn get(id: &str) -> pb::GetReferralRequest {
    pb::GetReferralRequest { referral_id: id.to_owned(), purpose: "service_referral".into() }
}

fn details(id: &str) -> pb::GetReleasedDetailsRequest {
    pb::GetReleasedDetailsRequest { referral_id: id.to_owned(), purpose: "service_referral".into() }
}

/// A NOT_FOUND answer with the id asked for replaced, to compare answers about different ids.
fn shape(status: &tonic::Status, id: &str) -> (Code, String) {
    (status.code(), status.message().replace(id, "<id>"))
}

/// Out-of-scope refusals recorded for `record_id` (the recorder writes them a moment later).
async fn refusals_of(harness: &Harness, record_id: &str, at_least: usize) -> usize {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let rows: Vec<(Vec<u8>,)> =
            wf_db::sqlx::query_as("SELECT envelope FROM event_outbox WHERE event_type = 'access.refused'")
                .fetch_all(harness.db.pool())
                .await
                .expect("outbox");
        let found = rows
            .iter()
            .map(|(bytes,)| Envelope::decode(bytes).expect("envelope").payload_as().expect("payload"))
            .filter(|refused: &events::AccessRefused| {
                refused.record_id == record_id && refused.reason == "out_of_scope"
            })
            .count();
        if found >= at_least || tokio::time::Instant::now() >= deadline {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

both_engines!(the_partner_that_accepted_reads_the_coded_referral_and_its_case, |engine| async move {
    let harness = Harness::start(engine).await;
    let id =
        harness.client(Role::Hotline).await.submit_referral(example()).await.expect("submit").into_inner().referral_id;
    let mut receiving = harness.partner(RECEIVING).await;
    let mut other = harness.partner(OTHER).await;
    let unknown = receiving.get_referral(get(UNKNOWN)).await.expect_err("unknown");

    // Routed and offered to it, not yet accepted: nothing.
    flow::publish(&harness, &[&flow::routed(&id, RECEIVING), &flow::offer_made(&id, OFFER, RECEIVING, 60)]).await;
    flow::publish(&harness, &[&flow::case_assigned(&id)]).await;
    let before = receiving.get_referral(get(&id)).await.expect_err("only offered");
    assert_eq!(shape(&before, &id), shape(&unknown, UNKNOWN));
    assert!(refusals_of(&harness, &id, 1).await >= 1, "an out-of-scope read is on the record");

    // Accepted (twice: redelivered): it serves the youth.
    let accepted = flow::offer_accepted(&id, OFFER, RECEIVING, 8);
    flow::publish(&harness, &[&accepted, &accepted]).await;
    let (offers,): (i64,) =
        wf_db::sqlx::query_as("SELECT COUNT(*) FROM referral_accepted_offer WHERE referral_id = $1")
            .bind(&id)
            .fetch_one(harness.db.pool())
            .await
            .expect("count");
    assert_eq!(offers, 1, "stored once");
    let read = receiving.get_referral(get(&id)).await.expect("the receiving partner reads it").into_inner();
    let referral = read.referral.expect("coded referral");
    assert_eq!(referral.needs, ["emergency_shelter", "mental_health", "victim_advocacy", "education"]);
    assert!(referral.personal.is_none(), "personal details only under a release");
    assert_eq!(read.case_id, CASE, "so it can record what it delivers on the case");
    assert_eq!(read.youth_id, "", "never the youth id");
    assert_eq!(read.matched_at, flow::ts(8));
    assert!(read.history.iter().all(|c| c.detail.is_empty() && c.event_id.is_empty()), "no case manager named");
    let access = harness.people_accesses(1).await.pop().expect("access");
    assert_eq!((access.actor_organization_id.as_str(), access.record_id.as_str()), (RECEIVING, id.as_str()));
    assert_eq!(access.fields, ["referral.coded"]);

    // Any other partner: still the answer for an unknown id.
    let hidden = other.get_referral(get(&id)).await.expect_err("not its referral");
    assert_eq!(shape(&hidden, &id), shape(&other.get_referral(get(UNKNOWN)).await.expect_err("unknown"), UNKNOWN));
    harness.server.stop().await;
});

both_engines!(a_release_naming_the_receiving_partner_gives_it_the_released_categories, |engine| async move {
    let harness = Harness::start(engine).await;
    let id =
        harness.client(Role::Hotline).await.submit_referral(example()).await.expect("submit").into_inner().referral_id;
    let now = chrono::Utc::now();
    let release = pb::CreateConsentReleaseRequest {
        release: Some(pb::ConsentRelease {
            referral_id: id.clone(),
            recipient_organization_id: RECEIVING.into(),
            categories: vec![Cat::Contact as i32],
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
    };
    let created =
        harness.client(Role::CaseManager).await.create_consent_release(release).await.expect("release").into_inner();
    let mut receiving = harness.partner(RECEIVING).await;
    let unknown = receiving.get_released_details(details(UNKNOWN)).await.expect_err("unknown");
    let early = receiving.get_released_details(details(&id)).await.expect_err("not accepted yet");
    assert_eq!(shape(&early, &id), shape(&unknown, UNKNOWN));

    flow::publish(
        &harness,
        &[
            &flow::routed(&id, RECEIVING),
            &flow::offer_made(&id, OFFER, RECEIVING, 60),
            &flow::offer_accepted(&id, OFFER, RECEIVING, 8),
        ],
    )
    .await;
    let released = receiving.get_released_details(details(&id)).await.expect("released").into_inner();
    let personal = released.personal.expect("personal");
    assert!(!personal.phones.is_empty() && personal.safe_contact.is_some(), "contact released");
    assert!(personal.legal_first_name.is_empty() && personal.date_of_birth.is_none(), "identity not released");
    assert_eq!(released.release_ids, std::slice::from_ref(&created.release_id));
    let access = harness.people_accesses(1).await.pop().expect("access");
    assert_eq!(
        (access.release_id.as_str(), access.actor_organization_id.as_str()),
        (created.release_id.as_str(), RECEIVING)
    );

    // A partner that accepted but is not named by the release reads nothing.
    let other_offer = "off_0193a1b2c3d4e5f60718293a4b5c6d4d";
    flow::publish(&harness, &[&flow::offer_accepted(&id, other_offer, OTHER, 9)]).await;
    let mut other = harness.partner(OTHER).await;
    other.get_referral(get(&id)).await.expect("it serves the youth too");
    let unnamed = other.get_released_details(details(&id)).await.expect_err("no release names it");
    assert_eq!(shape(&unnamed, &id), shape(&unknown, UNKNOWN));
    harness.server.stop().await;
});
