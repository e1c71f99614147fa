//! Shared code lists that several services validate against.

/// Service type codes of the pilot (`Referral.needs`, partner services, interventions
/// delivered), from DOMAIN.md "Service interventions". The list is data-driven in the
/// program: a partner directory adds its own codes.
pub const SERVICE_TYPES: &[&str] = &[
    "intensive_case_management",
    "victim_advocacy",
    "crisis_intervention",
    "emergency_shelter",
    "transitional_housing",
    "basic_necessities",
    "transportation",
    "medical_dental",
    "mental_health",
    "substance_use_treatment",
    "support_group_mentoring",
    "interpretation_translation",
    "immigration_legal",
    "other_legal",
    "education",
    "employment_training",
    "life_skills",
    "childcare",
];
