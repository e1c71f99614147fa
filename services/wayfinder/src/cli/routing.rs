//! `wayfinder routing …`: routing tools for the program manager. `simulate` replays the
//! referrals routed in a period under a candidate policy (against the policy and directory
//! in force); `export-hsds` / `import-hsds`
//! write and read the partner directory as Open Referral HSDS JSON. Each works on routing's
//! database directly (the embedded data folder, or `--database-url` / `DATABASE_URL`).

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use wf_config::Config;
use wf_routing::{Directory, LoadedPolicy};

use super::{DbArgs, Globals};
use crate::system;

#[derive(Debug, Subcommand)]
pub enum RoutingAction {
    /// Replay past referrals under a candidate policy and print which decisions would change,
    /// from which partner to which, and the rule verdicts behind each change.
    Simulate {
        /// The candidate policy (TOML, the shape of the routing policy file).
        #[arg(long)]
        policy: PathBuf,
        /// How far back to replay: e.g. 30d, 12h, 90m.
        #[arg(long, default_value = "30d")]
        since: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Write the partner directory as Open Referral HSDS 3.0 JSON (confidential locations
    /// without their address).
    ExportHsds {
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
        /// Include retired organizations and services that are not active.
        #[arg(long)]
        include_inactive: bool,
        /// Include the HSDS 3.1 draft capacities (open places now).
        #[arg(long)]
        include_capacity: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Import an HSDS 3.0 JSON document into the partner directory: records matched by id are
    /// updated, new ones created; each problem is printed with its JSON path.
    ImportHsds {
        /// The HSDS JSON file (an array of services, or one service).
        file: PathBuf,
        /// Check and report only; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Who is importing (recorded with the change).
        #[arg(long, default_value = "wayfinder-cli")]
        by: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

async fn routing_db(config: &Config) -> anyhow::Result<wf_db::Db> {
    system::open_existing_service_db(config, wf_routing::SERVICE).await.context("opening the routing database")
}

impl RoutingAction {
    /// Where the routing database is.
    pub(super) fn db(&self) -> &DbArgs {
        match self {
            Self::Simulate { db, .. } | Self::ExportHsds { db, .. } | Self::ImportHsds { db, .. } => db,
        }
    }
}

pub async fn run(action: RoutingAction, globals: &Globals) -> anyhow::Result<()> {
    let config = &globals.config_with(action.db())?;
    match action {
        RoutingAction::Simulate { policy, since, .. } => {
            let look_back = wf_routing::parse_since(&since).map_err(anyhow::Error::msg)?;
            let candidate = wf_routing::read_policy_file(&policy)?;
            let baseline = match &config.routing_policy_file {
                Some(path) => wf_routing::read_policy_file(path)?,
                None => LoadedPolicy::demo(),
            };
            let directory = match &config.directory_file {
                Some(path) => wf_routing::load_directory(path)?,
                None => Directory::demo().context("embedded demo directory")?,
            };
            let db = routing_db(config).await?;
            // The policy and directory in force are the stored ones once routing has run.
            let baseline = match wf_routing::app::policy::in_force(&db).await {
                Ok(Some(stored)) => stored,
                _ => baseline,
            };
            let directory = match wf_routing::store::directory::load(&db).await {
                Ok(entries) if !entries.organizations.is_empty() => entries.routing_view(),
                _ => directory,
            };
            let now = chrono::Utc::now();
            let report = wf_routing::report_from_store(
                &db,
                &directory,
                &baseline.policy,
                &candidate.policy,
                now - look_back,
                now,
                &format!("routed in the last {since}"),
            )
            .await;
            db.close().await;
            print!("{}", report.context("reading stored decisions")?);
            Ok(())
        }
        RoutingAction::ExportHsds { out, include_inactive, include_capacity, .. } => {
            let db = routing_db(config).await?;
            let read = async {
                let entries = wf_routing::store::directory::load(&db).await?;
                let open = wf_routing::store::capacity::open_places(db.pool()).await?;
                Ok::<_, wf_db::DbError>((entries, open))
            };
            let read = read.await;
            db.close().await;
            let (entries, open) =
                read.context("reading the directory (has routing been migrated and started once?)")?;
            let document = wf_routing::domain::hsds::export(&entries, &open, include_inactive, include_capacity);
            let services = document.as_array().map_or(0, Vec::len);
            std::fs::write(&out, serde_json::to_string_pretty(&document)?)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!("wrote {services} services to {}", out.display());
            Ok(())
        }
        RoutingAction::ImportHsds { file, dry_run, by, .. } => {
            let document = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let db = routing_db(config).await?;
            let imported = async {
                let writer = wf_routing::DirectoryWriter::offline(db.clone(), wf_types::SystemClock::shared()).await?;
                writer.import_hsds(&document, dry_run, &by).await
            };
            let plan = imported.await;
            db.close().await;
            let plan = plan.context("importing the directory (has routing been migrated and started once?)")?;
            for issue in &plan.issues {
                let kind = if issue.fatal { "error" } else { "warning" };
                println!("{kind}: {}: {}", issue.path, issue.message);
            }
            let (orgs_created, orgs_updated, services_created, services_updated) = plan.counts();
            let verb = if dry_run { "would change" } else { "changed" };
            println!(
                "{verb}: {orgs_created} organizations created, {orgs_updated} updated; \
                 {services_created} services created, {services_updated} updated"
            );
            if plan.issues.iter().any(|i| i.fatal) {
                let problems = plan.issues.iter().filter(|i| i.fatal).count();
                anyhow::bail!("{problems} problems: the records holding them were left out; fix them and import again");
            }
            Ok(())
        }
    }
}
