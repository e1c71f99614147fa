//! The rows of the analytic data set: one per youth, under a random study id. Codes, counts and
//! days only (no identity, no free text).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::codes;

/// A new study id: `stu_` and a random UUIDv4. Never derived from identity and, unlike the
/// prefixed ids of `wf-types` (UUIDv7), not time-ordered, so a study id reveals neither who nor
/// in which order youth arrived.
pub fn new_study_id() -> String {
    format!("stu_{}", uuid::Uuid::new_v4().simple())
}

/// One service type a youth received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exposure {
    pub service_type: String,
    /// Days from intake to the first delivery.
    pub first_day: f64,
    /// Number of deliveries recorded.
    pub deliveries: u32,
    /// Sum of units (hours, sessions, nights or items as recorded).
    pub units: f64,
}

/// One scheduled follow-up and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUpState {
    /// "month_6", "month_12", "month_24", "exit", …
    pub kind: String,
    /// "due", "overdue", "completed", "lost_to_follow_up", "refused", "cancelled", "scheduled".
    pub status: String,
}

/// One recidivism event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recidivism {
    /// "re_exploitation", "re_arrest", "return_to_trafficker", or a newer kind's code.
    pub kind: String,
    pub day: f64,
}

/// One missing episode (case stage active → missing → back), in days from intake. An episode
/// still open at the as-of instant (or when the case closed) ends there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MissingEpisode {
    pub start_day: f64,
    pub end_day: f64,
}

/// The coded long-term outcome domains of one completed follow-up (DOMAIN.md: housing stability,
/// education, employment and income, safety and connection, legal status, engagement). Codes only:
/// no amounts, no free text, no wellbeing score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUpDomains {
    /// "month_6", "month_12", "month_24", …
    pub kind: String,
    /// Domain code (see [`DOMAINS`]) → answer code ("missing" when not answered).
    pub answers: BTreeMap<String, String>,
}

/// The long-term domains a completed follow-up answers, in report order.
pub const DOMAINS: [&str; 8] = [
    "living_situation",
    "school_status",
    "employed",
    "any_income",
    "feels_safe",
    "has_trusted_connection",
    "legal_status",
    "engaged_with_services",
];

/// A youth in the analytic data set. Codes, counts and days only. The default is the empty row a
/// baseline starts from (nothing seen after intake).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct YouthRow {
    pub study_id: String,
    pub site: String,
    pub referral_source: String,
    pub engagement_approach: String,
    pub triage_tier: String,
    pub trafficking_type: String,
    pub age_band: String,
    /// Quarter of intake, e.g. "2026q3".
    pub quarter: String,
    pub prior_participation: String,
    /// "voluntary", "mandated" or "unknown".
    pub participation: String,
    /// "answered", "client_doesnt_know", "client_prefers_not_to_answer", "data_not_collected", "missing".
    pub age_first_exploited_answer: String,
    pub age_first_exploited: Option<i32>,
    pub former_ward_child_welfare: String,
    pub former_ward_juvenile_justice: String,
    pub any_income: String,
    pub employed: String,
    pub living_situation: String,
    pub last_grade_completed: String,
    pub school_status: String,
    pub ever_arrested: String,
    pub arrests: i32,
    pub prostitution_arrests: i32,
    pub system_involvement: Vec<String>,
    pub enrolled: bool,
    /// Enrolled more than 90 days ago (as of the build) without an assessment.
    pub assessment_overdue: bool,
    pub interventions: Vec<Exposure>,
    pub follow_ups: Vec<FollowUpState>,
    pub exited_day: Option<f64>,
    /// Days from intake to the last time the youth was seen (the censoring time without an event).
    pub last_contact_day: f64,
    /// Days from intake to the as-of instant of the build.
    pub observed_days: f64,
    pub recidivism: Vec<Recidivism>,
    pub returns: u32,
    /// Missing episodes, first first (snapshots stored before they were folded read as none).
    #[serde(default)]
    pub missing_episodes: Vec<MissingEpisode>,
    /// The domains of each completed follow-up, one per kind (the latest answer counts).
    #[serde(default)]
    pub follow_up_domains: Vec<FollowUpDomains>,
    /// HMIS age band at referral (APR/CAPER question 11), e.g. "13_17".
    #[serde(default)]
    pub hmis_age_band: String,
    /// Living situation at exit (the HMIS destination), when the youth exited.
    #[serde(default)]
    pub exit_living_situation: String,
}

impl YouthRow {
    /// The value of a grouping dimension, or None when the dimension is not known.
    pub fn dimension(&self, name: &str) -> Option<String> {
        Some(match name {
            "site" => self.site.clone(),
            "referral_source" => self.referral_source.clone(),
            "engagement_approach" => {
                if self.engagement_approach.is_empty() {
                    codes::MISSING.to_owned()
                } else {
                    self.engagement_approach.clone()
                }
            }
            "triage_tier" => self.triage_tier.clone(),
            "age_band" => self.age_band.clone(),
            "trafficking_type" => self.trafficking_type.clone(),
            "quarter" => self.quarter.clone(),
            "participation" => self.participation.clone(),
            "prior_participation" => self.prior_participation.clone(),
            _ => return None,
        })
    }

    /// Service types received by `day` (days from intake), sorted.
    pub fn received_by(&self, day: f64) -> Vec<&str> {
        let mut types: Vec<&str> =
            self.interventions.iter().filter(|e| e.first_day <= day).map(|e| e.service_type.as_str()).collect();
        types.sort_unstable();
        types
    }
}

/// Grouping dimensions an analysis accepts.
pub const DIMENSIONS: &[&str] = &[
    "site",
    "referral_source",
    "engagement_approach",
    "triage_tier",
    "age_band",
    "trafficking_type",
    "quarter",
    "participation",
    "prior_participation",
];
