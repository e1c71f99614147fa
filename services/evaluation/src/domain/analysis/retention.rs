//! Follow-up retention at 6, 12 and 24 months after exit: of the follow-ups that have fallen due,
//! how many were completed, lost, refused, or are still open (due or overdue).

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

pub fn follow_up_retention(rows: &[YouthRow]) -> Output {
    let mut counts = vec![0u64; KINDS.len() * STATUSES.len()];
    for row in rows {
        for follow_up in &row.follow_ups {
            if let (Some(k), Some(s)) =
                (KINDS.iter().position(|k| *k == follow_up.kind), status_column(&follow_up.status))
            {
                counts[k * STATUSES.len() + s] += 1;
            }
        }
    }
    let kinds: Vec<String> = KINDS.iter().map(|k| (*k).to_owned()).collect();
    let statuses: Vec<String> = STATUSES.iter().map(|s| (*s).to_owned()).collect();
    let mut table = count_table(
        "follow_up_retention",
        "Follow-ups after exit that have fallen due, by outcome",
        "follow_up",
        &kinds,
        &statuses,
        &counts,
    )
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
        let table = &follow_up_retention(&rows).tables[0];
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
    }
}
