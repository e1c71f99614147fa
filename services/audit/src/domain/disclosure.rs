//! The disclosure report: every read (`record.accessed`), export (`record.exported`) and refused
//! attempt (`access.refused`) on one youth's or referral's records — who, in which role and
//! organization, when, which record, for what purpose, under which consent release, which fields,
//! and whether it was emergency access. What the program owes a survivor who asks. Rendered as CSV
//! or HTML; every value is escaped.
//!
//! A youth's records are found in the log itself ([`RecordLinks`]): the referrals that name the
//! youth (`referral.received`, `possible_match.confirmed`), the offers of those referrals to
//! partners (`offer.made`), the cases of those referrals or of the youth (`case.assigned`,
//! `case.reopened`, `case.linked`, `case.closed`, `case.awaiting_assignment`), and the notes of
//! those cases (`case_note.added`, which also says which notes are privileged). An entry belongs
//! to the report when the record its payload names is one of them — never by its correlation id
//! alone, which names the request that caused it (a matcher's read of one youth's record while
//! matching another youth's referral).

use std::collections::BTreeSet;

use prost::Message;
use wf_events::EventPayload;
use wf_proto::events::v1 as pb;

use super::chain::Entry;

/// Whose disclosures a report lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// One referral, with its cases and their notes.
    Referral(String),
    /// The youth record itself, every referral that names the youth, their cases and notes.
    Youth(String),
}

impl Subject {
    pub fn id(&self) -> &str {
        match self {
            Subject::Referral(id) | Subject::Youth(id) => id,
        }
    }
}

/// The entry types a report lists.
pub const DISCLOSURE_TYPES: [&str; 3] = [pb::RecordAccessed::TYPE, pb::RecordExported::TYPE, pb::AccessRefused::TYPE];

/// The entry types that tie records to a youth (read by [`RecordLinks::learn`]).
pub const LINK_TYPES: [&str; 9] = [
    pb::ReferralReceived::TYPE,
    pb::PossibleMatchConfirmed::TYPE,
    pb::OfferMade::TYPE,
    pb::CaseAssigned::TYPE,
    pb::CaseReopened::TYPE,
    pb::CaseLinked::TYPE,
    pb::CaseClosed::TYPE,
    pb::CaseAwaitingAssignment::TYPE,
    pb::CaseNoteAdded::TYPE,
];

/// Which records belong to which youth, as the log's events say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordLinks {
    /// (referral, youth).
    referral_youth: BTreeSet<(String, String)>,
    /// (retired provisional youth id, the youth it turned out to be).
    youth_alias: BTreeSet<(String, String)>,
    /// (offer, referral).
    offer_referral: BTreeSet<(String, String)>,
    /// (case, referral).
    case_referral: BTreeSet<(String, String)>,
    /// (case, youth).
    case_youth: BTreeSet<(String, String)>,
    /// (note, case).
    note_case: BTreeSet<(String, String)>,
    privileged_notes: BTreeSet<String>,
}

/// The records of one subject.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectRecords {
    /// Every record id: youth, referral, offer, case and note ids.
    pub ids: BTreeSet<String>,
    /// The referral ids among them (entries caused by a referral carry it as correlation id).
    pub referral_ids: BTreeSet<String>,
    /// The privileged notes among them.
    pub privileged_notes: BTreeSet<String>,
}

/// The payload as `M`, or `None` when it does not decode (nothing is learnt from it).
fn decoded<M: prost::Message + Default>(payload: &[u8]) -> Option<M> {
    M::decode(payload).ok()
}

fn pair(a: &str, b: &str) -> Option<(String, String)> {
    (!a.is_empty() && !b.is_empty()).then(|| (a.to_owned(), b.to_owned()))
}

