//! Which analyses each analysis kind runs and what each report kind contains.

use wf_proto::evaluation::v1::{AnalysisKind, ReportKind};

use super::analysis::{
    self, baseline, combinations, competing, completeness, deadlines, engagement, enrollment, landmark, long_term,
    missing, responsiveness, retention, survival,
};
use super::dataset::YouthRow;
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
