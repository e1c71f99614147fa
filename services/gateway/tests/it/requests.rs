//! Every state change needs the session's CSRF token and the gateway's own origin.

use super::*;

both_engines!(a_state_change_needs_the_csrf_token_and_our_origin, |engine| async move {
    let h = Harness::start(engine).await;
    h.add("mgarcia", Role::CaseManager).await;
    let mut browser = h.browser();
    browser.sign_in("mgarcia", PASSWORD, None).await.expect_status(StatusCode::SEE_OTHER);
    let csrf = browser.get("/acknowledge").await.csrf();
    let post = |fields: &[(&str, &str)], origin: Option<&str>, site: Option<&str>| {
        browser.form("/acknowledge", fields, origin, site)
    };
    let refused = |answer: &Answer| {
        answer.expect_status(StatusCode::FORBIDDEN);
        assert!(answer.body.contains("This request was refused"), "{}", answer.body);
        assert_eq!(answer.header("cache-control"), Some("no-store"));
    };
    refused(&h.send(post(&[], Some(ORIGIN), None)).await);
    refused(&h.send(post(&[("csrf_token", "forged")], Some(ORIGIN), None)).await);
    refused(&h.send(post(&[("csrf_token", &csrf)], Some("https://evil.example"), None)).await);
    refused(&h.send(post(&[("csrf_token", &csrf)], Some("null"), None)).await);
    refused(&h.send(post(&[("csrf_token", &csrf)], None, None)).await);
    refused(&h.send(post(&[("csrf_token", &csrf)], None, Some("cross-site"))).await);
    let foreign = h.send(post(&[("csrf_token", &csrf)], Some("https://evil.example"), None)).await;
    assert!(foreign.body.contains(ORIGIN), "the page names the address to use");
    // Nothing was accepted by the refused posts.
    assert_eq!(browser.get("/").await.location(), Some("/acknowledge"));

    // No Origin but a same-origin fetch passes; so does the token as a header (htmx).
    let request = browser
        .request("POST", "/acknowledge")
        .header("sec-fetch-site", "same-origin")
        .header("x-csrf-token", &csrf)
        .body(Body::empty())
        .unwrap();
    h.send(request).await.expect_status(StatusCode::SEE_OTHER);
    assert_eq!(browser.get("/").await.status, StatusCode::OK);
});

both_engines!(signing_in_and_out_are_state_changes_too, |engine| async move {
    let h = Harness::start(engine).await;
    h.add("mgarcia", Role::CaseManager).await;
    let mut browser = h.browser();
    let csrf = browser.get("/sign-in").await.csrf();
    let fields = [("username", "mgarcia"), ("password", PASSWORD)];
    // Without the form's token, or from another site, or with no session at all: refused.
    h.send(browser.form("/sign-in", &fields, Some(ORIGIN), None)).await.expect_status(StatusCode::FORBIDDEN);
    let with_token = [("csrf_token", csrf.as_str()), ("username", "mgarcia"), ("password", PASSWORD)];
    h.send(browser.form("/sign-in", &with_token, Some("https://evil.example"), None))
        .await
        .expect_status(StatusCode::FORBIDDEN);
    let stranger = h.browser();
    let answer = h.send(stranger.form("/sign-in", &with_token, Some(ORIGIN), None)).await;
    answer.expect_status(StatusCode::FORBIDDEN);
    assert!(answer.body.contains("cookies are allowed"), "{}", answer.body);

    let mut signed_in = h.signed_in("mgarcia").await;
    signed_in.post("/sign-out", &[("csrf_token", "forged")]).await.expect_status(StatusCode::FORBIDDEN);
    assert_eq!(signed_in.get("/").await.status, StatusCode::OK, "a forged sign-out ends nothing");
});
