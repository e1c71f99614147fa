//! Between the API and the pure domain: which data set a request sees, and which analyses each
//! analysis kind and report kind runs.
//!
//! Program data and the synthetic demonstration cohort are never mixed: a request sees the
//! program data set, or — when it asks for it, or when the program data set is empty and a
//! synthetic cohort was seeded — the synthetic cohort alone, marked as such.

use wf_db::Db;
use wf_proto::evaluation::v1::{AnalysisKind, ReportKind};
use wf_server::ApiError;

use crate::domain::analysis::{
    self, baseline, combinations, competing, completeness, deadlines, engagement, enrollment, landmark, long_term,
    missing, responsiveness, retention, survival,
};
use crate::domain::dataset::{self, MAPPING_VERSION, YouthRow};
use crate::domain::operations::{self, Operations};
use crate::domain::synthetic;
use crate::domain::table::Output;
use crate::store;

pub const PROGRAM: &str = "program";
pub const SYNTHETIC: &str = "synthetic";

/// A validated scope.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeSpec {
    /// Site codes; empty = all.
    pub sites: Vec<String>,
    pub referred: (Option<i64>, Option<i64>),
    pub as_of: i64,
    pub group_by: Option<String>,
    pub synthetic: bool,
}

/// The rows a request sees.
#[derive(Debug, Clone)]
pub struct Selected {
    pub rows: Vec<YouthRow>,
    pub version: String,
    pub synthetic: bool,
    /// Referral and offer facts for the operations analyses; None for the synthetic cohort, which
    /// has no routing events.
    pub operations: Option<Operations>,
}

/// The version of the program data set given its events: mapping version, event count and the
/// last event's sequence — the same events give the same version.
fn program_version(events: &[dataset::StoredEvent]) -> String {
    let last = events.iter().map(|e| e.seq).max().unwrap_or(0);
    format!("program-{MAPPING_VERSION}-{}-{last}", events.len())
}

impl Selected {
    /// Runs `compute` on the selected rows and operations facts off the async workers (bootstraps
    /// and model fits are CPU work); the rows and facts move into it.
    pub async fn off_workers<T, F>(&mut self, compute: F) -> Result<T, ApiError>
    where
        F: FnOnce(&[YouthRow], Option<&Operations>) -> T + Send + 'static,
        T: Send + 'static,
    {
        let rows = std::mem::take(&mut self.rows);
        let operations = self.operations.take();
        tokio::task::spawn_blocking(move || compute(&rows, operations.as_ref())).await.map_err(ApiError::internal)
    }
}

pub async fn select(db: &Db, scope: &ScopeSpec) -> Result<Selected, ApiError> {
    let program_youth = store::program_youth(db).await?;
    let synthetic = match store::dataset_info(db, SYNTHETIC).await? {
        Some(info) if scope.synthetic || program_youth == 0 => Some(info),
        None if scope.synthetic => {
            return Err(ApiError::FailedPrecondition(
                "scope.synthetic: no synthetic cohort has been seeded; seed one with SeedSyntheticCohort".into(),
            ));
        }
        _ => None,
    };
    let mut selected = match synthetic {
        Some(info) => Selected {
            rows: store::rows(db, SYNTHETIC).await?,
            version: info.version,
            synthetic: true,
            operations: None,
        },
        None => {
            let events = store::events(db).await?;
            let ids = store::study_ids(db).await?;
            let built = dataset::build_scoped(&events, &ids, scope.as_of, scope.referred);
            if built.undecodable > 0 || built.without_study_id > 0 {
                tracing::warn!(
                    undecodable = built.undecodable,
                    without_study_id = built.without_study_id,
                    "events left out of the analytic data set"
                );
            }
            let (folded, undecodable) = operations::fold(&events, scope.as_of);
            if undecodable > 0 {
                tracing::warn!(undecodable, "events left out of the operations facts");
            }
            Selected {
                rows: built.rows,
                version: program_version(&events),
                synthetic: false,
                operations: Some(folded.scoped(&scope.sites, scope.referred)),
            }
        }
    };
    if !scope.sites.is_empty() {
        selected.rows.retain(|row| scope.sites.contains(&row.site));
    }
    Ok(selected)
}

/// Refolds the program data set from every stored event and stores the snapshot.
pub async fn rebuild(db: &Db) -> Result<(String, i64), ApiError> {
    let events = store::events(db).await?;
    let mut tx = db.begin().await?;
    for youth in dataset::youth_ids_in(&events) {
        store::ensure_study_id(&mut tx, &youth).await?;
    }
    tx.commit().await?;
    let ids = store::study_ids(db).await?;
    let built = dataset::build(&events, &ids, wf_db::now_micros());
    let version = program_version(&events);
    let last = events.iter().map(|e| e.seq).max().unwrap_or(0);
    let mut tx = db.begin().await?;
    store::replace_dataset(&mut tx, PROGRAM, &built.rows, &version, events.len() as i64, last).await?;
    tx.commit().await?;
    tracing::info!(dataset.version = %version, youth = built.rows.len(), "analytic data set rebuilt");
    Ok((version, built.rows.len() as i64))
}

