//! Reading and writing small secret files with owner-only permissions.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::CryptoError;

/// Writes `contents` to `path` with mode 0600, atomically: a temporary file in the same directory is
/// written, synced and renamed over the target, so a crash never leaves a half-written key file.
///
/// With `create_new`, an existing file is never replaced and `Ok(false)` is returned instead, so two
/// processes racing to create the first dev key agree on one key.
pub(crate) fn write_secret_file(path: &Path, contents: &[u8], create_new: bool) -> Result<bool, CryptoError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    fs::create_dir_all(dir).map_err(|e| CryptoError::io(dir, e))?;

    if create_new {
        let mut file = match open_owner_only(path, true) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
            Err(e) => return Err(CryptoError::io(path, e)),
        };
        file.write_all(contents).and_then(|()| file.sync_all()).map_err(|e| {
            // Do not leave an empty or partial key behind for the next start to trip over.
            let _ = fs::remove_file(path);
            CryptoError::io(path, e)
        })?;
        return Ok(true);
    }

    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = open_owner_only(&tmp, false)?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(CryptoError::io(path, e));
    }
    Ok(true)
}

/// Reads a secret file, warning when it is readable by anyone but its owner.
pub(crate) fn read_secret_file(path: &Path) -> Result<Option<Vec<u8>>, CryptoError> {
    match fs::read(path) {
        Ok(bytes) => {
            warn_if_shared(path);
            Ok(Some(bytes))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CryptoError::io(path, e)),
    }
}

#[cfg(unix)]
fn open_owner_only(path: &Path, create_new: bool) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = fs::OpenOptions::new();
    options.write(true).mode(0o600);
    if create_new {
        options.create_new(true);
    } else {
        options.create(true).truncate(true);
    }
    options.open(path)
}

#[cfg(not(unix))]
fn open_owner_only(path: &Path, create_new: bool) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true);
    if create_new {
        options.create_new(true);
    } else {
        options.create(true).truncate(true);
    }
    options.open(path)
}

#[cfg(unix)]
fn warn_if_shared(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(path = %path.display(), "key file is readable by group or others; chmod 600 it");
    }
}

#[cfg(not(unix))]
fn warn_if_shared(_path: &Path) {}