impl RecordLinks {
    /// Takes in what `entry` says about whose records are whose (nothing, for other entries or an
    /// unreadable payload).
    pub fn learn(&mut self, entry: &Entry) {
        let content = &entry.content;
        let payload = content.payload.as_slice();
        match content.event_type.as_str() {
            pb::ReferralReceived::TYPE => {
                if let Some(e) = decoded::<pb::ReferralReceived>(payload) {
                    self.referral_youth.extend(pair(&e.referral_id, &e.youth_id));
                }
            }
            pb::PossibleMatchConfirmed::TYPE => {
                if let Some(e) = decoded::<pb::PossibleMatchConfirmed>(payload) {
                    self.referral_youth.extend(pair(&e.referral_id, &e.youth_id));
                    if e.previous_youth_id != e.youth_id {
                        self.youth_alias.extend(pair(&e.previous_youth_id, &e.youth_id));
                    }
                }
            }
            pb::OfferMade::TYPE => {
                if let Some(e) = decoded::<pb::OfferMade>(payload) {
                    self.offer_referral.extend(pair(&e.offer_id, &e.referral_id));
                }
            }
            pb::CaseAssigned::TYPE => {
                if let Some(e) = decoded::<pb::CaseAssigned>(payload) {
                    self.case(&e.case_id, &e.referral_id, &e.youth_id);
                }
            }
            pb::CaseReopened::TYPE => {
                if let Some(e) = decoded::<pb::CaseReopened>(payload) {
                    self.case(&e.case_id, &e.referral_id, &e.youth_id);
                }
            }
            pb::CaseLinked::TYPE => {
                if let Some(e) = decoded::<pb::CaseLinked>(payload) {
                    self.case(&e.case_id, &e.referral_id, &e.youth_id);
                    self.case_youth.extend(pair(&e.earlier_case_id, &e.youth_id));
                }
            }
            pb::CaseClosed::TYPE => {
                if let Some(e) = decoded::<pb::CaseClosed>(payload) {
                    self.case(&e.case_id, &e.referral_id, &e.youth_id);
                }
            }
            pb::CaseAwaitingAssignment::TYPE => {
                if let Some(e) = decoded::<pb::CaseAwaitingAssignment>(payload) {
                    self.case(&e.case_id, &e.referral_id, "");
                }
            }
            pb::CaseNoteAdded::TYPE => {
                if let Some(e) = decoded::<pb::CaseNoteAdded>(payload) {
                    self.note_case.extend(pair(&e.note_id, &e.case_id));
                    if e.privileged && !e.note_id.is_empty() {
                        self.privileged_notes.insert(e.note_id);
                    }
                }
            }
            _ => {}
        }
    }

    /// A case belongs to its referral and (when named) its youth.
    fn case(&mut self, case_id: &str, referral_id: &str, youth_id: &str) {
        self.case_referral.extend(pair(case_id, referral_id));
        self.case_youth.extend(pair(case_id, youth_id));
    }

    /// Every record of `subject`.
    pub fn records_of(&self, subject: &Subject) -> SubjectRecords {
        let mut youths = BTreeSet::new();
        let mut referrals = BTreeSet::new();
        match subject {
            Subject::Referral(referral) => {
                referrals.insert(referral.clone());
            }
            Subject::Youth(youth) => {
                youths.insert(youth.clone());
                // Provisional ids retired into this youth (possibly in a chain), to a fixed point.
                loop {
                    let retired: Vec<String> = self
                        .youth_alias
                        .iter()
                        .filter(|(old, new)| youths.contains(new) && !youths.contains(old))
                        .map(|(old, _)| old.clone())
                        .collect();
                    if retired.is_empty() {
                        break;
                    }
                    youths.extend(retired);
                }
                referrals
                    .extend(self.referral_youth.iter().filter(|(_, y)| youths.contains(y)).map(|(r, _)| r.clone()));
            }
        }
        let offers: BTreeSet<String> =
            self.offer_referral.iter().filter(|(_, r)| referrals.contains(r)).map(|(o, _)| o.clone()).collect();
        let mut cases: BTreeSet<String> =
            self.case_referral.iter().filter(|(_, r)| referrals.contains(r)).map(|(c, _)| c.clone()).collect();
        cases.extend(self.case_youth.iter().filter(|(_, y)| youths.contains(y)).map(|(c, _)| c.clone()));
        let notes: BTreeSet<String> =
            self.note_case.iter().filter(|(_, c)| cases.contains(c)).map(|(n, _)| n.clone()).collect();
        let privileged_notes = notes.intersection(&self.privileged_notes).cloned().collect();
        let mut ids = BTreeSet::new();
        ids.extend(youths);
        ids.extend(referrals.iter().cloned());
        ids.extend(offers);
        ids.extend(cases);
        ids.extend(notes);
        SubjectRecords { ids, referral_ids: referrals, privileged_notes }
    }
}

