//! Rendering: self-contained HTML with inline SVG charts (no external assets, every text
//! escaped), CSV and JSON. Renderers see only published tables and charts, never rows.

mod html;
pub mod labels;
mod svg;

use serde::{Deserialize, Serialize};

use crate::domain::table::{Chart, Output, Table};

/// Escapes text for HTML element content and attribute values (the page and its SVG charts).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What a rendered report says about itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReportMeta {
    pub report_id: String,
    /// "baseline", "outcome", "data_completeness".
    pub kind: String,
    pub title: String,
    /// RFC 3339.
    pub generated_at: String,
    pub dataset_version: String,
    pub synthetic: bool,
    /// Which cohort the report is on, in words ([`cohort`]).
    #[serde(default)]
    pub cohort: String,
    /// Scope in words, e.g. "sites: all", "as of 2026-07-01T00:00:00Z".
    pub scope: Vec<String>,
}

/// The cohort a report is on, as every report states it.
pub fn cohort(synthetic: bool) -> &'static str {
    if synthetic { "synthetic demonstration cohort (generated, fictional youth)" } else { "program data" }
}

/// The warning every synthetic report carries at its top.
pub const SYNTHETIC_BANNER: &str = "SYNTHETIC DEMONSTRATION DATA — generated, fictional youth; not program data; no conclusion about the program follows";

#[derive(Serialize)]
struct JsonReport<'a> {
    #[serde(flatten)]
    meta: &'a ReportMeta,
    #[serde(skip_serializing_if = "Option::is_none")]
    warning: Option<&'static str>,
    tables: &'a [Table],
    charts: &'a [Chart],
}

pub fn json(meta: &ReportMeta, output: &Output) -> Vec<u8> {
    let report = JsonReport {
        meta,
        warning: meta.synthetic.then_some(SYNTHETIC_BANNER),
        tables: &output.tables,
        charts: &output.charts,
    };
    serde_json::to_vec_pretty(&report).unwrap_or_default()
}

#[derive(Deserialize)]
struct ParsedReport {
    #[serde(flatten)]
    meta: ReportMeta,
    tables: Vec<Table>,
    charts: Vec<Chart>,
}

/// Reads a JSON report back (the command line renders its HTML and CSV files from one report).
pub fn parse_json(bytes: &[u8]) -> Result<(ReportMeta, Output), serde_json::Error> {
    let parsed: ParsedReport = serde_json::from_slice(bytes)?;
    Ok((parsed.meta, Output { tables: parsed.tables, charts: parsed.charts }))
}

pub fn html(meta: &ReportMeta, output: &Output) -> Vec<u8> {
    html::render(meta, output).into_bytes()
}

/// All tables in one CSV, long form: one line per cell (`table,row,column,value,suppressed`).
pub fn csv(meta: &ReportMeta, output: &Output) -> Vec<u8> {
    let mut out = String::from("table,row,column,value,suppressed\n");
    out.push_str(&format!("cohort,0,note,{},false\n", csv_field(cohort(meta.synthetic))));
    if meta.synthetic {
        out.push_str(&format!("warning,0,note,{},false\n", csv_field(SYNTHETIC_BANNER)));
    }
    for table in &output.tables {
        for (i, row) in table.rows.iter().enumerate() {
            for (column, cell) in table.columns.iter().zip(row) {
                out.push_str(&format!(
                    "{},{},{},{},{}\n",
                    csv_field(&table.name),
                    i + 1,
                    csv_field(column),
                    csv_field(&cell.value),
                    cell.suppressed
                ));
            }
        }
    }
    out.into_bytes()
}

