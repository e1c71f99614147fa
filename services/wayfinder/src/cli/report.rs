//! `wayfinder report baseline|outcomes|completeness|operations|hmis --out DIR`: asks the running system's
//! evaluation service for one report (JSON) and writes it as `report.json`, `report.html` (inline
//! SVG, no external assets) and one CSV per table. Aggregate only: every table arrives already
//! under disclosure control. Progress goes to stderr.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use wf_auth::Role;
use wf_proto::common::v1::ReportFormat;
use wf_proto::evaluation::v1 as pb;

use super::{Connect, Globals, status_error};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportKindArg {
    /// Who was referred: sources, prior participation, age first exploited, SES, education, arrests.
    Baseline,
    /// Recidivism, competing risks, intervention bundles, landmark, follow-up retention.
    Outcomes,
    /// Required evaluation fields missing, overdue assessments and follow-ups.
    Completeness,
    /// Deadline compliance by triage tier, partner responsiveness, enrollment against site targets.
    Operations,
    /// HMIS APR/CAPER-style aggregate in HUD's codes and categories (takes no --group-by).
    Hmis,
}

impl ReportKindArg {
    pub(super) fn report_kind(self) -> pb::ReportKind {
        match self {
            Self::Baseline => pb::ReportKind::Baseline,
            Self::Outcomes => pb::ReportKind::Outcome,
            Self::Completeness => pb::ReportKind::DataCompleteness,
            Self::Operations => pb::ReportKind::Operations,
            Self::Hmis => pb::ReportKind::HmisAggregate,
        }
    }
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Which report.
    #[arg(value_enum)]
    pub kind: ReportKindArg,
    /// Folder to write report.html, report.json and the tables as CSV into (created if needed).
    #[arg(long)]
    pub out: PathBuf,
    /// Group by one dimension: site, referral_source, engagement_approach, triage_tier, age_band,
    /// trafficking_type, quarter, participation, prior_participation (operations groups its deadline
    /// table by site, referral_source or triage_tier only, others as "all").
    #[arg(long)]
    pub group_by: Option<String>,
    /// Use the synthetic demonstration cohort even when program data exists.
    #[arg(long)]
    pub synthetic: bool,
    #[command(flatten)]
    pub connect: Connect,
}

pub async fn run(args: ReportArgs, globals: &Globals) -> anyhow::Result<()> {
    let kind = args.kind.report_kind();
    let target = args.connect.target(&globals.client_data_dir())?;
    eprintln!("asking {} for the {} report …", target.url, kind.as_str_name());
    let mut client = target.evaluation(Role::ProgramManager).await?;
    let scope =
        pb::Scope { group_by: args.group_by.into_iter().collect(), synthetic: args.synthetic, ..Default::default() };
    let report = client
        .generate_report(pb::GenerateReportRequest {
            kind: kind as i32,
            format: ReportFormat::Json as i32,
            scope: Some(scope),
        })
        .await
        .map_err(status_error)?
        .into_inner()
        .report
        .context("the evaluation service answered without a report")?;
    let (meta, output) = wf_evaluation::report::parse_json(&report.content).context("reading the JSON report")?;
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let write = |name: &str, bytes: &[u8]| -> anyhow::Result<()> {
        let path = args.out.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("  wrote {}", path.display());
        Ok(())
    };
    write("report.json", &report.content)?;
    write("report.html", &wf_evaluation::report::html(&meta, &output))?;
    for table in &output.tables {
        write(&format!("{}.csv", safe_file_name(&table.name)), wf_evaluation::report::table_csv(table).as_bytes())?;
    }
    if report.synthetic {
        eprintln!("note: {}", wf_evaluation::report::SYNTHETIC_BANNER);
    }
    println!(
        "report {} ({} tables, {} suppressed cells, data set {}) written to {}",
        report.report_id,
        output.tables.len(),
        report.suppressed_cells,
        report.dataset_version,
        args.out.display()
    );
    Ok(())
}

/// Table codes are lower snake_case; anything else becomes `_` so a name can never leave the folder.
fn safe_file_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_cannot_escape_the_folder() {
        assert_eq!(safe_file_name("../etc/passwd"), "___etc_passwd");
        assert_eq!(safe_file_name("landmark_day_90"), "landmark_day_90");
    }

    #[test]
    fn operations_is_a_report_kind_on_the_command_line() {
        let arg = ReportKindArg::from_str("operations", false).expect("operations parses");
        assert_eq!(arg.report_kind(), pb::ReportKind::Operations);
        assert_eq!(ReportKindArg::Outcomes.report_kind(), pb::ReportKind::Outcome);
    }
}
