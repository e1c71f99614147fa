//! The disclosure report: who saw or changed one youth's or referral's records — every read
//! (`record.accessed`), export (`record.exported`), refused attempt (`access.refused`) and change
//! (the events that change a referral, its offers, a case or its notes, [`super::changes`]): who, in
//! which role and organization, when, which record, for what purpose, under which consent release,
//! which fields or what changed, and whether it was emergency access. What the program owes a
//! survivor who asks. Rendered as CSV or HTML; every value is escaped.
//!
//! The subject's records are the ones the log ties to them ([`RecordLinks`], across every referral
//! of the youth, including one joined by a confirmed match after it was read), and an entry belongs
//! to the report when a record its payload names is one of them ([`SubjectRecords::named_by`]) —
//! never by its correlation id alone.

use prost::Message;
use wf_events::EventPayload;
use wf_proto::events::v1 as pb;

use super::chain::Entry;
use super::changes::{CHANGE_TYPES, change_of};
pub use super::records::{LINK_TYPES, RecordLinks, Subject, SubjectRecords};

/// The entry types that are reads, exports and refusals.
pub const DISCLOSURE_TYPES: [&str; 3] = [pb::RecordAccessed::TYPE, pb::RecordExported::TYPE, pb::AccessRefused::TYPE];

/// Every entry type a report lists: reads, exports and refusals, and changes.
pub fn report_types() -> impl Iterator<Item = &'static str> {
    DISCLOSURE_TYPES.into_iter().chain(CHANGE_TYPES)
}

/// Whether `entry` is a read, export, refused attempt or change of one of `records`: a record its
/// payload names is one of them (when the payload names none, or cannot be read, its aggregate).
pub fn concerns(entry: &Entry, records: &SubjectRecords) -> bool {
    let t = entry.content.event_type.as_str();
    let listed = DISCLOSURE_TYPES.contains(&t) || (CHANGE_TYPES.contains(&t) && change_of(entry).is_some());
    listed && records.named_by(entry)
}

/// One disclosure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisclosureRow {
    pub sequence: u64,
    /// RFC 3339, UTC.
    pub occurred_at: String,
    /// The record read or asked for ("ref_…", "yth_…", "off_…", "case_…", "note_…"), marked when it is a
    /// privileged note; for an export, the subject's records it included.
    pub record: String,
    /// "read", "export", "refused" or "change".
    pub kind: &'static str,
    /// The person or service responsible (for a change, the service that recorded it unless the
    /// event names the person).
    pub actor: String,
    pub actor_role: String,
    pub organization: String,
    pub purpose: String,
    /// Empty for program staff (no release needed) and for changes.
    pub release_id: String,
    /// Field paths read, for an export its kind, for a refusal the operation and why, for a change
    /// the event type and its codes.
    pub what: String,
    pub break_glass: bool,
}

fn rfc3339(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// `id`, marked when it is one of the subject's privileged notes.
fn record_label(id: &str, records: &SubjectRecords) -> String {
    if records.privileged_notes.contains(id) { format!("{id} (privileged note)") } else { id.to_owned() }
}

/// The row for an access, export or refusal entry; `None` for any other entry.
pub fn row(entry: &Entry, records: &SubjectRecords) -> Option<DisclosureRow> {
    let content = &entry.content;
    let mut row = DisclosureRow {
        sequence: entry.sequence,
        occurred_at: rfc3339(content.occurred_at_micros),
        record: content.aggregate_id.clone(),
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
        // The entry's own columns were taken from this payload; it adds the record, organization
        // and emergency access. An unreadable payload leaves those out rather than hiding the read.
        if let Ok(access) = pb::RecordAccessed::decode(content.payload.as_slice()) {
            if !access.record_id.is_empty() {
                row.record = access.record_id;
            }
            row.organization = access.actor_organization_id;
            row.break_glass = access.break_glass;
        }
    } else if content.event_type == pb::RecordExported::TYPE {
        row.kind = "export";
        if let Ok(export) = pb::RecordExported::decode(content.payload.as_slice()) {
            row.what = format!("{} ({} records)", export.export_kind, export.record_count);
            // Only the subject's own records: an export of many youth names no one else here.
            let own: Vec<&String> = export.record_ids.iter().filter(|id| records.ids.contains(*id)).collect();
            if !own.is_empty() {
                row.record = own.iter().map(|id| record_label(id, records)).collect::<Vec<_>>().join("; ");
            }
        }
    } else if content.event_type == pb::AccessRefused::TYPE {
        row.kind = "refused";
        row.purpose.clear();
        row.release_id.clear();
        if let Ok(refused) = pb::AccessRefused::decode(content.payload.as_slice()) {
            if !refused.record_id.is_empty() {
                row.record = refused.record_id;
            }
            row.organization = refused.actor_organization_id;
            row.what = format!("{} refused: {}", refused.operation, refused.reason);
            if refused.suppressed_before > 0 {
                row.what.push_str(&format!(" (after {} refusals not recorded)", refused.suppressed_before));
            }
        }
    } else if let Some(change) = change_of(entry) {
        row.kind = "change";
        row.record = change.record;
        row.purpose.clear();
        row.release_id.clear();
        row.organization = change.organization;
        row.what = change.what;
        if let Some(by) = change.by {
            // A person the event names; their role is not on the event.
            row.actor = by;
            row.actor_role.clear();
        }
    } else {
        return None;
    }
    if row.kind != "export" {
        row.record = record_label(&row.record, records);
    }
    Some(row)
}

const HEADER: [&str; 11] = [
    "sequence",
    "occurred_at",
    "record",
    "kind",
    "actor",
    "actor_role",
    "organization",
    "purpose",
    "release",
    "what",
    "emergency_access",
];

fn cells(row: &DisclosureRow) -> [String; 11] {
    let release = if row.kind == "refused" {
        "none (refused)".to_owned()
    } else if row.kind == "change" {
        // A change discloses nothing to anyone; a release governs reads only.
        "n/a (change)".to_owned()
    } else if row.release_id.is_empty() {
        // Partners and hotlines read personal details only under a release; without one they read
        // coded facts (an offer, the status of their own submission).
        match row.actor_role.as_str() {
            "partner" | "hotline" => "none (no personal details)",
            "service" => "none (Wayfinder service)",
            _ => "none (program staff)",
        }
        .to_owned()
    } else {
        row.release_id.clone()
    };
    [
        row.sequence.to_string(),
        row.occurred_at.clone(),
        row.record.clone(),
        row.kind.to_owned(),
        row.actor.clone(),
        row.actor_role.clone(),
        row.organization.clone(),
        row.purpose.clone(),
        release,
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
         <p>Every read, export, refused attempt and change of these records in the audit log, generated {}. {} entries. \
         A change names the person who made it where the event records one, otherwise the service that recorded \
         it.</p>\n\
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
mod tests;
