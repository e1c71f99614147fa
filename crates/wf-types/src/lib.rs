//! Shared vocabulary: prefixed ids (`ref_…`, `case_…`), and wrappers that keep
//! secrets and personal data out of `Debug` output and logs.

pub mod codes;
mod id;
mod secret;

pub use id::{CaseId, CaseManagerId, DecisionId, IdError, OfferId, PartnerId, ReferralId, ReleaseId, YouthId};
pub use secret::{Pii, Secret};
