//! The data folder holds youth records (the embedded SQLite files and their `-wal`/`-shm`), keys,
//! the audit log's checkpoint copies and the endpoints of a running system. It is private to the
//! account that runs the system: created 0700, every file in it 0600, and a process refuses to
//! start on a folder that group or others can reach, unless told the folder is shared on purpose
//! (`--allow-shared-data-dir`).
//!
//! An embedded system owns its data folder alone: [`RunLock`] holds an exclusive lock on
//! `wayfinder.lock` for as long as the system runs, so a second one on the same folder is refused
//! naming the first (a crash releases the lock with the process).

use std::io::Write as _;
use std::path::Path;

use anyhow::Context;

/// Whether the data folder must be private to the account running the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DataDirAccess {
    /// The default: refuse a folder open to group or others; make everything created private.
    #[default]
    Private,
    /// `--allow-shared-data-dir`: accept the folder as it is and leave permissions to the operator.
    Shared,
}

/// Group and other permission bits.
const OPEN_TO_OTHERS: u32 = 0o077;

/// From now on, every file and folder this process creates is its owner's alone (umask 077):
/// SQLite files and the `-wal`/`-shm` files SQLite makes at any later time, keys, checkpoint
/// copies, exports. Process-wide, so call it before anything is created.
pub fn restrict_new_files() {
    #[cfg(unix)]
    {
        rustix::process::umask(rustix::fs::Mode::from_raw_mode(OPEN_TO_OTHERS));
    }
}

/// Readies the data folder at `path`: creates it 0700 when absent; with [`DataDirAccess::Private`],
/// refuses a folder group or others can read, write or enter (naming the path and the fix), and
/// takes group and other permissions off everything already inside it.
pub fn prepare(path: &Path, access: DataDirAccess) -> anyhow::Result<()> {
    if access == DataDirAccess::Private {
        restrict_new_files();
    }
    if !path.exists() {
        create_private_dir(path).with_context(|| format!("creating data folder {}", path.display()))?;
        return Ok(());
    }
    let metadata = std::fs::metadata(path).with_context(|| format!("reading data folder {}", path.display()))?;
    if !metadata.is_dir() {
        anyhow::bail!("the data folder {} is not a folder", path.display());
    }
    if access == DataDirAccess::Shared {
        return Ok(());
    }
    if let Some(mode) = mode_of(&metadata)
        && mode & OPEN_TO_OTHERS != 0
    {
        anyhow::bail!(
            "the data folder {path} is open to other users (mode {mode:04o}); it holds youth records and keys. \
             Run `chmod 700 {path}`, or start with --allow-shared-data-dir if it is shared on purpose",
            path = path.display(),
        );
    }
    tighten_inside(path);
    Ok(())
}

/// The file in the data folder an embedded system keeps locked while it runs; it holds its pid.
pub const LOCK_FILE: &str = "wayfinder.lock";

/// Proof that this process is the one system running on a data folder; dropping it (or the
/// process ending in any way) releases the folder.
#[derive(Debug)]
pub struct RunLock {
    _file: std::fs::File,
}

/// Takes the data folder at `path` for this process: refuses, naming the running system's process
/// and addresses, when another system already holds it.
pub fn lock_for_running(path: &Path) -> anyhow::Result<RunLock> {
    let lock_path = path.join(LOCK_FILE);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .with_context(|| format!("opening {}", lock_path.display()))?;
    if !try_lock_exclusive(&file).with_context(|| format!("locking {}", lock_path.display()))? {
        anyhow::bail!("{}", already_running(path));
    }
    file.set_len(0)
        .and_then(|()| write!(file, "{}", std::process::id()))
        .and_then(|()| file.flush())
        .with_context(|| format!("writing {}", lock_path.display()))?;
    Ok(RunLock { _file: file })
}

/// Says which system holds the data folder at `path`: its pid (from the lock file) and, once it
/// serves, its addresses (from `endpoints.json`).
fn already_running(path: &Path) -> String {
    let pid = std::fs::read_to_string(path.join(LOCK_FILE)).ok().and_then(|text| text.trim().parse::<u32>().ok());
    let endpoints: Option<wf_client::Endpoints> = std::fs::read(path.join("endpoints.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .filter(|endpoints: &wf_client::Endpoints| pid.is_none_or(|pid| pid == endpoints.pid));
    let dir = path.display();
    let who = match (pid, &endpoints) {
        (_, Some(endpoints)) => {
            let webhook =
                endpoints.webhook.as_deref().map(|url| format!(", hotline webhook {url}")).unwrap_or_default();
            format!("process {}, gRPC {}{webhook}", endpoints.pid, endpoints.grpc)
        }
        (Some(pid), None) => format!("process {pid}, still starting"),
        (None, None) => "still starting".to_owned(),
    };
    let stop = match pid.or(endpoints.as_ref().map(|e| e.pid)) {
        Some(pid) => format!("stop it first (Ctrl-C in its terminal, or `kill {pid}`)"),
        None => "stop it first (Ctrl-C in its terminal)".to_owned(),
    };
    format!(
        "a Wayfinder system is already running on the data folder {dir} ({who}). Use that one, {stop}, \
         or start this one with another --data-dir"
    )
}

/// Takes an exclusive lock on `file` without waiting; `false` when another process holds one.
#[cfg(unix)]
fn try_lock_exclusive(file: &std::fs::File) -> std::io::Result<bool> {
    match rustix::fs::flock(file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(false),
        Err(err) => Err(err.into()),
    }
}

#[cfg(not(unix))]
fn try_lock_exclusive(_file: &std::fs::File) -> std::io::Result<bool> {
    Ok(true)
}

fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path)
}

