//! Aggregate tables, as every analysis returns them and every report renders them, and the one
//! place counts become cells: [`count_table`] publishes a table of counts through
//! `wf_stats::disclosure` (1–10 suppressed, complementary suppression), so no analysis can put a
//! small count in front of a reader by forgetting to.

use serde::{Deserialize, Serialize};
use wf_stats::disclosure::{DisclosureRule, Published, suppress_table};

/// One cell. A suppressed cell carries no value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub value: String,
    pub number: Option<f64>,
    pub suppressed: bool,
}

impl Cell {
    pub fn label(text: impl Into<String>) -> Self {
        Self { value: text.into(), number: None, suppressed: false }
    }

    pub fn number(value: f64, digits: usize) -> Self {
        if value.is_finite() {
            let mut text = format!("{value:.digits$}");
            // A value that rounds to zero is zero, whatever its sign ("-0.0" reads as a fall).
            if text.starts_with('-') && text.bytes().all(|b| matches!(b, b'-' | b'0' | b'.')) {
                text.remove(0);
            }
            Self { value: text, number: Some(if value == 0.0 { 0.0 } else { value }), suppressed: false }
        } else {
            Self { value: "n/a".into(), number: None, suppressed: false }
        }
    }

    /// A statistic shown with its interval, e.g. "0.62 (0.41–0.93)".
    pub fn estimate(value: f64, lower: f64, upper: f64, digits: usize) -> Self {
        if value.is_finite() && lower.is_finite() && upper.is_finite() {
            Self {
                value: format!("{value:.digits$} ({lower:.digits$}–{upper:.digits$})"),
                number: Some(value),
                suppressed: false,
            }
        } else {
            Self::number(value, digits)
        }
    }

    pub fn suppressed() -> Self {
        Self { value: String::new(), number: None, suppressed: true }
    }

    pub fn published(count: Published) -> Self {
        match count {
            Published::Shown(v) => Self { value: v.to_string(), number: Some(v as f64), suppressed: false },
            Published::Suppressed => Self::suppressed(),
        }
    }

    /// The share `part / whole` as a percentage, withheld with its count.
    pub fn percent(part: Published, whole: u64) -> Self {
        match part {
            Published::Shown(v) if whole > 0 => Self::number(100.0 * v as f64 / whole as f64, 1),
            Published::Shown(_) => Self::label("–"),
            Published::Suppressed => Self::suppressed(),
        }
    }
}

/// An aggregate table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub name: String,
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    pub notes: Vec<String>,
}

