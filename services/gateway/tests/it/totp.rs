//! The second factor: enrolment, sign-in with a code, and no code accepted twice.

use chrono::Duration;
use wf_gateway::domain::totp;

use super::*;

/// The code `secret_base32` gives at the harness clock's instant, `steps` steps later.
fn code(h: &Harness, secret_base32: &str, steps: i64) -> String {
    use wf_types::Clock as _;
    let secret = totp::base32_decode(secret_base32).unwrap();
    let step = totp::step_at(h.clock.now_micros() / 1_000_000) + steps;
    format!("{:06}", totp::code_at(&secret, u64::try_from(step).unwrap(), totp::DIGITS))
}

both_engines!(a_totp_code_is_needed_once_enrolled_and_never_accepted_twice, |engine| async move {
    let h = Harness::start(engine).await;
    h.add("mgarcia", Role::CaseManager).await;
    let accounts = h.gateway.accounts();
    let enrolment = accounts.begin_totp("mgarcia").await.unwrap();
    assert!(enrolment.otpauth_uri.starts_with("otpauth://totp/Wayfinder:mgarcia?secret="));
    let right: u32 = code(&h, &enrolment.secret_base32, 0).parse().unwrap();
    let wrong = format!("{:06}", (right + 1) % 1_000_000);
    assert!(matches!(accounts.confirm_totp("mgarcia", &wrong).await, Err(wf_gateway::AccountError::WrongCode)));
    let stale = code(&h, &enrolment.secret_base32, -2);
    assert!(matches!(accounts.confirm_totp("mgarcia", &stale).await, Err(wf_gateway::AccountError::WrongCode)));
    accounts.confirm_totp("mgarcia", &code(&h, &enrolment.secret_base32, 0)).await.unwrap();
    assert!(accounts.find("mgarcia").await.unwrap().totp);

    // The step used to confirm is spent; without a code, or with a wrong one: the one message.
    let mut browser = h.browser();
    for attempt in [None, Some("123"), Some(code(&h, &enrolment.secret_base32, 0).as_str())] {
        let answer = browser.sign_in("mgarcia", PASSWORD, attempt).await;
        answer.expect_status(StatusCode::UNAUTHORIZED);
        assert!(answer.body.contains(wf_gateway::api::sign_in::SIGN_IN_FAILED));
    }
    // The next step's code (one step of drift allowed) signs in; the same code again does not.
    h.clock.advance(Duration::seconds(30));
    let next = code(&h, &enrolment.secret_base32, 0);
    h.browser().sign_in("mgarcia", PASSWORD, Some(&next)).await.expect_status(StatusCode::SEE_OTHER);
    h.browser().sign_in("mgarcia", PASSWORD, Some(&next)).await.expect_status(StatusCode::UNAUTHORIZED);
    // A code typed with a space, as apps show it.
    h.clock.advance(Duration::seconds(30));
    let spaced = code(&h, &enrolment.secret_base32, 0);
    let spaced = format!("{} {}", &spaced[..3], &spaced[3..]);
    h.browser().sign_in("mgarcia", PASSWORD, Some(&spaced)).await.expect_status(StatusCode::SEE_OTHER);
});

both_engines!(the_account_page_enrols_an_authentication_app, |engine| async move {
    let h = Harness::start(engine).await;
    h.add("mgarcia", Role::CaseManager).await;
    let mut browser = h.signed_in("mgarcia").await;
    let page = browser.get("/account").await;
    assert!(page.body.contains("Set up an authentication app"));
    browser.post("/account/totp", &[("csrf_token", &page.csrf())]).await.expect_status(StatusCode::SEE_OTHER);
    let page = browser.get("/account").await;
    let start = page.body.find("class=\"secret\">").expect("the setup key is shown") + "class=\"secret\">".len();
    let grouped = page.body[start..].split('<').next().unwrap().to_owned();
    let secret: String = grouped.split_whitespace().collect();
    assert!(page.body.contains("otpauth://totp/Wayfinder:mgarcia"));
    let wrong = browser.post("/account/totp/confirm", &[("csrf_token", &page.csrf()), ("code", "12")]).await;
    wrong.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("The code does not match"), "{}", wrong.body);
    let right = code(&h, &secret, 0);
    let done = browser.post("/account/totp/confirm", &[("csrf_token", &page.csrf()), ("code", &right)]).await;
    assert_eq!(done.location(), Some("/account?done=totp"));
    assert!(browser.get("/account?done=totp").await.body.contains("Sign-in now asks for its code"));
    // With TOTP on, an 8-character password is allowed; removing TOTP then is refused.
    h.clock.advance(Duration::seconds(30));
    h.gateway.accounts().reset_password("mgarcia", "otter-42").await.unwrap();
    assert!(matches!(
        h.gateway.accounts().remove_totp("mgarcia").await,
        Err(wf_gateway::AccountError::PasswordNeedsTotp)
    ));
    let next = code(&h, &secret, 0);
    h.browser().sign_in("mgarcia", "otter-42", Some(&next)).await.expect_status(StatusCode::SEE_OTHER);
});

