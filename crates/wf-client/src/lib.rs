//! The client side of Wayfinder, for the command line and for each partner's
//! intake adapter: find a system (a URL, or an embedded system's data folder),
//! authenticate (a given token, or a short-lived development token minted from
//! the key in the data folder), and get typed gRPC clients whose requests carry
//! the bearer token and the W3C trace context.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use wf_auth::{BearerToken, Role, TokenIssuer, TokenKind};
use wf_config::Config;

use wf_proto::audit::v1::audit_service_client::AuditServiceClient;
use wf_proto::evaluation::v1::evaluation_service_client::EvaluationServiceClient;
use wf_proto::intake::v1::intake_service_client::IntakeServiceClient;

/// What `endpoints.json` in a data folder records while a system runs there.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Endpoints {
    pub grpc: String,
    pub pid: u32,
    pub services: Vec<String>,
    pub mode: String,
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
}

impl Target {
    pub fn resolve(server: Option<String>, token: Option<String>, data_dir: &Path) -> anyhow::Result<Self> {
        let url = match server {
            Some(url) => url,
            None => {
                let config = Config::load(None, Some(data_dir))?;
                let file = config.endpoints_file();
                let bytes = std::fs::read(&file).with_context(|| {
                    format!(
                        "no running system found: {} is missing (start one with `wayfinder up --data-dir {}`, or pass --server)",
                        file.display(),
                        data_dir.display()
                    )
                })?;
                let endpoints: Endpoints =
                    serde_json::from_slice(&bytes).with_context(|| format!("reading {}", file.display()))?;
                endpoints.grpc
            }
        };
        let credentials = match token {
            Some(token) => Credentials::Fixed(token),
            None => {
                let config = Config::load(None, Some(data_dir))?;
                let keys = wf_auth::load_or_create_dev_keypair(&config.keys_dir()).with_context(|| {
                    format!("no --token given and no development key in {}", config.keys_dir().display())
                })?;
                Credentials::DevKey(TokenIssuer::from_pem(
                    &keys.private_pem,
                    &keys.kid,
                    &config.auth.issuer,
                    &config.auth.audience,
                )?)
            }
        };
        Ok(Self { url, credentials })
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

    pub async fn channel(&self) -> anyhow::Result<Channel> {
        Endpoint::from_shared(self.url.clone())
            .with_context(|| format!("invalid server url {}", self.url))?
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .connect()
            .await
            .with_context(|| format!("cannot reach {}", self.url))
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
