//! Enrollment against the site targets (South Los Angeles 100, San Fernando Valley 20).

use crate::domain::dataset::YouthRow;
use crate::domain::table::{Output, count_table};

pub const SITE_TARGETS: [(&str, u64); 2] = [("south_los_angeles", 100), ("san_fernando_valley", 20)];

pub fn enrollment_progress(rows: &[YouthRow]) -> Output {
    let mut sites: Vec<String> = SITE_TARGETS.iter().map(|(s, _)| (*s).to_owned()).collect();
    for row in rows {
        if !sites.contains(&row.site) {
            sites.push(row.site.clone());
        }
    }
    let mut counts = Vec::new();
    for site in &sites {
        let referred: Vec<&YouthRow> = rows.iter().filter(|r| &r.site == site).collect();
        let enrolled = referred.iter().filter(|r| r.enrolled).count() as u64;
        counts.extend([enrolled, referred.len() as u64 - enrolled]);
    }
    let targets: Vec<String> = SITE_TARGETS.iter().map(|(s, t)| format!("{s} {t}")).collect();
    let table = count_table(
        "enrollment_by_site",
        "Youth referred and enrolled, by site",
        "site",
        &sites,
        &["enrolled".into(), "not_enrolled".into()],
        &counts,
    )
    .note(format!("enrollment targets: {}", targets.join(", ")));
    Output { tables: vec![table], charts: Vec::new() }
}
