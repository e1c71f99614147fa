//! Session limits, disabling, the acknowledgment gate, and the sign-in throttle.

use chrono::Duration;

use super::*;

both_engines!(a_session_ends_after_thirty_idle_minutes, |engine| async move {
    let h = Harness::start(engine).await;
    h.add("mgarcia", Role::CaseManager).await;
    let mut browser = h.signed_in("mgarcia").await;
    // Activity keeps it alive…
    for _ in 0..3 {
        h.clock.advance(Duration::minutes(29));
        browser.get("/").await.expect_status(StatusCode::OK);
    }
    // …thirty minutes without any ends it.
    h.clock.advance(Duration::minutes(30));
    let answer = browser.get("/account").await;
    answer.expect_status(StatusCode::SEE_OTHER);
    assert_eq!(answer.location(), Some("/sign-in?ended=idle"));
    assert!(browser.cookie.is_none(), "the cookie is cleared");
    assert!(browser.get("/sign-in?ended=idle").await.body.contains("30 minutes without activity"));
});

both_engines!(a_session_ends_twelve_hours_after_sign_in_whatever_the_activity, |engine| async move {
    let h = Harness::start(engine).await;
    h.add("mgarcia", Role::CaseManager).await;
    let mut browser = h.signed_in("mgarcia").await;
    for _ in 0..35 {
        h.clock.advance(Duration::minutes(20));
        browser.get("/").await.expect_status(StatusCode::OK);
    }
    h.clock.advance(Duration::minutes(20)); // 12 hours
    let csrf_of_old_page = "whatever";
    let answer = browser.post("/session/extend", &[("csrf_token", csrf_of_old_page)]).await;
    assert_eq!(answer.location(), Some("/sign-in?ended=absolute"), "a post on an ended session signs in again");
});

both_engines!(disabling_an_account_ends_its_sessions_at_once, |engine| async move {
    let h = Harness::start(engine).await;
    h.add("mgarcia", Role::CaseManager).await;
    h.add("jlee", Role::Supervisor).await;
    let mut first = h.signed_in("mgarcia").await;
    let mut second = h.signed_in("mgarcia").await;
    let mut other = h.signed_in("jlee").await;
    let ended = h.gateway.accounts().disable("mgarcia").await.unwrap();
    assert_eq!(ended, 2);
    assert_eq!(first.get("/").await.location(), Some("/sign-in"));
    assert_eq!(second.get("/account").await.location(), Some("/sign-in"));
    assert_eq!(other.get("/").await.status, StatusCode::OK, "other accounts are untouched");
    h.browser().sign_in("mgarcia", PASSWORD, None).await.expect_status(StatusCode::UNAUTHORIZED);
    let listed = h.gateway.accounts().list().await.unwrap();
    assert!(listed.iter().any(|a| a.username == "mgarcia" && a.disabled));
    h.gateway.accounts().enable("mgarcia").await.unwrap();
    h.browser().sign_in("mgarcia", PASSWORD, None).await.expect_status(StatusCode::SEE_OTHER);
});

both_engines!(unlinking_a_provider_identity_ends_the_accounts_sessions_at_once, |engine| async move {
    let h = Harness::start(engine).await;
    h.add("mgarcia", Role::CaseManager).await;
    h.add("jlee", Role::Supervisor).await;
    let accounts = h.gateway.accounts();
    accounts.link_oidc("mgarcia", "https://id.example.org", "248289761001").await.unwrap();
    let mut session = h.signed_in("mgarcia").await;
    let mut other = h.signed_in("jlee").await;
    assert_eq!(accounts.unlink_oidc("mgarcia").await.unwrap(), 1);
    assert_eq!(session.get("/").await.location(), Some("/sign-in"), "the session ended with the link");
    assert_eq!(other.get("/").await.status, StatusCode::OK, "other accounts are untouched");
    assert_eq!(accounts.oidc_link("mgarcia").await.unwrap(), None);
});

