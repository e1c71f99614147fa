//! The HMIS aggregate report: the APR/CAPER questions the analytic data set can answer, as
//! aggregate tables (INTEROP.md: a victim service provider must not upload client-level data to
//! HMIS; its comparable database produces the aggregate output instead — so this is the only HMIS
//! output, and no client-level file exists to refuse).
//!
//! Codes are HUD's: living situation at entry (3.917) and destination at exit (3.12) in HUD's
//! categories with their response codes, age bands as in APR/CAPER question 11, length of
//! participation bands as in question 22. The output is versioned ([`VERSION`]) with the HMIS Data
//! Standards year its codes follow. Every count goes through [`count_table`] /
//! [`frequency_table`] (1–10 suppressed, complementary suppression); a category subtotal is a
//! column total of the same table, so it cannot reveal a suppressed line.
//!
//! Not produced, because the evaluation data set does not hold them: sex/gender, race and
//! ethnicity, veteran status, disabling conditions, health insurance, non-cash benefits, income
//! amounts and sources, household composition.

use super::insufficient;
use crate::domain::dataset::YouthRow;
use crate::domain::table::{Output, Table, count_table, frequency_table};

/// Version of this output and the standards its codes follow.
pub const VERSION: &str =
    "wayfinder-hmis-aggregate-1, HMIS Data Standards FY2026 (3.917/3.12 codes as revised in FY2024)";

/// HUD's categories of a living situation or destination, in APR order.
pub const CATEGORIES: [&str; 6] = ["homeless", "institutional", "temporary", "permanent", "other", "not_answered"];

/// Living situation codes in APR order, each with its HUD response code and category. The local
/// code `with_exploiter` is reported as HUD 17 (other).
pub const SITUATIONS: [(&str, &str, &str); 23] = [
    ("place_not_meant_for_habitation", "116", "homeless"),
    ("emergency_shelter", "101", "homeless"),
    ("safe_haven", "118", "homeless"),
    ("foster_care", "215", "institutional"),
    ("hospital_medical", "206", "institutional"),
    ("jail_prison_or_juvenile_detention", "207", "institutional"),
    ("long_term_care", "225", "institutional"),
    ("psychiatric_facility", "204", "institutional"),
    ("substance_use_treatment", "205", "institutional"),
    ("transitional_housing", "302", "temporary"),
    ("residential_project", "329", "temporary"),
    ("hotel_motel_no_voucher", "314", "temporary"),
    ("host_home", "332", "temporary"),
    ("with_family_temporary", "335", "temporary"),
    ("with_friends_temporary", "336", "temporary"),
    ("with_family_permanent", "422", "permanent"),
    ("with_friends_permanent", "423", "permanent"),
    ("rental_with_subsidy", "435", "permanent"),
    ("rental_no_subsidy", "410", "permanent"),
    ("owned_by_client", "421", "permanent"),
    ("other", "17", "other"),
    ("client_doesnt_know_or_prefers_not_to_answer", "8/9", "not_answered"),
    ("data_not_collected", "99", "not_answered"),
];

/// The APR line of a living situation code.
fn situation_line(code: &str) -> usize {
    let code = match code {
        "with_exploiter" => "other",
        "client_doesnt_know" | "client_prefers_not_to_answer" => "client_doesnt_know_or_prefers_not_to_answer",
        known if SITUATIONS.iter().any(|(c, ..)| *c == known) => known,
        // Not recorded, or a code this build does not know: HUD 99.
        _ => "data_not_collected",
    };
    SITUATIONS.iter().position(|(c, ..)| *c == code).unwrap_or(SITUATIONS.len() - 1)
}

/// Age bands of APR/CAPER question 11 (the youth program ends at 24).
pub const AGE_BANDS: [&str; 6] = ["under_5", "5_12", "13_17", "18_24", "25_or_older", "data_not_collected"];

