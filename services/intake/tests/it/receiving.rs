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
use crate::{Harness, example, with_reference};

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
    assert_eq!(
        (
            referral.referring_organization_id.as_str(),
            referral.referring_organization_name.as_str(),
            referral.external_reference.as_str(),
            referral.requested_partner_service_ids.len()
        ),
        ("", "", "", 0),
        "who referred the youth, under which call number, asking for what, is the referring organization's"
    );
    assert_eq!(read.case_id, CASE, "so it can record what it delivers on the case");
    assert_eq!(read.youth_id, "", "never the youth id");
    assert_eq!(read.matched_at, flow::ts(8));
    assert!(read.history.iter().all(|c| c.detail.is_empty() && c.event_id.is_empty()), "no case manager named");
    let access = harness.people_accesses(1).await.pop().expect("access");
    assert_eq!((access.actor_organization_id.as_str(), access.record_id.as_str()), (RECEIVING, id.as_str()));
    assert_eq!(access.fields, ["referral.offer_facts"]);

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

/// A release naming `partner` for `categories`, signed ten minutes ago, for 30 days.
pub(crate) async fn release_to(harness: &Harness, referral_id: &str, partner: &str, categories: &[Cat]) {
    let now = chrono::Utc::now();
    let release = pb::CreateConsentReleaseRequest {
        release: Some(pb::ConsentRelease {
            referral_id: referral_id.to_owned(),
            recipient_organization_id: partner.into(),
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
    };
    harness.client(Role::CaseManager).await.create_consent_release(release).await.expect("release");
}

both_engines!(the_receiving_partner_reads_only_while_it_serves_the_open_cases_current_episode, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut hotline = harness.client(Role::Hotline).await;
    let first = hotline.submit_referral(example()).await.expect("submit").into_inner().referral_id;
    let mut receiving = harness.partner(RECEIVING).await;
    let unknown = receiving.get_referral(get(UNKNOWN)).await.expect_err("unknown");
    let unknown_details = receiving.get_released_details(details(UNKNOWN)).await.expect_err("unknown");
    flow::publish(
        &harness,
        &[
            &flow::routed(&first, RECEIVING),
            &flow::offer_made(&first, OFFER, RECEIVING, 60),
            &flow::case_assigned(&first),
            &flow::offer_accepted(&first, OFFER, RECEIVING, 8),
        ],
    )
    .await;
    release_to(&harness, &first, RECEIVING, &[Cat::Contact]).await;
    receiving.get_referral(get(&first)).await.expect("it serves the youth");
    receiving.get_released_details(details(&first)).await.expect("released to it");
    // enrolled, the case goes on: it still serves the youth
    flow::publish(&harness, &[&flow::stage_changed(&first, wf_proto::cases::v1::CaseStage::Enrolled, 30)]).await;
    receiving.get_referral(get(&first)).await.expect("an enrolled youth is still served");

    // The case closes: the partner no longer serves it, whatever the release still says.
    let goals_met = wf_proto::cases::v1::CaseClosureReason::GoalsMet;
    flow::publish(&harness, &[&flow::case_closed(&first, &[], goals_met, 90)]).await;
    let closed = receiving.get_referral(get(&first)).await.expect_err("the case closed");
    assert_eq!(shape(&closed, &first), shape(&unknown, UNKNOWN));
    let closed_details = receiving.get_released_details(details(&first)).await.expect_err("the case closed");
    assert_eq!(shape(&closed_details, &first), shape(&unknown_details, UNKNOWN));
    assert!(refusals_of(&harness, &first, 1).await >= 1, "on the record as out of scope");

    // The youth returns with a new referral that reopens the case (its first case event) and another
    // partner serves; its acceptance may be recorded before the reopening: it is of this episode.
    let later = hotline.submit_referral(with_reference("R-2")).await.expect("submit").into_inner().referral_id;
    let other_offer = "off_0193a1b2c3d4e5f60718293a4b5c6d4e";
    flow::publish(
        &harness,
        &[
            &flow::routed(&later, OTHER),
            &flow::offer_made(&later, other_offer, OTHER, 200),
            &flow::offer_accepted(&later, other_offer, OTHER, 130),
            &flow::case_reopened(&later, 120),
        ],
    )
    .await;
    harness.partner(OTHER).await.get_referral(get(&later)).await.expect("the new episode's partner reads it");
    let still = receiving.get_referral(get(&first)).await.expect_err("an earlier episode");
    assert_eq!(shape(&still, &first), shape(&unknown, UNKNOWN));

    // The closed case reopened naming the first referral: an acceptance recorded before no longer
    // counts (cases names its first referral for a reopening in whatever episode), a new one does.
    flow::publish(&harness, &[&flow::case_reopened(&first, 140)]).await;
    let reopened = receiving.get_referral(get(&first)).await.expect_err("accepted in an earlier episode");
    assert_eq!(shape(&reopened, &first), shape(&unknown, UNKNOWN));
    let reopened_details = receiving.get_released_details(details(&first)).await.expect_err("earlier episode");
    assert_eq!(shape(&reopened_details, &first), shape(&unknown_details, UNKNOWN));
    let again = "off_0193a1b2c3d4e5f60718293a4b5c6d4f";
    flow::publish(&harness, &[&flow::offer_accepted(&first, again, RECEIVING, 150)]).await;
    receiving.get_referral(get(&first)).await.expect("accepted again in the reopened episode");
    harness.server.stop().await;
});

both_engines!(released_details_tell_only_the_submitting_partner_who_referred_the_youth, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut submitting = harness.partner(OTHER).await;
    let mut request = with_reference("R-REF");
    request.referral.as_mut().expect("referral").referring_organization_id.clear();
    let id = submitting.submit_referral(request).await.expect("submit").into_inner().referral_id;
    flow::publish(
        &harness,
        &[
            &flow::routed(&id, RECEIVING),
            &flow::offer_made(&id, OFFER, RECEIVING, 60),
            &flow::offer_accepted(&id, OFFER, RECEIVING, 8),
        ],
    )
    .await;
    release_to(&harness, &id, RECEIVING, &[Cat::Referral]).await;
    release_to(&harness, &id, OTHER, &[Cat::Referral]).await;

    let received = harness.partner(RECEIVING).await.get_released_details(details(&id)).await.expect("released");
    let referral = received.into_inner().referral.expect("the REFERRAL category");
    assert_eq!(referral.needs, ["emergency_shelter", "mental_health", "victim_advocacy", "education"]);
    assert_eq!(
        (
            referral.referring_organization_id.as_str(),
            referral.referring_organization_name.as_str(),
            referral.external_reference.as_str(),
            referral.requested_partner_service_ids.len()
        ),
        ("", "", "", 0),
        "the receiving partner is not told who referred the youth"
    );

    let own = submitting.get_released_details(details(&id)).await.expect("released").into_inner();
    let referral = own.referral.expect("the REFERRAL category");
    assert_eq!((referral.referring_organization_id.as_str(), referral.external_reference.as_str()), (OTHER, "R-REF"));
    harness.server.stop().await;
});
