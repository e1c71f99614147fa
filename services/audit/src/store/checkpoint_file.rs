//! The checkpoint file: every signed checkpoint copied as one JSON line ([`CheckpointJson`]) to a
//! file outside the database — a checkpoint only counts as evidence once a copy has left the
//! database. Verification reads the copies back and holds the stored checkpoints to them.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use crate::domain::checkpoint::Checkpoint;
use crate::domain::export::CheckpointJson;

/// Appends `checkpoint` as one line and syncs it to disk before returning.
pub fn append(path: &Path, checkpoint: &Checkpoint) -> anyhow::Result<()> {
    let mut line = serde_json::to_string(&CheckpointJson::from_checkpoint(checkpoint))?;
    line.push('\n');
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening the checkpoint file {}", path.display()))?;
    file.write_all(line.as_bytes())
        .and_then(|()| file.sync_data())
        .with_context(|| format!("appending to the checkpoint file {}", path.display()))
}

/// Reads a checkpoint file written by [`append`] (blank lines are skipped).
pub fn read_checkpoint_file(path: &Path) -> anyhow::Result<Vec<Checkpoint>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(number, line)| {
            serde_json::from_str::<CheckpointJson>(line)
                .with_context(|| format!("{} line {}: not a checkpoint", path.display(), number + 1))?
                .to_checkpoint()
        })
        .collect()
}
