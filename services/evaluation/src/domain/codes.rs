//! Protobuf enum values as the lower snake_case codes the data set and reports use, and how an
//! answer counts for completeness ("client doesn't know" and "prefers not to answer" are answers,
//! distinct from missing).

/// `REFERRAL_SOURCE_HOTLINE` with prefix `REFERRAL_SOURCE_` → `hotline`; `…_UNSPECIFIED` →
/// `missing`; a value this build does not know → `code_<n>` (a newer producer's code).
pub fn enum_code(name: Option<&str>, prefix: &str, raw: i32) -> String {
    match name {
        Some(name) => {
            let code = name.strip_prefix(prefix).unwrap_or(name).to_ascii_lowercase();
            if code == "unspecified" { MISSING.to_owned() } else { code }
        }
        None => format!("code_{raw}"),
    }
}

/// The code of an absent or unspecified answer.
pub const MISSING: &str = "missing";

/// Expands to the code of `$raw` as a value of the prost enum `$enum`.
macro_rules! code_of {
    ($enum:ty, $prefix:literal, $raw:expr) => {{
        let raw: i32 = $raw;
        $crate::domain::codes::enum_code(<$enum>::try_from(raw).ok().map(|value| value.as_str_name()), $prefix, raw)
    }};
}
pub(crate) use code_of;

/// How an answer counts in the data completeness table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerClass {
    /// A value.
    Value,
    /// "Client doesn't know" or "client prefers not to answer": answered, but without a value.
    RefusedOrUnknown,
    /// Not asked, not recorded, or "data not collected".
    Missing,
}

impl AnswerClass {
    pub fn of(code: &str) -> Self {
        match code {
            MISSING | "data_not_collected" | "not_collected" => AnswerClass::Missing,
            "client_doesnt_know" | "client_prefers_not_to_answer" | "doesnt_know" | "prefers_not_to_answer" => {
                AnswerClass::RefusedOrUnknown
            }
            _ => AnswerClass::Value,
        }
    }

    pub fn answered(self) -> bool {
        self != AnswerClass::Missing
    }
}

/// Prior participation grouped for the propensity model: court orders, child-welfare case plans
/// and diversion are mandated; voluntary participation and no prior participation are voluntary.
pub fn participation_group(prior_participation: &str) -> Option<&'static str> {
    match prior_participation {
        "court_ordered" | "child_welfare_case_plan" | "diversion" => Some("mandated"),
        "voluntary" | "none" => Some("voluntary"),
        _ => None,
    }
}

/// Age band of an age in whole years at referral.
pub fn age_band(age_years: Option<i32>) -> &'static str {
    match age_years {
        None => "unknown",
        Some(age) if age < 15 => "under_15",
        Some(15..=17) => "15_17",
        Some(18..=20) => "18_20",
        Some(21..=24) => "21_24",
        Some(_) => "over_24",
    }
}

/// Band of the age when first exploited (reported in bands: single years are too fine).
pub fn age_first_exploited_band(answer: &str, years: Option<i32>) -> String {
    match years {
        Some(age) if age < 12 => "under_12".into(),
        Some(12..=14) => "12_14".into(),
        Some(15..=17) => "15_17".into(),
        Some(_) => "18_or_older".into(),
        None => answer.to_owned(),
    }
}

/// HMIS age band (APR/CAPER Q11) of an age in whole years at referral; `data_not_collected`
/// without one.
pub fn hmis_age_band(age_years: Option<i32>) -> &'static str {
    match age_years {
        None => "data_not_collected",
        Some(age) if age < 5 => "under_5",
        Some(5..=12) => "5_12",
        Some(13..=17) => "13_17",
        Some(18..=24) => "18_24",
        Some(_) => "25_or_older",
    }
}

/// Codes that say an answer is absent; they sort after every value.
const NOT_ANSWERS: [&str; 9] = [
    "client_doesnt_know",
    "client_prefers_not_to_answer",
    "doesnt_know",
    "prefers_not_to_answer",
    "data_not_collected",
    "not_collected",
    "unknown",
    MISSING,
    "none_within_12_months",
];