/// Length of participation bands of APR question 22, in days (upper bounds; the last is open).
pub const STAY_BANDS: [(&str, f64); 10] = [
    ("0_30", 30.0),
    ("31_60", 60.0),
    ("61_90", 90.0),
    ("91_180", 180.0),
    ("181_365", 365.0),
    ("366_730", 730.0),
    ("731_1095", 1095.0),
    ("1096_1460", 1460.0),
    ("1461_1825", 1825.0),
    ("1826_or_more", f64::INFINITY),
];

fn is_leaver(row: &YouthRow) -> bool {
    row.exited_day.is_some()
}

fn is_child(row: &YouthRow) -> Option<bool> {
    match row.hmis_age_band.as_str() {
        "under_5" | "5_12" | "13_17" => Some(true),
        "18_24" | "25_or_older" => Some(false),
        _ => None,
    }
}

fn strings(codes: &[&str]) -> Vec<String> {
    codes.iter().map(|c| (*c).to_owned()).collect()
}

fn hmis_note(table: Table) -> Table {
    table.note(format!("codes: {VERSION}")).note(
        "aggregate only: no client-level HMIS data leaves the program (victim service provider comparable database)",
    )
}

/// Q5a: persons served by age group, leavers and stayers (the totals are the counts HUD asks for).
fn report_validations(rows: &[YouthRow]) -> Table {
    let groups = ["adults", "children", "unknown_age"];
    let mut counts = vec![0u64; groups.len() * 2];
    for row in rows {
        let group = match is_child(row) {
            Some(false) => 0,
            Some(true) => 1,
            None => 2,
        };
        counts[group * 2 + usize::from(!is_leaver(row))] += 1;
    }
    hmis_note(count_table(
        "hmis_q5a_report_validations",
        "Q5a Report validations: persons served, leavers and stayers",
        "age_group",
        &strings(&groups),
        &strings(&["leavers", "stayers"]),
        &counts,
    ))
    .note("adults: 18 or older at referral; children: under 18; every person served is a youth under 25")
}

/// Q11: age at referral.
fn age(rows: &[YouthRow]) -> Table {
    let counts: Vec<(String, u64)> = AGE_BANDS
        .iter()
        .map(|band| ((*band).to_owned(), rows.iter().filter(|r| effective_age_band(r) == *band).count() as u64))
        .collect();
    hmis_note(frequency_table("hmis_q11_age", "Q11 Age at referral", "age_band", &counts))
}

fn effective_age_band(row: &YouthRow) -> &str {
    if AGE_BANDS.contains(&row.hmis_age_band.as_str()) { row.hmis_age_band.as_str() } else { "data_not_collected" }
}

/// A living situation table (Q15 at entry, Q23 destination at exit): one line per HUD response, one
/// column per HUD category, so the category subtotals are the column totals.
fn situations(name: &str, title: &str, codes: &[&str]) -> Table {
    let mut counts = vec![0u64; SITUATIONS.len() * CATEGORIES.len()];
    for code in codes {
        let line = situation_line(code);
        let category = CATEGORIES.iter().position(|c| *c == SITUATIONS[line].2).unwrap_or(CATEGORIES.len() - 1);
        counts[line * CATEGORIES.len() + category] += 1;
    }
    let lines: Vec<String> = SITUATIONS.iter().map(|(code, ..)| (*code).to_owned()).collect();
    let mut table = hmis_note(count_table(name, title, "living_situation", &lines, &strings(&CATEGORIES), &counts));
    let hud: Vec<String> = SITUATIONS.iter().map(|(code, hud, _)| format!("{code} {hud}")).collect();
    table.notes.push(format!("HUD response codes: {}", hud.join(", ")));
    table
}

