//! Browser tests: the staff web application in Debian's chromium, driven over WebDriver
//! (`driver`), with axe-core run in every page. `scripts/test.sh` installs chromium,
//! chromium-driver and the pinned axe-core before it runs them.

mod driver;
mod partner;
mod queue;
mod screens;

use driver::{Browser, Driver};
use tokio_util::sync::CancellationToken;

fn shots(test: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser").join(test)
}

/// The checker itself: a page with a planted fault (an image without a text alternative, a
/// field without a label) is flagged, and the same page without it is not; so a clean axe
/// report on a screen means something.
#[tokio::test]
async fn axe_flags_a_planted_fault_and_passes_the_page_without_it() {
    let driver = Driver::start().await;
    let mut browser = driver.browser(1280, 900, true, shots("axe_self_check")).await;
    let page = |body: &str| {
        format!(
            "data:text/html;charset=utf-8,<!doctype html><html lang=en><head><title>Check</title></head>\
             <body><main><h1>Check</h1>{body}</main></body></html>"
        )
    };
    browser.goto(&page("<img src='x.png'><input type=text>")).await;
    let found = browser.axe().await;
    let rules: Vec<&str> = found.iter().map(|v| v.rule.as_str()).collect();
    assert!(rules.contains(&"image-alt") && rules.contains(&"label"), "{found:#?}");
    browser.shot("planted").await;
    browser.goto(&page("<img src='x.png' alt='A map'><label>Name <input type=text></label>")).await;
    browser.assert_accessible("the fixed page").await;
    browser.close().await;
}

/// A running embedded system with the web application, and one local sign-in per role asked for.
struct Running {
    web: String,
    /// The services' gRPC address (tests submit referrals there, as a hotline would).
    grpc: String,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    _data: tempfile::TempDir,
}

const PASSPHRASE: &str = "quiet-harbor-lantern-meadow";

async fn running(accounts: &[(&str, wf_auth::Role, Option<&str>, Option<&str>)]) -> Running {
    let data = tempfile::tempdir().expect("temp dir");
    let private = <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o700);
    std::fs::set_permissions(data.path(), private).expect("chmod 700");
    let mut config = wf_config::Config::load(None, Some(data.path())).expect("config");
    config.grpc_addr = "127.0.0.1:0".parse().expect("addr");
    let system = wayfinder::system::build(config, &wayfinder::system::COMPONENTS).await.expect("system builds");
    let gateway = system.gateway().expect("the gateway runs").clone();
    for (username, role, partner, user_id) in accounts {
        let new = wf_gateway::NewAccount {
            username: (*username).to_owned(),
            role: *role,
            partner_id: partner.map(|p| p.parse().expect("org id")),
            user_id: user_id.map(str::to_owned),
            password: zeroize::Zeroizing::new(PASSPHRASE.to_owned()),
        };
        gateway.accounts().add(new).await.expect("account");
    }
    let web = system.web_url().expect("web url");
    let grpc = system.grpc_url();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(system.run(shutdown.clone()));
    Running { web, grpc, shutdown, task, _data: data }
}

impl Running {
    async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.expect("joined").expect("clean shutdown");
    }
}

async fn sign_in(browser: &mut Browser, web: &str, username: &str) {
    browser.goto(&format!("{web}/sign-in")).await;
    browser.fill("#username", username).await;
    browser.fill("#password", PASSPHRASE).await;
    browser.click("form button[type=submit]").await;
}

/// A case manager's first sign-in, in a desktop window and at 390×844: the sign-in page, the
/// confidentiality acknowledgment (nothing else is reachable before it), home and the account
/// page, each without a serious or critical accessibility issue; after sign-out, Back shows
/// nothing of the signed-in pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_manager_signs_in_acknowledges_and_signs_out_leaving_nothing_behind() {
    let system = running(&[("maria.cm", wf_auth::Role::CaseManager, None, Some("usr_demo_case_manager"))]).await;
    let driver = Driver::start().await;
    for (width, height, name) in [(1280, 900, "desktop"), (390, 844, "phone")] {
        let mut browser = driver.browser(width, height, true, shots(&format!("sign_in_{name}"))).await;
        browser.goto(&format!("{}/sign-in", system.web)).await;
        browser.shot("sign-in").await;
        browser.assert_accessible("sign-in").await;

        // a wrong passphrase: one message, the page stays accessible with its error
        browser.fill("#username", "maria.cm").await;
        browser.fill("#password", "not-the-passphrase-at-all").await;
        browser.click("form button[type=submit]").await;
        assert!(browser.page_text().await.contains("Sign-in failed"), "{}", browser.page_text().await);
        browser.shot("sign-in-failed").await;
        browser.assert_accessible("sign-in with an error").await;

        sign_in(&mut browser, &system.web, "maria.cm").await;
        // first sign-in of the account (desktop) or of this session after acknowledging (phone)
        if browser.current_path().await == "/acknowledge" {
            browser.shot("acknowledge").await;
            browser.assert_accessible("acknowledgment").await;
            browser.goto(&format!("{}/account", system.web)).await;
            assert_eq!(browser.current_path().await, "/acknowledge", "nothing before the acknowledgment");
            browser.click("form[action='/acknowledge'] button[type=submit]").await;
        }
        assert_eq!(browser.current_path().await, "/");
        assert!(browser.page_text().await.contains("maria.cm"));
        browser.shot("home").await;
        browser.assert_accessible("home").await;
        browser.goto(&format!("{}/account", system.web)).await;
        assert!(
            browser.page_text().await.contains("case_manager") || browser.page_text().await.contains("Case manager")
        );
        browser.shot("account").await;
        browser.assert_accessible("account").await;

        browser.click("form[action='/sign-out'] button[type=submit]").await;
        browser.shot("signed-out").await;
        browser.client.back().await.expect("back");
        let after = browser.page_text().await;
        assert!(!after.contains("maria.cm"), "Back after sign-out shows the signed-in page: {after}");
        browser.shot("back-after-sign-out").await;
        browser.goto(&format!("{}/account", system.web)).await;
        assert_eq!(browser.current_path().await, "/sign-in", "the session ended");
        browser.close().await;
    }
    system.stop().await;
}
