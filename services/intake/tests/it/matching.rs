//! Returning youth through the API: keyed hashes, possible matches, confirm and reject (acceptance 4).

use tonic::Code;
use wf_auth::Role;
use wf_proto::common::v1::Date;
use wf_proto::intake::v1 as pb;
use wf_testkit::both_engines;

use crate::{Harness, with_reference};

fn variant(reference: &str, first: &str, last: &str, dob: Date) -> pb::SubmitReferralRequest {
    let mut request = with_reference(reference);
    let personal = request.referral.as_mut().and_then(|r| r.personal.as_mut()).expect("personal");
    personal.legal_first_name = first.into();
    personal.preferred_name = first.into();
    personal.legal_last_name = last.into();
    personal.date_of_birth = Some(dob);
    personal.aliases.clear();
    personal.phones.clear();
    personal.emails.clear();
    request
}

/// Waits (bounded) until the background matcher has processed `referral_id`.
async fn matched(harness: &Harness, referral_id: &str) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (count,): (i64,) =
            wf_db::sqlx::query_as("SELECT COUNT(*) FROM referral_match_state WHERE referral_id = $1")
                .bind(referral_id)
                .fetch_one(harness.db.pool())
                .await
                .expect("count");
        if count == 1 {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{referral_id} never matched");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn pending_for(staff: &mut crate::Client, referral_id: &str) -> Vec<pb::PossibleMatch> {
    staff
        .list_possible_matches(pb::ListPossibleMatchesRequest {
            status: pb::PossibleMatchStatus::Pending as i32,
            referral_id: referral_id.to_owned(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .matches
}

both_engines!(a_returning_youth_is_proposed_and_confirmed_by_staff_never_merged_alone, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut hotline = harness.client(Role::Hotline).await;
    let mut staff = harness.client(Role::CaseManager).await;
    let first = hotline
        .submit_referral(variant("HL-M-1", "Alexandra", "Fictional-Testperson", Date { year: 2009, month: 4, day: 2 }))
        .await
        .expect("first")
        .into_inner();
    // The same youth later: a nickname, a typo in the last name, day and month swapped.
    let again = hotline
        .submit_referral(variant("HL-M-2", "Alex", "Fictional-Testpreson", Date { year: 2009, month: 2, day: 4 }))
        .await
        .expect("again")
        .into_inner();
    // Someone else entirely.
    let other = hotline
        .submit_referral(variant("HL-M-3", "Quinn", "Sampleworth", Date { year: 2007, month: 11, day: 23 }))
        .await
        .expect("other")
        .into_inner();
    for id in [&first.referral_id, &again.referral_id, &other.referral_id] {
        matched(&harness, id).await;
    }
    assert_ne!(again.youth_id, first.youth_id, "a new referral gets a provisional youth id");

    // Only keyed hashes are stored, never the names.
    let keys: Vec<(String,)> =
        wf_db::sqlx::query_as("SELECT hash FROM referral_match_key").fetch_all(harness.db.pool()).await.expect("keys");
    assert!(!keys.is_empty());
    assert!(keys.iter().all(|(h,)| h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit())));

    let proposed = pending_for(&mut staff, &again.referral_id).await;
    assert_eq!(proposed.len(), 1, "{proposed:?}");
    assert_eq!(proposed[0].candidate_youth_id, first.youth_id);
    assert!(proposed[0].score >= wf_intake::matching::DEFAULT_THRESHOLD && proposed[0].score < 1.0);
    assert!(pending_for(&mut staff, &other.referral_id).await.is_empty(), "no match for someone else");
    assert_eq!(harness.outbox_count("possible_match.found").await, 1);
    // Seeing a possible match is a read of both youths' records (an empty list reads nothing).
    let match_reads: Vec<String> = harness
        .people_accesses_now()
        .await
        .into_iter()
        .filter(|a| a.fields == ["referral.possible_matches"])
        .map(|a| a.record_id)
        .collect();
    assert_eq!(match_reads, [again.referral_id.clone(), first.youth_id.clone()]);

    // Not merged until staff confirm.
    let read = |id: &str| pb::GetReferralRequest { referral_id: id.to_owned(), purpose: String::new() };
    let before = staff.get_referral(read(&again.referral_id)).await.expect("read").into_inner();
    assert_eq!(before.youth_id, again.youth_id);
    let confirmed = staff
        .confirm_possible_match(pb::ConfirmPossibleMatchRequest {
            possible_match_id: proposed[0].possible_match_id.clone(),
        })
        .await
        .expect("confirm")
        .into_inner();
    assert_eq!(confirmed.youth_id, first.youth_id);
    assert_eq!(confirmed.r#match.expect("match").status, pb::PossibleMatchStatus::Confirmed as i32);
    let after = staff.get_referral(read(&again.referral_id)).await.expect("read").into_inner();
    assert_eq!(after.youth_id, first.youth_id, "the confirmed link carries the earlier youth id");
    assert_eq!(harness.outbox_count("possible_match.confirmed").await, 1);

    // A decision stands: deciding again is refused.
    let status = staff
        .reject_possible_match(pb::RejectPossibleMatchRequest {
            possible_match_id: proposed[0].possible_match_id.clone(),
        })
        .await
        .expect_err("already decided");
    assert_eq!(status.code(), Code::FailedPrecondition);
    harness.server.stop().await;
});

both_engines!(a_rejected_match_keeps_the_youth_apart, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut hotline = harness.client(Role::Hotline).await;
    let mut staff = harness.client(Role::CaseManager).await;
    let dob = Date { year: 2008, month: 7, day: 15 };
    let first =
        hotline.submit_referral(variant("HL-R-1", "Elizabeth", "Demoworth", dob)).await.expect("first").into_inner();
    let again = hotline.submit_referral(variant("HL-R-2", "Liz", "Demoworth", dob)).await.expect("again").into_inner();
    matched(&harness, &first.referral_id).await;
    matched(&harness, &again.referral_id).await;
    let proposed = pending_for(&mut staff, &again.referral_id).await;
    assert_eq!(proposed.len(), 1);
    let rejected = staff
        .reject_possible_match(pb::RejectPossibleMatchRequest {
            possible_match_id: proposed[0].possible_match_id.clone(),
        })
        .await
        .expect("reject")
        .into_inner();
    assert_eq!(rejected.r#match.expect("match").status, pb::PossibleMatchStatus::Rejected as i32);
    let read = staff
        .get_referral(pb::GetReferralRequest { referral_id: again.referral_id.clone(), purpose: String::new() })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(read.youth_id, again.youth_id);
    assert_eq!(harness.outbox_count("possible_match.rejected").await, 1);

    // Partners never see or decide matches.
    let mut partner = harness.partner("org_0193a1b2c3d4e5f60718293a4b5c6d11").await;
    let status = partner.list_possible_matches(pb::ListPossibleMatchesRequest::default()).await.expect_err("partner");
    assert_eq!(status.code(), Code::PermissionDenied);
    harness.server.stop().await;
});

both_engines!(matching_uses_the_configured_identity_key_and_every_read_is_audited, |engine| async move {
    let harness = Harness::start_with(engine, |config, dir| {
        let path = dir.join("identity.key");
        // base64 of 32 bytes of 7.
        std::fs::write(&path, "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n").expect("write key");
        config.identity_key_file = Some(path);
    })
    .await;
    let mut hotline = harness.client(Role::Hotline).await;
    let dob = Date { year: 2008, month: 7, day: 15 };
    let first_request = variant("HL-A-1", "Elizabeth", "Demoworth", dob);
    let first = hotline.submit_referral(first_request.clone()).await.expect("first").into_inner();
    matched(&harness, &first.referral_id).await;
    let again = hotline.submit_referral(variant("HL-A-2", "Liz", "Demoworth", dob)).await.expect("again").into_inner();
    matched(&harness, &again.referral_id).await;

    // The stored hashes are HMACs under the configured key; no development key was made.
    let personal = first_request.referral.and_then(|r| r.personal).expect("personal");
    let expected: std::collections::BTreeSet<String> = wf_intake::matching::keys(
        &wf_intake::matching::Identity::from_details(&personal, 2026),
        &wf_crypto::IdentityHasher::new([7; 32]),
    )
    .into_iter()
    .map(|key| key.hash)
    .collect();
    let stored: std::collections::BTreeSet<String> =
        wf_db::sqlx::query_as::<_, (String,)>("SELECT hash FROM referral_match_key WHERE referral_id = $1")
            .bind(&first.referral_id)
            .fetch_all(harness.db.pool())
            .await
            .expect("keys")
            .into_iter()
            .map(|(hash,)| hash)
            .collect();
    assert_eq!(stored, expected);
    assert!(!harness.server.config.keys_dir().join(wf_crypto::IDENTITY_KEY_FILE).exists());

    // The second run opened the new referral and the earlier one: one access event each.
    let rows: Vec<(Vec<u8>,)> =
        wf_db::sqlx::query_as("SELECT envelope FROM event_outbox WHERE event_type = 'record.accessed' ORDER BY id")
            .fetch_all(harness.db.pool())
            .await
            .expect("outbox");
    let run: Vec<wf_proto::events::v1::RecordAccessed> = rows
        .iter()
        .map(|(bytes,)| wf_events::Envelope::decode(bytes).expect("envelope"))
        .filter(|envelope| envelope.correlation_id == again.referral_id)
        .map(|envelope| envelope.payload_as().expect("payload"))
        .collect();
    let mut records: Vec<&str> = run.iter().map(|access| access.record_id.as_str()).collect();
    records.sort_unstable();
    let mut want = vec![first.referral_id.as_str(), again.referral_id.as_str()];
    want.sort_unstable();
    assert_eq!(records, want);
    for access in &run {
        assert_eq!((access.actor.as_str(), access.actor_role.as_str()), ("intake", "service"));
        assert_eq!(access.purpose, "returning_youth_matching");
        assert_eq!(access.fields, wf_intake::matching::FIELDS_READ);
    }
    harness.server.stop().await;
});
