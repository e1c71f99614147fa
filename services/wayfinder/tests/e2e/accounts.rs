//! `wayfinder accounts …` as an administrator runs it on the embedded data folder (the real
//! binary, SQLite): add a sign-in, link it to an OpenID Connect subject and see the link in the
//! list, refuse a second account for the same subject and a link with no provider named, unlink,
//! disable and enable. Every refusal says what was wrong and exits non-zero.

use crate::support::{cli_in, shown};

#[test]
fn accounts_are_added_linked_to_a_provider_subject_unlinked_disabled_and_enabled() {
    let root = tempfile::tempdir().expect("temp dir");
    let data = root.path().join("data");
    let data = data.as_path();
    let migrated = cli_in(data, &["migrate"]);
    assert!(migrated.status.success(), "{}", shown(&migrated));

    let added = cli_in(data, &["accounts", "add", "--username", "rosa.example", "--role", "case_manager"]);
    assert!(added.status.success(), "{}", shown(&added));
    let said = String::from_utf8_lossy(&added.stdout);
    assert!(said.contains("added rosa.example (case_manager)") && said.contains("passphrase (shown once): "), "{said}");
    let other = cli_in(data, &["accounts", "add", "--username", "sam.example", "--role", "supervisor"]);
    assert!(other.status.success(), "{}", shown(&other));

    // No provider configured and none named: refused, naming the flag.
    let nowhere = cli_in(data, &["accounts", "link", "--username", "rosa.example", "--subject", "248289761001"]);
    assert!(!nowhere.status.success(), "{}", shown(&nowhere));
    assert!(String::from_utf8_lossy(&nowhere.stderr).contains("--issuer"), "{}", shown(&nowhere));

    let issuer = "https://id.example.org";
    let link = |username: &str| {
        cli_in(data, &["accounts", "link", "--username", username, "--subject", "248289761001", "--issuer", issuer])
    };
    let linked = link("rosa.example");
    assert!(linked.status.success(), "{}", shown(&linked));
    assert!(String::from_utf8_lossy(&linked.stdout).contains("linked rosa.example"), "{}", shown(&linked));
    let row = |username: &str| {
        let listed = cli_in(data, &["accounts", "list"]);
        assert!(listed.status.success(), "{}", shown(&listed));
        String::from_utf8_lossy(&listed.stdout)
            .lines()
            .find(|line| line.starts_with(username))
            .unwrap_or_else(|| panic!("{username} not listed: {}", shown(&listed)))
            .to_owned()
    };
    assert!(row("rosa.example").contains("oidc linked"), "{}", row("rosa.example"));
    assert!(row("sam.example").contains("oidc -"), "{}", row("sam.example"));
    // One person, one account: the same subject cannot be linked to another sign-in.
    let taken = link("sam.example");
    assert!(!taken.status.success(), "{}", shown(&taken));
    assert!(String::from_utf8_lossy(&taken.stderr).contains("already linked"), "{}", shown(&taken));
    let unknown = link("nobody.example");
    assert!(!unknown.status.success(), "{}", shown(&unknown));

    let unlinked = cli_in(data, &["accounts", "unlink", "--username", "rosa.example"]);
    assert!(unlinked.status.success(), "{}", shown(&unlinked));
    assert!(row("rosa.example").contains("oidc -"), "{}", row("rosa.example"));
    // Unlinked, the subject is free for the other account.
    assert!(link("sam.example").status.success());

    let disabled = cli_in(data, &["accounts", "disable", "--username", "rosa.example"]);
    assert!(disabled.status.success(), "{}", shown(&disabled));
    assert!(row("rosa.example").ends_with("disabled"), "{}", row("rosa.example"));
    let enabled = cli_in(data, &["accounts", "enable", "--username", "rosa.example"]);
    assert!(enabled.status.success(), "{}", shown(&enabled));
    assert!(row("rosa.example").ends_with("active"), "{}", row("rosa.example"));
}

