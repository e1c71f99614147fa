//! `DisclosureReport`: every read and export of one referral's or youth's data, as CSV or HTML.
//! The report is itself a disclosure of who looked at the record, so it is logged: a
//! `record.exported` entry (kind `disclosure_report`) naming the auditor is appended after it is
//! built (it does not list itself).

use prost::Message;
use tonic::Status;
use wf_auth::Principal;
use wf_db::Db;
use wf_events::Envelope;
use wf_events::EventPayload;
use wf_proto::audit::v1 as pb;
use wf_proto::common::v1::ReportFormat;
use wf_proto::events::v1 as events;
use wf_server::{ApiError, FieldViolation};

use crate::domain::chain::Entry;
use crate::domain::disclosure::{self, DisclosureRow};
use crate::domain::entry;
use crate::domain::query::{EntryFilter, TypePattern};
use crate::events::append;
use crate::{checkpoint_store, store};

const PAGE: u32 = 1000;
const MAX_ID_LEN: usize = 200;

fn violation(field: &str, message: &str) -> FieldViolation {
    FieldViolation::new(field, message)
}

pub async fn disclosure_report(
    db: &Db,
    caller: &Principal,
    request: pb::DisclosureReportRequest,
) -> Result<pb::DisclosureReportResponse, Status> {
    use pb::disclosure_report_request::Subject;
    let mut violations = Vec::new();
    let (subject, referral_id, youth_id): (String, Option<String>, Option<String>) = match &request.subject {
        Some(Subject::ReferralId(id)) if !id.is_empty() && id.len() <= MAX_ID_LEN => {
            (id.clone(), Some(id.clone()), None)
        }
        Some(Subject::YouthId(id)) if !id.is_empty() && id.len() <= MAX_ID_LEN => (id.clone(), None, Some(id.clone())),
        _ => {
            violations.push(violation("subject", "set referral_id or youth_id (at most 200 characters)"));
            (String::new(), None, None)
        }
    };
    let format = ReportFormat::try_from(request.format).unwrap_or(ReportFormat::Unspecified);
    if !matches!(format, ReportFormat::Html | ReportFormat::Csv) {
        violations.push(violation("format", "must be REPORT_FORMAT_HTML or REPORT_FORMAT_CSV"));
    }
    if request.purpose.trim().is_empty() || request.purpose.len() > MAX_ID_LEN {
        violations.push(violation("purpose", "is required: the purpose code of this report (it is logged)"));
    }
    let occurred = request.occurred.as_ref();
    let bound = |at: Option<&prost_types::Timestamp>| at.map(|at| super::micros_of(Some(at)));
    let occurred_from_micros = bound(occurred.and_then(|range| range.start.as_ref()));
    let occurred_before_micros = bound(occurred.and_then(|range| range.end.as_ref()));
    if !violations.is_empty() {
        return Err(ApiError::InvalidArgument(violations).into());
    }

    let disclosures = EntryFilter {
        correlation_id: None,
        aggregate_id: None,
        actor: None,
        types: vec![
            TypePattern::Exact(events::RecordAccessed::TYPE.to_owned()),
            TypePattern::Exact(events::RecordExported::TYPE.to_owned()),
        ],
        occurred_from_micros,
        occurred_before_micros,
        from_sequence: 1,
        youth: None,
    };
    // A youth's data is read through their referrals: find those from `referral.received`,
    // which names the youth, then take reads of each referral and of the youth record itself.
    let filters: Vec<EntryFilter> = match (&referral_id, &youth_id) {
        (Some(referral), _) => vec![EntryFilter { correlation_id: Some(referral.clone()), ..disclosures }],
        (None, Some(youth)) => {
            let mut filters = vec![EntryFilter { aggregate_id: Some(youth.clone()), ..disclosures.clone() }];
            for referral in referrals_of(db, youth).await? {
                filters.push(EntryFilter { correlation_id: Some(referral), ..disclosures.clone() });
            }
            filters
        }
        (None, None) => Vec::new(),
    };
    let mut entries = Vec::new();
    for filter in filters {
        entries.extend(all_entries(db, filter).await?);
    }
    entries.sort_by_key(|entry| entry.sequence);
    entries.dedup_by_key(|entry| entry.sequence);
    let last_sequence = entries.last().map_or(0, |entry| entry.sequence);
    let rows: Vec<DisclosureRow> = entries.iter().filter_map(disclosure::row).collect();
    let checkpoint = checkpoint_store::at_or_above(db, last_sequence.max(1)).await.map_err(ApiError::from)?;

    let (content_type, content) = match format {
        ReportFormat::Csv => ("text/csv; charset=utf-8", disclosure::render_csv(&rows)),
        _ => ("text/html; charset=utf-8", disclosure::render_html(&subject, wf_db::now_micros(), &rows)),
    };

    let record = events::RecordExported {
        actor: caller.subject.clone(),
        actor_role: caller.role.as_str().to_owned(),
        export_kind: "disclosure_report".to_owned(),
        record_ids: vec![subject.clone()],
        purpose: request.purpose.clone(),
        release_id: String::new(),
        at: Some(wf_proto::time::timestamp(chrono::Utc::now())),
        record_count: i64::try_from(rows.len()).unwrap_or(i64::MAX),
    };
    let envelope = Envelope::new(crate::SERVICE_NAME, subject.clone(), referral_id.unwrap_or_default(), &record);
    let content_of_entry = entry::content_from(&envelope, 0).map_err(|err| ApiError::Internal(err.into()))?;
    append(db, content_of_entry).await.map_err(ApiError::from)?;
    tracing::info!(caller = %caller.subject, rows = rows.len(), "disclosure report produced");

    Ok(pb::DisclosureReportResponse {
        content_type: content_type.to_owned(),
        content: content.into_bytes(),
        entry_count: rows.len() as u64,
        checkpoint: checkpoint.as_ref().map(super::checkpoint_to_proto),
    })
}

/// Every entry matching `filter`, page by page.
async fn all_entries(db: &Db, mut filter: EntryFilter) -> Result<Vec<Entry>, Status> {
    let mut entries = Vec::new();
    loop {
        let page = store::list_entries(db, &filter, PAGE, false).await.map_err(ApiError::from)?;
        let full = page.len() == PAGE as usize;
        if let Some(last) = page.last() {
            filter.from_sequence = last.sequence + 1;
        }
        entries.extend(page);
        if !full {
            return Ok(entries);
        }
    }
}

/// Referral ids whose `referral.received` names `youth_id`.
pub(super) async fn referrals_of(db: &Db, youth_id: &str) -> Result<Vec<String>, Status> {
    let received = EntryFilter {
        correlation_id: None,
        aggregate_id: None,
        actor: None,
        types: vec![TypePattern::Exact(events::ReferralReceived::TYPE.to_owned())],
        occurred_from_micros: None,
        occurred_before_micros: None,
        from_sequence: 1,
        youth: None,
    };
    let mut referrals: Vec<String> = all_entries(db, received)
        .await?
        .iter()
        .filter_map(|entry| events::ReferralReceived::decode(entry.content.payload.as_slice()).ok())
        .filter(|received| received.youth_id == youth_id && !received.referral_id.is_empty())
        .map(|received| received.referral_id)
        .collect();
    referrals.sort();
    referrals.dedup();
    Ok(referrals)
}