both_engines!(nothing_is_reachable_before_the_acknowledgment_is_accepted, |engine| async move {
    let h = Harness::start(engine).await;
    h.add("mgarcia", Role::CaseManager).await;
    let mut browser = h.browser();
    browser.sign_in("mgarcia", PASSWORD, None).await.expect_status(StatusCode::SEE_OTHER);
    for path in ["/", "/account", "/no-such-page"] {
        assert_eq!(browser.get(path).await.location(), Some("/acknowledge"), "{path}");
    }
    let page = browser.get("/acknowledge").await;
    page.expect_status(StatusCode::OK);
    assert!(page.body.contains("<h1>Confidentiality</h1>"));
    let htmx = browser.request("GET", "/").header("hx-request", "true").body(Body::empty()).unwrap();
    let answer = browser.send(htmx).await;
    assert_eq!(answer.header("hx-redirect"), Some("/acknowledge"), "htmx requests navigate rather than swap");
    browser.post("/acknowledge", &[("csrf_token", &page.csrf())]).await.expect_status(StatusCode::SEE_OTHER);
    let home = browser.get("/").await;
    home.expect_status(StatusCode::OK);
    assert!(home.body.contains("<h1>Action needed</h1>") && home.body.contains("Case manager"));
    // Accepted once: the next sign-in goes straight in.
    let mut again = h.browser();
    again.sign_in("mgarcia", PASSWORD, None).await;
    assert_eq!(again.get("/").await.status, StatusCode::OK);
    // Unknown addresses answer the one not-found page, once signed in.
    let missing = browser.get("/no-such-page").await;
    missing.expect_status(StatusCode::NOT_FOUND);
    assert!(missing.body.contains(wf_gateway::api::errors::NOT_FOUND_MESSAGE));
});

both_engines!(failed_sign_ins_are_throttled_per_account, |engine| async move {
    let h = Harness::start(engine).await;
    h.add("mgarcia", Role::CaseManager).await;
    let mut browser = h.browser();
    for _ in 0..5 {
        browser.sign_in("mgarcia", "wrong password here", None).await.expect_status(StatusCode::UNAUTHORIZED);
    }
    // The sixth is refused even with the right password, from anywhere.
    let mut elsewhere = h.browser();
    elsewhere.client = "198.51.100.7:1234".parse().unwrap();
    let throttled = elsewhere.sign_in("mgarcia", PASSWORD, None).await;
    throttled.expect_status(StatusCode::TOO_MANY_REQUESTS);
    assert!(throttled.body.contains("Too many sign-in attempts. Try again in 15 minutes."), "{}", throttled.body);
    // An unknown name is throttled exactly alike (throttling tells nothing about existence).
    for _ in 0..5 {
        browser.sign_in("nobody-here", "wrong password here", None).await.expect_status(StatusCode::UNAUTHORIZED);
    }
    browser.sign_in("nobody-here", PASSWORD, None).await.expect_status(StatusCode::TOO_MANY_REQUESTS);
    // After the window, the right password works, and it clears the count.
    h.clock.advance(Duration::minutes(15));
    elsewhere.sign_in("mgarcia", PASSWORD, None).await.expect_status(StatusCode::SEE_OTHER);
    for _ in 0..5 {
        h.browser().sign_in("mgarcia", "wrong password here", None).await.expect_status(StatusCode::UNAUTHORIZED);
    }
    // An administrator's reset lifts the throttle too.
    h.gateway.accounts().reset_password("mgarcia", "a brand new passphrase for mg").await.unwrap();
    h.browser().sign_in("mgarcia", "a brand new passphrase for mg", None).await.expect_status(StatusCode::SEE_OTHER);
});

