//! Baseline tables: who was referred — sources, prior participation, age first exploited,
//! socio-economic status, education, arrests, system involvement — each a frequency table (or a
//! cross-table by the scope's first grouping dimension), all under disclosure control.

use std::collections::BTreeSet;

use super::{each_group, grouped_header, grouped_label, groups};
use crate::domain::codes::{age_first_exploited_band, sort_codes};
use crate::domain::dataset::YouthRow;
use crate::domain::table::{Output, count_table, frequency_table};

type Variable = (&'static str, &'static str, fn(&YouthRow) -> String);

/// The baseline variables: table code, title, value.
pub const VARIABLES: &[Variable] = &[
    ("site", "Site", |r| r.site.clone()),
    ("referral_source", "Referral source", |r| r.referral_source.clone()),
    ("prior_participation", "Prior service participation", |r| r.prior_participation.clone()),
    ("participation", "Prior participation: voluntary or mandated", |r| r.participation.clone()),
    ("age_band", "Age at referral", |r| r.age_band.clone()),
    ("age_first_exploited", "Age when first exploited", |r| {
        age_first_exploited_band(&r.age_first_exploited_answer, r.age_first_exploited)
    }),
    ("trafficking_type", "Type of trafficking", |r| r.trafficking_type.clone()),
    ("former_ward_child_welfare", "Former ward of child welfare", |r| r.former_ward_child_welfare.clone()),
    ("former_ward_juvenile_justice", "Former ward of juvenile justice", |r| r.former_ward_juvenile_justice.clone()),
    ("any_income", "Any income", |r| r.any_income.clone()),
    ("employed", "Employed", |r| r.employed.clone()),
    ("living_situation", "Living situation at referral", |r| r.living_situation.clone()),
    ("last_grade_completed", "Last grade completed", |r| r.last_grade_completed.clone()),
    ("school_status", "School status", |r| r.school_status.clone()),
    ("ever_arrested", "Ever arrested", |r| r.ever_arrested.clone()),
    ("arrests", "Arrests recorded", |r| match r.arrests {
        0 => "0".into(),
        1 => "1".into(),
        2..=3 => "2_3".into(),
        _ => "4_or_more".into(),
    }),
    ("prostitution_related_arrests", "Prostitution-related arrests", |r| {
        if r.prostitution_arrests > 0 { "1_or_more".into() } else { "0".into() }
    }),
];

pub fn baseline(rows: &[YouthRow], dimension: Option<&str>) -> Output {
    let mut output = Output::default();
    for (code, title, value) in VARIABLES {
        let mut categories: Vec<String> = rows.iter().map(value).collect::<BTreeSet<_>>().into_iter().collect();
        // Bands by their numbers (under 15 first), answers that are no value last.
        sort_codes(&mut categories);
        let name = format!("baseline_{code}");
        match dimension {
            None => {
                let counts: Vec<(String, u64)> = categories
                    .iter()
                    .map(|c| (c.clone(), rows.iter().filter(|r| &value(r) == c).count() as u64))
                    .collect();
                output.tables.push(frequency_table(&name, title, code, &counts));
            }
            Some(dimension) => {
                let grouped = groups(rows, Some(dimension));
                let labels: Vec<String> = grouped.keys().cloned().collect();
                let counts: Vec<u64> = grouped
                    .values()
                    .flat_map(|members| {
                        categories
                            .iter()
                            .map(|c| members.iter().filter(|r| &value(r) == c).count() as u64)
                            .collect::<Vec<_>>()
                    })
                    .collect();
                output.tables.push(count_table(
                    &name,
                    &format!("{title}, by {dimension}"),
                    dimension,
                    &labels,
                    &categories,
                    &counts,
                ));
            }
        }
    }
    // System involvement: a youth may have several, so one yes/no line per code (and group).
    let mut codes: Vec<String> =
        rows.iter().flat_map(|r| r.system_involvement.iter().cloned()).collect::<BTreeSet<_>>().into_iter().collect();
    sort_codes(&mut codes);
    let grouped = each_group(rows, dimension);
    let mut labels = Vec::new();
    let mut counts = Vec::new();
    for code in &codes {
        for (group, members) in &grouped {
            let with = members.iter().filter(|r| r.system_involvement.contains(code)).count() as u64;
            labels.push(grouped_label(code, group.as_deref()));
            counts.extend([with, members.len() as u64 - with]);
        }
    }
    let title = match dimension {
        Some(d) => format!("System involvement at referral (a youth may have several), by {d}"),
        None => "System involvement at referral (a youth may have several)".to_owned(),
    };
    output.tables.push(
        count_table(
            "baseline_system_involvement",
            &title,
            &grouped_header("system_involvement", dimension),
            &labels,
            &["yes".into(), "no".into()],
            &counts,
        )
        .note("each line counts all youth (of its group); lines do not add up across codes"),
    );
    output
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::row;

    #[test]
    fn age_bands_are_in_their_numeric_order() {
        let rows: Vec<YouthRow> = (0..60)
            .map(|i| {
                let mut r = row(&format!("stu_{i}"));
                r.age_band = ["21_24", "under_15", "15_17", "18_20", "unknown"][i % 5].into();
                r
            })
            .collect();
        let output = baseline(&rows, None);
        let ages = output.tables.iter().find(|t| t.name == "baseline_age_band").unwrap();
        let bands: Vec<&str> = ages.rows.iter().map(|r| r[0].value.as_str()).collect();
        assert_eq!(bands, ["under_15", "15_17", "18_20", "21_24", "unknown", "total"]);
        let by_age = baseline(&rows, Some("age_band"));
        let sites = by_age.tables.iter().find(|t| t.name == "baseline_site").unwrap();
        let bands: Vec<&str> = sites.rows.iter().map(|r| r[0].value.as_str()).collect();
        assert_eq!(bands, ["under_15", "15_17", "18_20", "21_24", "unknown", "total"]);
    }

    #[test]
    fn no_baseline_cell_shows_one_to_ten() {
        let rows: Vec<YouthRow> = (0..57)
            .map(|i| {
                let mut r = row(&format!("stu_{i}"));
                r.referral_source = ["hotline", "law_enforcement", "self", "school"][i % 4].into();
                r.site = if i < 50 { "south_los_angeles".into() } else { "san_fernando_valley".into() };
                r.arrests = (i % 6) as i32;
                r
            })
            .collect();
        for dimension in [None, Some("site")] {
            for table in baseline(&rows, dimension).tables {
                for row in &table.rows {
                    for cell in row.iter().skip(1) {
                        if let Some(n) = cell.number
                            && table.columns.iter().all(|c| c != "percent")
                        {
                            assert!(n == 0.0 || n >= 11.0, "{} {row:?}", table.name);
                        }
                    }
                    if table.columns.iter().any(|c| c == "percent")
                        && let Some(n) = row[1].number
                    {
                        assert!(n == 0.0 || n >= 11.0, "{} {row:?}", table.name);
                    }
                }
            }
        }
    }
}
