//! Loading the roster from a file: a bad file stops start-up with the file and the problem named.

use wf_cases::load_roster;

#[test]
fn a_roster_file_is_read_and_validated() {
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    let good = dir.join("good.toml");
    std::fs::write(&good, crate::harness::roster(&[("cm_000000000000000000000000000000a1", "countywide", 4)])).unwrap();
    let roster = load_roster(Some(&good)).expect("valid roster");
    assert_eq!(roster.case_managers().len(), 1);

    let bad = dir.join("bad.toml");
    std::fs::write(&bad, crate::harness::roster(&[("cm_000000000000000000000000000000a1", "downtown", 4)])).unwrap();
    let err = format!("{:#}", load_roster(Some(&bad)).unwrap_err());
    assert!(err.contains("bad.toml"), "{err}");
    assert!(err.contains("case_manager[0] field `sites`: \"downtown\" is not a site"), "{err}");

    let err = format!("{:#}", load_roster(Some(&dir.join("missing.toml"))).unwrap_err());
    assert!(err.contains("cannot read roster file") && err.contains("missing.toml"), "{err}");
}

#[test]
fn without_a_roster_file_the_demo_roster_is_used() {
    let roster = load_roster(None).expect("demo roster");
    assert_eq!(roster.case_managers().len(), 6);
    assert_eq!(roster.supervisors().len(), 2);
}