impl Table {
    pub fn new(name: &str, title: &str, columns: &[&str]) -> Self {
        Self {
            name: name.to_owned(),
            title: title.to_owned(),
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn suppressed_cells(&self) -> usize {
        self.rows.iter().flatten().filter(|c| c.suppressed).count()
    }

    pub fn to_proto(&self) -> wf_proto::evaluation::v1::Table {
        use wf_proto::evaluation::v1 as pb;
        pb::Table {
            name: self.name.clone(),
            title: self.title.clone(),
            columns: self.columns.clone(),
            rows: self
                .rows
                .iter()
                .map(|row| pb::Row {
                    cells: row
                        .iter()
                        .map(|c| pb::Cell {
                            value: c.value.clone(),
                            number: c.number.unwrap_or(0.0),
                            suppressed: c.suppressed,
                        })
                        .collect(),
                })
                .collect(),
            notes: self.notes.clone(),
        }
    }
}

/// The note every count table carries.
pub const SUPPRESSION_NOTE: &str =
    "counts of 1 to 10 are suppressed, with further cells suppressed so they cannot be worked out from totals";

/// A curve or a forest plot for the reports, built from already published values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Chart {
    /// Survival (or cumulative incidence) at fixed days, one series per group.
    Curves { name: String, title: String, y_label: String, start: f64, series: Vec<Series> },
    /// Hazard ratios with intervals, one row per bundle.
    Forest { name: String, title: String, rows: Vec<ForestRow> },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub label: String,
    /// (day, estimate, lower, upper); only points that passed disclosure control.
    pub points: Vec<(f64, f64, f64, f64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForestRow {
    pub label: String,
    pub estimate: f64,
    pub lower: f64,
    pub upper: f64,
    /// The reference group (drawn at 1, without an interval).
    #[serde(default)]
    pub reference: bool,
}

/// What an analysis returns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Output {
    pub tables: Vec<Table>,
    pub charts: Vec<Chart>,
}

impl Output {
    pub fn extend(&mut self, other: Output) {
        self.tables.extend(other.tables);
        self.charts.extend(other.charts);
    }
}

/// A rows × categories table of counts, published with disclosure control: one row per group
/// (first column the group label), one column per category, then the row total; a last row with
/// the column totals. Categories are column names.
pub fn count_table(
    name: &str,
    title: &str,
    group_header: &str,
    groups: &[String],
    categories: &[String],
    counts: &[u64],
) -> Table {
    let mut columns: Vec<&str> = vec![group_header];
    columns.extend(categories.iter().map(String::as_str));
    columns.push("total");
    let mut table = Table::new(name, title, &columns).note(SUPPRESSION_NOTE);
    if groups.is_empty() || categories.is_empty() {
        return table.note("no youth in scope");
    }
    let rule = DisclosureRule::default();
    let Ok(published) = suppress_table(counts, groups.len(), categories.len(), &rule) else {
        // Only a shape error can fail, and the shape is built here: publish nothing rather than
        // anything unprotected.
        table.rows.push(vec![Cell::label("table could not be published"); 1]);
        return table;
    };
    for (i, group) in groups.iter().enumerate() {
        let mut row = vec![Cell::label(group.clone())];
        row.extend((0..categories.len()).map(|j| Cell::published(published.cell(i, j))));
        row.push(Cell::published(published.row_totals[i]));
        table.rows.push(row);
    }
    if groups.len() > 1 {
        let mut row = vec![Cell::label("total")];
        row.extend(published.col_totals.iter().map(|c| Cell::published(*c)));
        row.push(Cell::published(published.grand_total));
        table.rows.push(row);
    }
    table
}

/// A one-way frequency table (category, youth, percent), published with disclosure control: the
/// categories are the groups of a one-column table, so complementary suppression works over the
/// total; percentages are withheld with their counts.
pub fn frequency_table(name: &str, title: &str, header: &str, categories: &[(String, u64)]) -> Table {
    let mut table = Table::new(name, title, &[header, "youth", "percent"]).note(SUPPRESSION_NOTE);
    if categories.is_empty() {
        return table.note("no youth in scope");
    }
    let counts: Vec<u64> = categories.iter().map(|(_, n)| *n).collect();
    let total: u64 = counts.iter().sum();
    let Ok(published) = suppress_table(&counts, counts.len(), 1, &DisclosureRule::default()) else {
        return table.note("table could not be published");
    };
    let total_shown = published.grand_total;
    for (i, (category, _)) in categories.iter().enumerate() {
        let cell = published.cell(i, 0);
        // A percentage of a suppressed total would reveal the total; shares then go too.
        let percent = if total_shown.is_suppressed() { Cell::suppressed() } else { Cell::percent(cell, total) };
        table.rows.push(vec![Cell::label(category.clone()), Cell::published(cell), percent]);
    }
    table.rows.push(vec![Cell::label("total"), Cell::published(total_shown), Cell::label("100.0")]);
    if total_shown.is_suppressed()
        && let Some(last) = table.rows.last_mut()
    {
        last[2] = Cell::suppressed();
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown_counts(table: &Table) -> Vec<f64> {
        table
            .rows
            .iter()
            .flat_map(|row| row.iter().skip(1))
            .filter(|c| !c.suppressed)
            .filter_map(|c| c.number)
            .collect()
    }

    #[test]
    fn frequency_table_never_shows_one_to_ten_and_protects_the_suppressed_cell() {
        let categories = vec![("a".to_owned(), 40), ("b".to_owned(), 3), ("c".to_owned(), 25)];
        let table = frequency_table("t", "T", "category", &categories);
        for row in &table.rows {
            let count = &row[1];
            if let Some(n) = count.number {
                assert!(n == 0.0 || n >= 11.0, "published {n}");
            }
        }
        // b is small; with the total shown, one more cell must go so b cannot be derived.
        let suppressed = table.rows.iter().filter(|r| r[1].suppressed).count();
        assert!(suppressed >= 2, "{table:#?}");
        assert!(table.rows.iter().filter(|r| r[1].suppressed).all(|r| r[2].suppressed));
    }

    #[test]
    fn numbers_that_round_to_zero_have_no_sign() {
        assert_eq!(Cell::number(-0.0, 1).value, "0.0");
        assert_eq!(Cell::number(-0.0001, 2).value, "0.00");
        assert_eq!(Cell::number(-0.05, 1).value, "-0.1");
        assert_eq!(Cell::number(-0.0, 1).number.map(f64::is_sign_negative), Some(false));
    }

    #[test]
    fn count_table_publishes_totals_and_no_small_counts() {
        let groups = vec!["x".to_owned(), "y".to_owned()];
        let categories = vec!["p".to_owned(), "q".to_owned()];
        let table = count_table("t", "T", "group", &groups, &categories, &[30, 5, 20, 40]);
        assert_eq!(table.rows.len(), 3);
        for n in shown_counts(&table) {
            assert!(n == 0.0 || n >= 11.0, "published {n}");
        }
        assert!(table.suppressed_cells() >= 2);
    }
}
