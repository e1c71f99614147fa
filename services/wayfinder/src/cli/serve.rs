//! The process itself: `up` (every service, with the demo data set on a new embedded data folder),
//! `serve` (chosen services), `migrate`, `healthcheck`, and `token` (a development token from the data
//! folder's key, the key the process verifies tokens with unless one is configured).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use wf_auth::{Role, TokenIssuer, TokenKind};
use wf_config::Config;
use wf_types::PartnerId;

use super::{Connect, DbArgs, Globals, service_name, status_error};
use crate::system;

/// How the process listens and where its databases are.
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// gRPC listen address, e.g. 127.0.0.1:50051 (port 0 picks a free port).
    #[arg(long, env = "WAYFINDER_GRPC_ADDR")]
    pub grpc_addr: Option<SocketAddr>,
    #[command(flatten)]
    pub db: DbArgs,
}

impl ListenArgs {
    fn config(self, globals: &Globals) -> anyhow::Result<Config> {
        let mut config = globals.config_with(&self.db)?;
        if let Some(addr) = self.grpc_addr {
            config.grpc_addr = addr;
        }
        Ok(config)
    }
}

#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub listen: ListenArgs,
    /// Do not load the demo data set into a new data folder.
    #[arg(long)]
    pub no_demo: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The services to run in this process ("all" runs every one).
    #[arg(required = true, value_parser = service_name(true))]
    pub services: Vec<String>,
    #[command(flatten)]
    pub listen: ListenArgs,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The services whose databases to migrate (default: all).
    #[arg(value_parser = service_name(true))]
    pub services: Vec<String>,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    #[command(flatten)]
    pub connect: Connect,
    /// Ask an HTTP health address instead of gRPC health, e.g. http://127.0.0.1:8080/healthz (the
    /// gateway's, which answers 200 while it and its database do). Plain http:// only: the check runs
    /// beside the server. Exits non-zero unless the answer is 2xx within 5 seconds.
    #[arg(long, value_name = "URL", conflicts_with_all = ["server", "token"])]
    pub http: Option<String>,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The token's role.
    #[arg(long, value_parser = role())]
    pub role: Role,
    /// Partner organization id, "org_…" (required for role partner).
    #[arg(long)]
    pub partner: Option<PartnerId>,
    /// The token's subject (who it speaks for).
    #[arg(long, default_value = "dev-user")]
    pub subject: String,
    /// Minutes until the token expires: at most 720 (12 h) for user and partner tokens, 60 for
    /// service tokens.
    #[arg(long, default_value_t = 60)]
    pub ttl_minutes: u64,
}

/// A role by its snake_case name, one of [`Role::ALL`].
fn role() -> impl TypedValueParser<Value = Role> {
    PossibleValuesParser::new(Role::ALL.map(Role::as_str)).try_map(|name| name.parse::<Role>())
}

/// A person's role (every role but `service`), by its snake_case name.
pub(super) fn person_role() -> impl TypedValueParser<Value = Role> {
    let names: Vec<&'static str> =
        Role::ALL.into_iter().filter(|role| *role != Role::Service).map(Role::as_str).collect();
    PossibleValuesParser::new(names).try_map(|name| name.parse::<Role>())
}

pub async fn up(args: UpArgs, globals: &Globals) -> anyhow::Result<()> {
    let config = args.listen.config(globals)?;
    // Only a new embedded data folder gets the demo: never mix it into real data.
    let demo = !args.no_demo && config.is_embedded() && !config.data_dir.join("intake.db").exists();
    serve_with(config, &[], demo, globals.data_dir_access()).await
}

pub async fn serve(args: ServeArgs, globals: &Globals) -> anyhow::Result<()> {
    serve_with(args.listen.config(globals)?, &args.services, false, globals.data_dir_access()).await
}

pub async fn migrate(args: MigrateArgs, globals: &Globals) -> anyhow::Result<()> {
    let config = globals.config_with(&args.db)?;
    let _telemetry = wf_telemetry::init(&config.telemetry);
    crate::data_dir::prepare(&config.data_dir, globals.data_dir_access())?;
    system::migrate(&config, &system::resolve_services(&args.services)?).await
}

