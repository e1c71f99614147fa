//! The closed lists of the JSON API: each proto enum as a string code, its proto name without the
//! prefix in lowercase (`TRIAGE_TIER_EMERGENT` → `"emergent"`, the codes the pages' addresses use
//! too), with its allowed values listed in the OpenAPI document. Unspecified is never a code: a
//! response says `null`, a request leaves the field out. Instants are RFC 3339 (UTC), calendar
//! dates `YYYY-MM-DD` (a partly known one `YYYY-MM` or `YYYY`).

use std::borrow::Cow;

use chrono::{DateTime, Datelike as _, NaiveDate, Utc};
use prost_types::Timestamp;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use wf_proto::cases::v1 as cases;
use wf_proto::common::v1 as common;
use wf_proto::intake::v1 as intake;
use wf_proto::routing::v1 as routing;

/// Enum numbers looked at when listing a list's values (the protos number from 1 up, without gaps
/// this large).
const HIGHEST_NUMBER: i32 = 512;

fn code_of(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix).unwrap_or(name).to_ascii_lowercase()
}

fn string_schema(values: Vec<String>, description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .description(Some(description.to_owned()))
        .into()
}

macro_rules! codes {
    ($($(#[doc = $doc:literal])+ $name:ident => $proto:ty, $prefix:literal;)+) => {$(
        $(#[doc = $doc])+
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name(pub $proto);

        impl $name {
            /// The value a proto enum number holds; `None` for unspecified or a number it does not know.
            pub fn of(number: i32) -> Option<Self> {
                <$proto>::try_from(number).ok().filter(|value| *value as i32 != 0).map(Self)
            }

            /// The code (`"emergent"`).
            pub fn code(self) -> String {
                code_of(self.0.as_str_name(), $prefix)
            }

            /// The value of a code; only the lowercase codes [`Self::all`] lists.
            pub fn parse(code: &str) -> Option<Self> {
                if code.is_empty() || code.bytes().any(|b| b.is_ascii_uppercase()) {
                    return None;
                }
                <$proto>::from_str_name(&format!("{}{}", $prefix, code.to_ascii_uppercase()))
                    .filter(|value| *value as i32 != 0)
                    .map(Self)
            }

            /// Every code, in the proto's order.
            pub fn all() -> Vec<String> {
                (1..=HIGHEST_NUMBER).filter_map(Self::of).map(Self::code).collect()
            }

            /// The proto enum number.
            pub fn number(self) -> i32 {
                self.0 as i32
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.code())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let code = Cow::<str>::deserialize(deserializer)?;
                // The value is not repeated: it came from the caller and may be anything.
                Self::parse(&code)
                    .ok_or_else(|| D::Error::custom(format!("is not a code of this list; allowed: {}", Self::all().join(", "))))
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                string_schema(Self::all(), concat!($($doc),+).trim())
            }
        }

        impl utoipa::ToSchema for $name {}
    )+};
}

codes! {
    /// A triage tier.
    TierCode => common::TriageTier, "TRIAGE_TIER_";
    /// A referral's status.
    ReferralStatusCode => intake::ReferralStatus, "REFERRAL_STATUS_";
    /// A program site.
    SiteCode => common::Site, "SITE_";
    /// Where a referral came from (HUD referral source).
    SourceCode => common::ReferralSource, "REFERRAL_SOURCE_";
    /// Why a referral was closed.
    ReferralClosureCode => intake::ReferralClosureReason, "REFERRAL_CLOSURE_REASON_";
    /// A screening tool.
    ScreeningToolCode => common::ScreeningTool, "SCREENING_TOOL_";
    /// A screening's result band (never the raw score).
    ScreeningResultCode => common::ScreeningResult, "SCREENING_RESULT_";
    /// A way of contacting the youth.
    ChannelCode => common::ContactChannel, "CONTACT_CHANNEL_";
    /// What came of a contact attempt.
    ContactOutcomeCode => common::ContactOutcome, "CONTACT_OUTCOME_";
    /// The youth's readiness to engage.
    ReadinessCode => common::Readiness, "READINESS_";
    /// A case's stage.
    StageCode => cases::CaseStage, "CASE_STAGE_";
    /// Why a case was closed.
    CaseClosureCode => cases::CaseClosureReason, "CASE_CLOSURE_REASON_";
    /// What an intervention's units count.
    UnitCode => cases::UnitType, "UNIT_TYPE_";
    /// Which scheduled follow-up.
    FollowUpKindCode => cases::FollowUpKind, "FOLLOW_UP_KIND_";
    /// A follow-up's status.
    FollowUpStatusCode => cases::FollowUpStatus, "FOLLOW_UP_STATUS_";
    /// Living situation (HUD 3.12).
    LivingSituationCode => common::LivingSituation, "LIVING_SITUATION_";
    /// School status (HUD R5).
    SchoolStatusCode => common::SchoolStatus, "SCHOOL_STATUS_";
    /// Last grade completed (HUD R4).
    GradeCode => common::LastGradeCompleted, "LAST_GRADE_COMPLETED_";
    /// A HUD no/yes answer.
    NoYesCode => common::NoYes, "NO_YES_";
    /// How many times (HUD R15.3).
    ExchangeCountCode => common::ExchangeCount, "EXCHANGE_COUNT_";
    /// A source of income or benefits (HUD 4.02).
    IncomeSourceCode => common::IncomeSource, "INCOME_SOURCE_";
    /// Kind of employment (HUD R6).
    EmploymentTypeCode => common::EmploymentType, "EMPLOYMENT_TYPE_";
    /// Why not employed (HUD R6).
    NotEmployedCode => common::NotEmployedReason, "NOT_EMPLOYED_REASON_";
    /// Legal status (T-visa, Continued Presence).
    LegalStatusCode => common::LegalStatus, "LEGAL_STATUS_";
    /// What a consent release lets the partner receive.
    CategoryCode => common::InformationCategory, "INFORMATION_CATEGORY_";
    /// Who signed a consent release.
    SignerRoleCode => intake::SignerRole, "SIGNER_ROLE_";
    /// An offer's status.
    OfferStatusCode => routing::OfferStatus, "OFFER_STATUS_";
    /// Why a partner declines an offer.
    DeclineReasonCode => routing::DeclineReason, "DECLINE_REASON_";
    /// What a routing decision came to.
    OutcomeCode => routing::DecisionOutcome, "DECISION_OUTCOME_";
    /// A rule's verdict in a routing decision.
    VerdictCode => routing::Verdict, "VERDICT_";
}

/// An instant of a proto message.
pub fn instant(at: &Option<Timestamp>) -> Option<DateTime<Utc>> {
    at.as_ref().and_then(wf_proto::time::datetime)
}

/// The proto timestamp of an instant.
pub fn timestamp(at: DateTime<Utc>) -> Timestamp {
    wf_proto::time::timestamp(at)
}

/// A proto date as `YYYY-MM-DD` (`YYYY-MM`, `YYYY` when partly known); `None` when absent.
pub fn date(date: &Option<common::Date>) -> Option<String> {
    let date = date.as_ref().filter(|d| d.year > 0)?;
    Some(match (date.month, date.day) {
        (1..=12, 1..=31) => format!("{:04}-{:02}-{:02}", date.year, date.month, date.day),
        (1..=12, _) => format!("{:04}-{:02}", date.year, date.month),
        _ => format!("{:04}", date.year),
    })
}

/// The proto date of a calendar date.
pub fn proto_date(date: NaiveDate) -> common::Date {
    common::Date { year: date.year(), month: date.month() as i32, day: date.day() as i32 }
}

/// The codes of repeated proto enum numbers (unknown ones left out).
pub fn all_of<T>(numbers: &[i32], of: impl Fn(i32) -> Option<T>) -> Vec<T> {
    numbers.iter().filter_map(|n| of(*n)).collect()
}

/// An empty proto string as `None`.
pub fn some(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_proto_names_without_prefix() {
        assert_eq!(TierCode(common::TriageTier::Emergent).code(), "emergent");
        assert_eq!(SourceCode::parse("self"), Some(SourceCode(common::ReferralSource::Self_)));
        assert_eq!(
            StageCode::parse("post_exit_follow_up").map(StageCode::code).as_deref(),
            Some("post_exit_follow_up")
        );
        assert_eq!(TierCode::parse("unspecified"), None, "unspecified is never a code");
        assert_eq!(TierCode::parse("EMERGENT"), None, "codes are lowercase");
        assert_eq!(TierCode::of(0), None);
        assert_eq!(TierCode::all(), ["emergent", "urgent", "routine"]);
    }

    #[test]
    fn a_bad_code_names_the_allowed_ones_never_itself() {
        let err = serde_json::from_str::<TierCode>("\"<script>\"").unwrap_err().to_string();
        assert!(err.contains("allowed: emergent, urgent, routine"), "{err}");
        assert!(!err.contains("<script>"), "{err}");
    }

    #[test]
    fn dates_say_only_what_is_known() {
        let at = |year, month, day| Some(common::Date { year, month, day });
        assert_eq!(date(&at(2026, 3, 2)).as_deref(), Some("2026-03-02"));
        assert_eq!(date(&at(2008, 3, 0)).as_deref(), Some("2008-03"));
        assert_eq!(date(&at(2008, 0, 0)).as_deref(), Some("2008"));
        assert_eq!(date(&at(0, 0, 0)), None);
        assert_eq!(date(&None), None);
    }
}
