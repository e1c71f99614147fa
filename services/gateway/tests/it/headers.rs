//! The security headers on every response, and no caching of pages.

use super::*;

both_engines!(every_response_has_the_security_headers_and_pages_are_never_cached, |engine| async move {
    let h = Harness::start(engine).await;
    h.add("mgarcia", Role::CaseManager).await;
    let mut browser = h.signed_in("mgarcia").await;
    let home = browser.get("/").await;
    let sign_in = h.browser().get("/sign-in").await;
    let missing = browser.get("/nowhere").await;
    let refused = h.send(browser.form("/sign-out", &[], Some("https://evil.example"), None)).await;
    for answer in [&home, &sign_in, &missing, &refused] {
        assert_eq!(answer.header("content-security-policy"), Some(wf_gateway::api::headers::CONTENT_SECURITY_POLICY));
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(answer.header("referrer-policy"), Some("same-origin"));
        assert_eq!(answer.header("cache-control"), Some("no-store"));
        assert_eq!(answer.header("strict-transport-security"), Some("max-age=63072000"));
    }
    let csp = wf_gateway::api::headers::CONTENT_SECURITY_POLICY;
    for directive in ["script-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"] {
        assert!(csp.contains(directive));
    }
    // The page: lang, skip link, main landmark, htmx config, no inline script or style.
    let body = &home.body;
    assert!(
        body.contains("<html lang=\"en\">") && body.contains("href=\"#main\"") && body.contains("<main id=\"main\"")
    );
    assert!(body.contains(r#"<meta name="htmx-config" content='{"allowEval":false"#));
    assert!(!body.contains("<script>") && !body.contains("style=") && !body.contains("<style"));
    assert!(body.contains("Signed in as <strong>mgarcia</strong>"));

    // The bundled htmx, under a content-hashed name, cached for a year.
    let start = body.find("/static/htmx-2.0.11.").expect("htmx is linked");
    let path = body[start..].split('"').next().unwrap().to_owned();
    let script = browser.get(&path).await;
    script.expect_status(StatusCode::OK);
    assert_eq!(script.header("cache-control"), Some("public, max-age=31536000, immutable"));
    assert!(script.header("content-type").unwrap().starts_with("text/javascript"));
    assert!(script.body.starts_with("var htmx=function(){"));
    assert_eq!(script.header("content-security-policy"), Some(csp));
    let absent = browser.get("/static/htmx.js").await;
    absent.expect_status(StatusCode::NOT_FOUND);
    assert_eq!(absent.header("cache-control"), Some("no-store"));
});
