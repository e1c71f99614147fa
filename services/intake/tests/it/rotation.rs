//! Key rotation: rotate, every record still readable, the old key removed, still
//! readable; a value sealed with a removed key fails loudly, never as garbage.

use wf_auth::Role;
use wf_crypto::{CryptoError, KeyRing};
use wf_intake::vault;
use wf_testkit::both_engines;

use super::{Harness, with_reference};

async fn sealed_rows(db: &wf_db::Db) -> Vec<(String, Vec<u8>, i32)> {
    wf_db::sqlx::query_as(
        "SELECT id, personal_sealed, personal_key_version FROM referral WHERE personal_sealed IS NOT NULL ORDER BY id",
    )
    .fetch_all(db.pool())
    .await
    .expect("rows")
}

both_engines!(rotate_then_retire_keeps_every_record_readable, |engine| async move {
    let harness = Harness::start(engine).await;
    let config = harness.server.config.clone();
    let mut client = harness.client(Role::Hotline).await;
    for index in 0..5 {
        client.submit_referral(with_reference(&format!("ROT-{index}"))).await.expect("submit");
    }
    let old_ring = vault::load_keys(&config).expect("keys");
    assert_eq!(old_ring.current_version(), 1);
    let before: Vec<_> = sealed_rows(&harness.db)
        .await
        .into_iter()
        .map(|(id, sealed, _)| vault::open_personal(&old_ring, &id, &sealed).expect("readable"))
        .collect();
    assert_eq!(before.len(), 5);

    let refused = vault::retire(&config, &harness.db, 1).await.expect_err("key 1 is in use");
    assert!(refused.to_string().contains("key version 1 still seals 5 stored value(s)"), "{refused}");

    let mut reports = Vec::new();
    let (version, resealed) =
        vault::rotate(&config, &harness.db, 2, |progress| reports.push(progress)).await.expect("rotate");
    assert_eq!((version, resealed), (2, 5));
    assert_eq!(reports.last().map(|p| (p.resealed, p.remaining)), Some((5, 0)));
    assert_eq!(reports.len(), 3, "batches of 2: {reports:?}");
    assert_eq!(vault::key_usage(&harness.db).await.expect("usage"), vec![(2, 5)]);

    let rotated = vault::load_keys(&config).expect("keys");
    let rows = sealed_rows(&harness.db).await;
    for ((id, sealed, stored_version), original) in rows.iter().zip(&before) {
        assert_eq!(KeyRing::key_version_of(sealed).expect("header"), 2);
        assert_eq!(*stored_version, 2);
        assert_eq!(&vault::open_personal(&rotated, id, sealed).expect("readable after rotation"), original);
    }

    let remaining = vault::retire(&config, &harness.db, 1).await.expect("retire key 1");
    assert_eq!(remaining.versions().collect::<Vec<_>>(), vec![2]);
    let reloaded = vault::load_keys(&config).expect("keys");
    assert_eq!(reloaded.versions().collect::<Vec<_>>(), vec![2], "key 1 is gone from the file");
    for ((id, sealed, _), original) in rows.iter().zip(&before) {
        assert_eq!(&vault::open_personal(&reloaded, id, sealed).expect("readable after retirement"), original);
    }
    let current = vault::retire(&config, &harness.db, 2).await.expect_err("the current key stays");
    assert!(current.to_string().contains("current key"), "{current}");

    // A value still sealed with the removed key: opening and re-sealing both fail, naming the record.
    let (victim, _, _) = &rows[0];
    let stale = vault::seal_personal(&old_ring, victim, &before[0]).expect("seal with the old key");
    wf_db::sqlx::query("UPDATE referral SET personal_sealed = $1, personal_key_version = 1 WHERE id = $2")
        .bind(stale.clone())
        .bind(victim.as_str())
        .execute(harness.db.pool())
        .await
        .expect("update");
    let err = vault::open_personal(&reloaded, victim, &stale).expect_err("key 1 is gone");
    assert!(err.to_string().contains("unknown key version 1") && err.to_string().contains(victim.as_str()), "{err}");
    assert!(matches!(reloaded.decrypt(&stale, &vault::personal_aad(victim)), Err(CryptoError::UnknownKeyVersion(1))));
    let reseal = vault::reseal_all(&harness.db, &reloaded, 10, |_| {}).await.expect_err("cannot reseal");
    assert!(matches!(&reseal, vault::ResealError::Unreadable { referral_id, .. } if referral_id == victim), "{reseal}");
    harness.server.stop().await;
});

both_engines!(a_running_intake_follows_rotation_and_retirement_without_a_restart, |engine| async move {
    let harness = Harness::start(engine).await;
    let config = harness.server.config.clone();
    let mut hotline = harness.client(Role::Hotline).await;
    let before = hotline.submit_referral(with_reference("LIVE-1")).await.expect("submit").into_inner();

    // Rotate and retire while intake runs: values are re-encrypted under it, key 1 leaves the file.
    vault::rotate(&config, &harness.db, 100, |_| {}).await.expect("rotate");
    vault::retire(&config, &harness.db, 1).await.expect("retire");

    let mut staff = harness.client(Role::CaseManager).await;
    let read = staff
        .get_referral(wf_proto::intake::v1::GetReferralRequest {
            referral_id: before.referral_id.clone(),
            purpose: "triage".into(),
        })
        .await
        .expect("a value re-encrypted to version 2 opens in the running intake");
    assert_eq!(read.into_inner().referral.and_then(|r| r.personal).expect("personal").legal_first_name, "Demo");

    let after = hotline.submit_referral(with_reference("LIVE-2")).await.expect("submit").into_inner();
    let (version,): (i32,) = wf_db::sqlx::query_as("SELECT personal_key_version FROM referral WHERE id = $1")
        .bind(&after.referral_id)
        .fetch_one(harness.db.pool())
        .await
        .expect("row");
    assert_eq!(version, 2, "new values are sealed with the new key");
    assert_eq!(vault::key_usage(&harness.db).await.expect("usage"), vec![(2, 2)]);
    harness.server.stop().await;
});
