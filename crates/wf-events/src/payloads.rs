//! Event types: each payload message with its routing key.

use wf_proto::events::v1 as pb;

use crate::EventPayload;

macro_rules! event_types {
    ($($message:ident => $type:literal),* $(,)?) => {
        $(impl EventPayload for pb::$message {
            const TYPE: &'static str = $type;
        })*

        /// Every event type on the bus.
        pub const ALL_EVENT_TYPES: &[&str] = &[$($type),*];
    };
}

event_types! {
    RecordAccessed => "record.accessed",
    RecordExported => "record.exported",
    AccessRefused => "access.refused",
    CaseAssigned => "case.assigned",
    CaseStageChanged => "case.stage_changed",
    ReadinessChanged => "case.readiness_changed",
    ContactAttemptRecorded => "contact_attempt.recorded",
    ServicePlanGoalChanged => "service_plan.goal_changed",
    InterventionDelivered => "intervention.delivered",
    InterventionWithdrawn => "intervention.withdrawn",
    FollowUpDue => "follow_up.due",
    FollowUpOverdue => "follow_up.overdue",
    FollowUpRecorded => "follow_up.recorded",
    RecidivismRecorded => "recidivism.recorded",
    CaseClosed => "case.closed",
    CaseReopened => "case.reopened",
    CaseNoteAdded => "case_note.added",
    CaseManagerChanged => "roster.case_manager_changed",
    OnCallChanged => "roster.on_call_changed",
    CaseLinked => "case.linked",
    CaseAwaitingAssignment => "case.awaiting_assignment",
    FollowUpCancelled => "follow_up.cancelled",
    ReferralReceived => "referral.received",
    ReferralTriaged => "referral.triaged",
    ReferralUpdated => "referral.updated",
    ReferralHoldChanged => "referral.hold_changed",
    ReferralClosed => "referral.closed",
    ReferralPurged => "referral.purged",
    ConsentReleaseCreated => "consent_release.created",
    ConsentReleaseRevoked => "consent_release.revoked",
    MandatedReportRecorded => "mandated_report.recorded",
    MandatedReportOverdue => "mandated_report.overdue",
    ScreeningRecorded => "screening.recorded",
    PossibleMatchFound => "possible_match.found",
    PossibleMatchConfirmed => "possible_match.confirmed",
    PossibleMatchRejected => "possible_match.rejected",
    ReferralRouted => "referral.routed",
    OfferMade => "offer.made",
    OfferAccepted => "offer.accepted",
    OfferDeclined => "offer.declined",
    OfferExpired => "offer.expired",
    OfferWithdrawn => "offer.withdrawn",
    ReferralEscalated => "referral.escalated",
    EscalationResolved => "escalation.resolved",
    RoutingPolicyLoaded => "routing_policy.loaded",
    DirectoryChanged => "directory.changed",
    CapacityUpdated => "capacity.updated",
}
