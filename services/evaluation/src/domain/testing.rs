//! Rows for unit tests.

use super::dataset::YouthRow;

/// A youth with every baseline answer missing, seen only at intake.
pub fn row(study_id: &str) -> YouthRow {
    YouthRow {
        study_id: study_id.to_owned(),
        site: "south_los_angeles".into(),
        referral_source: "hotline".into(),
        engagement_approach: String::new(),
        triage_tier: "routine".into(),
        trafficking_type: "sex".into(),
        age_band: "15_17".into(),
        quarter: "2026q1".into(),
        prior_participation: "voluntary".into(),
        participation: "voluntary".into(),
        age_first_exploited_answer: "missing".into(),
        age_first_exploited: None,
        former_ward_child_welfare: "missing".into(),
        former_ward_juvenile_justice: "missing".into(),
        any_income: "missing".into(),
        employed: "missing".into(),
        living_situation: "missing".into(),
        last_grade_completed: "missing".into(),
        school_status: "missing".into(),
        ever_arrested: "missing".into(),
        arrests: 0,
        prostitution_arrests: 0,
        ..YouthRow::default()
    }
}
