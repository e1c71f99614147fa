//! Intake's timer loops, each a named `run(…, shutdown)` spawned and joined by the component.

pub mod mandated_reports;
pub mod matching;