/// One table as a wide CSV (header = the columns; suppressed cells are written as "suppressed").
pub fn table_csv(table: &Table) -> String {
    let mut out = table.columns.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(",");
    out.push('\n');
    for row in &table.rows {
        let cells: Vec<String> =
            row.iter().map(|c| if c.suppressed { "suppressed".to_owned() } else { csv_field(&c.value) }).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// RFC 4180 quoting; a leading formula character is neutralised so a spreadsheet never runs it.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) && value.parse::<f64>().is_err() {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) { format!("\"{}\"", value.replace('"', "\"\"")) } else { value }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::table::{Cell, ForestRow, Series};

    fn sample() -> (ReportMeta, Output) {
        let mut table = Table::new("t<1>", "Title & <script>alert(1)</script>", &["group", "youth"]);
        table.rows.push(vec![Cell::label("a,\"b\""), Cell::number(12.0, 0)]);
        table.rows.push(vec![Cell::label("=cmd()"), Cell::suppressed()]);
        let output = Output {
            tables: vec![table],
            charts: vec![
                Chart::Curves {
                    name: "c".into(),
                    title: "Curve <b>".into(),
                    y_label: "share".into(),
                    start: 1.0,
                    series: vec![Series {
                        label: "all".into(),
                        points: vec![(30.0, 0.9, 0.8, 0.95), (90.0, 0.8, 0.7, 0.9)],
                    }],
                },
                Chart::Forest {
                    name: "f".into(),
                    title: "Forest".into(),
                    rows: vec![
                        ForestRow { label: "r".into(), estimate: 1.0, lower: 1.0, upper: 1.0, reference: true },
                        ForestRow { label: "x".into(), estimate: 0.6, lower: 0.4, upper: 0.9, reference: false },
                    ],
                },
            ],
        };
        let meta = ReportMeta {
            report_id: "rpt_1".into(),
            kind: "outcome".into(),
            title: "Outcomes".into(),
            generated_at: "2026-07-01T00:00:00Z".into(),
            dataset_version: "program-m1-1-1".into(),
            synthetic: true,
            cohort: cohort(true).into(),
            scope: vec!["sites: all".into()],
        };
        (meta, output)
    }

    #[test]
    fn html_is_self_contained_and_escaped() {
        let (meta, output) = sample();
        let html = String::from_utf8(html(&meta, &output)).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(!html.contains("<script"), "unescaped script");
        assert!(html.contains("&lt;script&gt;"));
        assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("src="), "external asset");
        assert!(html.contains("<svg") && html.contains("SYNTHETIC"));
        assert!(html.contains("suppressed"));
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let (meta, output) = sample();
        let csv = String::from_utf8(csv(&meta, &output)).unwrap();
        assert!(csv.contains("\"a,\"\"b\"\"\""));
        assert!(csv.contains("'=cmd()"));
        assert!(csv.contains(",true\n"));
        let wide = table_csv(&output.tables[0]);
        assert_eq!(wide.lines().next(), Some("group,youth"));
        assert!(wide.contains("suppressed"));
    }

    #[test]
    fn every_report_states_its_cohort() {
        let (mut meta, output) = sample();
        for synthetic in [true, false] {
            meta.synthetic = synthetic;
            meta.cohort = cohort(synthetic).into();
            let expected = if synthetic { "synthetic demonstration cohort" } else { "program data" };
            let html = String::from_utf8(html(&meta, &output)).unwrap();
            assert!(html.contains(&format!("Cohort: {expected}")), "{html}");
            let csv = String::from_utf8(csv(&meta, &output)).unwrap();
            let line = csv.lines().nth(1).unwrap();
            assert!(line.starts_with("cohort,0,note,") && line.contains(expected), "{csv}");
            let value: serde_json::Value = serde_json::from_slice(&json(&meta, &output)).unwrap();
            assert!(value["cohort"].as_str().unwrap().starts_with(expected));
        }
    }

    #[test]
    fn json_carries_the_synthetic_warning() {
        let (meta, output) = sample();
        let value: serde_json::Value = serde_json::from_slice(&json(&meta, &output)).unwrap();
        assert_eq!(value["synthetic"], true);
        assert!(value["warning"].as_str().unwrap().starts_with("SYNTHETIC"));
        assert_eq!(value["tables"][0]["rows"][1][1]["suppressed"], true);
        let (parsed_meta, parsed) = parse_json(&json(&meta, &output)).unwrap();
        assert_eq!(parsed, output);
        assert_eq!(parsed_meta.report_id, meta.report_id);
    }
}
