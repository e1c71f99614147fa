//! Words for codes, as the HTML page shows them: `south_los_angeles` → "South Los Angeles",
//! `15_17` → "15–17", `ci_95` → "95% interval", `month_6 / san_fernando_valley` → "6 months / San
//! Fernando Valley". CSV and JSON keep the codes (stable keys for machines). Ids (`org_…`, `svc_…`)
//! and text that is not a code (numbers, sentences) are shown as they are: partner organizations
//! appear by their directory id, since their names are not in the events the evaluation receives.

/// Codes whose words do not follow from the code itself.
const WORDS: &[(&str, &str)] = &[
    ("south_los_angeles", "South Los Angeles"),
    ("san_fernando_valley", "San Fernando Valley"),
    ("all", "All"),
    ("total", "Total"),
    ("ci_95", "95% interval"),
    ("at_risk", "At risk"),
    ("p_value", "p"),
    ("p_holm", "p (Holm-adjusted)"),
    ("hazard_ratio_95ci", "Hazard ratio (95% interval)"),
    ("recidivism_free", "Free of recidivism"),
    ("met_percent", "Met (%)"),
    ("enrolled_percent", "Enrolled (%)"),
    ("retention_percent", "Retained (%)"),
    ("missing_percent", "Missing (%)"),
    ("percent", "%"),
    ("partner_id", "Partner organization"),
    ("participation", "Prior participation (voluntary or mandated)"),
    ("ged", "GED"),
    ("obtained_ged", "Obtained GED"),
    ("t_visa_applied", "T visa applied"),
    ("t_visa_granted", "T visa granted"),
    ("u_visa_applied", "U visa applied"),
    ("u_visa_granted", "U visa granted"),
    ("client_doesnt_know", "Client doesn't know"),
    ("doesnt_know", "Doesn't know"),
    ("client_doesnt_know_or_prefers_not_to_answer", "Client doesn't know / prefers not to answer"),
    ("none_within_12_months", "None within 12 months"),
    ("re_exploitation", "Re-exploitation"),
    ("re_arrest", "Re-arrest"),
    ("cse_it_brief", "CSE-IT brief"),
    ("cse_it_full", "CSE-IT full"),
    ("hmis", "HMIS"),
    // HMIS 3.917 / 3.12 responses (their HUD codes are in the HMIS tables' notes; the same codes
    // name service types, e.g. transitional_housing).
    ("place_not_meant_for_habitation", "Place not meant for habitation"),
    ("emergency_shelter", "Emergency shelter"),
    ("safe_haven", "Safe haven"),
    ("foster_care", "Foster care home or group home"),
    ("hospital_medical", "Hospital or other medical facility"),
    ("jail_prison_or_juvenile_detention", "Jail, prison or juvenile detention"),
    ("long_term_care", "Long-term care facility"),
    ("psychiatric_facility", "Psychiatric facility"),
    ("substance_use_treatment", "Substance use treatment facility"),
    ("transitional_housing", "Transitional housing"),
    ("residential_project", "Residential project, no homeless criteria"),
    ("hotel_motel_no_voucher", "Hotel or motel, no voucher"),
    ("host_home", "Host home, non-crisis"),
    ("with_family_temporary", "With family, temporary"),
    ("with_friends_temporary", "With friends, temporary"),
    ("with_family_permanent", "With family, permanent"),
    ("with_friends_permanent", "With friends, permanent"),
    ("rental_with_subsidy", "Rental with ongoing subsidy"),
    ("rental_no_subsidy", "Rental, no ongoing subsidy"),
    ("owned_by_client", "Owned by client"),
    ("with_exploiter", "With or controlled by the exploiter"),
    ("data_not_collected", "Data not collected"),
];

/// Whether `text` is a code: lower-case letters, digits, `_`, `+`, `=`, `.`, `-`, nothing else.
fn is_code(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'+' | b'=' | b'.' | b'-'))
        && text.bytes().any(|b| b.is_ascii_lowercase() || b == b'_')
}

/// A prefixed random id (`org_` and 16 or more hex digits): shown as it is.
fn is_id(text: &str) -> bool {
    text.split_once('_').is_some_and(|(_, rest)| rest.len() >= 16 && rest.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn capitalized(words: &str) -> String {
    let mut chars = words.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The words for one code.
fn word(code: &str) -> String {
    if let Some((_, words)) = WORDS.iter().find(|(c, _)| *c == code) {
        return (*words).to_owned();
    }
    if is_id(code) {
        return code.to_owned();
    }
    if let Some((dimension, value)) = code.split_once('=') {
        return format!("{}: {}", word(dimension), word(value));
    }
    if code.contains('+') {
        return code.split('+').map(word).collect::<Vec<_>>().join(" + ");
    }
    let parts: Vec<&str> = code.split('_').collect();
    let number = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        ["month", n] if number(n) => return format!("{n} months"),
        [a, b] if number(a) && number(b) => return format!("{a}–{b}"),
        [n, "or", more] if number(n) => return format!("{n} or {more}"),
        ["under", n] if number(n) => return format!("Under {n}"),
        ["over", n] if number(n) => return format!("Over {n}"),
        [rest @ .., a, b] if number(a) && number(b) && !rest.is_empty() => {
            return format!("{} {a}–{b}", capitalized(&rest.join(" ")));
        }
        _ => {}
    }
    // A quarter, e.g. 2026q3.
    if let Some((year, quarter)) = code.split_once('q')
        && number(year)
        && number(quarter)
    {
        return format!("{year} Q{quarter}");
    }
    capitalized(&code.replace('_', " "))
}

/// `text` in words when it is a code (or codes joined by " / "); any other text as it is.
pub fn label(text: &str) -> String {
    if text.contains(" / ") {
        return text.split(" / ").map(label).collect::<Vec<_>>().join(" / ");
    }
    if is_code(text) { word(text) } else { text.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_as_words() {
        assert_eq!(label("south_los_angeles"), "South Los Angeles");
        assert_eq!(label("law_enforcement"), "Law enforcement");
        assert_eq!(label("15_17"), "15–17");
        assert_eq!(label("under_15"), "Under 15");
        assert_eq!(label("18_or_older"), "18 or older");
        assert_eq!(label("4_or_more"), "4 or more");
        assert_eq!(label("month_12"), "12 months");
        assert_eq!(label("2026q3"), "2026 Q3");
        assert_eq!(label("grades_9_11"), "Grades 9–11");
        assert_eq!(label("ci_95"), "95% interval");
        assert_eq!(label("participation=mandated"), "Prior participation (voluntary or mandated): Mandated");
        assert_eq!(label("intensive_case_management+mental_health"), "Intensive case management + Mental health");
        assert_eq!(label("routine / san_fernando_valley"), "Routine / San Fernando Valley");
        assert_eq!(label("triage_tier / site"), "Triage tier / Site");
    }

    #[test]
    fn ids_numbers_and_sentences_stay_as_they_are() {
        assert_eq!(label("org_37500f7421c4437980c5cff292270a56"), "org_37500f7421c4437980c5cff292270a56");
        assert_eq!(
            label("org_37500f7421c4437980c5cff292270a56 / south_los_angeles"),
            "org_37500f7421c4437980c5cff292270a56 / South Los Angeles"
        );
        assert_eq!(label("12"), "12");
        assert_eq!(label("0.62 (0.41–0.93)"), "0.62 (0.41–0.93)");
        assert_eq!(label("with 40 events the smallest"), "with 40 events the smallest");
        assert_eq!(label("1 (reference)"), "1 (reference)");
    }
}
