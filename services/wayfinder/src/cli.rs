//! The command line. Server commands: `up`, `serve`, `migrate`. Client
//! commands (`submit`, `status`, `healthcheck`, `dlq`) reach an embedded system
//! with `--data-dir` alone, or a remote one with `--server` and `--token`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use wf_auth::{Role, TokenIssuer, TokenKind};
use wf_config::Config;
use wf_proto::admin::v1 as admin;
use wf_proto::audit::v1 as audit;
use wf_proto::intake::v1 as intake;

use crate::system;
use wf_client::Target;

mod analyze;
// `audit` is taken by the proto import above.
#[path = "cli/audit.rs"]
mod audit_cmd;
mod keys;
mod report;
mod routing;

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
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every service in one process (embedded unless DATABASE_URL / AMQP_URL are set).
    /// On a new embedded data folder, a demo data set of fictional practice referrals is loaded.
    Up {
        #[command(flatten)]
        args: ServeArgs,
        /// Do not load the demo data set into a new data folder.
        #[arg(long)]
        no_demo: bool,
    },
    /// Run one or more services in this process, e.g. `wayfinder serve routing`.
    Serve {
        /// intake, routing, cases, audit, or all.
        #[arg(required = true)]
        services: Vec<String>,
        #[command(flatten)]
        args: ServeArgs,
    },
    /// Apply database migrations for the given services (default: all).
    Migrate { services: Vec<String> },
    /// Mint a development token from the key in the data folder.
    Token {
        /// hotline, partner, case_manager, supervisor, program_manager, evaluator, auditor, admin, service.
        #[arg(long)]
        role: Role,
        /// Partner organization id (required for role partner).
        #[arg(long)]
        partner: Option<String>,
        #[arg(long, default_value = "dev-user")]
        subject: String,
        #[arg(long, default_value_t = 60)]
        ttl_minutes: u64,
    },
    /// Submit a referral from a JSON file (the protobuf JSON mapping of SubmitReferralRequest); prints its id.
    Submit {
        #[arg(long)]
        file: PathBuf,
        #[command(flatten)]
        connect: Connect,
    },
    /// Show where a referral is: received → routed → assigned → audited, with times.
    Status {
        referral_id: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        connect: Connect,
    },
    /// Ask a server's grpc.health.v1; exits non-zero unless it is serving.
    Healthcheck {
        #[command(flatten)]
        connect: Connect,
    },
    /// List or replay dead letters of a consuming service.
    Dlq {
        #[command(subcommand)]
        action: DlqAction,
    },
    /// Verify the audit log (hash chain and signed checkpoints).
    Audit {
        #[command(subcommand)]
        action: audit_cmd::AuditAction,
    },
    /// Intake's field-encryption keys: rotate (re-encrypt to a new key), retire an old key, status.
    Keys {
        #[command(subcommand)]
        action: keys::KeysAction,
    },
    /// Survival and regression statistics over a CSV extract: km, logrank, cox, logit.
    Analyze(analyze::AnalyzeArgs),
    /// Routing tools: `simulate` a candidate policy against past referrals; `export-hsds` /
    /// `import-hsds` the partner directory as Open Referral HSDS JSON.
    Routing {
        #[command(subcommand)]
        action: routing::RoutingAction,
    },
    /// Evaluation reports: `baseline`, `outcomes` or `completeness` written to --out as report.html,
    /// report.json and one CSV per table (aggregate, small counts suppressed).
    Report(report::ReportArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// gRPC listen address, e.g. 127.0.0.1:50051 (port 0 picks a free port).
    #[arg(long, env = "WAYFINDER_GRPC_ADDR")]
    pub grpc_addr: Option<std::net::SocketAddr>,
}

#[derive(Debug, Args)]
pub struct Connect {
    /// gRPC URL of a running system, e.g. http://127.0.0.1:50051.
    #[arg(long)]
    pub server: Option<String>,
    /// Bearer token for --server.
    #[arg(long, env = "WAYFINDER_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum DlqAction {
    List {
        #[arg(long)]
        service: String,
        #[arg(long, default_value_t = 100)]
        limit: i32,
        #[command(flatten)]
        connect: Connect,
    },
    Replay {
        #[arg(long)]
        service: String,
        /// Only these event ids (default: all).
        #[arg(long = "event-id")]
        event_ids: Vec<String>,
        #[command(flatten)]
        connect: Connect,
    },
}