#[cfg(unix)]
fn mode_of(metadata: &std::fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    Some(metadata.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn mode_of(_metadata: &std::fs::Metadata) -> Option<u32> {
    None
}

/// Takes group and other permissions off every file and folder under `dir` (left by an older
/// version or another tool), without following symbolic links. What cannot be changed (a file of
/// another account, a read-only file system) is logged and left: the folder itself is private.
fn tighten_inside(dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(metadata) = std::fs::symlink_metadata(&path) else { continue };
            if metadata.file_type().is_symlink() {
                continue;
            }
            let mode = metadata.permissions().mode();
            if mode & OPEN_TO_OTHERS != 0 {
                let private = std::fs::Permissions::from_mode(mode & !OPEN_TO_OTHERS & 0o7777);
                match std::fs::set_permissions(&path, private) {
                    Ok(()) => tracing::info!(path = %path.display(), "made private to its owner"),
                    Err(err) => {
                        tracing::warn!(path = %path.display(), error = %err, "cannot make private to its owner")
                    }
                }
            }
            if metadata.is_dir() {
                tighten_inside(&path);
            }
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    fn chmod(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }

    #[test]
    fn a_new_data_folder_is_created_for_its_owner_alone() {
        let root = tempfile::tempdir().expect("temp dir");
        let data = root.path().join("nested").join("data");
        prepare(&data, DataDirAccess::Private).expect("prepared");
        assert_eq!(mode(&data), 0o700);
    }

    #[test]
    fn a_data_folder_others_can_read_is_refused_naming_the_path_and_the_fix() {
        for open in [0o755, 0o750, 0o705, 0o720, 0o702, 0o711] {
            let root = tempfile::tempdir().expect("temp dir");
            chmod(root.path(), open);
            let err = prepare(root.path(), DataDirAccess::Private).expect_err("refused").to_string();
            let path = root.path().display().to_string();
            assert!(err.contains(&path), "{err}");
            assert!(err.contains(&format!("chmod 700 {path}")), "{err}");
            assert!(err.contains("--allow-shared-data-dir"), "{err}");
            assert_eq!(mode(root.path()), open, "a refused folder is left as it was");
        }
    }

    #[test]
    fn a_shared_data_folder_is_accepted_only_when_allowed_and_left_as_it_is() {
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::write(root.path().join("intake.db"), b"").expect("file");
        chmod(&root.path().join("intake.db"), 0o640);
        chmod(root.path(), 0o750);
        prepare(root.path(), DataDirAccess::Shared).expect("shared on purpose");
        assert_eq!((mode(root.path()), mode(&root.path().join("intake.db"))), (0o750, 0o640));
    }

    #[test]
    fn files_left_open_inside_a_private_folder_are_made_private() {
        let root = tempfile::tempdir().expect("temp dir");
        chmod(root.path(), 0o700);
        let keys = root.path().join("keys");
        std::fs::create_dir(&keys).expect("keys");
        chmod(&keys, 0o755);
        for (path, open) in [(root.path().join("intake.db"), 0o644), (keys.join("public.pem"), 0o664)] {
            std::fs::write(&path, b"x").expect("file");
            chmod(&path, open);
        }
        prepare(root.path(), DataDirAccess::Private).expect("prepared");
        assert_eq!(mode(&keys), 0o700);
        assert_eq!(mode(&root.path().join("intake.db")), 0o600);
        assert_eq!(mode(&keys.join("public.pem")), 0o600);
    }

    #[test]
    fn a_second_system_on_a_locked_folder_is_refused_naming_the_first() {
        let root = tempfile::tempdir().expect("temp dir");
        chmod(root.path(), 0o700);
        let first = lock_for_running(root.path()).expect("the first system takes the folder");
        assert_eq!(std::fs::read_to_string(root.path().join(LOCK_FILE)).expect("lock"), std::process::id().to_string());
        let err = lock_for_running(root.path()).expect_err("a second one is refused").to_string();
        let path = root.path().display().to_string();
        assert!(err.contains(&format!("already running on the data folder {path}")), "{err}");
        assert!(err.contains(&format!("process {}, still starting", std::process::id())), "{err}");
        let endpoints = wf_client::Endpoints {
            grpc: "http://127.0.0.1:50051".into(),
            webhook: Some("http://127.0.0.1:50052/v1/hotline/referrals".into()),
            web: None,
            pid: std::process::id(),
            services: vec!["intake".into()],
            mode: "embedded".into(),
        };
        std::fs::write(root.path().join("endpoints.json"), serde_json::to_vec(&endpoints).expect("json"))
            .expect("write");
        let err = lock_for_running(root.path()).expect_err("still refused").to_string();
        assert!(err.contains("gRPC http://127.0.0.1:50051, hotline webhook http://127.0.0.1:50052"), "{err}");
        assert!(err.contains(&format!("`kill {}`", std::process::id())), "{err}");
        drop(first);
        lock_for_running(root.path()).expect("a stopped system leaves the folder free");
    }

    #[test]
    fn a_file_in_place_of_the_folder_is_refused() {
        let root = tempfile::tempdir().expect("temp dir");
        let file = root.path().join("data");
        std::fs::write(&file, b"").expect("file");
        let err = prepare(&file, DataDirAccess::Private).expect_err("not a folder").to_string();
        assert!(err.contains("is not a folder"), "{err}");
    }
}
