//! The README's first-day path, as a newcomer runs it (issue 13, acceptance 4): `up` on a new data
//! folder (with the demo), submit the README's example, `status`, the four reports, and the
//! routing simulation the README names — the real binary, SQLite only. The commands come from the
//! README itself, so the README and the system cannot drift apart.

use std::time::{Duration, Instant};

use wf_auth::Role;
use wf_proto::cases::v1 as cases;
use wf_proto::routing::v1 as routing;

use crate::support::{self, Up, shown};

/// The first argument after `flag` in the README's `cargo run -- <command> …` line.
fn readme_argument(command: &str, flag: &str) -> String {
    let readme = std::fs::read_to_string(support::repo_root().join("README.md")).expect("README.md");
    let line = readme
        .lines()
        .find(|line| line.trim_start().starts_with(&format!("cargo run -- {command}")))
        .unwrap_or_else(|| panic!("the README has no `cargo run -- {command}` line"));
    let mut words = line.split_whitespace();
    words.by_ref().find(|word| *word == flag).unwrap_or_else(|| panic!("no {flag} in {line:?}"));
    words.next().unwrap_or_else(|| panic!("nothing after {flag} in {line:?}")).to_owned()
}

/// The names the directory and the roster give the referral's partner and case manager, asked of
/// the running system directly.
async fn names_of(url: &str, keys: &std::path::Path, referral_id: &str) -> (String, String, String) {
    let issuer = support::issuer(keys);
    let mut routing_client = routing::routing_service_client::RoutingServiceClient::new(
        support::authed(url, &issuer, Role::ProgramManager).await,
    );
    let offers = routing_client
        .list_offers(routing::ListOffersRequest {
            referral_id: referral_id.to_owned(),
            include_practice: true,
            ..Default::default()
        })
        .await
        .expect("offers")
        .into_inner()
        .offers;
    let partner_id = offers.first().expect("the example was offered to a partner").partner_id.clone();
    let partner = routing_client
        .get_organization(routing::GetOrganizationRequest { organization_id: partner_id })
        .await
        .expect("organization")
        .into_inner()
        .organization
        .expect("organization")
        .name;
    let mut cases_client =
        cases::case_service_client::CaseServiceClient::new(support::authed(url, &issuer, Role::Supervisor).await);
    let case = cases_client
        .list_cases(cases::ListCasesRequest {
            referral_id: referral_id.to_owned(),
            include_practice: true,
            ..Default::default()
        })
        .await
        .expect("cases")
        .into_inner()
        .cases
        .into_iter()
        .next()
        .expect("the example has a case");
    let roster = cases_client
        .list_case_managers(cases::ListCaseManagersRequest {
            include_inactive: true,
            page_size: 500,
            ..Default::default()
        })
        .await
        .expect("roster")
        .into_inner()
        .case_managers;
    let manager = roster.into_iter().find(|m| m.case_manager_id == case.case_manager_id).expect("on the roster");
    (partner, manager.display_name, manager.display_code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_first_day_path_reads_right_to_a_newcomer() {
    let root = tempfile::tempdir().expect("temp dir");
    let data_dir = root.path().join("data");
    let mut up = Up::start(&data_dir, &[]);
    up.wait_for_log("synthetic evaluation cohort seeded");

    // endpoints.json names the webhook too, and something listens there.
    let endpoints = up.endpoints();
    let webhook = endpoints.webhook.clone().expect("endpoints.json names the hotline webhook");
    assert!(webhook.starts_with("http://127.0.0.1:") && webhook.ends_with("/v1/hotline/referrals"), "{webhook}");
    let webhook_addr = webhook.trim_start_matches("http://").trim_end_matches("/v1/hotline/referrals").to_owned();
    std::net::TcpStream::connect(&webhook_addr).expect("the webhook listens where endpoints.json says");

    // Submit the README's example.
    let example = readme_argument("submit", "--file");
    let submitted = up.cli(&["submit", "--file", &example]);
    assert!(submitted.status.success(), "{}", shown(&submitted));
    let referral_id = String::from_utf8_lossy(&submitted.stdout).trim().to_owned();
    assert!(referral_id.starts_with("ref_"), "{}", shown(&submitted));

    // Status, once the referral has its partner and its case manager.
    let started = Instant::now();
    let status_json = loop {
        let output = up.cli(&["status", &referral_id, "--json"]);
        assert!(output.status.success(), "{}", shown(&output));
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("status --json prints JSON");
        if json["partner"]["organization"].is_string() && json["case"]["case_manager"].is_string() {
            break json;
        }
        assert!(
            started.elapsed() < support::PATIENCE,
            "the example never reached a partner and a case manager: {json:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let (partner, manager, code) = names_of(&endpoints.grpc, &data_dir.join("keys"), &referral_id).await;
    assert_eq!(status_json["partner"]["organization"], partner.as_str());
    assert_eq!(status_json["case"]["case_manager"], manager.as_str());
    let output = up.cli(&["status", &referral_id]);
    assert!(output.status.success(), "{}", shown(&output));
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(text.contains(&partner), "the status does not name the partner {partner:?}:\n{text}");
    assert!(
        text.contains(&format!("{manager} ({code})")),
        "the status does not name the case manager {manager:?}:\n{text}"
    );
    assert!(!text.contains("org_") && !text.contains("cm_"), "bare directory or roster ids:\n{text}");
    assert!(text.contains("practice referral"), "the example is a practice referral:\n{text}");
    assert!(text.contains("received") && text.contains("offered to"), "{text}");

    // The four reports stay on the demo's synthetic cohort: the example is practice.
    for kind in ["baseline", "outcomes", "completeness", "operations"] {
        let out = root.path().join("reports").join(kind);
        let output = up.cli(&["report", kind, "--out", out.to_str().expect("utf-8 path")]);
        assert!(output.status.success(), "report {kind}: {}", shown(&output));
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("report.json")).expect("report.json")).expect("JSON");
        assert_eq!(report["synthetic"], true, "the {kind} report left the synthetic cohort after the example");
    }

    // The README's routing simulation runs as written.
    let policy = readme_argument("routing simulate", "--policy");
    let output = up.cli(&["routing", "simulate", "--policy", &policy, "--since", "30d"]);
    assert!(output.status.success(), "{}", shown(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("Routing policy simulation"), "{}", shown(&output));

    // Received now, the example misses no deadline: after the mandated-report check has run (every
    // second), nothing about it is overdue.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let log = up.log();
    let about_it: Vec<&str> = log.lines().filter(|line| line.contains(&referral_id)).collect();
    assert!(about_it.iter().all(|line| !line.contains(" WARN ")), "the example warns at once: {about_it:#?}");

    // The log: one line per event, no colour in a file, routine lines quiet, warnings on their own line.
    assert!(!log.contains('\u{1b}'), "colour codes in a log file:\n{log}");
    let escalated: Vec<&str> = log.lines().filter(|line| line.contains("referral escalated")).collect();
    assert!(!escalated.is_empty(), "the demo's emergent escalations are not in the log:\n{log}");
    for line in &escalated {
        assert!(line.contains(" WARN ") && line.contains("referral.id=ref_") && line.contains("tier="), "{line}");
    }
    assert!(!log.contains("referral received"), "routine lines at the default level:\n{log}");
    for line in log.lines() {
        let event = line.len() > 27 && line.as_bytes()[4] == b'-' && line.as_bytes()[10] == b'T';
        // the announcements, and the demo sign-ins' table (a comment, one row per role, a blank line)
        let announcement = [
            "wayfinder is up",
            "web application: http://",
            "demo sign-ins (also in ",
            "# ",
            "demo-",
            "demo data set loaded",
            "synthetic evaluation cohort",
        ]
        .iter()
        .any(|start| line.starts_with(start))
            || line.is_empty();
        assert!(event || announcement, "a log line that is neither an event nor an announcement: {line:?}\n{log}");
    }

    assert!(up.stop().success(), "wayfinder up did not stop cleanly");
    assert!(!data_dir.join("endpoints.json").exists(), "endpoints.json removed on shutdown");
}
