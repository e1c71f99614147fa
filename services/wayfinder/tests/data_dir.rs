//! The data folder is private to the account that runs the system (issue 12, finding 7): the
//! embedded system creates it 0700 and every file in it 0600 — the SQLite files and their
//! `-wal`/`-shm`, keys, checkpoint copies, the endpoints file — and `wayfinder up` refuses a folder
//! open to other users, naming it and the fix, unless `--allow-shared-data-dir` is given.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).expect("metadata").permissions().mode() & 0o777
}

/// Every file and folder under `dir`, depth first.
fn everything_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(everything_under(&path));
        }
        found.push(path);
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_system_keeps_its_data_folder_and_every_file_in_it_private() {
    let root = tempfile::tempdir().expect("temp dir");
    let data_dir = root.path().join("data");
    let mut config = wf_config::Config::load(None, Some(&data_dir)).expect("config");
    config.grpc_addr = "127.0.0.1:0".parse().expect("addr");
    let system = wayfinder::system::build(config, wf_config::SERVICES).await.expect("system builds");
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(system.run(shutdown.clone()));
    // Running: the endpoints file is written and the databases have their -wal and -shm.
    let endpoints = data_dir.join("endpoints.json");
    for _ in 0..200 {
        if endpoints.exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let files = everything_under(&data_dir);
    for name in ["intake.db", "intake.db-wal", "intake.db-shm", "audit.db", "bus.db", "endpoints.json"] {
        assert!(files.contains(&data_dir.join(name)), "{name} missing in {files:?}");
    }
    assert!(files.iter().any(|f| f.starts_with(data_dir.join("keys")) && f.is_file()), "no key files: {files:?}");

    assert_eq!(mode(&data_dir), 0o700, "the data folder");
    let open: Vec<String> = files
        .iter()
        .filter(|path| mode(path) != if path.is_dir() { 0o700 } else { 0o600 })
        .map(|path| format!("{} {:o}", path.display(), mode(path)))
        .collect();
    assert!(open.is_empty(), "open to other users: {open:?}");

    shutdown.cancel();
    running.await.expect("joined").expect("ran");
}

#[test]
fn up_refuses_a_data_folder_others_can_read_naming_it_and_the_fix() {
    let root = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod 755");
    let mut up = Command::new(env!("CARGO_BIN_EXE_wayfinder"))
        .args(["up", "--no-demo", "--grpc-addr", "127.0.0.1:0", "--data-dir"])
        .arg(root.path())
        .env_remove("DATABASE_URL")
        .env_remove("AMQP_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cli runs");
    // A process that started would run until stopped: give it a bounded time to refuse.
    let deadline = Instant::now() + Duration::from_secs(60);
    while up.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            up.kill().expect("kill");
            panic!("`wayfinder up` started on a 0755 data folder");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = up.wait_with_output().expect("output");
    assert!(!output.status.success(), "started on a 0755 data folder");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let path = root.path().display().to_string();
    assert!(stderr.contains(&format!("the data folder {path} is open to other users")), "{stderr}");
    assert!(stderr.contains(&format!("chmod 700 {path}")), "{stderr}");
    assert!(stderr.contains("--allow-shared-data-dir"), "{stderr}");
    assert!(!root.path().join("intake.db").exists(), "nothing was created in the refused folder");
    assert_eq!(mode(root.path()), 0o755, "the refused folder is left as it was");
}

#[test]
fn migrate_accepts_a_shared_data_folder_only_when_allowed() {
    let root = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o750)).expect("chmod 750");
    let migrate = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_wayfinder"))
            .arg("migrate")
            .args(extra)
            .arg("--data-dir")
            .arg(root.path())
            .env_remove("DATABASE_URL")
            .env_remove("AMQP_URL")
            .output()
            .expect("cli runs")
    };
    let refused = migrate(&[]);
    assert!(!refused.status.success(), "migrated into a 0750 data folder");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("chmod 700"), "{refused:?}");
    let allowed = migrate(&["--allow-shared-data-dir"]);
    assert!(allowed.status.success(), "{}", String::from_utf8_lossy(&allowed.stderr));
    assert!(root.path().join("intake.db").exists());
    assert_eq!(mode(root.path()), 0o750, "a shared folder is left as the operator set it");
}
