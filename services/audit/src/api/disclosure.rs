//! `DisclosureReport`: the request checked, the report built and logged by
//! [`crate::app::disclosure`], the answer on the wire.

use wf_auth::Principal;
use wf_db::Db;
use wf_proto::audit::v1 as pb;
use wf_proto::common::v1::ReportFormat;
use wf_server::{ApiError, FieldViolation};
use wf_types::Clock;

use super::to_proto::{checkpoint_to_proto, micros_of};
use crate::app::disclosure::{self, Format, ReportRequest, Subject};

const MAX_ID_LEN: usize = 200;

pub async fn disclosure_report(
    db: &Db,
    clock: &dyn Clock,
    caller: &Principal,
    request: pb::DisclosureReportRequest,
) -> Result<pb::DisclosureReportResponse, ApiError> {
    use pb::disclosure_report_request::Subject as Wire;
    let mut violations = Vec::new();
    let subject = match &request.subject {
        Some(Wire::ReferralId(id)) if !id.is_empty() && id.len() <= MAX_ID_LEN => Some(Subject::Referral(id.clone())),
        Some(Wire::YouthId(id)) if !id.is_empty() && id.len() <= MAX_ID_LEN => Some(Subject::Youth(id.clone())),
        _ => {
            violations.push(FieldViolation::new("subject", "set referral_id or youth_id (at most 200 characters)"));
            None
        }
    };
    let format = match ReportFormat::try_from(request.format).unwrap_or(ReportFormat::Unspecified) {
        ReportFormat::Csv => Some(Format::Csv),
        ReportFormat::Html => Some(Format::Html),
        _ => {
            violations.push(FieldViolation::new("format", "must be REPORT_FORMAT_HTML or REPORT_FORMAT_CSV"));
            None
        }
    };
    // The purpose is kept forever in the log with the report: a code from the closed list, never text.
    let purpose = wf_types::Purpose::required(&request.purpose, "purpose", &mut violations);
    let occurred = request.occurred.as_ref();
    let bound = |at: Option<&prost_types::Timestamp>| at.map(|at| micros_of(Some(at)));
    let occurred_from_micros = bound(occurred.and_then(|range| range.start.as_ref()));
    let occurred_before_micros = bound(occurred.and_then(|range| range.end.as_ref()));
    let (Some(subject), Some(format), Some(purpose)) = (subject, format, purpose) else {
        return Err(ApiError::InvalidArgument(violations));
    };
    ApiError::check(violations)?;

    let purpose = purpose.code().to_owned();
    let request = ReportRequest { subject, format, purpose, occurred_from_micros, occurred_before_micros };
    let report = disclosure::disclosure_report(db, clock, caller, request).await?;
    Ok(pb::DisclosureReportResponse {
        content_type: report.content_type.to_owned(),
        content: report.content.into_bytes(),
        entry_count: report.rows as u64,
        checkpoint: report.checkpoint.as_ref().map(checkpoint_to_proto),
    })
}
