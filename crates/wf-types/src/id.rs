//! Prefixed, sortable ids. Each id is a prefix plus a UUIDv7 in lowercase hex
//! (`ref_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d`): the prefix says what it names, the
//! UUIDv7 sorts by creation time and carries no meaning about the person.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

/// Why a string is not a valid id of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("expected an id starting with `{expected}`")]
    WrongPrefix { expected: &'static str },
    #[error("expected `{expected}` followed by 32 lowercase hex digits")]
    Malformed { expected: &'static str },
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A new id with a fresh UUIDv7.
            pub fn generate() -> Self {
                Self::from_uuid(Uuid::now_v7())
            }

            /// The id naming `uuid` (e.g. one derived from a foreign system's key).
            pub fn from_uuid(uuid: Uuid) -> Self {
                Self(format!("{}{}", $prefix, uuid.simple()))
            }

            /// Whether `value` is a well-formed id of this kind.
            pub fn is_valid(value: &str) -> bool {
                value.parse::<Self>().is_ok()
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = IdError;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                let rest = value
                    .strip_prefix($prefix)
                    .ok_or(IdError::WrongPrefix { expected: $prefix })?;
                let well_formed = rest.len() == 32
                    && rest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
                if !well_formed {
                    return Err(IdError::Malformed { expected: $prefix });
                }
                Ok(Self(value.to_owned()))
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                value.parse()
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

prefixed_id!(
    /// A referral received by intake.
    ReferralId,
    "ref_"
);
prefixed_id!(
    /// A youth known to intake (the vault's person record).
    YouthId,
    "yth_"
);
prefixed_id!(
    /// A case opened by the cases service.
    CaseId,
    "case_"
);
prefixed_id!(
    /// A case manager on the roster.
    CaseManagerId,
    "cm_"
);
prefixed_id!(
    /// A partner organization in the directory.
    PartnerId,
    "org_"
);
prefixed_id!(
    /// A routing decision with its explanation.
    DecisionId,
    "dec_"
);
prefixed_id!(
    /// An offer made to a partner.
    OfferId,
    "off_"
);
prefixed_id!(
    /// A consent release.
    ReleaseId,
    "rel_"
);
prefixed_id!(
    /// One service a partner organization offers, in the directory.
    PartnerServiceId,
    "svc_"
);
prefixed_id!(
    /// A routing policy version as loaded.
    PolicyId,
    "pol_"
);
prefixed_id!(
    /// A referral routing could not place, waiting for a supervisor.
    EscalationId,
    "esc_"
);
prefixed_id!(
    /// A screening recorded against a referral.
    ScreeningId,
    "scr_"
);
prefixed_id!(
    /// A mandated report (suspected abuse report) owed or filed for a referral.
    MandatedReportId,
    "mr_"
);
prefixed_id!(
    /// A possible returning-youth match awaiting review.
    PossibleMatchId,
    "pm_"
);
prefixed_id!(
    /// A service delivered to a youth (an intervention) on a case.
    InterventionId,
    "int_"
);
prefixed_id!(
    /// A goal on a case's service plan.
    GoalId,
    "goal_"
);
prefixed_id!(
    /// A recorded recidivism (re-exploitation) event.
    RecidivismEventId,
    "rcd_"
);
prefixed_id!(
    /// A case note.
    NoteId,
    "note_"
);
prefixed_id!(
    /// An attempt to reach a youth.
    ContactAttemptId,
    "ca_"
);
prefixed_id!(
    /// A scheduled follow-up (6, 12 or 24 months after exit).
    FollowUpId,
    "fu_"
);
prefixed_id!(
    /// An evaluation report as generated.
    ReportId,
    "rpt_"
);
prefixed_id!(
    /// A person's account in the gateway (a local account, or later one signed in through OpenID Connect).
    AccountId,
    "acct_"
);
prefixed_id!(
    /// A gateway session, as logs and operators name it (never the cookie's secret token).
    SessionId,
    "ses_"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_back() {
        let id = ReferralId::generate();
        assert!(id.as_str().starts_with("ref_"));
        assert_eq!(id.as_str().parse::<ReferralId>().unwrap(), id);
    }

    #[test]
    fn generated_ids_sort_by_creation() {
        let first = CaseId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = CaseId::generate();
        assert!(first < second);
    }

    #[test]
    fn wrong_prefix_is_named() {
        let err = "case_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d".parse::<ReferralId>().unwrap_err();
        assert_eq!(err.to_string(), "expected an id starting with `ref_`");
    }

    #[test]
    fn malformed_rest_is_refused() {
        for bad in ["ref_", "ref_xyz", "ref_0192F1C4D5E67A8B9C0D1E2F3A4B5C6D", "ref_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d0"]
        {
            assert_eq!(bad.parse::<ReferralId>().unwrap_err(), IdError::Malformed { expected: "ref_" }, "{bad}");
        }
    }

    #[test]
    fn serde_validates() {
        let ok: ReferralId = serde_json::from_str("\"ref_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d\"").unwrap();
        assert_eq!(ok.as_str(), "ref_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d");
        assert!(serde_json::from_str::<ReferralId>("\"nope\"").is_err());
    }
}
