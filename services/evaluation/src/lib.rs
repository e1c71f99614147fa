//! The evaluation service: a de-identified analytic data set fed by events, the baseline and
//! outcome analyses, and reports with disclosure control.
pub mod domain;