/// Q22: length of participation, intake to exit for leavers and to the as-of date for stayers.
fn length_of_participation(rows: &[YouthRow]) -> Table {
    let mut counts = vec![0u64; STAY_BANDS.len() * 2];
    for row in rows {
        let days = row.exited_day.unwrap_or(row.observed_days).max(0.0).floor();
        let band = STAY_BANDS.iter().position(|(_, upper)| days <= *upper).unwrap_or(STAY_BANDS.len() - 1);
        counts[band * 2 + usize::from(!is_leaver(row))] += 1;
    }
    let bands: Vec<String> = STAY_BANDS.iter().map(|(band, _)| (*band).to_owned()).collect();
    hmis_note(count_table(
        "hmis_q22_length_of_participation",
        "Q22 Length of participation (days), leavers and stayers",
        "days",
        &bands,
        &strings(&["leavers", "stayers"]),
        &counts,
    ))
    .note("from the first referral to exit (leavers) or to the as-of date (stayers)")
}

/// Q16 (in part): any income at entry; amounts and sources are not in the data set.
fn income(rows: &[YouthRow]) -> Table {
    let answers = ["yes", "no", "client_doesnt_know", "client_prefers_not_to_answer", "data_not_collected"];
    let answer = |row: &YouthRow| match row.any_income.as_str() {
        known if answers.contains(&known) => known.to_owned(),
        _ => "data_not_collected".to_owned(),
    };
    let counts: Vec<(String, u64)> =
        answers.iter().map(|a| ((*a).to_owned(), rows.iter().filter(|r| answer(r) == *a).count() as u64)).collect();
    hmis_note(frequency_table("hmis_q16_any_income_at_entry", "Q16 Any income at entry", "any_income", &counts))
        .note("income amounts and sources are not in the evaluation data set")
}

/// Q6: data quality of the fields above — answers "doesn't know / prefers not to answer" and
/// information missing, per field.
fn data_quality(rows: &[YouthRow]) -> Table {
    let not_answered = |code: &str| matches!(code, "client_doesnt_know" | "client_prefers_not_to_answer");
    let missing = |code: &str| !not_answered(code) && matches!(code, "" | "missing" | "data_not_collected");
    let leavers: Vec<&YouthRow> = rows.iter().filter(|r| is_leaver(r)).collect();
    let fields: [(&str, Vec<&str>); 4] = [
        ("age", rows.iter().map(effective_age_band).collect()),
        ("living_situation_at_entry", rows.iter().map(|r| r.living_situation.as_str()).collect()),
        ("any_income_at_entry", rows.iter().map(|r| r.any_income.as_str()).collect()),
        ("destination_of_leavers", leavers.iter().map(|r| r.exit_living_situation.as_str()).collect()),
    ];
    let mut counts = Vec::new();
    for (_, answers) in &fields {
        let doesnt_know = answers.iter().filter(|a| not_answered(a)).count() as u64;
        let absent = answers.iter().filter(|a| missing(a)).count() as u64;
        counts.extend([doesnt_know, absent]);
    }
    let names: Vec<String> = fields.iter().map(|(name, _)| (*name).to_owned()).collect();
    hmis_note(count_table(
        "hmis_q6_data_quality",
        "Q6 Data quality: answers without a value, by field",
        "field",
        &names,
        &strings(&["client_doesnt_know_or_prefers_not_to_answer", "information_missing"]),
        &counts,
    ))
    .note("total = error count of the field; the denominators are persons served (leavers for destination)")
}

