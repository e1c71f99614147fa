//! Shared vocabulary: prefixed ids (`ref_…`, `case_…`), the one [`Clock`], the [`FieldViolation`]
//! every validation produces, and wrappers that keep secrets and personal data out of `Debug`
//! output and logs.

mod clock;
pub mod codes;
mod id;
pub mod pagination;
mod purpose;
mod secret;
mod violation;

pub use clock::{Clock, SharedClock, SystemClock, TestClock};
pub use id::{
    AccountId, CaseId, CaseManagerId, ContactAttemptId, DecisionId, EscalationId, FollowUpId, GoalId, IdError,
    InterventionId, MandatedReportId, NoteId, OfferId, PartnerId, PartnerServiceId, PolicyId, PossibleMatchId,
    RecidivismEventId, ReferralId, ReleaseId, ReportId, ScreeningId, SessionId, YouthId,
};
pub use pagination::PageLimits;
pub use purpose::{Purpose, UnknownPurpose};
pub use secret::{Pii, Secret};
pub use violation::FieldViolation;
