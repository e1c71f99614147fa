//! The command line, one module per group of commands:
//!
//! - [`serve`]: the process itself: `up`, `serve`, `migrate`, `healthcheck`, and `token` (a development
//!   token from the data folder's key, the one the process verifies);
//! - [`referral`]: `submit` and `status`;
//! - [`dlq`]: a consuming service's dead letters;
//! - [`accounts`]: the web application's local sign-ins;
//! - [`audit`], [`keys`] (intake's field keys), [`routing`], [`report`] (evaluation), [`analyze`]
//!   (statistics over a CSV, no system needed).
//!
//! Client commands reach an embedded system with `--data-dir` alone, or a remote one with `--server` and
//! `--token` ([`Connect`]); commands that open a service's database directly take [`DbArgs`].

use std::path::{Path, PathBuf};

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use wf_client::Target;
use wf_config::Config;

use crate::data_dir::DataDirAccess;
use crate::system;

pub mod accounts;
pub mod analyze;
pub mod audit;
pub mod dlq;
pub mod keys;
pub mod referral;
pub mod report;
pub mod routing;
pub mod serve;

#[derive(Debug, Parser)]
#[command(
    name = "wayfinder",
    version,
    about = "Routes referrals of exploited youth to the right help, and keeps the record straight"
)]
pub struct Cli {
    /// Data folder: SQLite files, development keys, endpoints of a running system.
    #[arg(long, global = true, env = "WAYFINDER_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Configuration file (default: <data-dir>/wayfinder.toml when present).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Accept a data folder that group or others can reach, and leave its permissions as they are.
    /// Without it the data folder is created 0700, every file in it 0600, and a folder open to
    /// other users is refused (it holds youth records and keys).
    #[arg(long, global = true)]
    pub allow_shared_data_dir: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every service in one process (embedded unless DATABASE_URL / AMQP_URL are set).
    /// On a new embedded data folder, a demo data set of fictional practice referrals is loaded.
    Up(serve::UpArgs),
    /// Run one or more services in this process: intake, routing, cases, audit, evaluation, gateway
    /// (the web application), or all; e.g. `wayfinder serve routing`.
    Serve(serve::ServeArgs),
    /// Apply database migrations for the given services (default: all).
    Migrate(serve::MigrateArgs),
    /// Mint a development token from the key in the data folder.
    Token(serve::TokenArgs),
    /// Ask a server's grpc.health.v1 (with --http, an HTTP health address such as the gateway's
    /// /healthz); exits non-zero unless it is serving.
    Healthcheck(serve::HealthcheckArgs),
    /// Submit a referral from a JSON file (the protobuf JSON mapping of SubmitReferralRequest); prints its id.
    Submit(referral::SubmitArgs),
    /// Show where a referral is now, who has it (the partner and the case manager, by name) and what
    /// happened when: received, routed, offered, accepted or declined, escalated, assigned, first
    /// contact, on hold, closed; and how many audit entries it has.
    Status(referral::StatusArgs),
    /// List or replay dead letters of a consuming service.
    Dlq {
        #[command(subcommand)]
        action: dlq::DlqAction,
    },
    /// The audit log: verify (hash chain and signed checkpoints), export a range and verify the export
    /// offline, disclosure reports.
    Audit {
        #[command(subcommand)]
        action: audit::AuditAction,
    },
    /// Intake's field-encryption keys: rotate (re-encrypt to a new key), retire an old key, status.
    Keys {
        #[command(subcommand)]
        action: keys::KeysAction,
    },
    /// The web application's local sign-ins: add, disable, enable, reset, list.
    Accounts {
        #[command(subcommand)]
        action: accounts::AccountsAction,
    },
    /// Survival and regression statistics over a CSV extract: km, logrank, cox, logit, rmst, cif.
    Analyze(analyze::AnalyzeArgs),
    /// Routing tools: `simulate` a candidate policy against past referrals; `export-hsds` /
    /// `import-hsds` the partner directory as Open Referral HSDS JSON.
    Routing {
        #[command(subcommand)]
        action: routing::RoutingAction,
    },
    /// Evaluation reports: `baseline`, `outcomes`, `completeness`, `operations` or `hmis` written to --out as
    /// report.html, report.json and one CSV per table (aggregate, small counts suppressed).
    Report(report::ReportArgs),
}