fn load_config(
    cli_config: Option<&PathBuf>,
    data_dir: Option<&PathBuf>,
    serve: Option<&ServeArgs>,
) -> anyhow::Result<Config> {
    let mut config = Config::load(cli_config.map(PathBuf::as_path), data_dir.map(PathBuf::as_path))?;
    if let Some(addr) = serve.and_then(|s| s.grpc_addr) {
        config.grpc_addr = addr;
    }
    Ok(config)
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let data_dir = system::data_dir_or_default(cli.data_dir.clone());
    match cli.command {
        Command::Up { args, no_demo } => {
            let config = load_config(cli.config.as_ref(), cli.data_dir.as_ref(), Some(&args))?;
            // Only a new embedded data folder gets the demo: never mix it into real data.
            let demo = !no_demo && config.is_embedded() && !config.data_dir.join("intake.db").exists();
            serve_with(config, &[], demo).await
        }
        Command::Serve { services, args } => {
            serve(load_config(cli.config.as_ref(), cli.data_dir.as_ref(), Some(&args))?, &services).await
        }
        Command::Migrate { services } => {
            let config = load_config(cli.config.as_ref(), cli.data_dir.as_ref(), None)?;
            let _telemetry = wf_telemetry::init(&config.telemetry);
            std::fs::create_dir_all(&config.data_dir)?;
            system::migrate(&config, &system::resolve_services(&services)?).await
        }
        Command::Token { role, partner, subject, ttl_minutes } => {
            let config = load_config(cli.config.as_ref(), cli.data_dir.as_ref(), None)?;
            let keys = wf_auth::load_or_create_dev_keypair(&config.keys_dir())?;
            let issuer =
                TokenIssuer::from_pem(&keys.private_pem, &keys.kid, &config.auth.issuer, &config.auth.audience)?;
            let kind = match role {
                Role::Partner => TokenKind::Partner,
                Role::Service => TokenKind::Service,
                _ => TokenKind::User,
            };
            let token = issuer.issue(
                kind,
                &subject,
                role,
                partner.as_deref(),
                Duration::from_secs(ttl_minutes.saturating_mul(60)),
            )?;
            println!("{token}");
            Ok(())
        }
        Command::Submit { file, connect } => {
            let target = Target::resolve(connect.server, connect.token, &data_dir)?;
            submit(&target, &file).await
        }
        Command::Status { referral_id, json, connect } => {
            let target = Target::resolve(connect.server, connect.token, &data_dir)?;
            status(&target, &referral_id, json).await
        }
        Command::Healthcheck { connect } => {
            let target = Target::resolve(connect.server, connect.token, &data_dir)?;
            healthcheck(&target).await
        }
        Command::Dlq { action } => dlq(action, &data_dir).await,
        Command::Audit { action } => {
            audit_cmd::run(action, &load_config(cli.config.as_ref(), cli.data_dir.as_ref(), None)?).await
        }
        Command::Keys { action } => {
            keys::run(action, &load_config(cli.config.as_ref(), cli.data_dir.as_ref(), None)?).await
        }
        Command::Analyze(args) => analyze::run(&args),
        Command::Routing { action } => {
            routing::run(action, &load_config(cli.config.as_ref(), cli.data_dir.as_ref(), None)?).await
        }
        Command::Report(args) => report::run(args, &data_dir).await,
    }
}

async fn serve(config: Config, services: &[String]) -> anyhow::Result<()> {
    serve_with(config, services, false).await
}

async fn serve_with(config: Config, services: &[String], load_demo: bool) -> anyhow::Result<()> {
    let mut telemetry_config = config.telemetry.clone();
    if services.len() == 1 {
        telemetry_config.service_name = format!("wayfinder-{}", services[0]);
    }
    let _telemetry = wf_telemetry::init(&telemetry_config).context("starting telemetry")?;
    let services = system::resolve_services(services)?;
    let shutdown = wf_server::shutdown_on_signal();
    let system = system::build(config, &services).await?;
    let mode = if system.config.is_embedded() { "embedded (SQLite + in-process bus)" } else { "PostgreSQL + RabbitMQ" };
    eprintln!(
        "wayfinder is up: {} on {} — {mode}; data in {}",
        services.join(", "),
        system.grpc_url(),
        system.config.data_dir.display()
    );
    if !load_demo {
        return system.run(shutdown).await;
    }
    let target = Target::resolve(Some(system.grpc_url()), None, &system.config.data_dir)?;
    let running = tokio::spawn(system.run(shutdown.clone()));
    match crate::demo::seed(&target).await {
        Ok(created) => {
            eprintln!("demo data set loaded: {created} fictional practice referrals");
            // The evaluation's demo cohort is synthetic and kept apart from program data.
            match crate::demo::seed_evaluation(&target).await {
                Ok(youth) => {
                    eprintln!("synthetic evaluation cohort seeded: {youth} generated youth (reports marked synthetic)")
                }
                Err(err) => eprintln!("synthetic evaluation cohort not seeded: {err:#}"),
            }
        }
        Err(err) => {
            shutdown.cancel();
            let _ = running.await;
            return Err(err.context("loading the demo data set"));
        }
    }
    running.await.context("the system task")?
}

async fn submit(target: &Target, file: &PathBuf) -> anyhow::Result<()> {
    let json = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let request: intake::SubmitReferralRequest = wf_proto::json::from_json(&json)
        .with_context(|| format!("{} is not a valid SubmitReferralRequest", file.display()))?;
    let mut client = target.intake(Role::Hotline).await?;
    let response = client.submit_referral(request).await.map_err(status_error)?.into_inner();
    if response.duplicate {
        eprintln!("already submitted: answering with the existing referral");
    }
    println!("{}", response.referral_id);
    Ok(())
}

fn status_error(status: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{:?}: {}", status.code(), status.message())
}