pub fn token(args: TokenArgs, globals: &Globals) -> anyhow::Result<()> {
    let config = globals.config()?;
    let keys = wf_auth::load_or_create_dev_keypair(&config.keys_dir())?;
    let issuer = TokenIssuer::from_pem(&keys.private_pem, &keys.kid, &config.auth.issuer, &config.auth.audience)?;
    let kind = match args.role {
        Role::Partner => TokenKind::Partner,
        Role::Service => TokenKind::Service,
        _ => TokenKind::User,
    };
    check_ttl(kind, args.role, args.ttl_minutes)?;
    let token = issuer.issue(
        kind,
        &args.subject,
        args.role,
        args.partner.as_ref().map(PartnerId::as_str),
        Duration::from_secs(args.ttl_minutes.saturating_mul(60)),
    )?;
    println!("{token}");
    Ok(())
}

/// A token lifetime the servers accept for `kind` (they refuse longer-lived tokens).
pub(super) fn check_ttl(kind: TokenKind, role: Role, minutes: u64) -> anyhow::Result<()> {
    let max_minutes = kind.default_max_lifetime().as_secs() / 60;
    if !(1..=max_minutes).contains(&minutes) {
        anyhow::bail!(
            "--ttl-minutes {minutes} is out of range for a {role} token; allowed 1 to {max_minutes} (the servers refuse longer-lived tokens)"
        );
    }
    Ok(())
}