/// How a client command reaches a running system.
#[derive(Debug, Args)]
pub struct Connect {
    /// gRPC URL of a running system, e.g. http://127.0.0.1:50051 (default: the one the data folder's
    /// endpoints.json names).
    #[arg(long)]
    pub server: Option<String>,
    /// Bearer token for --server (default: a short-lived development token from the data folder's key).
    #[arg(long, env = "WAYFINDER_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

impl Connect {
    pub fn target(self, data_dir: &Path) -> anyhow::Result<Target> {
        Target::resolve(self.server, self.token, data_dir)
    }
}

/// Where a command that opens a service's database finds it.
#[derive(Debug, Args)]
pub struct DbArgs {
    /// PostgreSQL URL of the system, one schema per service (default: the configured `database_url`,
    /// else the data folder's SQLite files).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

impl DbArgs {
    fn apply(&self, config: &mut Config) {
        if let Some(url) = &self.database_url {
            config.database_url = Some(url.clone().into());
        }
    }
}

/// The global options, for the commands to load the configuration from.
pub struct Globals {
    data_dir: Option<PathBuf>,
    config_file: Option<PathBuf>,
    data_dir_access: DataDirAccess,
}

impl Globals {
    /// The configuration: embedded defaults < file < environment.
    pub fn config(&self) -> anyhow::Result<Config> {
        Ok(Config::load(self.config_file.as_deref(), self.data_dir.as_deref())?)
    }

    /// The configuration, with `db` naming the database.
    pub fn config_with(&self, db: &DbArgs) -> anyhow::Result<Config> {
        let mut config = self.config()?;
        db.apply(&mut config);
        Ok(config)
    }

    /// The data folder a client command looks in for a running system.
    pub fn client_data_dir(&self) -> PathBuf {
        system::data_dir_or_default(self.data_dir.clone())
    }

    /// Whether the data folder must be private (the default) or may be shared.
    pub fn data_dir_access(&self) -> DataDirAccess {
        self.data_dir_access
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let Cli { data_dir, config, allow_shared_data_dir, command } = cli;
    let data_dir_access = if allow_shared_data_dir { DataDirAccess::Shared } else { DataDirAccess::Private };
    if data_dir_access == DataDirAccess::Private {
        // Before any command creates a file: keys, databases, exports are their owner's alone.
        crate::data_dir::restrict_new_files();
    }
    let globals = Globals { data_dir, config_file: config, data_dir_access };
    match command {
        Command::Up(args) => serve::up(args, &globals).await,
        Command::Serve(args) => serve::serve(args, &globals).await,
        Command::Migrate(args) => serve::migrate(args, &globals).await,
        Command::Token(args) => serve::token(args, &globals),
        Command::Healthcheck(args) => serve::healthcheck(args, &globals).await,
        Command::Submit(args) => referral::submit(args, &globals).await,
        Command::Status(args) => referral::status(args, &globals).await,
        Command::Dlq { action } => dlq::run(action, &globals).await,
        Command::Audit { action } => audit::run(action, &globals).await,
        Command::Keys { action } => keys::run(action, &globals).await,
        Command::Accounts { action } => accounts::run(action, &globals).await,
        Command::Analyze(args) => analyze::run(&args),
        Command::Routing { action } => routing::run(action, &globals).await,
        Command::Report(args) => report::run(args, &globals).await,
    }
}

/// A service name from the one list ([`wf_config::SERVICES`]); with `all`, any component a process
/// runs ([`system::COMPONENTS`]: the services and the gateway) and "all".
fn service_name(all: bool) -> impl TypedValueParser<Value = String> {
    let mut names: Vec<&'static str> = if all { system::COMPONENTS.to_vec() } else { wf_config::SERVICES.to_vec() };
    if all {
        names.push("all");
    }
    PossibleValuesParser::new(names)
}

fn status_error(status: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{:?}: {}", status.code(), status.message())
}

fn rfc3339(ts: Option<&prost_types::Timestamp>) -> Option<String> {
    ts.and_then(|ts| chrono::DateTime::from_timestamp(ts.seconds, ts.nanos.max(0) as u32))
        .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

#[cfg(test)]
mod tests;