fn rfc3339(ts: Option<&prost_types::Timestamp>) -> Option<String> {
    ts.and_then(|ts| chrono::DateTime::from_timestamp(ts.seconds, ts.nanos.max(0) as u32))
        .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

#[derive(Debug, serde::Serialize)]
struct Stage {
    stage: &'static str,
    at: Option<String>,
    detail: String,
}

async fn status(target: &Target, referral_id: &str, json: bool) -> anyhow::Result<()> {
    let mut intake_client =
        intake::intake_service_client::IntakeServiceClient::new(target.authed(Role::ProgramManager).await?);
    let referral = intake_client
        .get_referral(intake::GetReferralRequest { referral_id: referral_id.to_owned(), purpose: String::new() })
        .await
        .map_err(status_error)?
        .into_inner();
    let change_at = |status: intake::ReferralStatus| {
        referral.history.iter().find(|c| c.status == status as i32).map(|c| (rfc3339(c.at.as_ref()), c.detail.clone()))
    };
    let mut stages = Vec::new();
    for (stage, status) in [
        ("received", intake::ReferralStatus::Received),
        ("routed", intake::ReferralStatus::Routed),
        ("assigned", intake::ReferralStatus::Assigned),
    ] {
        let (at, detail) = change_at(status).unwrap_or((None, String::new()));
        stages.push(Stage { stage, at, detail });
    }

    let mut audit_client = target.audit(Role::Auditor).await?;
    let audited = audit_client
        .list_entries(audit::ListEntriesRequest {
            correlation_id: referral_id.to_owned(),
            omit_payload: true,
            page_size: 1000,
            ..Default::default()
        })
        .await;
    let audited_stage = match audited {
        Ok(response) => {
            let entries = response.into_inner().entries;
            let types: Vec<&str> = entries.iter().map(|e| e.r#type.as_str()).collect();
            let complete = ["referral.received", "referral.routed", "case.assigned"].iter().all(|t| types.contains(t));
            let latest = entries.iter().filter_map(|e| e.recorded_at.as_ref()).max_by_key(|ts| (ts.seconds, ts.nanos));
            Stage {
                stage: "audited",
                at: if complete { rfc3339(latest) } else { None },
                detail: format!("{} events in the audit log", entries.len()),
            }
        }
        Err(err) => Stage { stage: "audited", at: None, detail: format!("audit log not readable: {}", err.message()) },
    };
    stages.push(audited_stage);

    let status_name = intake::ReferralStatus::try_from(referral.status)
        .map(|s| s.as_str_name().trim_start_matches("REFERRAL_STATUS_").to_lowercase())
        .unwrap_or_else(|_| "unknown".into());
    if json {
        let value = serde_json::json!({
            "referral_id": referral.referral_id,
            "status": status_name,
            "case_id": referral.case_id,
            "stages": stages,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("referral {}  status: {status_name}", referral.referral_id);
        for stage in &stages {
            println!("  {:<9} {:<26} {}", stage.stage, stage.at.as_deref().unwrap_or("pending"), stage.detail);
        }
    }
    Ok(())
}

async fn healthcheck(target: &Target) -> anyhow::Result<()> {
    let mut client = tonic_health::pb::health_client::HealthClient::new(target.channel().await?);
    let response = client
        .check(tonic_health::pb::HealthCheckRequest { service: String::new() })
        .await
        .map_err(status_error)?
        .into_inner();
    let serving = response.status == tonic_health::pb::health_check_response::ServingStatus::Serving as i32;
    println!("{}", if serving { "serving" } else { "not serving" });
    if serving { Ok(()) } else { Err(anyhow::anyhow!("{} is not serving", target.url)) }
}

async fn dlq(action: DlqAction, data_dir: &std::path::Path) -> anyhow::Result<()> {
    match action {
        DlqAction::List { service, limit, connect } => {
            let target = Target::resolve(connect.server, connect.token, data_dir)?;
            let mut client = admin::admin_service_client::AdminServiceClient::new(target.authed(Role::Admin).await?);
            let letters = client
                .list_dead_letters(admin::ListDeadLettersRequest { service: service.clone(), page_size: limit })
                .await
                .map_err(status_error)?
                .into_inner()
                .dead_letters;
            if letters.is_empty() {
                println!("no dead letters for {service}");
            }
            for letter in letters {
                println!(
                    "{}  {:<24} {:<40} attempts {}  {}  at {}",
                    letter.event_id,
                    letter.r#type,
                    letter.aggregate_id,
                    letter.attempts,
                    letter.reason,
                    rfc3339(letter.dead_lettered_at.as_ref()).unwrap_or_default()
                );
            }
            Ok(())
        }
        DlqAction::Replay { service, event_ids, connect } => {
            let target = Target::resolve(connect.server, connect.token, data_dir)?;
            let mut client = admin::admin_service_client::AdminServiceClient::new(target.authed(Role::Admin).await?);
            let replayed = client
                .replay_dead_letters(admin::ReplayDeadLettersRequest { service: service.clone(), event_ids })
                .await
                .map_err(status_error)?
                .into_inner()
                .replayed;
            println!("replayed {replayed} dead letters to {service}");
            Ok(())
        }
    }
}
