//! Enrollment against the site targets (South Los Angeles 100, San Fernando Valley 20).

use super::{each_group, grouped_header, grouped_label};
use crate::domain::dataset::YouthRow;
use crate::domain::table::{Output, count_table};

pub const SITE_TARGETS: [(&str, u64); 2] = [("south_los_angeles", 100), ("san_fernando_valley", 20)];

pub fn enrollment_progress(rows: &[YouthRow], group_by: Option<&str>) -> Output {
    let mut sites: Vec<String> = SITE_TARGETS.iter().map(|(s, _)| (*s).to_owned()).collect();
    for row in rows {
        if !sites.contains(&row.site) {
            sites.push(row.site.clone());
        }
    }
    // One line per site, or per site and group (grouping by site itself splits nothing further).
    let by = group_by.filter(|d| *d != "site");
    let mut labels = Vec::new();
    let mut counts = Vec::new();
    for site in &sites {
        let at_site: Vec<YouthRow> = rows.iter().filter(|r| &r.site == site).cloned().collect();
        for (group, referred) in each_group(&at_site, by) {
            if by.is_some() && referred.is_empty() {
                continue;
            }
            let enrolled = referred.iter().filter(|r| r.enrolled).count() as u64;
            labels.push(grouped_label(site, group.as_deref()));
            counts.extend([enrolled, referred.len() as u64 - enrolled]);
        }
    }
    let targets: Vec<String> = SITE_TARGETS.iter().map(|(s, t)| format!("{s} {t}")).collect();
    let title = match by {
        Some(d) => format!("Youth referred and enrolled, by site and {d}"),
        None => "Youth referred and enrolled, by site".to_owned(),
    };
    let table = count_table(
        "enrollment_by_site",
        &title,
        &grouped_header("site", by),
        &labels,
        &["enrolled".into(), "not_enrolled".into()],
        &counts,
    )
    .note(format!("enrollment targets: {}", targets.join(", ")));
    Output { tables: vec![table], charts: Vec::new() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::row;

    #[test]
    fn enrollment_by_site_and_a_grouping() {
        let rows: Vec<YouthRow> = (0..60)
            .map(|i| {
                let mut r = row(&format!("stu_{i}"));
                r.site = "south_los_angeles".into();
                r.triage_tier = if i < 30 { "urgent".into() } else { "routine".into() };
                r.enrolled = true;
                r
            })
            .collect();
        let table = &enrollment_progress(&rows, Some("triage_tier")).tables[0];
        assert_eq!(table.columns[0], "site / triage_tier");
        let labels: Vec<&str> = table.rows.iter().map(|r| r[0].value.as_str()).collect();
        assert_eq!(labels, ["south_los_angeles / routine", "south_los_angeles / urgent", "total"]);
        assert_eq!(table.rows[0][1].number, Some(30.0));
        let by_site = &enrollment_progress(&rows, Some("site")).tables[0];
        assert_eq!(by_site.columns[0], "site");
    }
}
