//! The disclosure report: every read (`record.accessed`) and export (`record.exported`) of one
//! youth's or referral's data — who, in which role and organization, when, for what purpose,
//! under which consent release, which fields, and whether it was emergency access. What the
//! program owes a survivor who asks. Rendered as CSV or HTML; every value is escaped.

use prost::Message;
use wf_events::EventPayload;
use wf_proto::events::v1 as pb;

use super::chain::Entry;

/// One disclosure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisclosureRow {
    pub sequence: u64,
    /// RFC 3339, UTC.
    pub occurred_at: String,
    /// "read" or "export".
    pub kind: &'static str,
    pub actor: String,
    pub actor_role: String,
    pub organization: String,
    pub purpose: String,
    /// Empty for program staff (no release needed).
    pub release_id: String,
    /// Field paths read, or for an export its kind.
    pub what: String,
    pub break_glass: bool,
}

fn rfc3339(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// The row for an access or export entry; `None` for any other entry.
pub fn row(entry: &Entry) -> Option<DisclosureRow> {
    let content = &entry.content;
    let mut row = DisclosureRow {
        sequence: entry.sequence,
        occurred_at: rfc3339(content.occurred_at_micros),
        kind: "read",
        actor: content.actor.clone(),
        actor_role: content.actor_role.clone(),
        organization: String::new(),
        purpose: content.purpose.clone(),
        release_id: content.release_id.clone(),
        what: content.fields.join("; "),
        break_glass: false,
    };
    if content.event_type == pb::RecordAccessed::TYPE {
        // The entry's own columns were taken from this payload; it adds organization and
        // emergency access. An unreadable payload leaves those empty rather than hiding the read.
        if let Ok(access) = pb::RecordAccessed::decode(content.payload.as_slice()) {
            row.organization = access.actor_organization_id;
            row.break_glass = access.break_glass;
        }
    } else if content.event_type == pb::RecordExported::TYPE {
        row.kind = "export";
        if let Ok(export) = pb::RecordExported::decode(content.payload.as_slice()) {
            row.what = format!("{} ({} records)", export.export_kind, export.record_count);
        }
    } else {
        return None;
    }
    Some(row)
}

const HEADER: [&str; 10] = [
    "sequence",
    "occurred_at",
    "kind",
    "actor",
    "actor_role",
    "organization",
    "purpose",
    "release",
    "fields_or_export",
    "emergency_access",
];

fn cells(row: &DisclosureRow) -> [String; 10] {
    [
        row.sequence.to_string(),
        row.occurred_at.clone(),
        row.kind.to_owned(),
        row.actor.clone(),
        row.actor_role.clone(),
        row.organization.clone(),
        row.purpose.clone(),
        if row.release_id.is_empty() { "none (program staff)".to_owned() } else { row.release_id.clone() },
        row.what.clone(),
        if row.break_glass { "yes" } else { "no" }.to_owned(),
    ]
}

/// RFC 4180 quoting, and a leading `'` on cells a spreadsheet would run as a formula.
fn csv_cell(value: &str) -> String {
    let value =
        if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.to_owned() };
    if value.contains([',', '"', '\n', '\r']) { format!("\"{}\"", value.replace('"', "\"\"")) } else { value }
}

pub fn render_csv(rows: &[DisclosureRow]) -> String {
    let mut out = HEADER.join(",");
    out.push_str("\r\n");
    for row in rows {
        let line: Vec<String> = cells(row).iter().map(|cell| csv_cell(cell)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

pub fn html_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for ch in value.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// A standalone page (no scripts, no external resources).
pub fn render_html(subject: &str, generated_at_micros: i64, rows: &[DisclosureRow]) -> String {
    let subject = html_escape(subject);
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <title>Disclosure report for {subject}</title>\n\
         <style>table{{border-collapse:collapse}}td,th{{border:1px solid #999;padding:2px 6px}}</style>\n\
         </head>\n<body>\n<h1>Disclosure report for {subject}</h1>\n\
         <p>Every read and export of this record in the audit log, generated {}. {} disclosures.</p>\n\
         <table>\n<thead><tr>",
        html_escape(&rfc3339(generated_at_micros)),
        rows.len()
    );
    for name in HEADER {
        out.push_str(&format!("<th>{}</th>", html_escape(name)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for cell in cells(row) {
            out.push_str(&format!("<td>{}</td>", html_escape(&cell)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::chain::EntryContent;

    fn access(sequence: u64, actor: &str, purpose: &str) -> Entry {
        let payload = pb::RecordAccessed {
            actor: actor.into(),
            actor_organization_id: "org_1".into(),
            break_glass: sequence == 2,
            ..Default::default()
        };
        Entry {
            sequence,
            content: EntryContent {
                event_type: "record.accessed".into(),
                actor: actor.into(),
                actor_role: "partner".into(),
                purpose: purpose.into(),
                release_id: "rel_1".into(),
                fields: vec!["personal.legal_first_name".into(), "personal.safe_contact".into()],
                occurred_at_micros: 1_700_000_000_000_000,
                payload: payload.encode_to_vec(),
                ..Default::default()
            },
            previous_hash: Vec::new(),
            entry_hash: Vec::new(),
        }
    }

    #[test]
    fn only_reads_and_exports_are_disclosures() {
        let mut other = access(1, "intake", "");
        other.content.event_type = "referral.received".into();
        assert_eq!(row(&other), None);
        let read = row(&access(2, "usr_p1", "service_delivery")).unwrap();
        assert_eq!((read.kind, read.organization.as_str(), read.break_glass), ("read", "org_1", true));
        assert_eq!(read.what, "personal.legal_first_name; personal.safe_contact");
        assert_eq!(read.occurred_at, "2023-11-14T22:13:20Z");
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let rows = [row(&access(1, "=HYPERLINK(\"x\")", "a,b")).unwrap()];
        let csv = render_csv(&rows);
        let line = csv.lines().nth(1).unwrap();
        assert!(line.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{line}");
        assert!(line.contains("\"a,b\""), "{line}");
        assert_eq!(csv.lines().count(), 2);
    }

    #[test]
    fn html_escapes_every_value() {
        let rows = [row(&access(1, "<script>alert('x')</script>", "\"&")).unwrap()];
        let html = render_html("yth_<b>", 0, &rows);
        assert!(!html.contains("<script>") && !html.contains("<b>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assert!(html.contains("&quot;&amp;"));
        assert!(html.contains("yth_&lt;b&gt;"));
    }
}