/// The order codes are shown in: codes with a number by that number (`under_15` before `15_17`,
/// `2_3` before `4_or_more`, `month_6` before `month_12`), then codes without one by their text,
/// then "doesn't know", "prefers not to answer", "not collected", "unknown" and "missing" — not the
/// order of their text, which puts `under_15` after `21_24`.
pub fn order_key(code: &str) -> (u8, f64, String) {
    if let Some(rank) = NOT_ANSWERS.iter().position(|c| *c == code) {
        return (2, rank as f64, code.to_owned());
    }
    let number = code
        .split(|c: char| !c.is_ascii_digit())
        .find(|part| !part.is_empty())
        .and_then(|digits| digits.parse::<f64>().ok());
    match number {
        Some(n) => {
            let below = code.starts_with("under_") || code.starts_with("less_than_");
            let above = code.starts_with("over_") || code.ends_with("_or_more") || code.ends_with("_or_older");
            let n = if below {
                n - 0.5
            } else if above {
                n + 0.5
            } else {
                n
            };
            (0, n, code.to_owned())
        }
        None => (1, 0.0, code.to_owned()),
    }
}

/// Sorts codes into [`order_key`] order.
pub fn sort_codes(codes: &mut [String]) {
    codes.sort_by(|a, b| {
        let (a, b) = (order_key(a), order_key(b));
        a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then_with(|| a.2.cmp(&b.2))
    });
}

#[cfg(test)]
mod tests {
    use wf_proto::common::v1::ReferralSource;

    use super::*;

    #[test]
    fn codes_drop_the_prefix_and_name_unknown_values() {
        assert_eq!(code_of!(ReferralSource, "REFERRAL_SOURCE_", ReferralSource::Hotline as i32), "hotline");
        assert_eq!(code_of!(ReferralSource, "REFERRAL_SOURCE_", 0), "missing");
        assert_eq!(code_of!(ReferralSource, "REFERRAL_SOURCE_", 9999), "code_9999");
    }

    #[test]
    fn doesnt_know_is_an_answer_and_not_collected_is_missing() {
        assert_eq!(AnswerClass::of("client_doesnt_know"), AnswerClass::RefusedOrUnknown);
        assert!(AnswerClass::of("client_prefers_not_to_answer").answered());
        assert_eq!(AnswerClass::of("data_not_collected"), AnswerClass::Missing);
        assert_eq!(AnswerClass::of("missing"), AnswerClass::Missing);
        assert_eq!(AnswerClass::of("grade_12"), AnswerClass::Value);
    }

    #[test]
    fn bands_sort_by_number_and_answers_that_are_not_values_last() {
        let mut bands: Vec<String> =
            ["21_24", "missing", "15_17", "under_15", "18_20", "unknown"].iter().map(|s| (*s).to_owned()).collect();
        sort_codes(&mut bands);
        assert_eq!(bands, ["under_15", "15_17", "18_20", "21_24", "unknown", "missing"]);
        let mut arrests: Vec<String> = ["4_or_more", "2_3", "1", "0"].iter().map(|s| (*s).to_owned()).collect();
        sort_codes(&mut arrests);
        assert_eq!(arrests, ["0", "1", "2_3", "4_or_more"]);
        let mut first: Vec<String> =
            ["18_or_older", "client_doesnt_know", "12_14", "under_12"].iter().map(|s| (*s).to_owned()).collect();
        sort_codes(&mut first);
        assert_eq!(first, ["under_12", "12_14", "18_or_older", "client_doesnt_know"]);
        let mut kinds: Vec<String> = ["month_24", "month_6", "month_12"].iter().map(|s| (*s).to_owned()).collect();
        sort_codes(&mut kinds);
        assert_eq!(kinds, ["month_6", "month_12", "month_24"]);
    }

    #[test]
    fn participation_groups() {
        assert_eq!(participation_group("court_ordered"), Some("mandated"));
        assert_eq!(participation_group("none"), Some("voluntary"));
        assert_eq!(participation_group("client_doesnt_know"), None);
    }
}
