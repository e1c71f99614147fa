//! Which analyses each analysis kind runs and what each report kind contains.

use wf_proto::evaluation::v1::{AnalysisKind, ReportKind};

use super::analysis::{
    self, baseline, combinations, competing, completeness, deadlines, engagement, enrollment, hmis, landmark,
    long_term, missing, responsiveness, retention, survival,
};
use super::dataset::{DIMENSIONS, YouthRow};
use super::operations::Operations;
use super::table::Output;

/// The code a report kind is stored and rendered under ("baseline", "data_completeness", …).
pub fn report_kind_code(kind: ReportKind) -> &'static str {
    match kind {
        ReportKind::Baseline => "baseline",
        ReportKind::Outcome => "outcome",
        ReportKind::DataCompleteness => "data_completeness",
        ReportKind::Operations => "operations",
        ReportKind::HmisAggregate => "hmis_aggregate",
        ReportKind::Unspecified => "unspecified",
    }
}

/// Why operations analyses have nothing to say about the synthetic cohort.
const NO_OPERATIONS: &str =
    "the synthetic cohort has no referral, offer or case events: operations analyses need program data";

/// The operations analyses need referral and offer events; the synthetic cohort has none.
fn with_operations(
    operations: Option<&Operations>,
    name: &str,
    title: &str,
    analyse: impl Fn(&Operations) -> Output,
) -> Output {
    match operations {
        Some(operations) => analyse(operations),
        None => Output { tables: vec![analysis::insufficient(name, title, NO_OPERATIONS)], charts: Vec::new() },
    }
}

fn deadline_compliance(operations: Option<&Operations>, group_by: Option<&str>) -> Output {
    with_operations(operations, "deadline_compliance", "Deadline compliance", |o| {
        deadlines::deadline_compliance(o, group_by)
    })
}

fn partner_responsiveness(operations: Option<&Operations>, group_by: Option<&str>) -> Output {
    // Grouping by partner: the lines are partner organizations already.
    let group_by = group_by.filter(|d| *d != PARTNER);
    with_operations(operations, "partner_offer_outcomes", "Partner responsiveness", |o| {
        responsiveness::partner_responsiveness(o, group_by)
    })
}

/// The grouping code only partner responsiveness takes (its lines are partner organizations).
pub const PARTNER: &str = "partner";

/// The groupings (`Scope.group_by` codes) an analysis kind honours.
pub fn analysis_groupings(kind: AnalysisKind) -> Vec<&'static str> {
    let mut groupings = DIMENSIONS.to_vec();
    if kind == AnalysisKind::PartnerResponsiveness {
        groupings.push(PARTNER);
    }
    groupings
}

/// The groupings a report kind honours in every table it holds (none for the HMIS aggregate,
/// whose tables are HUD's).
pub fn report_groupings(kind: ReportKind) -> Vec<&'static str> {
    match kind {
        ReportKind::HmisAggregate => Vec::new(),
        _ => DIMENSIONS.to_vec(),
    }
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
        AnalysisKind::RecidivismCompetingRisks => competing::competing_risks(rows, group_by),
        AnalysisKind::InterventionCombinations => {
            let mut output = combinations::intervention_combinations(rows, group_by);
            output.extend(landmark::landmark(rows, group_by));
            output
        }
        AnalysisKind::FollowUpRetention => retention::follow_up_retention(rows, group_by),
        AnalysisKind::EnrollmentProgress => enrollment::enrollment_progress(rows, group_by),
        AnalysisKind::EngagementByApproach => engagement::engagement_by_approach(rows, group_by),
        AnalysisKind::MissingEpisodes => missing::missing_episodes(rows, group_by),
        AnalysisKind::LongTermDomains => long_term::long_term_domains(rows, group_by),
        AnalysisKind::DeadlineCompliance => deadline_compliance(operations, group_by),
        AnalysisKind::PartnerResponsiveness => partner_responsiveness(operations, group_by),
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
            output.extend(enrollment::enrollment_progress(rows, group_by));
            output.extend(engagement::engagement_by_approach(rows, group_by));
            ("Baseline: who was referred".to_owned(), output)
        }
        ReportKind::Outcome => {
            let mut output = survival::recidivism_survival(rows, group_by);
            output.extend(competing::competing_risks(rows, group_by));
            output.extend(combinations::intervention_combinations(rows, group_by));
            output.extend(landmark::landmark(rows, group_by));
            output.extend(retention::follow_up_retention(rows, group_by));
            output.extend(missing::missing_episodes(rows, group_by));
            output.extend(long_term::long_term_domains(rows, group_by));
            ("Outcomes: recidivism and what helped".to_owned(), output)
        }
        ReportKind::DataCompleteness => {
            let c = completeness::completeness(rows, group_by);
            let output = Output { tables: completeness::completeness_tables(&c), charts: Vec::new() };
            ("Data completeness".to_owned(), output)
        }
        ReportKind::Operations => {
            let mut output = match operations {
                Some(_) => {
                    let mut output = deadline_compliance(operations, group_by);
                    output.extend(partner_responsiveness(operations, group_by));
                    output
                }
                // One statement for both, not one per analysis.
                None => Output {
                    tables: vec![analysis::insufficient(
                        "operations",
                        "Deadline compliance and partner responsiveness",
                        NO_OPERATIONS,
                    )],
                    charts: Vec::new(),
                },
            };
            output.extend(enrollment::enrollment_progress(rows, group_by));
            ("Operations: deadlines, partner responsiveness and enrollment".to_owned(), output)
        }
        ReportKind::HmisAggregate => {
            ("HMIS aggregate (APR/CAPER questions the data set answers)".to_owned(), hmis::hmis_aggregate(rows))
        }
        ReportKind::Unspecified => return None,
    })
}
