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
