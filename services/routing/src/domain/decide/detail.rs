//! What a rule found, kept as facts while deciding and rendered to text only when a
//! decision is stored or shown. Deciding over a large directory then allocates nothing
//! per rule; the stored and displayed text is the same as when it was built eagerly.

use std::fmt::{self, Write as _};
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use wf_proto::common::v1::{Site, TriageTier};
use wf_proto::routing::v1::ServiceStatus;

use crate::domain::{site_code, tier_code};

/// Where an age falls in a service's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgeFit {
    Below,
    In,
    Above,
}

/// A rule verdict's explanation. Coded facts only, never personal data. `Display` gives
/// the short text stored with the decision and shown through the API, e.g. "age 16 in 12..24".
#[derive(Debug, Clone)]
pub enum Detail {
    /// A hard filter the policy switched off.
    DisabledByPolicy,
    OrganizationInactive,
    OrganizationNotInNetwork,
    /// The service's status when it is not active.
    ServiceStatus(ServiceStatus),
    Active,
    WithinYouthProgram,
    /// An outside referral, and the organization is the program team.
    ProgramTeamRefersOut,
    /// An outside referral, and the organization is not the program team.
    ProgramTeamOnly,
    ServesSite(Site),
    ServesCountywide,
    ReferralSiteUnspecified,
    DoesNotServeSite(Site),
    /// The program team's outside referrals are not held to age limits.
    AgeLimitsDoNotApply,
    MinorNotServed,
    /// `maximum` 0 = no maximum.
    Age {
        age: u32,
        fit: AgeFit,
        minimum: u32,
        maximum: u32,
    },
    AgeUnknown {
        minor: bool,
        minimum: u32,
        maximum: u32,
    },
    /// Enough open places.
    CapacityOpen {
        open: u32,
        maximum: u32,
    },
    NoCapacity {
        maximum: u32,
    },
    /// Some open places, fewer than the policy asks for.
    CapacityBelowPolicy {
        open: u32,
        maximum: u32,
        needed: u32,
    },
    AroundTheClockResponder,
    /// The tier needs a 24/7 responder and the service has none.
    NeedsAroundTheClock(TriageTier),
    /// The tier does not need a 24/7 responder.
    Tier(TriageTier),
    OutsideReferral,
    NoNeedsGiven,
    NeedsCovered {
        covered: u32,
        wanted: u32,
    },
    NeedsBelowPolicy {
        covered: u32,
        wanted: u32,
        needed: u32,
    },
    OfferedBefore,
    NotOfferedBefore,
    NoLanguagePreference,
    /// Shared by every candidate of one decision, so it is not copied per candidate.
    Language {
        code: Arc<str>,
        spoken: bool,
    },
    OpenPlaces {
        open: u32,
    },
    /// Text read back from a stored decision.
    Text(Box<str>),
}