/// `keys rotate`, `status` and `retire` cover the sign-ins' authentication-app secrets, sealed
/// under the same field keys as intake's personal details: after a rotation none is left on the old
/// version, so it can be retired.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_rotation_re_encrypts_the_sign_ins_authentication_app_secrets() {
    use wf_gateway::domain::totp;
    let root = tempfile::tempdir().expect("temp dir");
    let data = root.path().join("data");
    let data = data.as_path();
    let migrated = cli_in(data, &["migrate"]);
    assert!(migrated.status.success(), "{}", shown(&migrated));
    let added = cli_in(data, &["accounts", "add", "--username", "lee.example", "--role", "case_manager"]);
    assert!(added.status.success(), "{}", shown(&added));

    // Enrol an authentication app, as the account page does.
    let config = wf_config::Config::load(None, Some(data)).expect("config");
    let db = wf_db::Db::connect(&config.database_url_for(wf_gateway::SERVICE)).await.expect("gateway database");
    let accounts =
        wf_gateway::Accounts::from_config(db.clone(), wf_types::SystemClock::shared(), &config).expect("keys");
    let enrolment = accounts.begin_totp("lee.example").await.expect("enrolment");
    let secret = totp::base32_decode(&enrolment.secret_base32).expect("base32");
    let now = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    let code = |secret: &[u8]| {
        let step = u64::try_from(totp::step_at(i64::try_from(now()).expect("secs"))).expect("step");
        format!("{:06}", totp::code_at(secret, step, totp::DIGITS))
    };
    accounts.confirm_totp("lee.example", &code(&secret)).await.expect("confirmed");
    assert_eq!(accounts.sealed_with_version(1).await.expect("count"), 1);
    db.close().await;

    let status = cli_in(data, &["keys", "status"]);
    assert!(status.status.success(), "{}", shown(&status));
    assert!(
        String::from_utf8_lossy(&status.stdout).contains("version 1 (current): 1 sign-in authentication-app secret(s)"),
        "{}",
        shown(&status)
    );
    let rotated = cli_in(data, &["keys", "rotate"]);
    assert!(rotated.status.success(), "{}", shown(&rotated));
    assert!(
        String::from_utf8_lossy(&rotated.stdout)
            .contains("1 sign-in(s)' authentication-app secrets re-encrypted to key version 2"),
        "{}",
        shown(&rotated)
    );
    let status = cli_in(data, &["keys", "status"]);
    let said = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(said.contains("version 1: 0 sign-in authentication-app secret(s)"), "{said}");
    assert!(said.contains("version 2 (current): 1 sign-in authentication-app secret(s)"), "{said}");
    let retired = cli_in(data, &["keys", "retire", "--version", "1"]);
    assert!(retired.status.success(), "{}", shown(&retired));
    // `--gateway`: the web application's ring alone (as the distributed shape, where it has its own).
    let rotated = cli_in(data, &["keys", "rotate", "--gateway"]);
    assert!(rotated.status.success(), "{}", shown(&rotated));
    assert!(
        String::from_utf8_lossy(&rotated.stdout)
            .contains("key version 3 is current; 1 sign-in(s)' authentication-app secrets re-encrypted to it"),
        "{}",
        shown(&rotated)
    );
    let status = cli_in(data, &["keys", "status", "--gateway"]);
    let said = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(said.contains("version 3 (current): 1 sign-in authentication-app secret(s)"), "{said}");
    assert!(said.contains("version 2: 0 sign-in"), "{said}");

    // With version 1 gone from the key file, the secret is sealed under version 3 alone.
    let db = wf_db::Db::connect(&config.database_url_for(wf_gateway::SERVICE)).await.expect("gateway database");
    let accounts =
        wf_gateway::Accounts::from_config(db.clone(), wf_types::SystemClock::shared(), &config).expect("keys");
    assert_eq!(accounts.sealed_with_version(3).await.expect("count"), 1);
    assert_eq!(accounts.sealed_with_version(1).await.expect("count"), 0);
    db.close().await;
}