/// The record ids a disclosure entry's payload names; `None` for another entry type or an
/// unreadable payload.
fn records_named(entry: &Entry) -> Option<Vec<String>> {
    let content = &entry.content;
    let payload = content.payload.as_slice();
    let t = content.event_type.as_str();
    if t == pb::RecordAccessed::TYPE {
        pb::RecordAccessed::decode(payload).ok().map(|e| vec![e.record_id])
    } else if t == pb::AccessRefused::TYPE {
        pb::AccessRefused::decode(payload).ok().map(|e| vec![e.record_id])
    } else if t == pb::RecordExported::TYPE {
        pb::RecordExported::decode(payload).ok().map(|e| e.record_ids)
    } else {
        None
    }
}

/// Whether `entry` is a read, export or refused attempt on one of `records`: the record its
/// payload names is one of them; when the payload names none (or cannot be read), its aggregate is.
pub fn concerns(entry: &Entry, records: &SubjectRecords) -> bool {
    if !DISCLOSURE_TYPES.contains(&entry.content.event_type.as_str()) {
        return false;
    }
    let named: Vec<String> = records_named(entry).unwrap_or_default().into_iter().filter(|id| !id.is_empty()).collect();
    if named.is_empty() {
        records.ids.contains(&entry.content.aggregate_id)
    } else {
        named.iter().any(|id| records.ids.contains(id))
    }
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
    /// "read", "export" or "refused".
    pub kind: &'static str,
    pub actor: String,
    pub actor_role: String,
    pub organization: String,
    pub purpose: String,
    /// Empty for program staff (no release needed).
    pub release_id: String,
    /// Field paths read, for an export its kind, for a refusal the operation and why.
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
    "fields_or_export",
    "emergency_access",
];