pub async fn healthcheck(args: HealthcheckArgs, globals: &Globals) -> anyhow::Result<()> {
    if let Some(url) = &args.http {
        let serving = http_health(url).await;
        println!("{}", if serving.is_ok() { "serving" } else { "not serving" });
        return serving;
    }
    let target = args.connect.target(&globals.client_data_dir())?;
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

/// How long `healthcheck --http` waits for the whole answer.
const HTTP_HEALTH_TIMEOUT: Duration = Duration::from_secs(5);

/// `GET url` answers 2xx within [`HTTP_HEALTH_TIMEOUT`]; otherwise why not.
async fn http_health(url: &str) -> anyhow::Result<()> {
    let uri: hyper::Uri = url.parse().map_err(|err| {
        anyhow::anyhow!("--http {url:?} is not a URL ({err}); expected e.g. http://127.0.0.1:8080/healthz")
    })?;
    if uri.scheme_str() != Some("http") || uri.host().is_none() {
        anyhow::bail!(
            "--http {url:?}: expected an http:// URL with a host, e.g. http://127.0.0.1:8080/healthz \
             (the check runs beside the server, without TLS)"
        );
    }
    let client =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http::<String>();
    let response = tokio::time::timeout(HTTP_HEALTH_TIMEOUT, client.get(uri))
        .await
        .map_err(|_| anyhow::anyhow!("{url} did not answer within {} s", HTTP_HEALTH_TIMEOUT.as_secs()))?
        .map_err(|err| anyhow::anyhow!("{url} cannot be reached: {}", error_chain(&err)))?;
    let status = response.status();
    if !status.is_success() {
        anyhow::bail!("{url} answered {status}, not a 2xx: not serving");
    }
    Ok(())
}

/// An error and its sources on one line (hyper's own message is only "client error (Connect)").
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

async fn serve_with(
    config: Config,
    services: &[String],
    load_demo: bool,
    access: crate::data_dir::DataDirAccess,
) -> anyhow::Result<()> {
    let mut telemetry_config = config.telemetry.clone();
    if services.len() == 1 {
        telemetry_config.service_name = format!("wayfinder-{}", services[0]);
    }
    let _telemetry = wf_telemetry::init(&telemetry_config).context("starting telemetry")?;
    let services = system::resolve_services(services)?;
    let shutdown = wf_server::shutdown_on_signal();
    let system = system::build_with(config, &services, access).await?;
    let mode = if system.config.is_embedded() { "embedded (SQLite + in-process bus)" } else { "PostgreSQL + RabbitMQ" };
    let webhook = system.webhook_url().map(|url| format!(", hotline webhook {url}")).unwrap_or_default();
    eprintln!(
        "wayfinder is up: {} on {}{webhook} — {mode}; data in {}",
        services.join(", "),
        system.grpc_url(),
        system.config.data_dir.display()
    );
    let demo_accounts = system.config.data_dir.join(crate::demo::DEMO_ACCOUNTS_FILE);
    if let Some(web) = system.web_url() {
        eprintln!("web application: {web}");
        if !load_demo && demo_accounts.is_file() {
            eprintln!("demo sign-ins: {}", demo_accounts.display());
        }
    }
    if !load_demo {
        return system.run(shutdown).await;
    }
    if let Some(gateway) = system.gateway() {
        let text = crate::demo::seed_accounts(gateway.accounts(), &system.config.data_dir)
            .await
            .context("creating the demo sign-ins")?;
        eprintln!("demo sign-ins (also in {}):\n{text}", demo_accounts.display());
    }
    let target = wf_client::Target::resolve(Some(system.grpc_url()), None, &system.config.data_dir)?;
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

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    /// A one-request HTTP server on a free port that answers `status_line`; its address.
    async fn answering(status_line: &'static str) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(async move {
            if let Ok((mut stream, _)) = listener.accept().await {
                let mut request = [0u8; 1024];
                let _ = stream.read(&mut request).await;
                let answer = format!("HTTP/1.1 {status_line}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = stream.write_all(answer.as_bytes()).await;
            }
        });
        addr
    }

    #[tokio::test]
    async fn the_http_health_check_passes_on_the_gateways_healthz() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = Config::from_figment(
            Config::defaults_only(&dir.path().join("data"))
                .merge(("grpc_addr", "127.0.0.1:0"))
                .merge(("gateway.upstream_url", "http://127.0.0.1:9")),
        )
        .expect("configuration");
        let system = system::build(config, &["gateway"]).await.expect("the gateway alone builds");
        let web = system.web_url().expect("the gateway's address");
        let shutdown = tokio_util::sync::CancellationToken::new();
        let running = tokio::spawn(system.run(shutdown.clone()));

        http_health(&format!("{web}/healthz")).await.expect("the gateway's /healthz passes");
        // Anything but 2xx fails: an unknown address sends the visitor to sign in first.
        let err = http_health(&format!("{web}/no-such-page")).await.expect_err("a redirect is not healthy");
        assert!(err.to_string().contains("answered 303 See Other, not a 2xx"), "{err}");

        shutdown.cancel();
        running.await.expect("joined").expect("stops cleanly");
        // Nothing listening any more: unreachable, said so.
        let err = http_health(&format!("{web}/healthz")).await.expect_err("a stopped gateway is not healthy");
        assert!(err.to_string().contains("cannot be reached"), "{err}");
    }

    #[tokio::test]
    async fn the_http_health_check_fails_unless_the_answer_is_2xx() {
        let ok = answering("200 OK").await;
        http_health(&format!("http://{ok}/healthz")).await.expect("200 passes");
        let unavailable = answering("503 Service Unavailable").await;
        let err = http_health(&format!("http://{unavailable}/healthz")).await.expect_err("503 fails");
        assert!(err.to_string().contains("answered 503 Service Unavailable"), "{err}");

        // Silence past the timeout fails too.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let silent = listener.local_addr().expect("address");
        let held = tokio::spawn(async move {
            let accepted = listener.accept().await;
            tokio::time::sleep(HTTP_HEALTH_TIMEOUT * 2).await;
            drop(accepted);
        });
        let err = http_health(&format!("http://{silent}/healthz")).await.expect_err("no answer fails");
        assert!(err.to_string().contains("did not answer within 5 s"), "{err}");
        held.abort();
    }

    #[tokio::test]
    async fn the_http_health_check_takes_only_plain_http_urls() {
        for bad in ["https://127.0.0.1:8080/healthz", "127.0.0.1:8080/healthz", "not a url", "http:///healthz"] {
            let err = http_health(bad).await.expect_err(bad);
            assert!(err.to_string().starts_with(&format!("--http {bad:?}")), "{bad}: {err}");
        }
    }

    #[test]
    fn the_http_health_check_is_a_healthcheck_flag_apart_from_grpc() {
        use clap::Parser as _;
        let cli =
            super::super::Cli::try_parse_from(["wayfinder", "healthcheck", "--http", "http://127.0.0.1:8080/healthz"])
                .expect("parses");
        let super::super::Command::Healthcheck(args) = cli.command else { panic!("not healthcheck") };
        assert_eq!(args.http.as_deref(), Some("http://127.0.0.1:8080/healthz"));
        let both = ["wayfinder", "healthcheck", "--http", "http://127.0.0.1:8080/healthz", "--server", "http://x:1"];
        assert!(super::super::Cli::try_parse_from(both).is_err(), "--http and --server are one or the other");
    }
}
