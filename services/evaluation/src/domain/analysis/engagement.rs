//! Engagement: the share of referred youth who enrolled, by engagement approach and by referral
//! source. (Times to first contact and to enrollment need contact attempts, which the data set does
//! not hold yet.)

use crate::domain::dataset::YouthRow;
use crate::domain::table::{Cell, Output, count_table};

pub fn engagement_by_approach(rows: &[YouthRow]) -> Output {
    let mut output = Output::default();
    for (dimension, title) in [
        ("engagement_approach", "Enrollment by engagement approach"),
        ("referral_source", "Enrollment by referral source"),
    ] {
        let grouped = super::groups(rows, Some(dimension));
        let labels: Vec<String> = grouped.keys().cloned().collect();
        let counts: Vec<u64> = grouped
            .values()
            .flat_map(|members| {
                let enrolled = members.iter().filter(|r| r.enrolled).count() as u64;
                [enrolled, members.len() as u64 - enrolled]
            })
            .collect();
        let mut table = count_table(
            &format!("enrollment_by_{dimension}"),
            title,
            dimension,
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
        let output = engagement_by_approach(&rows);
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
    }
}
