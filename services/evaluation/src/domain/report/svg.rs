//! Inline SVG charts: step curves at the published fixed days (with interval bands) and a forest
//! plot of hazard ratios on a log scale. Only published values reach here.

use super::escape;
use super::labels::label;
use crate::domain::table::{Chart, ForestRow, Series};

const COLORS: [&str; 8] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];
const WIDTH: f64 = 640.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 180.0;
const TOP: f64 = 20.0;

pub fn chart(chart: &Chart) -> String {
    match chart {
        Chart::Curves { title, y_label, start, series, .. } => curves(title, y_label, *start, series),
        Chart::Forest { title, rows, .. } => forest(title, rows),
    }
}

/// A series' legend: its group in words ("participation=mandated" → "Mandated": the chart's title
/// names the dimension), cut to the legend's width.
fn legend(series: &str) -> String {
    let group = series.split_once('=').map_or(series, |(_, value)| value);
    fit(&label(group), ((RIGHT - 30.0) / CHAR_WIDTH) as usize)
}

fn curves(title: &str, y_label: &str, start: f64, series: &[Series]) -> String {
    let height = 300.0;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = height - TOP - 40.0;
    let max_day = 365.0;
    let x = |day: f64| LEFT + plot_w * (day / max_day).clamp(0.0, 1.0);
    let y = |v: f64| TOP + plot_h * (1.0 - v.clamp(0.0, 1.0));
    let mut svg = format!(
        "<svg role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\">",
        escape(title)
    );
    svg.push_str(&format!(
        "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{plot_w}\" height=\"{plot_h}\" fill=\"none\" stroke=\"#999\"/>"
    ));
    for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
        svg.push_str(&format!(
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#eee\"/><text x=\"{}\" y=\"{:.1}\" \
             font-size=\"11\" text-anchor=\"end\">{tick:.2}</text>",
            LEFT + plot_w,
            LEFT - 6.0,
            y(tick) + 4.0,
            y = y(tick)
        ));
    }
    for day in [0.0, 90.0, 180.0, 270.0, 365.0] {
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{day}</text>",
            x(day),
            TOP + plot_h + 16.0
        ));
    }
    svg.push_str(&format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\">days after intake</text>",
        LEFT + plot_w / 2.0,
        height - 4.0
    ));
    svg.push_str(&format!(
        "<text x=\"14\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 {:.1})\">{}</text>",
        TOP + plot_h / 2.0,
        TOP + plot_h / 2.0,
        escape(y_label)
    ));
    for (i, s) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        if s.points.is_empty() {
            continue;
        }
        // Interval band where it differs from the estimate.
        if s.points.iter().any(|p| p.2 != p.3) {
            let upper: Vec<String> = s.points.iter().map(|p| format!("{:.1},{:.1}", x(p.0), y(p.3))).collect();
            let lower: Vec<String> = s.points.iter().rev().map(|p| format!("{:.1},{:.1}", x(p.0), y(p.2))).collect();
            svg.push_str(&format!(
                "<polygon points=\"{} {}\" fill=\"{color}\" fill-opacity=\"0.12\" stroke=\"none\"/>",
                upper.join(" "),
                lower.join(" ")
            ));
        }
        let mut path = format!("M{:.1},{:.1}", x(0.0), y(start));
        for &(day, value, ..) in &s.points {
            path.push_str(&format!(" H{:.1} V{:.1}", x(day), y(value)));
        }
        svg.push_str(&format!("<path d=\"{path}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>"));
        for &(day, value, ..) in &s.points {
            svg.push_str(&format!("<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{color}\"/>", x(day), y(value)));
        }
        let legend_y = TOP + 14.0 + 16.0 * i as f64;
        svg.push_str(&format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"12\" height=\"3\" fill=\"{color}\"/><text x=\"{:.1}\" y=\"{:.1}\" \
             font-size=\"11\">{}</text>",
            LEFT + plot_w + 10.0,
            legend_y - 4.0,
            LEFT + plot_w + 26.0,
            legend_y,
            escape(&legend(&s.label))
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// Forest plot columns: labels on the left (cut to fit, the whole label in a tooltip), the plot,
/// and the numbers on the right, so no text runs over a line.
const FOREST_LABEL_WIDTH: f64 = 200.0;
const FOREST_NUMBERS_WIDTH: f64 = 130.0;
/// Width of one character of 11px text, generously (so a cut label never reaches the plot).
const CHAR_WIDTH: f64 = 6.6;

/// `text` cut to `max_chars` characters, with an ellipsis when cut.
fn fit(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(max_chars.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

fn forest(title: &str, rows: &[ForestRow]) -> String {
    let row_h = 26.0;
    let height = TOP + 40.0 + row_h * rows.len().max(1) as f64;
    let plot_left = FOREST_LABEL_WIDTH + 10.0;
    let plot_right = WIDTH - FOREST_NUMBERS_WIDTH - 10.0;
    let plot_w = plot_right - plot_left;
    let finite = |v: f64| v.is_finite() && v > 0.0;
    let lo = rows.iter().map(|r| r.lower).filter(|v| finite(*v)).fold(1.0f64, f64::min).max(0.01) * 0.8;
    let hi = rows.iter().map(|r| r.upper).filter(|v| finite(*v)).fold(1.0f64, f64::max).min(100.0) * 1.25;
    let x = |v: f64| plot_left + plot_w * ((v.clamp(lo, hi).ln() - lo.ln()) / (hi.ln() - lo.ln()));
    let mut svg = format!(
        "<svg role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\">",
        escape(title)
    );
    let bottom = height - 30.0;
    svg.push_str(&format!(
        "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{TOP}\" y2=\"{bottom:.1}\" stroke=\"#666\" stroke-dasharray=\"4 3\"/>",
        x(1.0),
        x(1.0)
    ));
    for tick in [0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0].into_iter().filter(|t| *t >= lo && *t <= hi) {
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{tick}</text>",
            x(tick),
            bottom + 16.0
        ));
    }
    svg.push_str(&format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\">hazard ratio (log scale; below 1 = less \
         recidivism)</text>",
        plot_left + plot_w / 2.0,
        height - 2.0
    ));
    let max_chars = ((FOREST_LABEL_WIDTH - 8.0) / CHAR_WIDTH) as usize;
    for (i, row) in rows.iter().enumerate() {
        let cy = TOP + row_h * (i as f64 + 0.5);
        let name = label(&row.label);
        let name = if row.reference { format!("{name} (reference)") } else { name };
        svg.push_str(&format!(
            "<text x=\"4\" y=\"{:.1}\" font-size=\"11\"><title>{}</title>{}</text>",
            cy + 4.0,
            escape(&name),
            escape(&fit(&name, max_chars))
        ));
        let numbers = if row.reference {
            "1 (reference)".to_owned()
        } else {
            format!("{:.2} ({:.2}–{:.2})", row.estimate, row.lower, row.upper)
        };
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{}</text>",
            plot_right + 10.0,
            cy + 4.0,
            escape(&numbers)
        ));
        if row.reference {
            // An open diamond at 1: the group every other one is compared with.
            let cx = x(1.0);
            svg.push_str(&format!(
                "<path d=\"M{:.1},{:.1} L{:.1},{cy:.1} L{:.1},{:.1} L{:.1},{cy:.1} Z\" fill=\"#fff\" stroke=\"#333\" \
                 stroke-width=\"1.5\"/>",
                cx,
                cy - 5.0,
                cx + 5.0,
                cx,
                cy + 5.0,
                cx - 5.0
            ));
            continue;
        }
        if finite(row.lower) && finite(row.upper) {
            svg.push_str(&format!(
                "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{cy:.1}\" y2=\"{cy:.1}\" stroke=\"#1f77b4\" stroke-width=\"2\"/>",
                x(row.lower),
                x(row.upper)
            ));
        }
        if finite(row.estimate) {
            svg.push_str(&format!(
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"8\" height=\"8\" fill=\"#1f77b4\"/>",
                x(row.estimate) - 4.0,
                cy - 4.0
            ));
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers_after(svg: &str, needle: &str) -> Vec<f64> {
        svg.match_indices(needle)
            .filter_map(|(i, _)| {
                let rest = &svg[i + needle.len()..];
                rest.split('"').next().and_then(|v| v.parse().ok())
            })
            .collect()
    }

    #[test]
    fn forest_labels_stay_clear_of_the_lines_and_the_reference_is_drawn() {
        let long = "intensive_case_management+mental_health+transitional_housing+employment_training";
        let rows = vec![
            ForestRow { label: "none".into(), estimate: 1.0, lower: 1.0, upper: 1.0, reference: true },
            ForestRow { label: long.into(), estimate: 0.05, lower: 0.011, upper: 0.9, reference: false },
            ForestRow { label: "mental_health".into(), estimate: 1.4, lower: 0.7, upper: 60.0, reference: false },
        ];
        let svg = forest("Forest", &rows);
        let plot_left = FOREST_LABEL_WIDTH + 10.0;
        let plot_right = WIDTH - FOREST_NUMBERS_WIDTH - 10.0;
        // Every line and marker lies within the plot.
        for x in numbers_after(&svg, "x1=\"").into_iter().chain(numbers_after(&svg, "x2=\"")) {
            assert!((plot_left..=plot_right).contains(&x), "{x} outside the plot: {svg}");
        }
        // Each label, as drawn, ends before the plot begins; the numbers begin after it ends.
        for (i, _) in svg.match_indices("<text x=\"4\"") {
            let drawn = svg[i..].split("</title>").nth(1).and_then(|rest| rest.split("</text>").next()).unwrap();
            assert!(4.0 + CHAR_WIDTH * drawn.chars().count() as f64 <= plot_left, "{drawn:?} runs into the plot");
        }
        assert!(svg.contains(
            "<title>Intensive case management + Mental health + Transitional housing + Employment training</title>"
        ));
        assert!(svg.contains(&format!("<text x=\"{:.1}\"", plot_right + 10.0)));
        // The reference: named, drawn at 1, and its numbers say so.
        assert!(svg.contains("None (reference)"), "{svg}");
        assert!(svg.contains(">1 (reference)</text>"), "{svg}");
        assert_eq!(svg.matches("fill=\"#fff\" stroke=\"#333\"").count(), 1);
    }
}
