//! Running an analysis, and the data completeness summary, over the data set a scope selects.

use wf_db::Db;
use wf_proto::evaluation::v1::AnalysisKind;
use wf_server::ApiError;

use super::dataset::{self, Computed};
use crate::domain::analysis::completeness::{self, Completeness};
use crate::domain::catalog;
use crate::domain::scope::ScopeSpec;
use crate::domain::table::Output;

/// The tables of one analysis kind; None for a kind not built yet.
pub async fn run(db: &Db, kind: AnalysisKind, scope: &ScopeSpec) -> Result<Option<Computed<Output>>, ApiError> {
    let group_by = scope.group_by.clone();
    let computed = dataset::compute(db, scope, move |rows, operations| {
        catalog::analysis(kind, rows, operations, group_by.as_deref())
    })
    .await?;
    Ok(computed.transpose())
}

/// How complete the data is, per field and for assessments, follow-ups and cases.
pub async fn completeness(db: &Db, scope: &ScopeSpec) -> Result<Completeness, ApiError> {
    let group_by = scope.group_by.clone();
    let computed =
        dataset::compute(db, scope, move |rows, _| completeness::completeness(rows, group_by.as_deref())).await?;
    Ok(computed.value)
}
