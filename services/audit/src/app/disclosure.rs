//! Disclosure reports: every read, export, refused attempt and change of one referral's or youth's
//! records (the referrals, offers, cases and notes the log ties to them, see
//! [`crate::domain::records::RecordLinks`]), as CSV or HTML. The report is itself a disclosure
//! of who looked at the record, so it is logged: a `record.exported` entry (kind
//! `disclosure_report`) naming the auditor is appended after it is built (it does not list itself).

use wf_auth::Principal;
use wf_db::Db;
use wf_events::Envelope;
use wf_proto::events::v1 as events;
use wf_server::ApiError;
use wf_types::Clock;

use super::append::append;
use super::records;
use crate::domain::checkpoint::Checkpoint;
use crate::domain::disclosure::{self, DisclosureRow};
use crate::domain::entry;
use crate::domain::query::{EntryFilter, TypePattern};
use crate::store::checkpoints;

pub use crate::domain::disclosure::Subject;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Html,
}

/// A validated report request.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    pub subject: Subject,
    pub format: Format,
    /// Why the report is made (it is logged with the report).
    pub purpose: String,
    pub occurred_from_micros: Option<i64>,
    pub occurred_before_micros: Option<i64>,
}

/// A report as produced, with the first checkpoint covering its last entry (if one is signed).
#[derive(Debug, Clone)]
pub struct Report {
    pub content_type: &'static str,
    pub content: String,
    pub rows: usize,
    pub checkpoint: Option<Checkpoint>,
}

/// Builds the report `caller` asked for and logs that they did, at the clock's now.
pub async fn disclosure_report(
    db: &Db,
    clock: &dyn Clock,
    caller: &Principal,
    request: ReportRequest,
) -> Result<Report, ApiError> {
    let records = records_of(db, &request.subject).await?;
    let listed = EntryFilter {
        types: disclosure::report_types().map(|t| TypePattern::Exact(t.to_owned())).collect(),
        occurred_from_micros: request.occurred_from_micros,
        occurred_before_micros: request.occurred_before_micros,
        from_sequence: 1,
        ..EntryFilter::default()
    };
    let mut found = records::entries_about(db, &listed, &records, usize::MAX).await?;
    found.retain(|entry| disclosure::concerns(entry, &records));
    let last_sequence = found.last().map_or(0, |entry| entry.sequence);
    let rows: Vec<DisclosureRow> = found.iter().filter_map(|entry| disclosure::row(entry, &records)).collect();
    let checkpoint = checkpoints::at_or_above(db, last_sequence.max(1)).await?;

    let now = clock.now();
    let subject = request.subject.id().to_owned();
    let (content_type, content) = match request.format {
        Format::Csv => ("text/csv; charset=utf-8", disclosure::render_csv(&rows)),
        Format::Html => ("text/html; charset=utf-8", disclosure::render_html(&subject, now.timestamp_micros(), &rows)),
    };

    let record = events::RecordExported {
        actor: caller.subject.clone(),
        actor_role: caller.role.as_str().to_owned(),
        export_kind: "disclosure_report".to_owned(),
        record_ids: vec![subject.clone()],
        purpose: request.purpose,
        release_id: String::new(),
        at: Some(wf_proto::time::timestamp(now)),
        record_count: i64::try_from(rows.len()).unwrap_or(i64::MAX),
    };
    let referral_id = match &request.subject {
        Subject::Referral(id) => id.clone(),
        Subject::Youth(_) => String::new(),
    };
    let mut envelope = Envelope::new(crate::SERVICE, subject, referral_id, &record);
    envelope.occurred_at = now;
    let logged = entry::content_from(&envelope, 0).map_err(ApiError::internal)?;
    append(db, clock, logged).await?;
    tracing::info!(caller = %caller.subject, rows = rows.len(), "disclosure report produced");

    Ok(Report { content_type, content, rows: rows.len(), checkpoint })
}

pub use super::records::records_of;
