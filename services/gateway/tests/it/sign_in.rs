//! Signing in and out: rotation, cookie attributes, one message for every failure, sign-out.

use super::*;

both_engines!(signing_in_rotates_the_session_and_sets_a_host_only_strict_cookie, |engine| async move {
    let h = Harness::start(engine).await;
    h.add("mgarcia", Role::CaseManager).await;
    let mut browser = h.browser();
    let form = browser.get("/sign-in").await;
    form.expect_status(StatusCode::OK);
    let before = browser.cookie.clone().expect("a visitor session before sign-in");
    let csrf = form.csrf();
    let answer = browser
        .post("/sign-in", &[("csrf_token", &csrf), ("username", "MGarcia "), ("password", PASSWORD), ("code", "")])
        .await;
    answer.expect_status(StatusCode::SEE_OTHER);
    assert_eq!(answer.location(), Some("/"));
    let raw = answer.session_set_cookie().expect("a new session cookie");
    for attribute in ["Path=/", "Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(raw.split("; ").any(|a| a == attribute), "{attribute} missing: {raw}");
    }
    assert!(!raw.contains("Domain"), "__Host- cookies carry no Domain: {raw}");
    let after = browser.cookie.clone().unwrap();
    assert_ne!(before, after, "the session id is rotated at sign-in");
    assert!(after.len() >= 43, "at least 256 bits, base64url: {after}");

    // The new session works (first stop: the acknowledgment); the visitor's session is gone.
    assert_eq!(browser.get("/").await.location(), Some("/acknowledge"));
    let mut old = h.browser();
    old.cookie = Some(before.clone());
    let stale = old.get("/").await;
    assert_eq!(stale.location(), Some("/sign-in"));
    assert!(matches!(stale.set_cookie(), Some(SetCookie::Cleared)), "a stale cookie is cleared");
    // …and the sign-in form's token of the replaced session no longer counts.
    let mut replay = h.browser();
    replay.cookie = Some(before);
    let refused = replay.harness.send(replay.form("/sign-in", &[("csrf_token", &csrf)], Some(ORIGIN), None)).await;
    refused.expect_status(StatusCode::FORBIDDEN);
});

both_engines!(a_wrong_password_and_an_unknown_account_get_the_same_answer, |engine| async move {
    let h = Harness::start(engine).await;
    h.add("mgarcia", Role::CaseManager).await;
    h.add("jlee", Role::Supervisor).await;
    h.gateway.accounts().disable("jlee").await.unwrap();
    let mut browser = h.browser();
    let wrong = browser.sign_in("mgarcia", "not the password at all", None).await;
    let unknown = browser.sign_in("nobody-here", PASSWORD, None).await;
    let disabled = browser.sign_in("jlee", PASSWORD, None).await;
    for answer in [&wrong, &unknown, &disabled] {
        answer.expect_status(StatusCode::UNAUTHORIZED);
        assert!(answer.body.contains(wf_gateway::api::sign_in::SIGN_IN_FAILED), "{}", answer.body);
    }
    // Same page but for the username typed back into the field.
    let without_name = |a: &Answer, name: &str| a.body.replace(&format!("value=\"{name}\""), "value=\"\"");
    assert_eq!(without_name(&wrong, "mgarcia"), without_name(&unknown, "nobody-here"));
    assert_eq!(without_name(&wrong, "mgarcia"), without_name(&disabled, "jlee"));
    // An empty field is named, and nothing is counted or checked.
    let empty = browser.sign_in("", "", None).await;
    empty.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.body.contains("Enter your username") && empty.body.contains("aria-describedby=\"username-error\""));
});

both_engines!(signing_out_ends_the_session_and_clears_the_site, |engine| async move {
    let h = Harness::start(engine).await;
    h.add("mgarcia", Role::CaseManager).await;
    let mut browser = h.signed_in("mgarcia").await;
    let home = browser.get("/").await;
    home.expect_status(StatusCode::OK);
    let cookie = browser.cookie.clone().unwrap();
    let answer = browser.post("/sign-out", &[("csrf_token", &home.csrf())]).await;
    answer.expect_status(StatusCode::SEE_OTHER);
    assert_eq!(answer.location(), Some("/sign-in?ended=signed_out"));
    let clear = answer.header("clear-site-data").expect("Clear-Site-Data");
    for directive in ["\"cache\"", "\"cookies\"", "\"storage\""] {
        assert!(clear.contains(directive), "{clear}");
    }
    assert!(matches!(answer.set_cookie(), Some(SetCookie::Cleared)));
    // The old cookie opens nothing any more.
    let mut old = h.browser();
    old.cookie = Some(cookie);
    assert_eq!(old.get("/").await.location(), Some("/sign-in"));
    assert!(browser.get("/sign-in?ended=signed_out").await.body.contains("You have signed out."));
});
