//! Long-term outcome domains at the 6, 12 and 24 month follow-ups (DOMAIN.md: housing stability,
//! education, employment and income, safety and connection, legal status, engagement), from the
//! coded answers of completed follow-ups (`follow_up.recorded`). One table per domain: answer codes
//! by follow-up, every count through [`count_table`] (1–10 suppressed, complementary suppression).
//! Wellbeing scores are not summarized: the scale is still to be confirmed (DOMAIN.md).

use std::collections::BTreeSet;

use super::insufficient;
use super::retention::KINDS;
use crate::domain::dataset::{DOMAINS, YouthRow};
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

pub fn long_term_domains(rows: &[YouthRow]) -> Output {
    let answered = |kind: &str| {
        rows.iter().filter_map(move |r| r.follow_up_domains.iter().find(|d| d.kind == kind)).collect::<Vec<_>>()
    };
    let by_kind: Vec<_> = KINDS.iter().map(|k| answered(k)).collect();
    if by_kind.iter().all(Vec::is_empty) {
        return Output {
            tables: vec![insufficient(
                "long_term_domains",
                "Long-term domains at 6, 12 and 24 months",
                "no completed 6, 12 or 24 month follow-up in scope",
            )],
            charts: Vec::new(),
        };
    }
    let kinds: Vec<String> = KINDS.iter().map(|k| (*k).to_owned()).collect();
    let mut output = Output::default();
    for domain in DOMAINS {
        let answers: Vec<String> = by_kind
            .iter()
            .flatten()
            .filter_map(|d| d.answers.get(domain).cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut counts = Vec::with_capacity(answers.len() * KINDS.len());
        for answer in &answers {
            for domains in &by_kind {
                counts.push(domains.iter().filter(|d| d.answers.get(domain) == Some(answer)).count() as u64);
            }
        }
        let table = count_table(&format!("long_term_{domain}"), title(domain), domain, &answers, &kinds, &counts)
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
        let output = long_term_domains(&rows);
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
        let output = long_term_domains(&rows);
        assert_eq!(output.tables.len(), 1);
        assert_eq!(output.tables[0].rows[0][0].value, "insufficient data");
    }
}
