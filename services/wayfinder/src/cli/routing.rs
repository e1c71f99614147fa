//! `wayfinder routing …`: routing tools for the program manager. `simulate` replays the
//! referrals routed in a period under a candidate policy, reading routing's database
//! directly (the embedded data folder, or `--database-url` / `DATABASE_URL`).

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use wf_config::Config;
use wf_routing::{Directory, LoadedPolicy};

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
        /// PostgreSQL URL of the system (default: the configured one, else the data folder's SQLite).
        #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
    },
}

pub async fn run(action: RoutingAction, config: &Config) -> anyhow::Result<()> {
    match action {
        RoutingAction::Simulate { policy, since, database_url } => {
            let look_back = wf_routing::simulate::parse_since(&since).map_err(anyhow::Error::msg)?;
            let candidate = wf_routing::policy_load::read_policy_file(&policy)?;
            let baseline = match &config.routing_policy_file {
                Some(path) => wf_routing::policy_load::read_policy_file(path)?,
                None => LoadedPolicy::demo(),
            };
            let directory = match &config.directory_file {
                Some(path) => wf_routing::load_directory(path)?,
                None => Directory::demo().context("embedded demo directory")?,
            };
            let mut config = config.clone();
            if let Some(url) = database_url {
                config.database_url = Some(url.into());
            }
            let db =
                system::open_service_db(&config, wf_routing::SERVICE).await.context("opening the routing database")?;
            let now = chrono::Utc::now();
            let report = wf_routing::simulate::report_from_store(
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
    }
}
