//! Engagement: the share of referred youth who enrolled, by engagement approach and by referral
//! source. (Times to first contact and to enrollment need contact attempts, which the data set does
//! not hold yet.)

use super::{each_group, grouped_header, grouped_label};
use crate::domain::dataset::YouthRow;
use crate::domain::table::{Cell, Output, count_table};

pub fn engagement_by_approach(rows: &[YouthRow], group_by: Option<&str>) -> Output {
    let mut output = Output::default();
    for (dimension, title) in [
        ("engagement_approach", "Enrollment by engagement approach"),
        ("referral_source", "Enrollment by referral source"),
    ] {
        // One line per approach (or source), or per approach and group.
        let by = group_by.filter(|d| *d != dimension);
        let mut labels = Vec::new();
        let mut counts = Vec::new();
        for (value, members) in super::groups(rows, Some(dimension)).iter() {
            let members: Vec<YouthRow> = members.iter().map(|r| (*r).clone()).collect();
            for (group, in_group) in each_group(&members, by) {
                if by.is_some() && in_group.is_empty() {
                    continue;
                }
                let enrolled = in_group.iter().filter(|r| r.enrolled).count() as u64;
                labels.push(grouped_label(value, group.as_deref()));
                counts.extend([enrolled, in_group.len() as u64 - enrolled]);
            }
        }
        let title = match by {
            Some(d) => format!("{title} and {d}"),
            None => title.to_owned(),
        };
        let mut table = count_table(
            &format!("enrollment_by_{dimension}"),
            &title,
            &grouped_header(dimension, by),
            &labels,
            &["enrolled".into(), "not_enrolled".into()],
            &counts,
        )
        .note("times to first contact and to enrollment are not in the data set yet");
        table.columns.push("enrolled_percent".into());
        for row in &mut table.rows {
            let share = match (row[1].number, row[3].number) {
                (Some(enrolled), Some(total)) if !row[1].suppressed && total > 0.0 => {
                    Cell::number(100.0 * enrolled / total, 1)
                }
                _ => Cell::suppressed(),
            };
            row.push(share);
        }
        output.tables.push(table);
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::row;

    #[test]
    fn enrollment_share_by_approach_without_small_counts() {
        let rows: Vec<YouthRow> = (0..80)
            .map(|i| {
                let mut r = row(&format!("stu_{i}"));
                r.engagement_approach = if i < 50 { "survivor_mentor".into() } else { "drop_in_center".into() };
                r.enrolled = if i < 50 { i % 3 != 0 } else { i % 2 == 0 };
                r
            })
            .collect();
        let output = engagement_by_approach(&rows, None);
        let table = &output.tables[0];
        let mentor = table.rows.iter().find(|r| r[0].value == "survivor_mentor").unwrap();
        assert_eq!(mentor[1].number, Some(33.0));
        assert_eq!(mentor[4].value, "66.0");
        for row in &table.rows {
            for cell in &row[1..4] {
                if let Some(n) = cell.number {
                    assert!(n == 0.0 || n >= 11.0, "{row:?}");
                }
            }
        }
        let by_site = engagement_by_approach(&rows, Some("site"));
        let table = &by_site.tables[0];
        assert_eq!(table.columns[0], "engagement_approach / site");
        assert!(table.rows.iter().any(|r| r[0].value == "survivor_mentor / south_los_angeles"), "{table:?}");
    }
}
