//! Data completeness: for each required evaluation field, how many youth have an answer (a value,
//! or "doesn't know" / "prefers not to answer") and how many are missing, per group; overdue
//! assessments and follow-ups. Counts of 1–10 are suppressed: a group's line goes whole, and when
//! one group of a field is suppressed the next smallest goes too, so it cannot be recovered from
//! the others and the total.

use std::collections::BTreeMap;

use wf_stats::disclosure::DisclosureRule;

use super::groups;
use crate::domain::codes::AnswerClass;
use crate::domain::dataset::YouthRow;
use crate::domain::table::{Cell, Table, count_table};

type Field = (&'static str, fn(&YouthRow) -> Option<String>);

/// Required fields and the answer each youth has (None: the field is not required for them).
pub const FIELDS: &[Field] = &[
    ("referral_source", |r| Some(r.referral_source.clone())),
    ("prior_participation_basis", |r| Some(r.prior_participation.clone())),
    ("age_first_exploited", |r| {
        Some(if r.age_first_exploited.is_some() { "answered".into() } else { r.age_first_exploited_answer.clone() })
    }),
    ("former_ward_child_welfare", |r| Some(r.former_ward_child_welfare.clone())),
    ("former_ward_juvenile_justice", |r| Some(r.former_ward_juvenile_justice.clone())),
    ("income", |r| Some(r.any_income.clone())),
    ("employment", |r| Some(r.employed.clone())),
    ("living_situation", |r| Some(r.living_situation.clone())),
    ("last_grade_completed", |r| Some(r.last_grade_completed.clone())),
    ("school_status", |r| Some(r.school_status.clone())),
    ("arrests", |r| Some(r.ever_arrested.clone())),
    ("follow_up_month_6", |r| follow_up(r, "month_6")),
    ("follow_up_month_12", |r| follow_up(r, "month_12")),
    ("follow_up_month_24", |r| follow_up(r, "month_24")),
];

/// A due follow-up: completed is a value, lost or refused an answer without one, open is missing.
fn follow_up(row: &YouthRow, kind: &str) -> Option<String> {
    let status = &row.follow_ups.iter().find(|f| f.kind == kind)?.status;
    match status.as_str() {
        "completed" => Some("completed".into()),
        "lost_to_follow_up" | "refused" => Some("client_prefers_not_to_answer".into()),
        "due" | "overdue" => Some("missing".into()),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldLine {
    pub field: String,
    pub group: BTreeMap<String, String>,
    pub required: u64,
    pub answered: u64,
    pub refused_or_unknown: u64,
    pub missing: u64,
    pub suppressed: bool,
}

/// A group's label and its four summary counts, before disclosure control.
pub type GroupSummary = (String, [u64; 4]);

#[derive(Debug, Clone, PartialEq)]
pub struct Completeness {
    pub fields: Vec<FieldLine>,
    /// None when the count is from 1 to 10 (suppressed).
    pub overdue_assessments: Option<u64>,
    pub overdue_follow_ups: Option<u64>,
    pub incomplete_cases: Option<u64>,
    pub total_cases: Option<u64>,
    /// With a grouping: the dimension and, per group, the four raw counts (overdue assessments,
    /// overdue follow-ups, incomplete cases, cases), published through disclosure control by
    /// [`completeness_tables`].
    pub by_group: Option<(String, Vec<GroupSummary>)>,
}

fn shown(count: u64) -> Option<u64> {
    (!DisclosureRule::default().is_small(count)).then_some(count)
}

pub fn completeness(rows: &[YouthRow], dimension: Option<&str>) -> Completeness {
    let grouped = groups(rows, dimension);
    let mut fields = Vec::new();
    for (field, answer) in FIELDS {
        let mut lines: Vec<FieldLine> = grouped
            .iter()
            .map(|(label, members)| {
                let mut line = FieldLine {
                    field: (*field).to_owned(),
                    group: dimension.map(|d| BTreeMap::from([(d.to_owned(), label.clone())])).unwrap_or_default(),
                    required: 0,
                    answered: 0,
                    refused_or_unknown: 0,
                    missing: 0,
                    suppressed: false,
                };
                for class in members.iter().filter_map(|r| answer(r)).map(|a| AnswerClass::of(&a)) {
                    line.required += 1;
                    match class {
                        AnswerClass::Value => line.answered += 1,
                        AnswerClass::RefusedOrUnknown => {
                            line.answered += 1;
                            line.refused_or_unknown += 1;
                        }
                        AnswerClass::Missing => line.missing += 1,
                    }
                }
                let rule = DisclosureRule::default();
                line.suppressed = [line.required, line.answered, line.refused_or_unknown, line.missing]
                    .iter()
                    .any(|&n| rule.is_small(n));
                line
            })
            .collect();
        // Complementary: a single suppressed group could be recovered from the field's total.
        if lines.iter().filter(|l| l.suppressed).count() == 1
            && lines.len() > 1
            && let Some(next) = lines.iter_mut().filter(|l| !l.suppressed && l.required > 0).min_by_key(|l| l.required)
        {
            next.suppressed = true;
        }
        for line in &mut lines {
            if line.suppressed {
                (line.required, line.answered, line.refused_or_unknown, line.missing) = (0, 0, 0, 0);
            }
        }
        fields.extend(lines.into_iter().filter(|l| l.suppressed || l.required > 0));
    }
    let [overdue_assessments, overdue_follow_ups, incomplete, total] = summary(&rows.iter().collect::<Vec<_>>());
    let by_group = dimension
        .map(|d| (d.to_owned(), grouped.iter().map(|(label, members)| (label.clone(), summary(members))).collect()));
    Completeness {
        fields,
        overdue_assessments: shown(overdue_assessments),
        overdue_follow_ups: shown(overdue_follow_ups),
        incomplete_cases: shown(incomplete),
        total_cases: shown(total),
        by_group,
    }
}

/// Overdue assessments, overdue follow-ups, cases with a required field missing, and cases.
fn summary(rows: &[&YouthRow]) -> [u64; 4] {
    let incomplete = rows
        .iter()
        .filter(|r| FIELDS.iter().any(|(_, answer)| answer(r).is_some_and(|a| !AnswerClass::of(&a).answered())))
        .count() as u64;
    let overdue_follow_ups =
        rows.iter().flat_map(|r| r.follow_ups.iter()).filter(|f| f.status == "overdue").count() as u64;
    [rows.iter().filter(|r| r.assessment_overdue).count() as u64, overdue_follow_ups, incomplete, rows.len() as u64]
}

const MEASURES: [&str; 4] = ["overdue_assessments", "overdue_follow_ups", "incomplete_cases", "total_cases"];

/// The completeness as tables for reports.
pub fn completeness_tables(c: &Completeness) -> Vec<Table> {
    let mut fields = Table::new(
        "data_completeness",
        "Required evaluation fields: answered and missing",
        &["field", "group", "required", "answered", "refused_or_unknown", "missing", "missing_percent"],
    )
    .note("answered includes \"client doesn't know\" and \"prefers not to answer\"; missing is not collected")
    .note("groups with a count of 1 to 10 are suppressed whole, with another group so the total does not reveal them");
    for line in &c.fields {
        let group = line.group.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ");
        let mut row =
            vec![Cell::label(line.field.clone()), Cell::label(if group.is_empty() { "all".into() } else { group })];
        if line.suppressed {
            row.extend((0..5).map(|_| Cell::suppressed()));
        } else {
            for n in [line.required, line.answered, line.refused_or_unknown, line.missing] {
                row.push(Cell::number(n as f64, 0));
            }
            row.push(Cell::number(100.0 * line.missing as f64 / line.required.max(1) as f64, 1));
        }
        fields.rows.push(row);
    }
    let summary = match &c.by_group {
        None => {
            let mut summary =
                Table::new("data_completeness_summary", "Overdue work and incomplete cases", &["measure", "youth"])
                    .note("counts of 1 to 10 are suppressed");
            for (label, value) in
                MEASURES.iter().zip([c.overdue_assessments, c.overdue_follow_ups, c.incomplete_cases, c.total_cases])
            {
                summary.rows.push(vec![
                    Cell::label(*label),
                    value.map_or_else(Cell::suppressed, |v| Cell::number(v as f64, 0)),
                ]);
            }
            summary
        }
        Some((dimension, groups)) => {
            // Groups × measures, with the measures' totals over the groups; the sum across
            // measures means nothing and is dropped after publishing (dropping hides, never reveals).
            let labels: Vec<String> = groups.iter().map(|(label, _)| label.clone()).collect();
            let measures: Vec<String> = MEASURES.iter().map(|m| (*m).to_owned()).collect();
            let counts: Vec<u64> = groups.iter().flat_map(|(_, counts)| *counts).collect();
            let mut summary = count_table(
                "data_completeness_summary",
                &format!("Overdue work and incomplete cases, by {dimension}"),
                dimension,
                &labels,
                &measures,
                &counts,
            );
            summary.columns.pop();
            for row in &mut summary.rows {
                row.truncate(summary.columns.len());
            }
            summary
        }
    };
    vec![fields, summary]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::row;

    #[test]
    fn doesnt_know_counts_as_answered_and_small_groups_are_suppressed_in_pairs() {
        let rows: Vec<YouthRow> = (0..60)
            .map(|i| {
                let mut r = row(&format!("stu_{i}"));
                r.site = match i {
                    0..=29 => "south_los_angeles".into(),
                    30..=54 => "countywide".into(),
                    _ => "san_fernando_valley".into(),
                };
                r.last_grade_completed = if i % 2 == 0 { "grade_12".into() } else { "client_doesnt_know".into() };
                r
            })
            .collect();
        let c = completeness(&rows, Some("site"));
        let grade: Vec<&FieldLine> = c.fields.iter().filter(|l| l.field == "last_grade_completed").collect();
        let south = grade.iter().find(|l| l.group["site"] == "south_los_angeles").unwrap();
        assert_eq!((south.required, south.answered, south.refused_or_unknown, south.missing), (30, 30, 15, 0));
        // San Fernando Valley has 5 youth: suppressed, and one more group with it.
        assert_eq!(grade.iter().filter(|l| l.suppressed).count(), 2);
        let none = completeness(&rows, None);
        let referral = none.fields.iter().find(|l| l.field == "referral_source").unwrap();
        assert_eq!(referral.required, 60);
        assert_eq!(none.total_cases, Some(60));
        assert_eq!(none.overdue_assessments, Some(0));
        // The summary, by site: one line per site, the measures' totals last, no small count.
        let tables = completeness_tables(&c);
        let summary = &tables[1];
        assert_eq!(
            summary.columns,
            ["site", "overdue_assessments", "overdue_follow_ups", "incomplete_cases", "total_cases"]
        );
        let labels: Vec<&str> = summary.rows.iter().map(|r| r[0].value.as_str()).collect();
        assert_eq!(labels, ["countywide", "san_fernando_valley", "south_los_angeles", "total"]);
        assert!(summary.rows[1][4].suppressed, "5 youth in San Fernando Valley: {summary:?}");
        assert_eq!(summary.rows[3][4].number, Some(60.0));
        assert_eq!(completeness_tables(&none)[1].columns, ["measure", "youth"]);
    }
}
