//! Follow-up retention at 6, 12 and 24 months after exit: of the follow-ups that have fallen due,
//! how many were completed, lost, refused, or are still open (due or overdue).

use super::{each_group, grouped_header, grouped_label};
use crate::domain::dataset::YouthRow;
use crate::domain::table::{Cell, Output, count_table};

pub const KINDS: [&str; 3] = ["month_6", "month_12", "month_24"];
pub const STATUSES: [&str; 4] = ["completed", "lost_to_follow_up", "refused", "open"];

fn status_column(status: &str) -> Option<usize> {
    match status {
        "completed" => Some(0),
        "lost_to_follow_up" => Some(1),
        "refused" => Some(2),
        "due" | "overdue" => Some(3),
        // Scheduled (not yet due) and cancelled follow-ups are not part of retention.
        _ => None,
    }
}

pub fn follow_up_retention(rows: &[YouthRow], group_by: Option<&str>) -> Output {
    // One line per follow-up kind, or per kind and group.
    let groups = each_group(rows, group_by);
    let mut labels = Vec::new();
    let mut counts = Vec::new();
    for kind in KINDS {
        for (group, members) in &groups {
            let mut line = [0u64; STATUSES.len()];
            for follow_up in members.iter().flat_map(|r| &r.follow_ups).filter(|f| f.kind == kind) {
                if let Some(s) = status_column(&follow_up.status) {
                    line[s] += 1;
                }
            }
            labels.push(grouped_label(kind, group.as_deref()));
            counts.extend(line);
        }
    }
    let statuses: Vec<String> = STATUSES.iter().map(|s| (*s).to_owned()).collect();
    let title = match group_by {
        Some(d) => format!("Follow-ups after exit that have fallen due, by outcome and {d}"),
        None => "Follow-ups after exit that have fallen due, by outcome".to_owned(),
    };
    let mut table =
        count_table("follow_up_retention", &title, &grouped_header("follow_up", group_by), &labels, &statuses, &counts)
            .note("retention = completed / due; lost to follow-up and refusals are censoring in the outcome analyses");
    // Retention share where both the completed count and the row total are shown.
    table.columns.push("retention_percent".into());
    for row in &mut table.rows {
        let completed = row.get(1).and_then(|c| c.number);
        let total = row.get(1 + STATUSES.len()).and_then(|c| c.number);
        row.push(match (completed, total) {
            (Some(c), Some(t)) if t > 0.0 => Cell::number(100.0 * c / t, 1),
            (Some(_), Some(_)) => Cell::label("–"),
            _ => Cell::suppressed(),
        });
    }
    Output { tables: vec![table], charts: Vec::new() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dataset::FollowUpState;
    use crate::domain::testing::row;

    #[test]
    fn retention_counts_due_follow_ups_and_withholds_small_ones() {
        let rows: Vec<YouthRow> = (0..40)
            .map(|i| {
                let mut r = row(&format!("stu_{i}"));
                let status = if i < 28 {
                    "completed"
                } else if i < 38 {
                    "lost_to_follow_up"
                } else {
                    "overdue"
                };
                r.follow_ups = vec![FollowUpState { kind: "month_6".into(), status: status.into() }];
                r
            })
            .collect();
        let table = &follow_up_retention(&rows, None).tables[0];
        let month_6 = &table.rows[0];
        assert_eq!(month_6[0].value, "month_6");
        // 28 completed are shown; 10 lost and 2 open are small and suppressed.
        assert!(month_6[2].suppressed && month_6[4].suppressed);
        for row in &table.rows {
            for cell in row.iter().skip(1).take(5) {
                if let Some(n) = cell.number {
                    assert!(n == 0.0 || n >= 11.0, "{row:?}");
                }
            }
        }
        // By site: one line per follow-up kind and site.
        let mut rows = rows;
        for r in &mut rows[20..] {
            r.site = "san_fernando_valley".into();
        }
        let table = &follow_up_retention(&rows, Some("site")).tables[0];
        assert_eq!(table.columns[0], "follow_up / site");
        let labels: Vec<&str> = table.rows.iter().take(2).map(|r| r[0].value.as_str()).collect();
        assert_eq!(labels, ["month_6 / san_fernando_valley", "month_6 / south_los_angeles"]);
        assert_eq!(table.rows.len(), 3 * 2 + 1, "three kinds × two sites and the total");
    }
}
