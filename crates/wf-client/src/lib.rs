//! The client side of Wayfinder, for the command line and for each partner's
//! intake adapter: find a system (a URL, or an embedded system's data folder),
//! authenticate (a given token, or a short-lived development token minted from
//! the key in the data folder), and get typed gRPC clients whose requests carry
//! the bearer token and the W3C trace context.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use wf_auth::{BearerToken, Role, TokenIssuer, TokenKind};
use wf_config::Config;

use wf_proto::audit::v1::audit_service_client::AuditServiceClient;
use wf_proto::cases::v1::case_service_client::CaseServiceClient;
use wf_proto::evaluation::v1::evaluation_service_client::EvaluationServiceClient;
use wf_proto::intake::v1::intake_service_client::IntakeServiceClient;
use wf_proto::routing::v1::routing_service_client::RoutingServiceClient;

/// What `endpoints.json` in a data folder records while a system runs there.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Endpoints {
    /// The gRPC URL, e.g. `http://127.0.0.1:50051`.
    pub grpc: String,
    /// The hotline webhook's URL (`POST`), e.g. `http://127.0.0.1:50052/v1/hotline/referrals`;
    /// absent when the process does not host intake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
    /// The staff web application's address, e.g. `http://127.0.0.1:50053`; absent when the
    /// process does not host the gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web: Option<String>,
    /// The process serving them.
    pub pid: u32,
    pub services: Vec<String>,
    /// "embedded" (SQLite files and the in-process bus) or "distributed".
    pub mode: String,
}

/// Where a [`Target`]'s address came from, for errors that say what to do.
enum Origin {
    /// Given on the command line (`--server`).
    Given,
    /// Read from a data folder's `endpoints.json`, which names the serving process.
    DataDir { dir: PathBuf, pid: u32 },
}

/// An authenticated, trace-propagating channel.
pub type AuthedChannel = InterceptedService<Channel, Authed>;

enum Credentials {
    Fixed(String),
    DevKey(TokenIssuer),
}

/// A running system and a way to authenticate to it.
pub struct Target {
    pub url: String,
    credentials: Credentials,
    origin: Origin,
}

impl Target {
    /// The system at `server`, or else the one running on `data_dir` (its `endpoints.json`); with
    /// `token`, or else short-lived development tokens from the data folder's key. A data folder
    /// that does not exist, or on which nothing runs, is an error saying how to start a system.
    pub fn resolve(server: Option<String>, token: Option<String>, data_dir: &Path) -> anyhow::Result<Self> {
        let (url, origin) = match server {
            Some(url) => (url, Origin::Given),
            None => {
                let endpoints = running_on(data_dir)?;
                (endpoints.grpc, Origin::DataDir { dir: data_dir.to_owned(), pid: endpoints.pid })
            }
        };
        let credentials = match token {
            Some(token) => Credentials::Fixed(token),
            None => {
                let config = Config::load(None, Some(data_dir))?;
                let keys_dir = config.keys_dir();
                // Never create a key here: a key the system does not know mints tokens it refuses.
                if !keys_dir.join(wf_auth::DEV_PRIVATE_KEY_FILE).is_file() {
                    anyhow::bail!(
                        "no --token given and no development key in {} (a system creates it there when it first \
                         starts: `wayfinder up --data-dir {}`); pass --token for a remote system",
                        keys_dir.display(),
                        data_dir.display()
                    );
                }
                let keys = wf_auth::load_or_create_dev_keypair(&keys_dir).with_context(|| {
                    format!("no --token given and no readable development key in {}", keys_dir.display())
                })?;
                Credentials::DevKey(TokenIssuer::from_pem(
                    &keys.private_pem,
                    &keys.kid,
                    &config.auth.issuer,
                    &config.auth.audience,
                )?)
            }
        };
        Ok(Self { url, credentials, origin })
    }

    /// A token for `role`: the given one, or a 5-minute development token.
    pub fn token_for(&self, role: Role) -> anyhow::Result<String> {
        match &self.credentials {
            Credentials::Fixed(token) => Ok(token.clone()),
            Credentials::DevKey(issuer) => {
                Ok(issuer.issue(TokenKind::User, &format!("cli-{role}"), role, None, Duration::from_secs(300))?)
            }
        }
    }

