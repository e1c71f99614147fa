//! Errors about the system's state say what is wrong and what to do (issue 13, finding 3): a second
//! `up` on a folder in use, a system that crashed and left its endpoints behind, a data folder that
//! does not exist, an audit range beyond the log, dead-letter ids that are malformed or unknown, and
//! a disclosure report of a youth the system has never heard of. Each exits non-zero.

use crate::support::{Up, cli_in, shown};

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn errors_about_the_systems_state_say_what_is_wrong_and_what_to_do() {
    let root = tempfile::tempdir().expect("temp dir");
    let data_dir = root.path().join("data");
    let folder = data_dir.display().to_string();
    let mut up = Up::start(&data_dir, &["--no-demo"]);
    up.wait_for_log("wayfinder is up");
    let endpoints = loop {
        if data_dir.join("endpoints.json").exists() {
            break up.endpoints();
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };

    // A second system on the same folder is refused, naming the first; the first keeps running.
    let mut second = Up::start(&data_dir, &["--no-demo"]);
    let said = match second.wait_for_exit() {
        Some(status) => {
            assert!(!status.success(), "a second system started on {folder}");
            second.log()
        }
        None => panic!("a second system started on {folder} and kept running:\n{}", second.log()),
    };
    assert!(said.contains(&format!("a Wayfinder system is already running on the data folder {folder}")), "{said}");
    assert!(said.contains(&format!("process {}", endpoints.pid)) && said.contains(&endpoints.grpc), "{said}");
    assert!(!said.contains("already in use"), "{said}");
    assert!(data_dir.join("endpoints.json").exists(), "the refused start removed the running system's endpoints.json");
    let healthy = up.cli(&["healthcheck"]);
    assert!(healthy.status.success(), "the first system stopped answering: {}", shown(&healthy));

    // An audit range beyond the log is refused, directly and through the running system.
    let beyond = up.cli(&["audit", "verify", "--from", "99999"]);
    assert!(!beyond.status.success(), "{}", shown(&beyond));
    assert!(
        stderr(&beyond).contains("--from 99999 is beyond the end of the audit log, which holds entries 1 to"),
        "{}",
        shown(&beyond)
    );
    let remote = up.cli(&["audit", "verify", "--from", "99999", "--server", &endpoints.grpc]);
    assert!(!remote.status.success(), "{}", shown(&remote));
    assert!(stderr(&remote).contains("--from 99999 is beyond the end of the audit log"), "{}", shown(&remote));
    let whole = up.cli(&["audit", "verify"]);
    assert!(whole.status.success(), "{}", shown(&whole));

    // Dead-letter ids: a malformed one is refused naming the flag; one that is not a dead letter is
    // not "replayed 0" with success.
    let malformed = up.cli(&["dlq", "replay", "--service", "routing", "--event-id", "notauuid"]);
    assert!(!malformed.status.success(), "{}", shown(&malformed));
    assert!(stderr(&malformed).contains("--event-id"), "{}", shown(&malformed));
    let unknown =
        up.cli(&["dlq", "replay", "--service", "routing", "--event-id", "0193a1b2-c3d4-7e5f-8071-8293a4b5c6d7"]);
    assert!(!unknown.status.success(), "{}", shown(&unknown));
    assert!(stderr(&unknown).contains("not dead letters of routing"), "{}", shown(&unknown));

    // A disclosure report of a youth nobody knows: said so, no file.
    let report = root.path().join("report.html");
    let youth = wf_types::YouthId::generate();
    let disclosure = up.cli(&[
        "audit",
        "disclosure",
        "--youth",
        youth.as_str(),
        "--purpose",
        "survivor_request",
        "--out",
        report.to_str().expect("utf-8"),
    ]);
    assert!(!disclosure.status.success(), "{}", shown(&disclosure));
    assert!(stderr(&disclosure).contains(&format!("no youth {youth} is known")), "{}", shown(&disclosure));
    assert!(!report.exists(), "a report file was written for an unknown youth");

    // The system crashes: its endpoints.json stays behind; clients say it is not running and how
    // to start it, not a transport error.
    up.child.kill().expect("kill -9");
    up.child.wait().expect("reaped");
    assert!(data_dir.join("endpoints.json").exists(), "a crash leaves endpoints.json behind");
    let referral = wf_types::ReferralId::generate();
    let stale = cli_in(&data_dir, &["status", referral.as_str()]);
    assert!(!stale.status.success(), "{}", shown(&stale));
    let said = stderr(&stale);
    assert!(said.contains(&format!("the system on the data folder {folder} is not running")), "{said}");
    assert!(said.contains(&format!("`wayfinder up --data-dir {folder}`")), "{said}");
    assert!(!said.to_lowercase().contains("transport error"), "{said}");
    // The crash also released the folder: a new system starts on it.
    let mut again = Up::start(&data_dir, &["--no-demo"]);
    again.wait_for_log("wayfinder is up");
    assert!(again.stop().success());

    // A data folder that does not exist is named, with how to create it.
    let missing = root.path().join("no-such-folder");
    let missing_name = missing.display().to_string();
    for args in [
        &["status", referral.as_str()][..],
        &["audit", "verify"],
        &["keys", "status"],
        &["routing", "export-hsds", "--out", "directory.json"],
    ] {
        let output = cli_in(&missing, args);
        assert!(!output.status.success(), "{args:?}: {}", shown(&output));
        let said = stderr(&output);
        assert!(said.contains(&format!("the data folder {missing_name} does not exist")), "{args:?}: {said}");
        assert!(said.contains(&format!("wayfinder up --data-dir {missing_name}")), "{args:?}: {said}");
        assert!(!said.contains("unable to open database file"), "{args:?}: {said}");
        assert!(!said.contains("warning"), "{args:?}: {said}");
    }
    assert!(!missing.exists(), "a client command created the missing data folder");
}
