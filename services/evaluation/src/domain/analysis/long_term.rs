//! Long-term outcome domains at the 6, 12 and 24 month follow-ups (DOMAIN.md: housing stability,
//! education, employment and income, safety and connection, legal status, engagement), from the
//! coded answers of completed follow-ups (`follow_up.recorded`). One table per domain: answer codes
//! by follow-up, every count through [`count_table`] (1–10 suppressed, complementary suppression).
//! Wellbeing scores are not summarized: the scale is still to be confirmed (DOMAIN.md).

use std::collections::BTreeSet;

use super::retention::KINDS;
use super::{each_group, grouped_header, grouped_label, insufficient};
use crate::domain::codes::sort_codes;
use crate::domain::dataset::{DOMAINS, FollowUpDomains, YouthRow};
use crate::domain::table::{Output, count_table};

fn title(domain: &str) -> &'static str {
    match domain {
        "living_situation" => "Housing: living situation at each follow-up",
        "school_status" => "Education: school status at each follow-up",
        "employed" => "Employment: employed at each follow-up",
        "any_income" => "Income: any income at each follow-up",
        "feels_safe" => "Safety: feels safe where they live, at each follow-up",
        "has_trusted_connection" => "Connection: has a trusted adult or peer, at each follow-up",
        "legal_status" => "Legal status (T-visa / Continued Presence) at each follow-up",
        "engaged_with_services" => "Engagement: still engaged with services, at each follow-up",
        _ => "Long-term domain at each follow-up",
    }
}

/// A count for a note: 0 or 11 and more as it is, 1 to 10 as "1 to 10".
fn publishable(count: usize) -> String {
    if count == 0 || count > 10 { count.to_string() } else { "1 to 10".to_owned() }
}