fn cells(row: &DisclosureRow) -> [String; 11] {
    let release = if row.kind == "refused" {
        "none (refused)".to_owned()
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
         <p>Every read, export and refused attempt on these records in the audit log, generated {}. {} entries.</p>\n\
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

    fn entry<P: EventPayload>(sequence: u64, aggregate_id: &str, payload: &P) -> Entry {
        Entry {
            sequence,
            content: EntryContent {
                event_type: P::TYPE.into(),
                aggregate_id: aggregate_id.into(),
                occurred_at_micros: 1_700_000_000_000_000,
                payload: payload.encode_to_vec(),
                ..Default::default()
            },
            previous_hash: Vec::new(),
            entry_hash: Vec::new(),
        }
    }

    fn access(sequence: u64, actor: &str, purpose: &str) -> Entry {
        let payload = pb::RecordAccessed {
            actor: actor.into(),
            record_id: "ref_1".into(),
            actor_organization_id: "org_1".into(),
            break_glass: sequence == 2,
            ..Default::default()
        };
        let mut entry = entry(sequence, "ref_1", &payload);
        entry.content.actor = actor.into();
        entry.content.actor_role = "partner".into();
        entry.content.purpose = purpose.into();
        entry.content.release_id = "rel_1".into();
        entry.content.fields = vec!["personal.legal_first_name".into(), "personal.safe_contact".into()];
        entry
    }

    fn read_of(sequence: u64, record_id: &str) -> Entry {
        entry(sequence, record_id, &pb::RecordAccessed { record_id: record_id.into(), ..Default::default() })
    }

    fn refusal_of(sequence: u64, record_id: &str) -> Entry {
        let refused = pb::AccessRefused {
            actor: "usr_hot1".into(),
            actor_role: "hotline".into(),
            operation: "/wayfinder.intake.v1.IntakeService/GetReferral".into(),
            record_id: record_id.into(),
            reason: "out_of_scope".into(),
            suppressed_before: 3,
            ..Default::default()
        };
        let mut entry = entry(sequence, record_id, &refused);
        entry.content.actor = "usr_hot1".into();
        entry.content.actor_role = "hotline".into();
        entry
    }

    fn records(ids: &[&str]) -> SubjectRecords {
        SubjectRecords { ids: ids.iter().map(|id| (*id).to_owned()).collect(), ..Default::default() }
    }

    /// Two youths: yth_a (ref_a1, confirmed ref_a2 from provisional yth_p; case_a with notes) and
    /// yth_b (ref_b, case_b with a note).
    fn links() -> RecordLinks {
        let mut links = RecordLinks::default();
        let entries = [
            entry(
                1,
                "ref_a1",
                &pb::ReferralReceived { referral_id: "ref_a1".into(), youth_id: "yth_a".into(), ..Default::default() },
            ),
            entry(
                2,
                "ref_a2",
                &pb::ReferralReceived { referral_id: "ref_a2".into(), youth_id: "yth_p".into(), ..Default::default() },
            ),
            entry(
                3,
                "pm_1",
                &pb::PossibleMatchConfirmed {
                    referral_id: "ref_a2".into(),
                    youth_id: "yth_a".into(),
                    previous_youth_id: "yth_p".into(),
                    ..Default::default()
                },
            ),
            entry(
                4,
                "ref_b",
                &pb::ReferralReceived { referral_id: "ref_b".into(), youth_id: "yth_b".into(), ..Default::default() },
            ),
            entry(
                5,
                "case_a",
                &pb::CaseAssigned {
                    case_id: "case_a".into(),
                    referral_id: "ref_a1".into(),
                    youth_id: "yth_a".into(),
                    ..Default::default()
                },
            ),
            entry(
                6,
                "case_b",
                &pb::CaseAwaitingAssignment {
                    case_id: "case_b".into(),
                    referral_id: "ref_b".into(),
                    ..Default::default()
                },
            ),
            entry(
                7,
                "case_a",
                &pb::CaseNoteAdded {
                    note_id: "note_a1".into(),
                    case_id: "case_a".into(),
                    privileged: true,
                    ..Default::default()
                },
            ),
            entry(
                8,
                "case_a",
                &pb::CaseNoteAdded { note_id: "note_a2".into(), case_id: "case_a".into(), ..Default::default() },
            ),
            entry(
                9,
                "case_b",
                &pb::CaseNoteAdded {
                    note_id: "note_b1".into(),
                    case_id: "case_b".into(),
                    privileged: true,
                    ..Default::default()
                },
            ),
            // Other events teach nothing.
            entry(10, "ref_b", &pb::OfferMade::default()),
        ];
        for entry in &entries {
            links.learn(entry);
        }
        links
    }

    #[test]
    fn a_youth_owns_their_referrals_cases_and_notes_and_no_one_elses() {
        let links = links();
        let a = links.records_of(&Subject::Youth("yth_a".into()));
        let ids: Vec<&str> = a.ids.iter().map(String::as_str).collect();
        assert_eq!(ids, ["case_a", "note_a1", "note_a2", "ref_a1", "ref_a2", "yth_a", "yth_p"]);
        assert_eq!(a.referral_ids.iter().collect::<Vec<_>>(), ["ref_a1", "ref_a2"]);
        assert_eq!(a.privileged_notes.iter().collect::<Vec<_>>(), ["note_a1"]);

        let b = links.records_of(&Subject::Youth("yth_b".into()));
        let ids: Vec<&str> = b.ids.iter().map(String::as_str).collect();
        assert_eq!(ids, ["case_b", "note_b1", "ref_b", "yth_b"]);

        let referral = links.records_of(&Subject::Referral("ref_a1".into()));
        let ids: Vec<&str> = referral.ids.iter().map(String::as_str).collect();
        assert_eq!(ids, ["case_a", "note_a1", "note_a2", "ref_a1"]);

        let unknown = links.records_of(&Subject::Youth("yth_z".into()));
        assert_eq!(unknown.ids.iter().collect::<Vec<_>>(), ["yth_z"]);
    }

    fn offer_made(sequence: u64, offer_id: &str, referral_id: &str) -> Entry {
        // As routing sends it: the referral is the aggregate, the offer only in the payload.
        let made = pb::OfferMade { offer_id: offer_id.into(), referral_id: referral_id.into(), ..Default::default() };
        entry(sequence, referral_id, &made)
    }

    #[test]
    fn the_offers_of_a_youths_referrals_are_theirs_and_no_one_elses() {
        let mut links = links();
        // ref_a2 is youth a's through the confirmed match of provisional yth_p.
        links.learn(&offer_made(11, "off_a2", "ref_a2"));
        links.learn(&offer_made(12, "off_b", "ref_b"));
        // An offer of a referral the log does not tie to anyone belongs to no youth.
        links.learn(&offer_made(13, "off_z", "ref_z"));

        let a = links.records_of(&Subject::Youth("yth_a".into()));
        let ids: Vec<&str> = a.ids.iter().map(String::as_str).collect();
        assert_eq!(ids, ["case_a", "note_a1", "note_a2", "off_a2", "ref_a1", "ref_a2", "yth_a", "yth_p"]);
        assert_eq!(a.referral_ids.iter().collect::<Vec<_>>(), ["ref_a1", "ref_a2"], "an offer is no referral");
        // A partner's refused reach for the offer, and a read of it, are youth a's disclosures.
        let mut refused = refusal_of(14, "off_a2");
        refused.content.correlation_id = "off_a2".into();
        assert!(concerns(&refused, &a));
        assert_eq!(row(&refused, &a).unwrap().record, "off_a2");
        assert!(concerns(&read_of(15, "off_a2"), &a));
        assert!(!concerns(&read_of(16, "off_b"), &a));
        assert!(!concerns(&refusal_of(17, "off_z"), &a));

        let b = links.records_of(&Subject::Youth("yth_b".into()));
        let ids: Vec<&str> = b.ids.iter().map(String::as_str).collect();
        assert_eq!(ids, ["case_b", "note_b1", "off_b", "ref_b", "yth_b"]);
        assert!(concerns(&refusal_of(18, "off_b"), &b));

        let referral = links.records_of(&Subject::Referral("ref_a2".into()));
        let ids: Vec<&str> = referral.ids.iter().map(String::as_str).collect();
        assert_eq!(ids, ["off_a2", "ref_a2"]);
        assert!(LINK_TYPES.contains(&pb::OfferMade::TYPE), "the report reads offer.made from the log");
    }

    #[test]
    fn an_entry_concerns_the_subject_whose_record_its_payload_names() {
        let a = links().records_of(&Subject::Youth("yth_a".into()));
        assert!(concerns(&read_of(1, "ref_a1"), &a));
        assert!(concerns(&read_of(2, "case_a"), &a));
        assert!(concerns(&read_of(3, "note_a1"), &a));
        assert!(concerns(&refusal_of(4, "ref_a2"), &a));
        assert!(!concerns(&read_of(5, "ref_b"), &a));
        assert!(!concerns(&read_of(6, "note_b1"), &a));
        // A matcher's read of youth b's referral, caused by youth a's referral (its correlation):
        // youth b's disclosure, not youth a's.
        let mut matching = read_of(7, "ref_b");
        matching.content.correlation_id = "ref_a1".into();
        assert!(!concerns(&matching, &a));
        // The payload names no record: the aggregate decides.
        let mut unnamed = read_of(8, "");
        unnamed.content.aggregate_id = "case_a".into();
        assert!(concerns(&unnamed, &a));
        // An export of several youths' records concerns each of them.
        let export = entry(
            9,
            "exp_1",
            &pb::RecordExported { record_ids: vec!["ref_b".into(), "ref_a2".into()], ..Default::default() },
        );
        assert!(concerns(&export, &a));
        // Only reads, exports and refusals.
        assert!(!concerns(
            &entry(10, "ref_a1", &pb::ReferralTriaged { referral_id: "ref_a1".into(), ..Default::default() }),
            &a
        ));
    }

    #[test]
    fn reads_exports_and_refusals_are_disclosures() {
        let mut other = access(1, "intake", "");
        other.content.event_type = "referral.received".into();
        let subject = records(&["ref_1"]);
        assert_eq!(row(&other, &subject), None);
        let read = row(&access(2, "usr_p1", "service_delivery"), &subject).unwrap();
        assert_eq!((read.kind, read.organization.as_str(), read.break_glass), ("read", "org_1", true));
        assert_eq!(read.record, "ref_1");
        assert_eq!(read.what, "personal.legal_first_name; personal.safe_contact");
        assert_eq!(read.occurred_at, "2023-11-14T22:13:20Z");

        let refused = row(&refusal_of(3, "ref_1"), &subject).unwrap();
        assert_eq!(
            (refused.kind, refused.actor.as_str(), refused.actor_role.as_str()),
            ("refused", "usr_hot1", "hotline")
        );
        assert_eq!(refused.record, "ref_1");
        assert_eq!(
            refused.what,
            "/wayfinder.intake.v1.IntakeService/GetReferral refused: out_of_scope (after 3 refusals not recorded)"
        );
        let csv = render_csv(&[refused]);
        assert!(csv.contains(",ref_1,refused,usr_hot1,hotline,,,none (refused),"), "{csv}");

        let export = entry(
            4,
            "exp_1",
            &pb::RecordExported {
                export_kind: "hmis_csv".into(),
                record_ids: vec!["ref_9".into(), "ref_1".into()],
                record_count: 2,
                ..Default::default()
            },
        );
        let export = row(&export, &subject).unwrap();
        assert_eq!(
            (export.kind, export.record.as_str(), export.what.as_str()),
            ("export", "ref_1", "hmis_csv (2 records)")
        );
    }

    #[test]
    fn privileged_notes_are_marked_as_such() {
        let a = links().records_of(&Subject::Youth("yth_a".into()));
        assert_eq!(row(&read_of(1, "note_a1"), &a).unwrap().record, "note_a1 (privileged note)");
        assert_eq!(row(&read_of(2, "note_a2"), &a).unwrap().record, "note_a2");
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let rows = [row(&access(1, "=HYPERLINK(\"x\")", "a,b"), &records(&["ref_1"])).unwrap()];
        let csv = render_csv(&rows);
        let line = csv.lines().nth(1).unwrap();
        assert!(line.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{line}");
        assert!(line.contains("\"a,b\""), "{line}");
        assert_eq!(csv.lines().count(), 2);
    }

    #[test]
    fn html_escapes_every_value() {
        let rows = [row(&access(1, "<script>alert('x')</script>", "\"&"), &records(&["ref_1"])).unwrap()];
        let html = render_html("yth_<b>", 0, &rows);
        assert!(!html.contains("<script>") && !html.contains("<b>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assert!(html.contains("&quot;&amp;"));
        assert!(html.contains("yth_&lt;b&gt;"));
    }
}