/// Seeds the synthetic cohort; refused once program data exists, so the two never mix.
pub async fn seed_synthetic(db: &Db, size: usize, seed: u64) -> Result<(String, i64), ApiError> {
    if store::program_youth(db).await? > 0 {
        return Err(ApiError::FailedPrecondition(
            "the program data set has youth: a synthetic cohort is only seeded into an evaluation store without \
             program data (a demo data folder)"
                .into(),
        ));
    }
    let rows = synthetic::cohort(size, seed);
    let version = format!("synthetic-{MAPPING_VERSION}-{size}-{seed}");
    let mut tx = db.begin().await?;
    store::replace_dataset(&mut tx, SYNTHETIC, &rows, &version, 0, 0).await?;
    tx.commit().await?;
    tracing::info!(dataset.version = %version, youth = rows.len(), "synthetic cohort seeded");
    Ok((version, rows.len() as i64))
}

/// The operations analyses need referral and offer events; the synthetic cohort has none.
fn with_operations(operations: Option<&Operations>, name: &str, analyse: impl Fn(&Operations) -> Output) -> Output {
    match operations {
        Some(operations) => analyse(operations),
        None => Output {
            tables: vec![analysis::insufficient(
                name,
                "Operations",
                "the synthetic cohort has no referral, offer or case events: operations analyses need program data",
            )],
            charts: Vec::new(),
        },
    }
}

fn deadline_compliance(operations: Option<&Operations>, group_by: Option<&str>) -> Output {
    with_operations(operations, "deadline_compliance", |o| deadlines::deadline_compliance(o, group_by))
}

fn partner_responsiveness(operations: Option<&Operations>) -> Output {
    with_operations(operations, "partner_offer_outcomes", responsiveness::partner_responsiveness)
}

/// The analyses of one analysis kind; None for a kind not built yet.
pub fn analysis(
    kind: AnalysisKind,
    rows: &[YouthRow],
    operations: Option<&Operations>,
    group_by: Option<&str>,
) -> Option<Output> {
    Some(match kind {
        AnalysisKind::RecidivismSurvival => survival::recidivism_survival(rows, group_by),
        AnalysisKind::RecidivismCompetingRisks => competing::competing_risks(rows),
        AnalysisKind::InterventionCombinations => {
            let mut output = combinations::intervention_combinations(rows);
            output.extend(landmark::landmark(rows));
            output
        }
        AnalysisKind::FollowUpRetention => retention::follow_up_retention(rows),
        AnalysisKind::EnrollmentProgress => enrollment::enrollment_progress(rows),
        AnalysisKind::EngagementByApproach => engagement::engagement_by_approach(rows),
        AnalysisKind::MissingEpisodes => missing::missing_episodes(rows, group_by),
        AnalysisKind::LongTermDomains => long_term::long_term_domains(rows),
        AnalysisKind::DeadlineCompliance => deadline_compliance(operations, group_by),
        AnalysisKind::PartnerResponsiveness => partner_responsiveness(operations),
        _ => return None,
    })
}

/// The content of one report kind; None for a kind not built yet.
pub fn report(
    kind: ReportKind,
    rows: &[YouthRow],
    operations: Option<&Operations>,
    group_by: Option<&str>,
) -> Option<(String, Output)> {
    Some(match kind {
        ReportKind::Baseline => {
            let mut output = baseline::baseline(rows, group_by);
            output.extend(enrollment::enrollment_progress(rows));
            output.extend(engagement::engagement_by_approach(rows));
            ("Baseline: who was referred".to_owned(), output)
        }
        ReportKind::Outcome => {
            let mut output = survival::recidivism_survival(rows, group_by);
            output.extend(competing::competing_risks(rows));
            output.extend(combinations::intervention_combinations(rows));
            output.extend(landmark::landmark(rows));
            output.extend(retention::follow_up_retention(rows));
            output.extend(missing::missing_episodes(rows, group_by));
            output.extend(long_term::long_term_domains(rows));
            ("Outcomes: recidivism and what helped".to_owned(), output)
        }
        ReportKind::DataCompleteness => {
            let c = completeness::completeness(rows, group_by);
            let output = Output { tables: completeness::completeness_tables(&c), charts: Vec::new() };
            ("Data completeness".to_owned(), output)
        }
        ReportKind::Operations => {
            let mut output = deadline_compliance(operations, group_by);
            output.extend(partner_responsiveness(operations));
            output.extend(enrollment::enrollment_progress(rows));
            ("Operations: deadlines, partner responsiveness and enrollment".to_owned(), output)
        }
        _ => return None,
    })
}