pub fn long_term_domains(rows: &[YouthRow], group_by: Option<&str>) -> Output {
    let answered = |members: &[&YouthRow], kind: &str| -> Vec<FollowUpDomains> {
        members.iter().filter_map(|r| r.follow_up_domains.iter().find(|d| d.kind == kind).cloned()).collect()
    };
    let all: Vec<&YouthRow> = rows.iter().collect();
    if KINDS.iter().all(|k| answered(&all, k).is_empty()) {
        // Say what is true: completed follow-ups may be there without coded answers.
        let completed = rows
            .iter()
            .flat_map(|r| &r.follow_ups)
            .filter(|f| KINDS.contains(&f.kind.as_str()) && f.status == "completed")
            .count();
        let why = if completed == 0 {
            "no completed 6, 12 or 24 month follow-up in scope".to_owned()
        } else {
            format!(
                "{} completed 6, 12 or 24 month follow-ups in scope, none with coded domain answers (the answers \
                 travel with follow_up.recorded)",
                publishable(completed)
            )
        };
        return Output {
            tables: vec![insufficient("long_term_domains", "Long-term domains at 6, 12 and 24 months", why)],
            charts: Vec::new(),
        };
    }
    let kinds: Vec<String> = KINDS.iter().map(|k| (*k).to_owned()).collect();
    let groups = each_group(rows, group_by);
    // Per group, the answers of each follow-up kind.
    let by_group: Vec<(Option<String>, Vec<Vec<FollowUpDomains>>)> =
        groups.iter().map(|(g, members)| (g.clone(), KINDS.iter().map(|k| answered(members, k)).collect())).collect();
    let mut output = Output::default();
    for domain in DOMAINS {
        let mut answers: Vec<String> = by_group
            .iter()
            .flat_map(|(_, kinds)| kinds.iter().flatten())
            .filter_map(|d| d.answers.get(domain).cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        sort_codes(&mut answers);
        let mut labels = Vec::new();
        let mut counts = Vec::new();
        for answer in &answers {
            for (group, domains) in &by_group {
                labels.push(grouped_label(answer, group.as_deref()));
                for at_kind in domains {
                    counts.push(at_kind.iter().filter(|d| d.answers.get(domain) == Some(answer)).count() as u64);
                }
            }
        }
        let title = match group_by {
            Some(d) => format!("{}, by {d}", title(domain)),
            None => title(domain).to_owned(),
        };
        let table = count_table(
            &format!("long_term_{domain}"),
            &title,
            &grouped_header(domain, group_by),
            &labels,
            &kinds,
            &counts,
        )
        .note("completed follow-ups only (columns: youth answering at that follow-up); a youth lost to follow-up is not counted, never counted as a good or bad outcome");
        output.tables.push(table);
    }
    output
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::domain::dataset::FollowUpDomains;
    use crate::domain::testing::row;

    fn answered(i: usize, kind: &str, employed: &str) -> YouthRow {
        let mut r = row(&format!("stu_{i}"));
        let answers: BTreeMap<String, String> = DOMAINS
            .iter()
            .map(|d| ((*d).to_owned(), if *d == "employed" { employed.to_owned() } else { "missing".to_owned() }))
            .collect();
        r.follow_up_domains = vec![FollowUpDomains { kind: kind.into(), answers }];
        r
    }

    #[test]
    fn answers_are_counted_per_follow_up_under_disclosure_control() {
        // month_6: 15 employed, 20 not; month_12: 12 employed, 3 not (small).
        let mut rows: Vec<YouthRow> = Vec::new();
        rows.extend((0..15).map(|i| answered(i, "month_6", "yes")));
        rows.extend((15..35).map(|i| answered(i, "month_6", "no")));
        rows.extend((35..47).map(|i| answered(i, "month_12", "yes")));
        rows.extend((47..50).map(|i| answered(i, "month_12", "no")));
        let output = long_term_domains(&rows, None);
        assert_eq!(output.tables.len(), DOMAINS.len());
        let employed = output.tables.iter().find(|t| t.name == "long_term_employed").expect("employed table");
        assert_eq!(employed.columns, ["employed", "month_6", "month_12", "month_24", "total"]);
        let no = employed.rows.iter().find(|r| r[0].value == "no").expect("no row");
        let yes = employed.rows.iter().find(|r| r[0].value == "yes").expect("yes row");
        // 15 employed at 6 months and 12 at 12 months are large enough to stand unless a complement.
        assert!(yes[1].value == "15" || yes[1].suppressed, "{yes:?}");
        assert!(no[2].suppressed, "3 youth not employed at 12 months must be suppressed");
        for table in &output.tables {
            for row in &table.rows {
                for cell in row.iter().skip(1) {
                    if let Some(n) = cell.number {
                        assert!(n == 0.0 || n >= 11.0, "{}: {row:?}", table.name);
                    }
                }
            }
        }
        // The 3 cannot be recovered from the row or column totals: more than one cell goes.
        assert!(employed.suppressed_cells() >= 2, "{employed:?}");
    }

    #[test]
    fn no_completed_follow_up_says_insufficient_data() {
        let rows: Vec<YouthRow> = (0..30).map(|i| row(&format!("stu_{i}"))).collect();
        let output = long_term_domains(&rows, None);
        assert_eq!(output.tables.len(), 1);
        assert_eq!(output.tables[0].rows[0][0].value, "insufficient data");
        assert_eq!(output.tables[0].notes, ["no completed 6, 12 or 24 month follow-up in scope"]);
    }

    #[test]
    fn completed_follow_ups_without_answers_are_not_called_absent() {
        use crate::domain::dataset::FollowUpState;
        let rows: Vec<YouthRow> = (0..30)
            .map(|i| {
                let mut r = row(&format!("stu_{i}"));
                r.follow_ups = vec![FollowUpState { kind: "month_6".into(), status: "completed".into() }];
                r
            })
            .collect();
        let output = long_term_domains(&rows, None);
        assert_eq!(output.tables[0].rows[0][0].value, "insufficient data");
        let note = &output.tables[0].notes[0];
        assert!(note.starts_with("30 completed 6, 12 or 24 month follow-ups in scope, none with coded"), "{note}");
    }

    #[test]
    fn grouped_answers_are_counted_per_group() {
        let mut rows: Vec<YouthRow> =
            (0..40).map(|i| answered(i, "month_6", if i < 20 { "yes" } else { "no" })).collect();
        for r in &mut rows[..25] {
            r.site = "san_fernando_valley".into();
        }
        let output = long_term_domains(&rows, Some("site"));
        let employed = output.tables.iter().find(|t| t.name == "long_term_employed").expect("employed table");
        assert_eq!(employed.columns[0], "employed / site");
        let labels: Vec<&str> = employed.rows.iter().map(|r| r[0].value.as_str()).collect();
        assert_eq!(
            labels,
            [
                "no / san_fernando_valley",
                "no / south_los_angeles",
                "yes / san_fernando_valley",
                "yes / south_los_angeles",
                "total"
            ]
        );
        assert_eq!(employed.rows[2][1].number, Some(20.0), "{employed:?}");
    }
}