both_engines!(failed_sign_ins_are_throttled_per_address, |engine| async move {
    let h = Harness::start(engine).await;
    h.add("mgarcia", Role::CaseManager).await;
    let mut browser = h.browser();
    for i in 0..30 {
        browser
            .sign_in(&format!("guess{i}"), "wrong password here", None)
            .await
            .expect_status(StatusCode::UNAUTHORIZED);
    }
    browser.sign_in("mgarcia", PASSWORD, None).await.expect_status(StatusCode::TOO_MANY_REQUESTS);
    // Another address is not held back.
    let mut other = h.browser();
    other.client = "198.51.100.7:1234".parse().unwrap();
    other.sign_in("mgarcia", PASSWORD, None).await.expect_status(StatusCode::SEE_OTHER);
});

both_engines!(the_sweeper_removes_ended_sessions_and_old_counters, |engine| async move {
    let h = Harness::start(engine).await;
    h.add("mgarcia", Role::CaseManager).await;
    let _live = h.signed_in("mgarcia").await;
    h.browser().sign_in("mgarcia", "wrong password here", None).await;
    let app = h.gateway.app();
    let clock: wf_types::SharedClock = h.clock.shared();
    let sweep = || wf_gateway::workers::sweeper::sweep(&app.sessions, &app.db, &clock);
    assert_eq!(sweep().await.unwrap(), (0, 0), "nothing has ended yet");
    h.clock.advance(Duration::minutes(31));
    // The signed-in session, and the visitor session of the failed sign-in (the other visitor session
    // was replaced at sign-in).
    assert_eq!(sweep().await.unwrap(), (2, 0));
    h.clock.advance(Duration::days(2));
    assert_eq!(sweep().await.unwrap(), (0, 2), "the account's and the address's counters");
});

both_engines!(behind_a_trusted_proxy_sign_ins_are_throttled_per_forwarded_address, |engine| async move {
    let dir = tempfile::tempdir().expect("data folder");
    let proxies = vec![("gateway.trusted_proxies", serde_json::json!(["10.0.0.0/24"]))];
    let h = Harness::start_configured(engine, dir.path(), None, proxies).await;
    h.add("mgarcia", Role::CaseManager).await;
    // Every browser reaches the gateway through the proxy at 10.0.0.2, which names the client.
    async fn sign_in(browser: &mut Browser<'_>, forwarded: &str, username: String, password: &str) -> Answer {
        let csrf = browser.get("/sign-in").await.csrf();
        let fields =
            [("csrf_token", csrf.as_str()), ("username", username.as_str()), ("password", password), ("code", "")];
        let mut request = browser.form("/sign-in", &fields, Some(ORIGIN), None);
        request.headers_mut().insert("x-forwarded-for", forwarded.parse().unwrap());
        browser.send(request).await
    }
    let mut attacker = h.browser();
    attacker.client = "10.0.0.2:40000".parse().unwrap();
    for i in 0..30 {
        sign_in(&mut attacker, "203.0.113.66", format!("guess{i}"), "wrong password here")
            .await
            .expect_status(StatusCode::UNAUTHORIZED);
    }
    // The attacker's forwarded address is held back, whatever it writes in front of it.
    sign_in(&mut attacker, "198.51.100.7, 203.0.113.66", "mgarcia".into(), PASSWORD)
        .await
        .expect_status(StatusCode::TOO_MANY_REQUESTS);
    // Another person behind the same proxy is not.
    let mut colleague = h.browser();
    colleague.client = "10.0.0.2:40001".parse().unwrap();
    sign_in(&mut colleague, "198.51.100.7", "mgarcia".into(), PASSWORD).await.expect_status(StatusCode::SEE_OTHER);
    // A caller that is not the proxy cannot choose the address it is counted as.
    let mut direct = h.browser();
    direct.client = "203.0.113.66:5000".parse().unwrap();
    sign_in(&mut direct, "198.51.100.8", "mgarcia".into(), PASSWORD).await.expect_status(StatusCode::TOO_MANY_REQUESTS);
});