struct Range {
    minimum: u32,
    maximum: u32,
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.maximum == 0 {
            write!(f, "{}..any", self.minimum)
        } else {
            write!(f, "{}..{}", self.minimum, self.maximum)
        }
    }
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Detail::DisabledByPolicy => f.write_str("disabled by policy"),
            Detail::OrganizationInactive => f.write_str("organization inactive"),
            Detail::OrganizationNotInNetwork => f.write_str("organization not in network"),
            Detail::ServiceStatus(status) => {
                f.write_str("service status ")?;
                let code = status.as_str_name().trim_start_matches("SERVICE_STATUS_");
                code.chars().try_for_each(|c| f.write_char(c.to_ascii_lowercase()))
            }
            Detail::Active => f.write_str("active"),
            Detail::WithinYouthProgram => f.write_str("within youth program"),
            Detail::ProgramTeamRefersOut => f.write_str("outside youth program: program team refers out"),
            Detail::ProgramTeamOnly => f.write_str("outside youth program: program team only"),
            Detail::ServesSite(site) => write!(f, "serves {}", site_code(*site)),
            Detail::ServesCountywide => f.write_str("serves countywide"),
            Detail::ReferralSiteUnspecified => f.write_str("referral site unspecified: countywide services only"),
            Detail::DoesNotServeSite(site) => write!(f, "does not serve {}", site_code(*site)),
            Detail::AgeLimitsDoNotApply => f.write_str("outside referral: age limits do not apply"),
            Detail::MinorNotServed => f.write_str("minor not served (adults only)"),
            Detail::Age { age, fit, minimum, maximum } => {
                let fit = match fit {
                    AgeFit::Below => "below",
                    AgeFit::In => "in",
                    AgeFit::Above => "above",
                };
                write!(f, "age {age} {fit} {}", Range { minimum: *minimum, maximum: *maximum })
            }
            Detail::AgeUnknown { minor, minimum, maximum } => write!(
                f,
                "age unknown, {} served in {}",
                if *minor { "minor" } else { "adult" },
                Range { minimum: *minimum, maximum: *maximum }
            ),
            Detail::CapacityOpen { open, maximum } => write!(f, "capacity {open}/{maximum} open"),
            Detail::NoCapacity { maximum } => write!(f, "no capacity (0/{maximum})"),
            Detail::CapacityBelowPolicy { open, maximum, needed } => {
                write!(f, "capacity {open}/{maximum} open, policy needs {needed}")
            }
            Detail::AroundTheClockResponder => f.write_str("24/7 responder"),
            Detail::NeedsAroundTheClock(tier) => write!(f, "{} needs a 24/7 responder", tier_code(*tier)),
            Detail::Tier(tier) => write!(f, "tier {}", tier_code(*tier)),
            Detail::OutsideReferral => f.write_str("outside referral"),
            Detail::NoNeedsGiven => f.write_str("no needs given"),
            Detail::NeedsCovered { covered, wanted } => write!(f, "covers {covered}/{wanted} needs"),
            Detail::NeedsBelowPolicy { covered, wanted, needed } => {
                write!(f, "covers {covered}/{wanted} needs, policy needs {needed}")
            }
            Detail::OfferedBefore => f.write_str("offered before (declined or expired)"),
            Detail::NotOfferedBefore => f.write_str("not offered before"),
            Detail::NoLanguagePreference => f.write_str("no language preference"),
            Detail::Language { code, spoken: true } => write!(f, "language {code}"),
            Detail::Language { code, spoken: false } => write!(f, "language {code} not spoken"),
            Detail::OpenPlaces { open } => write!(f, "capacity {open} open"),
            Detail::Text(text) => f.write_str(text),
        }
    }
}

impl Detail {
    /// Whether the rendered text is exactly `text`, without rendering into a new string.
    pub fn renders_as(&self, text: &str) -> bool {
        /// Consumes `rest` as the rendering is written; fails at the first difference.
        struct Matcher<'a> {
            rest: &'a str,
        }
        impl fmt::Write for Matcher<'_> {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                self.rest = self.rest.strip_prefix(s).ok_or(fmt::Error)?;
                Ok(())
            }
        }
        let mut matcher = Matcher { rest: text };
        write!(matcher, "{self}").is_ok() && matcher.rest.is_empty()
    }
}

/// Two details are equal when they read the same, so a decision read back from storage
/// (whose details are text) equals the decision that was stored.
impl PartialEq for Detail {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Detail::Text(text), detail) | (detail, Detail::Text(text)) => detail.renders_as(text),
            (a, b) => b.renders_as(&a.to_string()),
        }
    }
}

impl PartialEq<str> for Detail {
    fn eq(&self, other: &str) -> bool {
        self.renders_as(other)
    }
}

impl PartialEq<&str> for Detail {
    fn eq(&self, other: &&str) -> bool {
        self.renders_as(other)
    }
}

/// Stored as its text, as before details were structured.
impl Serialize for Detail {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Detail {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|text| Detail::Text(text.into_boxed_str()))
    }
}

impl From<Detail> for String {
    fn from(detail: Detail) -> Self {
        match detail {
            Detail::Text(text) => text.into_string(),
            other => other.to_string(),
        }
    }
}
