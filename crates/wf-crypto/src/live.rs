//! The field key ring while a service runs. `wayfinder keys rotate` and `keys retire` rewrite the
//! key file while the services that seal with it (intake's personal details, cases' note text) may be
//! running: every use checks the file's modification stamp (one `stat`) and re-reads the ring when it
//! changed, so a running service opens values already re-encrypted to the new version and seals new
//! values with it. A file that cannot be read keeps the ring in use (logged).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::{CryptoError, FIELD_KEYS_FILE, KeyRing};

/// Where the field keys live: the configured `field_key_file` (production; the JSON key ring or one
/// base64 key), else the development key ring in the keys folder.
pub fn field_key_path(field_key_file: Option<&Path>, keys_dir: &Path) -> PathBuf {
    field_key_file.map_or_else(|| keys_dir.join(FIELD_KEYS_FILE), Path::to_path_buf)
}

/// Loads the field key ring from [`field_key_path`]; without a configured file the development ring
/// is created on first use (exclusively, so two services starting at once share one ring).
pub fn load_field_keys(field_key_file: Option<&Path>, keys_dir: &Path) -> Result<KeyRing, CryptoError> {
    match field_key_file {
        Some(path) => KeyRing::load_file(path),
        None => KeyRing::load_or_create_dev(keys_dir),
    }
}

/// What identifies one version of the key file: modification time and length.
type FileStamp = (std::time::SystemTime, u64);

fn stamp_of(path: &Path) -> Option<FileStamp> {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.modified().ok()?, metadata.len()))
}

/// A key ring that follows its file (see the module documentation).
pub struct LiveKeys {
    path: Option<PathBuf>,
    state: Mutex<(Arc<KeyRing>, Option<FileStamp>)>,
}

impl LiveKeys {
    /// `ring`, as read from `path`, followed for changes from now on.
    pub fn follow(path: PathBuf, ring: KeyRing) -> Self {
        let stamp = stamp_of(&path);
        LiveKeys { path: Some(path), state: Mutex::new((Arc::new(ring), stamp)) }
    }

    /// The field key ring of [`field_key_path`], followed for changes.
    pub fn open(field_key_file: Option<&Path>, keys_dir: &Path) -> Result<Self, CryptoError> {
        let ring = load_field_keys(field_key_file, keys_dir)?;
        Ok(Self::follow(field_key_path(field_key_file, keys_dir), ring))
    }

    /// A ring that never changes (tests, tools).
    pub fn fixed(ring: KeyRing) -> Self {
        LiveKeys { path: None, state: Mutex::new((Arc::new(ring), None)) }
    }

    /// The ring as the key file holds it now.
    pub fn current(&self) -> Arc<KeyRing> {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(path) = &self.path else { return state.0.clone() };
        let stamp = stamp_of(path);
        if stamp.is_some() && stamp != state.1 {
            match KeyRing::load_file(path) {
                Ok(ring) => {
                    tracing::info!(
                        current_version = ring.current_version(),
                        versions = ?ring.versions().collect::<Vec<_>>(),
                        "field key file changed; key ring reloaded"
                    );
                    *state = (Arc::new(ring), stamp);
                }
                Err(err) => {
                    tracing::warn!(error = %err, "field key file changed but cannot be read; keeping the ring in use")
                }
            }
        }
        state.0.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_dir::TestDir;

    #[test]
    fn a_rewritten_key_file_is_picked_up_and_a_fixed_ring_never_changes() {
        let dir = TestDir::new();
        let live = LiveKeys::open(None, dir.path()).expect("development ring");
        let path = field_key_path(None, dir.path());
        assert_eq!(path, dir.path().join(FIELD_KEYS_FILE));
        let first = live.current().current_version();
        KeyRing::rotate_dev(dir.path()).expect("rotate");
        assert_eq!(live.current().current_version(), first + 1);
        let fixed = LiveKeys::fixed(KeyRing::load_file(&path).expect("read"));
        std::fs::remove_file(&path).expect("remove");
        assert_eq!(fixed.current().current_version(), first + 1);
        // a file that cannot be read keeps the ring in use
        assert_eq!(live.current().current_version(), first + 1);
    }
}
