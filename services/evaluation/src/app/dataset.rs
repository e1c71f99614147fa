//! Which data set a request sees, and the two ways a data set is stored: the program data set
//! refolded from every event, and the synthetic demonstration cohort.
//!
//! Program data and the synthetic cohort are never mixed: a request sees the program data set,
//! or — when it asks for it, or when the program data set is empty and a synthetic cohort was
//! seeded — the synthetic cohort alone, marked as such.

use wf_db::Db;
use wf_server::ApiError;

use crate::domain::dataset::{self, YouthRow};
use crate::domain::operations::{self, Operations};
use crate::domain::scope::ScopeSpec;
use crate::domain::synthetic;
use crate::store::{self, PROGRAM, SYNTHETIC};

/// What a computation over the selected data set gave, and which data set that was.
#[derive(Debug, Clone)]
pub struct Computed<T> {
    pub value: T,
    pub version: String,
    pub synthetic: bool,
}

impl<T> Computed<Option<T>> {
    /// None when the computation gave nothing (a kind not built yet).
    pub fn transpose(self) -> Option<Computed<T>> {
        let Computed { value, version, synthetic } = self;
        value.map(|value| Computed { value, version, synthetic })
    }
}

/// The rows a request sees.
struct Selected {
    rows: Vec<YouthRow>,
    version: String,
    synthetic: bool,
    /// Referral and offer facts for the operations analyses; None for the synthetic cohort, which
    /// has no routing events.
    operations: Option<Operations>,
}

/// Runs `compute` over the rows and operations facts `scope` selects, off the async workers
/// (bootstraps and model fits are CPU work); the rows and facts move into it.
pub async fn compute<T, F>(db: &Db, scope: &ScopeSpec, compute: F) -> Result<Computed<T>, ApiError>
where
    F: FnOnce(&[YouthRow], Option<&Operations>) -> T + Send + 'static,
    T: Send + 'static,
{
    let Selected { rows, version, synthetic, operations } = select(db, scope).await?;
    let value =
        tokio::task::spawn_blocking(move || compute(&rows, operations.as_ref())).await.map_err(ApiError::internal)?;
    Ok(Computed { value, version, synthetic })
}

async fn select(db: &Db, scope: &ScopeSpec) -> Result<Selected, ApiError> {
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
                version: dataset::program_version(&events),
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

/// Refolds the program data set from every stored event as of `now` and stores the snapshot;
/// returns its version and youth count.
pub async fn rebuild(db: &Db, now: i64) -> Result<(String, i64), ApiError> {
    let events = store::events(db).await?;
    let mut tx = db.begin().await?;
    for youth in dataset::youth_ids_in(&events) {
        store::ensure_study_id(&mut tx, &youth, now).await?;
    }
    tx.commit().await?;
    let ids = store::study_ids(db).await?;
    let built = dataset::build(&events, &ids, now);
    let version = dataset::program_version(&events);
    let mut tx = db.begin().await?;
    store::replace_dataset(
        &mut tx,
        PROGRAM,
        &built.rows,
        &version,
        events.len() as i64,
        dataset::last_seq(&events),
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(dataset.version = %version, youth = built.rows.len(), "analytic data set rebuilt");
    Ok((version, built.rows.len() as i64))
}

/// Seeds the synthetic cohort; refused once program data exists, so the two never mix.
pub async fn seed_synthetic(db: &Db, size: usize, seed: u64, now: i64) -> Result<(String, i64), ApiError> {
    if store::program_youth(db).await? > 0 {
        return Err(ApiError::FailedPrecondition(
            "the program data set has youth: a synthetic cohort is only seeded into an evaluation store without \
             program data (a demo data folder)"
                .into(),
        ));
    }
    let rows = synthetic::cohort(size, seed);
    let version = dataset::synthetic_version(size, seed);
    let mut tx = db.begin().await?;
    store::replace_dataset(&mut tx, SYNTHETIC, &rows, &version, 0, 0, now).await?;
    tx.commit().await?;
    tracing::info!(dataset.version = %version, youth = rows.len(), "synthetic cohort seeded");
    Ok((version, rows.len() as i64))
}