    /// A connected channel. When the address came from a data folder and nothing answers there,
    /// the error says that the system on that folder is not running and how to start it.
    pub async fn channel(&self) -> anyhow::Result<Channel> {
        let connected = Endpoint::from_shared(self.url.clone())
            .with_context(|| format!("invalid server url {}", self.url))?
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .connect()
            .await;
        connected.map_err(|err| match &self.origin {
            Origin::Given => anyhow::Error::new(err).context(format!("cannot reach {}", self.url)),
            Origin::DataDir { dir, pid } => anyhow::anyhow!("{}", not_running(dir, &self.url, *pid)),
        })
    }

    /// Routing: the partner directory, decisions, offers and escalations.
    pub async fn routing(&self, role: Role) -> anyhow::Result<RoutingServiceClient<AuthedChannel>> {
        Ok(RoutingServiceClient::new(self.authed(role).await?))
    }

    /// Cases: the case-manager roster and the case records.
    pub async fn cases(&self, role: Role) -> anyhow::Result<CaseServiceClient<AuthedChannel>> {
        Ok(CaseServiceClient::new(self.authed(role).await?))
    }

    /// A channel whose requests carry `role`'s token and the current trace context.
    pub async fn authed(&self, role: Role) -> anyhow::Result<AuthedChannel> {
        let bearer = BearerToken::new(&self.token_for(role)?)?;
        Ok(InterceptedService::new(self.channel().await?, Authed { bearer }))
    }

    /// Intake, where referrals are submitted and followed.
    pub async fn intake(&self, role: Role) -> anyhow::Result<IntakeServiceClient<AuthedChannel>> {
        Ok(IntakeServiceClient::new(self.authed(role).await?))
    }

    /// The audit log.
    pub async fn audit(&self, role: Role) -> anyhow::Result<AuditServiceClient<AuthedChannel>> {
        Ok(AuditServiceClient::new(self.authed(role).await?))
    }

    /// The evaluation: analyses and reports (aggregate only).
    pub async fn evaluation(&self, role: Role) -> anyhow::Result<EvaluationServiceClient<AuthedChannel>> {
        Ok(EvaluationServiceClient::new(self.authed(role).await?))
    }
}

/// The endpoints of the system running on `data_dir`, or an error that says why there is none and
/// how to start one.
fn running_on(data_dir: &Path) -> anyhow::Result<Endpoints> {
    if !data_dir.is_dir() {
        anyhow::bail!(
            "the data folder {dir} does not exist, so no system runs there: start one with \
             `wayfinder up --data-dir {dir}` (it creates the folder), or pass --server",
            dir = data_dir.display()
        );
    }
    let config = Config::load(None, Some(data_dir))?;
    let file = config.endpoints_file();
    let bytes = match std::fs::read(&file) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => anyhow::bail!(
            "no system is running on the data folder {dir} (it has no endpoints.json): start one with \
             `wayfinder up --data-dir {dir}`, or pass --server",
            dir = data_dir.display()
        ),
        Err(err) => return Err(anyhow::Error::new(err).context(format!("reading {}", file.display()))),
    };
    serde_json::from_slice(&bytes).with_context(|| format!("{} is not an endpoints file", file.display()))
}

/// What to say when the address a data folder's `endpoints.json` records does not answer: the
/// process that wrote it has stopped without removing it (a crash, a kill).
fn not_running(dir: &Path, url: &str, pid: u32) -> String {
    format!(
        "the system on the data folder {dir} is not running: nothing answers at {url}, the address its \
         endpoints.json records for process {pid} (left behind when that process stopped without cleaning \
         up). Start it with `wayfinder up --data-dir {dir}`",
        dir = dir.display()
    )
}

/// Adds the bearer token and the W3C trace context to every request.
#[derive(Clone)]
pub struct Authed {
    bearer: BearerToken,
}

impl tonic::service::Interceptor for Authed {
    fn call(&mut self, request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let mut request = self.bearer.call(request)?;
        wf_telemetry::inject_into_metadata(request.metadata_mut());
        Ok(request)
    }
}