both_engines!(totp_secrets_are_sealed_and_follow_a_field_key_rotation, |engine| async move {
    let h = Harness::start(engine).await;
    h.add("mgarcia", Role::CaseManager).await;
    let accounts = h.gateway.accounts();
    let enrolment = accounts.begin_totp("mgarcia").await.unwrap();
    accounts.confirm_totp("mgarcia", &code(&h, &enrolment.secret_base32, 0)).await.unwrap();
    assert_eq!(accounts.sealed_with_version(1).await.unwrap(), 1);

    let keys_dir = h._dir.as_ref().unwrap().path().join("keys");
    wf_crypto::KeyRing::rotate_dev(&keys_dir).unwrap();
    assert_eq!(accounts.reseal_totp_secrets().await.unwrap(), 1);
    assert_eq!(accounts.sealed_with_version(1).await.unwrap(), 0, "nothing left on the old key");
    assert_eq!(accounts.sealed_with_version(2).await.unwrap(), 1);
    assert_eq!(accounts.reseal_totp_secrets().await.unwrap(), 0);
    h.clock.advance(Duration::seconds(30));
    let next = code(&h, &enrolment.secret_base32, 0);
    h.browser().sign_in("mgarcia", PASSWORD, Some(&next)).await.expect_status(StatusCode::SEE_OTHER);
});

both_engines!(re_encryption_never_writes_back_a_second_factor_changed_meanwhile, |engine| async move {
    let h = Harness::start(engine).await;
    h.add("mgarcia", Role::CaseManager).await;
    let accounts = h.gateway.accounts();
    let enrolment = accounts.begin_totp("mgarcia").await.unwrap();
    accounts.confirm_totp("mgarcia", &code(&h, &enrolment.secret_base32, 0)).await.unwrap();
    let db = &h.gateway.app().db;
    let read = |db: wf_db::Db| async move {
        let mut conn = db.pool().acquire().await.unwrap();
        wf_gateway::store::accounts::by_username(&mut conn, "mgarcia").await.unwrap().unwrap()
    };
    // The re-encryption read the account; then the second factor was removed (a reset).
    let before = read(db.clone()).await;
    accounts.reset_password("mgarcia", "a brand new passphrase for mg").await.unwrap();
    accounts.remove_totp("mgarcia").await.unwrap();
    let mut tx = db.begin().await.unwrap();
    let was = (before.totp_sealed.as_deref(), before.totp_pending_sealed.as_deref());
    let swapped =
        wf_gateway::store::accounts::reseal_totp(&mut tx, &before.id, was, Some("c3RhbGU="), None).await.unwrap();
    tx.commit().await.unwrap();
    assert!(!swapped, "a stale read writes nothing");
    assert_eq!(read(db.clone()).await.totp_sealed, None, "the removed second factor stays removed");
    // Over the values as they are now, it writes.
    let now = read(db.clone()).await;
    let mut tx = db.begin().await.unwrap();
    let was = (now.totp_sealed.as_deref(), now.totp_pending_sealed.as_deref());
    assert!(wf_gateway::store::accounts::reseal_totp(&mut tx, &now.id, was, None, None).await.unwrap());
    tx.commit().await.unwrap();
});
