//! The HTML page: one file, inline CSS and SVG, a Content-Security-Policy that allows nothing to
//! load, every text escaped.

use super::labels::label;
use super::{ReportMeta, SYNTHETIC_BANNER, escape, svg};
use crate::domain::table::{Chart, Output, Table};

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem;color:#222}\
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem}table{border-collapse:collapse;margin:.5rem 0}\
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}th:first-child,td:first-child{text-align:left}\
td.suppressed{color:#888;font-style:italic}.notes{font-size:.85rem;color:#555}.banner{background:#fde68a;\
border:2px solid #b45309;padding:.75rem;font-weight:bold}.meta{font-size:.9rem;color:#444}svg{max-width:100%}";

pub fn render(meta: &ReportMeta, output: &Output) -> String {
    let mut html = String::new();
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    html.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; \
         object-src 'none'; base-uri 'none'\">",
    );
    html.push_str(&format!("<title>{}</title><style>{STYLE}</style></head><body>\n", escape(&meta.title)));
    if meta.synthetic {
        html.push_str(&format!("<p class=\"banner\">{}</p>\n", escape(SYNTHETIC_BANNER)));
    }
    html.push_str(&format!("<h1>{}</h1>\n", escape(&meta.title)));
    // The cohort is stated on every report, program data included (older stored reports lack it).
    let stated = if meta.cohort.is_empty() { super::cohort(meta.synthetic) } else { meta.cohort.as_str() };
    html.push_str(&format!("<p class=\"cohort\"><strong>Cohort: {}</strong></p>\n<p class=\"meta\">", escape(stated)));
    html.push_str(&format!(
        "Report {} · generated {} · data set {}",
        escape(&meta.report_id),
        escape(&meta.generated_at),
        escape(&meta.dataset_version)
    ));
    for line in &meta.scope {
        html.push_str(&format!(" · {}", escape(line)));
    }
    html.push_str(
        "</p>\n<p class=\"notes\">Aggregate figures only. Counts of 1 to 10 are suppressed, with further cells \
         suppressed so they cannot be worked out from totals; survival is shown only at fixed days with at least 11 \
         youth at risk.</p>\n",
    );
    for chart in &output.charts {
        let (name, title) = match chart {
            Chart::Curves { name, title, .. } | Chart::Forest { name, title, .. } => (name, title),
        };
        html.push_str(&format!("<h2 id=\"{}\">{}</h2>\n", escape(name), escape(title)));
        html.push_str(&svg::chart(chart));
        html.push('\n');
    }
    for table in &output.tables {
        html.push_str(&table_html(table));
    }
    html.push_str("</body></html>\n");
    html
}

fn table_html(table: &Table) -> String {
    let mut html = format!("<h2 id=\"{}\">{}</h2>\n<table><thead><tr>", escape(&table.name), escape(&table.title));
    for column in &table.columns {
        html.push_str(&format!("<th>{}</th>", escape(&label(column))));
    }
    html.push_str("</tr></thead><tbody>\n");
    for row in &table.rows {
        html.push_str("<tr>");
        for cell in row {
            if cell.suppressed {
                html.push_str("<td class=\"suppressed\">suppressed</td>");
            } else if cell.number.is_none() {
                // Codes in words (a number stays as it is).
                html.push_str(&format!("<td>{}</td>", escape(&label(&cell.value))));
            } else {
                html.push_str(&format!("<td>{}</td>", escape(&cell.value)));
            }
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody></table>\n");
    if !table.notes.is_empty() {
        html.push_str("<ul class=\"notes\">");
        for note in &table.notes {
            html.push_str(&format!("<li>{}</li>", escape(note)));
        }
        html.push_str("</ul>\n");
    }
    html
}