pub fn hmis_aggregate(rows: &[YouthRow]) -> Output {
    if rows.is_empty() {
        return Output {
            tables: vec![hmis_note(insufficient("hmis_aggregate", "HMIS aggregate", "no youth in scope"))],
            charts: Vec::new(),
        };
    }
    let entry: Vec<&str> = rows.iter().map(|r| r.living_situation.as_str()).collect();
    let exit: Vec<&str> = rows.iter().filter(|r| is_leaver(r)).map(|r| r.exit_living_situation.as_str()).collect();
    let mut tables = vec![
        report_validations(rows),
        data_quality(rows),
        age(rows),
        situations("hmis_q15_living_situation", "Q15 Living situation at entry", &entry),
        income(rows),
        length_of_participation(rows),
        situations("hmis_q23_destination", "Q23 Exit destination (leavers)", &exit),
    ];
    tables[0].notes.push(
        "not produced (not in the evaluation data set): sex/gender, race and ethnicity, veteran status, disabling \
         conditions, health insurance, non-cash benefits, income amounts and sources, household composition"
            .to_owned(),
    );
    Output { tables, charts: Vec::new() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::row;

    fn youth(i: usize) -> YouthRow {
        let mut r = row(&format!("stu_{i}"));
        r.hmis_age_band = if i.is_multiple_of(3) { "18_24".into() } else { "13_17".into() };
        r.living_situation = ["emergency_shelter", "foster_care", "with_family_temporary", "missing"][i % 4].into();
        r.observed_days = 400.0;
        if i.is_multiple_of(2) {
            r.exited_day = Some(100.0);
            r.exit_living_situation = ["with_family_permanent", "with_exploiter"][i % 4 / 2].into();
        }
        r
    }

    #[test]
    fn the_aggregate_answers_the_apr_questions_under_disclosure_control() {
        let rows: Vec<YouthRow> = (0..120).map(youth).collect();
        let output = hmis_aggregate(&rows);
        let names: Vec<&str> = output.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "hmis_q5a_report_validations",
                "hmis_q6_data_quality",
                "hmis_q11_age",
                "hmis_q15_living_situation",
                "hmis_q16_any_income_at_entry",
                "hmis_q22_length_of_participation",
                "hmis_q23_destination"
            ]
        );
        let q5a = &output.tables[0];
        let total = q5a.rows.last().unwrap();
        assert_eq!((total[1].number, total[2].number, total[3].number), (Some(60.0), Some(60.0), Some(120.0)));
        let adults = &q5a.rows[0];
        assert_eq!(adults[3].number, Some(40.0), "every third is 18 to 24: {adults:?}");
        // Living situation at entry: each HUD line in its category; subtotals are column totals.
        let q15 = &output.tables[3];
        assert_eq!(q15.columns[1..7], CATEGORIES.map(String::from));
        let shelter = q15.rows.iter().find(|r| r[0].value == "emergency_shelter").unwrap();
        assert_eq!(shelter[1].number, Some(30.0));
        assert_eq!(shelter[2].number, Some(0.0));
        let totals = q15.rows.last().unwrap();
        assert_eq!(totals[6].number, Some(30.0), "missing is HUD 99, not answered");
        // The local code "with the exploiter" is HUD 17, other.
        let q23 = &output.tables[6];
        let other = q23.rows.iter().find(|r| r[0].value == "other").unwrap();
        assert_eq!(other[5].number, Some(30.0));
        assert!(!q23.rows.iter().any(|r| r[0].value == "with_exploiter"));
        let q22 = &output.tables[5];
        let band = q22.rows.iter().find(|r| r[0].value == "91_180").unwrap();
        assert_eq!(band[1].number, Some(60.0), "leavers exited at day 100");
        let band = q22.rows.iter().find(|r| r[0].value == "366_730").unwrap();
        assert_eq!(band[2].number, Some(60.0), "stayers as of day 400");
        for table in &output.tables {
            assert!(table.notes.iter().any(|n| n.contains("HMIS Data Standards FY2026")), "{}", table.name);
            for row in &table.rows {
                for cell in row.iter().skip(1) {
                    if let (Some(n), false) = (cell.number, table.columns.iter().any(|c| c == "percent")) {
                        assert!(n == 0.0 || n >= 11.0, "{}: {row:?}", table.name);
                    }
                }
            }
        }
    }

    #[test]
    fn small_counts_are_suppressed_with_a_complement() {
        let mut rows: Vec<YouthRow> = (0..40).map(youth).collect();
        rows[0].living_situation = "safe_haven".into();
        let q15 = &hmis_aggregate(&rows).tables[3];
        let haven = q15.rows.iter().find(|r| r[0].value == "safe_haven").unwrap();
        assert!(haven[1].suppressed, "{haven:?}");
        assert!(q15.suppressed_cells() >= 2);
    }
}
