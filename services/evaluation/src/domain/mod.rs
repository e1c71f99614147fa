//! Pure rules: the analytic data set folded from events, the outcome definition, the analyses and
//! the tables they publish under disclosure control, which analyses each kind runs, and the
//! rendering of published tables as HTML, CSV and JSON. No I/O.

pub mod analysis;
pub mod catalog;
pub mod codes;
pub mod dataset;
pub mod operations;
pub mod outcome;
pub mod report;
pub mod scope;
pub mod synthetic;
pub mod table;

#[cfg(test)]
pub(crate) mod testing;
