//! Pure rules: the analytic data set folded from events, the outcome definition, the analyses and
//! the tables they publish under disclosure control. No I/O.

pub mod analysis;
pub mod codes;
pub mod dataset;
pub mod operations;
pub mod outcome;
pub mod synthetic;
pub mod table;

#[cfg(test)]
pub(crate) mod testing;
