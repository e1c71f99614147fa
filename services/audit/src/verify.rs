//! Verification of the stored log: pages through the table in batches (memory stays flat however
//! long the log is) and feeds them to the pure [`ChainVerifier`].

use wf_db::Db;

use crate::domain::chain::{ChainProblem, ChainVerifier, TamperKind, VerifyReport};
use crate::store;

/// Entries read per round trip.
pub const BATCH_SIZE: u32 = 10_000;

/// Verifies the chain from `from` (0 or 1: from genesis) to its end.
pub async fn verify(db: &Db, from: u64) -> anyhow::Result<VerifyReport> {
    verify_range(db, from, None).await
}

/// Verifies entries `from..=to` (`to` `None` or beyond the end: to the end, including the check
/// against the recorded head that catches a truncated or re-hashed end).
///
/// A run that starts after 1 trusts the stored hash of entry `from - 1` as its anchor.
pub async fn verify_range(db: &Db, from: u64, to: Option<u64>) -> anyhow::Result<VerifyReport> {
    let from = from.max(1);
    // One snapshot of where the chain ends; entries appended while we run are left for next time.
    let (head, max_stored) = store::tail(db).await?;
    let end = head.last_sequence.max(max_stored);
    let (to, to_the_end) = match to {
        Some(to) if to < end => (to, false),
        _ => (end, true),
    };

    let mut verifier = if from == 1 {
        ChainVerifier::from_genesis()
    } else {
        match store::entry_hash_at(db, from - 1).await? {
            Some(anchor) => ChainVerifier::starting_at(from, anchor),
            None if from - 1 > end => return Ok(ChainVerifier::starting_at(from, Vec::new()).report(None)),
            None => {
                let verifier = ChainVerifier::starting_at(from, Vec::new());
                let problem = ChainProblem {
                    sequence: from - 1,
                    kind: TamperKind::Deleted,
                    detail: format!("entry {} to start from is missing", from - 1),
                };
                return Ok(verifier.report(Some(problem)));
            }
        }
    };

    let mut cursor = from;
    while cursor <= to {
        // One extra row is look-ahead for explaining a problem at the batch's last entry.
        let window = store::entries_between(db, cursor, to, BATCH_SIZE + 1).await?;
        let last_batch = window.len() <= BATCH_SIZE as usize;
        let consume = window.len().min(BATCH_SIZE as usize);
        if let Err(problem) = verifier.verify_window(&window, consume) {
            return Ok(verifier.report(Some(problem)));
        }
        if last_batch {
            break;
        }
        cursor = verifier.next_sequence();
    }
    let finished = if to_the_end { verifier.finish(&head) } else { Ok(()) };
    if !to_the_end && verifier.next_sequence() <= to {
        // Stopped early: entries up to `to` are missing.
        let missing = verifier.next_sequence();
        let problem = ChainProblem {
            sequence: missing,
            kind: TamperKind::Deleted,
            detail: format!("entries {missing}..={to} are missing"),
        };
        return Ok(verifier.report(Some(problem)));
    }
    Ok(verifier.report(finished.err()))
}
