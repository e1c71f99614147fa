//! Configuration for every Wayfinder process, in layers: embedded defaults, then
//! a TOML file (`wayfinder.toml` in the data folder, or `--config`), then
//! `WAYFINDER_*` environment variables (nested with `__`, e.g.
//! `WAYFINDER_EVENTS__DELIVERY_LIMIT=5`), then the conventional `DATABASE_URL`,
//! `AMQP_URL` and `OTEL_EXPORTER_OTLP_ENDPOINT`; finally [`Config::validate`].
//!
//! With neither `DATABASE_URL` nor `AMQP_URL` the system runs embedded: one
//! SQLite file per service in the data folder and the in-process event bus.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use wf_types::Secret;

/// Every service that owns a database and a queue.
pub const SERVICES: &[&str] = &["intake", "routing", "cases", "audit", "evaluation"];

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// Where the embedded mode keeps its SQLite files, development keys and endpoints file.
    pub data_dir: PathBuf,
    /// gRPC listen address (port 0 picks a free port).
    pub grpc_addr: SocketAddr,
    /// PostgreSQL URL; each service uses its own schema named after it. Absent: SQLite.
    pub database_url: Option<Secret<String>>,
    /// RabbitMQ URL. Absent: the in-process bus.
    pub amqp_url: Option<Secret<String>>,
    /// Run migrations at start-up (the all-in-one does; production runs `wayfinder migrate`).
    pub auto_migrate: bool,
    pub telemetry: wf_telemetry::TelemetryConfig,
    pub auth: AuthConfig,
    pub events: EventsConfig,
    /// The partner directory routing loads (defaults to the demo directory).
    pub directory_file: Option<PathBuf>,
    /// The routing policy routing loads (defaults to the embedded demo policy).
    pub routing_policy_file: Option<PathBuf>,
    /// The case-manager roster cases loads (defaults to the demo roster).
    pub roster_file: Option<PathBuf>,
    /// Intake's field-encryption keys: a JSON key ring (`{"current_version": 2, "keys": {"1": "<base64>",
    /// "2": "<base64>"}}`, the development file's format, which `wayfinder keys rotate` can grow) or one
    /// base64-encoded 32-byte key (key version 1). Absent: the development key ring in the data folder.
    pub field_key_file: Option<PathBuf>,
    /// Intake's returning-youth identity key (HMAC-SHA256 over normalized identities): the base64 of 32
    /// random bytes. Absent: the development key `keys/identity_hmac.key` in the data folder.
    pub identity_key_file: Option<PathBuf>,
    /// Intake's hotline webhook listen address. Absent: the gRPC host with the next port
    /// (127.0.0.1:50052 by default), or port 0 when the gRPC port is 0. See [`Config::webhook_addr`].
    pub webhook_addr: Option<SocketAddr>,
    /// Hotline webhook signing secrets: a JSON object of key id → secret (at least 32 characters).
    /// Absent: one generated development secret `keys/webhook_secrets.json` in the data folder.
    pub webhook_secrets_file: Option<PathBuf>,
    /// Audit's checkpoint signing key: an Ed25519 PKCS#8 PEM file. Absent: the development
    /// key `keys/audit_checkpoint_ed25519.pem` in the data folder.
    pub audit_signing_key_file: Option<PathBuf>,
    pub audit: AuditConfig,
    /// The staff web application's listen address. Absent: the gRPC host with the port after the
    /// webhook's (127.0.0.1:50053 by default), or port 0 when the gRPC port is 0. See
    /// [`Config::gateway_addr`].
    pub gateway_addr: Option<SocketAddr>,
    #[serde(default)]
    pub gateway: GatewayConfig,
}

/// The staff web application (the gateway).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GatewayConfig {
    /// The origin browsers reach the gateway at (`https://wayfinder.example.org`, no path). Every state
    /// change must come from it (the `Origin` check). Absent: `http://<bound address>`.
    pub public_origin: Option<String>,
    /// The Ed25519 private key (PKCS#8 PEM) the gateway signs its short-lived upstream tokens with; the
    /// services must verify with its public key. Absent: the development key pair in the data folder
    /// (`keys/jwt_ed25519.pem`), as `wayfinder token` uses.
    pub signing_key_file: Option<PathBuf>,
    /// The gRPC URL of the services (`http://127.0.0.1:50051`), for every service without an address of
    /// its own in [`GatewayConfig::upstreams`]. Absent: the all-in-one tells the gateway the address of
    /// the services it hosts.
    pub upstream_url: Option<String>,
    /// Each service's own gRPC URL, where they run apart (`[gateway.upstreams] intake =
    /// "http://intake:50051"`, `WAYFINDER_GATEWAY__UPSTREAMS__INTAKE`). A service left out is reached
    /// at `upstream_url`. See [`GatewayConfig::upstream_for`].
    #[serde(default)]
    pub upstreams: GatewayUpstreams,
    /// Sign-in through an OpenID Connect provider (production). Absent: local accounts only.
    pub oidc: Option<OidcConfig>,
    /// Reverse proxies in front of the gateway (`"10.0.0.5"`, `"10.0.0.0/24"`, `"fd00::/8"`): a request
    /// from one of them is counted against the address its `X-Forwarded-For` names (the nearest
    /// address that is not itself a trusted proxy) when sign-in attempts are throttled per address.
    /// Empty (the default): the connecting address, and `X-Forwarded-For` is never read.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
}

/// One entry of `gateway.trusted_proxies`: an address, or a network in CIDR form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedProxy {
    network: std::net::IpAddr,
    prefix: u8,
}

impl TrustedProxy {
    /// `"10.0.0.5"` or `"10.0.0.0/24"`; the error says what is allowed.
    pub fn parse(entry: &str) -> Result<Self, String> {
        let entry = entry.trim();
        let (address, prefix) = match entry.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (entry, None),
        };
        let network: std::net::IpAddr =
            address.parse().map_err(|_| format!("{entry:?} is not an IP address or a network such as 10.0.0.0/24"))?;
        let most = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => most,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= most)
                .ok_or_else(|| format!("{entry:?}: the prefix length must be 0 to {most}"))?,
        };
        Ok(TrustedProxy { network, prefix })
    }

    /// Whether `address` is this proxy, or in its network.
    pub fn contains(&self, address: std::net::IpAddr) -> bool {
        fn bits(address: std::net::IpAddr) -> (u128, u8) {
            match address {
                std::net::IpAddr::V4(v4) => (u128::from(u32::from(v4)) << 96, 32),
                std::net::IpAddr::V6(v6) => (u128::from(v6), 128),
            }
        }
        let address = match address {
            std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, std::net::IpAddr::V4),
            v4 => v4,
        };
        let ((net, net_len), (addr, addr_len)) = (bits(self.network), bits(address));
        if net_len != addr_len {
            return false;
        }
        let mask = if self.prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(self.prefix)) };
        net & mask == addr & mask
    }
}

impl GatewayConfig {
    /// The trusted proxies, parsed (the configuration was validated at load).
    pub fn proxies(&self) -> Vec<TrustedProxy> {
        self.trusted_proxies.iter().filter_map(|entry| TrustedProxy::parse(entry).ok()).collect()
    }
}

impl GatewayConfig {
    /// Where the gateway reaches `service` (one of [`SERVICES`]): its own address in
    /// [`GatewayConfig::upstreams`], else `upstream_url`, else none (the all-in-one sets it later).
    pub fn upstream_for(&self, service: &str) -> Option<&str> {
        self.upstreams.get(service).or(self.upstream_url.as_deref())
    }

    /// The services the gateway has no address for (neither its own nor `upstream_url`), in
    /// [`SERVICES`] order.
    pub fn services_without_upstream(&self) -> Vec<&'static str> {
        SERVICES.iter().copied().filter(|service| self.upstream_for(service).is_none()).collect()
    }
}

/// The gRPC URL of each service the gateway calls, when they do not share one address (one
/// container or Deployment per service). Every one is optional and falls back to
/// `gateway.upstream_url`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayUpstreams {
    /// Intake's gRPC URL (`http://intake:50051`).
    pub intake: Option<String>,
    /// Routing's gRPC URL (`http://routing:50051`).
    pub routing: Option<String>,
    /// Cases' gRPC URL (`http://cases:50051`).
    pub cases: Option<String>,
    /// Audit's gRPC URL (`http://audit:50051`).
    pub audit: Option<String>,
    /// Evaluation's gRPC URL (`http://evaluation:50051`).
    pub evaluation: Option<String>,
}

impl GatewayUpstreams {
    /// The configuration key of each service's URL, in [`SERVICES`] order.
    pub const KEYS: [(&'static str, &'static str); 5] = [
        ("intake", "gateway.upstreams.intake"),
        ("routing", "gateway.upstreams.routing"),
        ("cases", "gateway.upstreams.cases"),
        ("audit", "gateway.upstreams.audit"),
        ("evaluation", "gateway.upstreams.evaluation"),
    ];

    /// `service`'s own URL, if one is set.
    pub fn get(&self, service: &str) -> Option<&str> {
        match service {
            "intake" => self.intake.as_deref(),
            "routing" => self.routing.as_deref(),
            "cases" => self.cases.as_deref(),
            "audit" => self.audit.as_deref(),
            "evaluation" => self.evaluation.as_deref(),
            _ => None,
        }
    }
}

/// Why `url` cannot be a service's gRPC address (http or https, with a host).
fn upstream_problem(url: &str) -> Option<String> {
    match url::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => None,
        _ => Some(format!("{url:?} is not an http:// or https:// URL of a gRPC port (e.g. \"http://intake:50051\")")),
    }
}

/// An OpenID Connect provider the gateway signs people in with (authorization code flow with PKCE
/// and a nonce). The ID token is verified with the provider's keys (a JWKS file or URL, never a key
/// a token names), its `exp iss aud sub` are required, and its subject must be linked to an
/// account (`wayfinder accounts link`): the provider says who the person is, the account what they
/// may do.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OidcConfig {
    /// The provider's issuer identifier, exactly as its ID tokens' `iss` (`https://id.example.org`).
    pub issuer: String,
    /// The client id registered with the provider; ID tokens must name it in `aud`.
    pub client_id: String,
    /// A file holding the client secret (confidential clients). Absent: a public client (PKCE only).
    pub client_secret_file: Option<PathBuf>,
    /// Where the browser is sent to sign in (https, or http on a loopback address).
    pub authorization_endpoint: String,
    /// Where the gateway exchanges the code for tokens (https, or http on a loopback address).
    pub token_endpoint: String,
    /// The provider's signing keys as a JWKS file. Exactly one of `jwks_file` and `jwks_url`.
    pub jwks_file: Option<PathBuf>,
    /// The provider's JWKS address (https, or http on a loopback address), fetched at start and again
    /// (at most once a minute) when a token names a key it does not hold.
    pub jwks_url: Option<String>,
    /// The signing algorithms accepted (default RS256 and ES256). Allowed: RS256, RS384, RS512,
    /// PS256, PS384, PS512, ES256, ES384, EdDSA; never `none` nor a shared-secret (HS) algorithm.
    #[serde(default = "OidcConfig::default_algorithms")]
    pub algorithms: Vec<String>,
    /// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds: 0 to 5 (default 5).
    #[serde(default = "OidcConfig::default_leeway")]
    pub leeway_seconds: u64,
    /// The provider's name on the sign-in button ("Sign in with …").
    #[serde(default = "OidcConfig::default_display_name")]
    pub display_name: String,
}

impl OidcConfig {
    /// The algorithms that may be configured.
    pub const ALLOWED_ALGORITHMS: &'static [&'static str] =
        &["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"];
    /// The most clock skew that may be configured, in seconds.
    pub const MAX_LEEWAY_SECONDS: u64 = 5;

    fn default_algorithms() -> Vec<String> {
        vec!["RS256".to_owned(), "ES256".to_owned()]
    }

    fn default_leeway() -> u64 {
        Self::MAX_LEEWAY_SECONDS
    }

    fn default_display_name() -> String {
        "your organization's sign-in".to_owned()
    }

    /// The first problem with this provider's settings, as (field, reason).
    pub fn problem(&self) -> Option<(&'static str, String)> {
        if !url::Url::parse(&self.issuer).is_ok_and(|url| url.scheme() == "https" || is_loopback_http(&url)) {
            return Some((
                "gateway.oidc.issuer",
                format!("{:?} is not an https:// URL (http:// only on a loopback address)", self.issuer),
            ));
        }
        if self.client_id.trim().is_empty() {
            return Some(("gateway.oidc.client_id", "must not be empty".to_owned()));
        }
        for (field, value) in [
            ("gateway.oidc.authorization_endpoint", Some(&self.authorization_endpoint)),
            ("gateway.oidc.token_endpoint", Some(&self.token_endpoint)),
            ("gateway.oidc.jwks_url", self.jwks_url.as_ref()),
        ] {
            if let Some(value) = value
                && !url::Url::parse(value).is_ok_and(|url| url.scheme() == "https" || is_loopback_http(&url))
            {
                return Some((field, format!("{value:?} is not an https:// URL (http:// only on a loopback address)")));
            }
        }
        if self.jwks_file.is_some() == self.jwks_url.is_some() {
            return Some(("gateway.oidc.jwks_file", "set exactly one of jwks_file and jwks_url".to_owned()));
        }
        if self.algorithms.is_empty() {
            return Some((
                "gateway.oidc.algorithms",
                format!("must name at least one of {}", Self::ALLOWED_ALGORITHMS.join(", ")),
            ));
        }
        if let Some(bad) = self.algorithms.iter().find(|alg| !Self::ALLOWED_ALGORITHMS.contains(&alg.as_str())) {
            return Some((
                "gateway.oidc.algorithms",
                format!("{bad:?} is not allowed: allowed {}", Self::ALLOWED_ALGORITHMS.join(", ")),
            ));
        }
        if self.leeway_seconds > Self::MAX_LEEWAY_SECONDS {
            return Some((
                "gateway.oidc.leeway_seconds",
                format!("{} is out of range: allowed 0 to {}", self.leeway_seconds, Self::MAX_LEEWAY_SECONDS),
            ));
        }
        None
    }
}

/// An `http://` URL whose host is a loopback address (a provider on the same machine, in tests).
fn is_loopback_http(url: &url::Url) -> bool {
    url.scheme() == "http"
        && match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(name)) => name == "localhost",
            None => false,
        }
}

/// When the audit log signs checkpoints and where their outside copies go.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditConfig {
    /// A checkpoint at every multiple of this many entries.
    pub checkpoint_every_entries: u64,
    /// No entry waits longer than this for a checkpoint covering it.
    pub checkpoint_every_seconds: u64,
    /// JSON-lines copy of every checkpoint. Absent: `<data_dir>/audit-checkpoints.jsonl`.
    pub checkpoint_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthConfig {
    pub issuer: String,
    pub audience: String,
    /// Ed25519 public key (PEM) that verifies tokens. Absent: the development key in the data folder.
    pub jwt_public_key_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventsConfig {
    pub exchange: String,
    pub queue_prefix: String,
    /// Deliveries before a message is dead-lettered.
    pub delivery_limit: u32,
    pub retry_initial_ms: u64,
    pub retry_max_ms: u64,
    /// Outbox relay safety-net poll.
    pub relay_poll_ms: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(Box<figment::Error>),
    #[error("configuration field `{field}`: {reason}")]
    Invalid { field: &'static str, reason: String },
}

impl From<figment::Error> for ConfigError {
    fn from(err: figment::Error) -> Self {
        ConfigError::Load(Box::new(err))
    }
}

#[derive(Serialize)]
struct Defaults {
    data_dir: PathBuf,
    grpc_addr: SocketAddr,
    auto_migrate: bool,
    telemetry: wf_telemetry::TelemetryConfig,
    auth: AuthConfig,
    events: EventsConfig,
    audit: AuditConfig,
}

fn defaults() -> Defaults {
    Defaults {
        data_dir: PathBuf::from("./data"),
        grpc_addr: SocketAddr::from(([127, 0, 0, 1], 50051)),
        auto_migrate: true,
        telemetry: wf_telemetry::TelemetryConfig::default(),
        auth: AuthConfig { issuer: "wayfinder".into(), audience: "wayfinder".into(), jwt_public_key_file: None },
        events: EventsConfig {
            exchange: "wayfinder.events".into(),
            queue_prefix: "wayfinder".into(),
            delivery_limit: 5,
            retry_initial_ms: 200,
            retry_max_ms: 10_000,
            relay_poll_ms: 500,
        },
        audit: AuditConfig { checkpoint_every_entries: 1000, checkpoint_every_seconds: 60, checkpoint_file: None },
    }
}

impl Config {
    /// Loads the layers. `file` is an explicit config file; otherwise
    /// `<data_dir>/wayfinder.toml` is read when it exists.
    pub fn load(file: Option<&Path>, data_dir: Option<&Path>) -> Result<Self, ConfigError> {
        Self::from_figment(Self::figment(file, data_dir))
    }

    /// The layered sources, exposed for tests and for `wayfinder config`.
    pub fn figment(file: Option<&Path>, data_dir: Option<&Path>) -> Figment {
        let mut figment = Figment::from(Serialized::defaults(defaults()));
        if let Some(dir) = data_dir {
            figment = figment.merge(Serialized::default("data_dir", dir));
        }
        let file = file.map(Path::to_path_buf).or_else(|| {
            let dir: PathBuf = figment.extract_inner("data_dir").ok()?;
            Some(dir.join("wayfinder.toml")).filter(|p| p.exists())
        });
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        figment = figment
            .merge(Env::prefixed("WAYFINDER_").split("__"))
            .merge(Env::raw().only(&["DATABASE_URL", "AMQP_URL"]).map(|key| key.as_str().to_lowercase().into()))
            .merge(Env::raw().only(&["OTEL_EXPORTER_OTLP_ENDPOINT"]).map(|_| "telemetry.otlp_endpoint".into()));
        if let Some(dir) = data_dir {
            // An explicit --data-dir wins over every layer.
            figment = figment.merge(Serialized::default("data_dir", dir));
        }
        figment
    }

    /// Embedded defaults with `data_dir` and nothing else: no file, no
    /// environment. For tests, which must not pick up the machine's settings.
    /// Extra listeners (the webhook) take a free port so tests never collide.
    pub fn defaults_only(data_dir: &Path) -> Figment {
        Figment::from(Serialized::defaults(defaults()))
            .merge(Serialized::default("data_dir", data_dir))
            .merge(Serialized::default("webhook_addr", SocketAddr::from(([127, 0, 0, 1], 0))))
            .merge(Serialized::default("gateway_addr", SocketAddr::from(([127, 0, 0, 1], 0))))
    }

    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let config: Config = figment.extract()?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.database_url {
            let url = url.expose();
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(ConfigError::Invalid {
                    field: "database_url",
                    reason: "must be a postgres:// URL (leave it unset for the embedded SQLite mode)".into(),
                });
            }
        }
        if let Some(url) = &self.amqp_url
            && !(url.expose().starts_with("amqp://") || url.expose().starts_with("amqps://"))
        {
            return Err(ConfigError::Invalid {
                field: "amqp_url",
                reason: "must be an amqp:// or amqps:// URL (leave it unset for the in-process bus)".into(),
            });
        }
        if self.events.delivery_limit == 0 || self.events.delivery_limit > 100 {
            return Err(ConfigError::Invalid {
                field: "events.delivery_limit",
                reason: format!("{} is out of range: allowed 1 to 100", self.events.delivery_limit),
            });
        }
        if self.events.retry_initial_ms == 0 || self.events.retry_initial_ms > self.events.retry_max_ms {
            return Err(ConfigError::Invalid {
                field: "events.retry_initial_ms",
                reason: "must be at least 1 and not above events.retry_max_ms".into(),
            });
        }
        if !(1..=1_000_000).contains(&self.audit.checkpoint_every_entries) {
            return Err(ConfigError::Invalid {
                field: "audit.checkpoint_every_entries",
                reason: format!("{} is out of range: allowed 1 to 1000000", self.audit.checkpoint_every_entries),
            });
        }
        if !(1..=86_400).contains(&self.audit.checkpoint_every_seconds) {
            return Err(ConfigError::Invalid {
                field: "audit.checkpoint_every_seconds",
                reason: format!("{} is out of range: allowed 1 to 86400", self.audit.checkpoint_every_seconds),
            });
        }
        if self.auth.issuer.is_empty() || self.auth.audience.is_empty() {
            return Err(ConfigError::Invalid { field: "auth", reason: "issuer and audience must not be empty".into() });
        }
        if let Some(origin) = &self.gateway.public_origin
            && let Some(reason) = origin_problem(origin)
        {
            return Err(ConfigError::Invalid { field: "gateway.public_origin", reason });
        }
        if let Some(url) = &self.gateway.upstream_url
            && let Some(reason) = upstream_problem(url)
        {
            return Err(ConfigError::Invalid { field: "gateway.upstream_url", reason });
        }
        for (service, field) in GatewayUpstreams::KEYS {
            if let Some(url) = self.gateway.upstreams.get(service)
                && let Some(reason) = upstream_problem(url)
            {
                return Err(ConfigError::Invalid { field, reason });
            }
        }
        if let Some(oidc) = &self.gateway.oidc
            && let Some((field, reason)) = oidc.problem()
        {
            return Err(ConfigError::Invalid { field, reason });
        }
        if let Some(reason) = self.gateway.trusted_proxies.iter().find_map(|entry| TrustedProxy::parse(entry).err()) {
            return Err(ConfigError::Invalid { field: "gateway.trusted_proxies", reason });
        }
        Ok(())
    }

    /// Whether this process runs embedded (SQLite files and the in-process bus).
    pub fn is_embedded(&self) -> bool {
        self.database_url.is_none() && self.amqp_url.is_none()
    }

    /// The database URL for `service`: its own schema on PostgreSQL, or its own
    /// SQLite file in the data folder.
    pub fn database_url_for(&self, service: &str) -> String {
        match &self.database_url {
            Some(url) => {
                let url = url.expose();
                let separator = if url.contains('?') { '&' } else { '?' };
                format!("{url}{separator}options=-c%20search_path%3D{service}")
            }
            None => format!("sqlite:{}", self.data_dir.join(format!("{service}.db")).display()),
        }
    }

    /// Where intake's hotline webhook listens: `webhook_addr`, else the gRPC host on the
    /// next port, or port 0 (a free one) when the gRPC port is 0.
    pub fn webhook_addr(&self) -> SocketAddr {
        self.webhook_addr.unwrap_or_else(|| {
            let port = match self.grpc_addr.port() {
                0 => 0,
                port => port.checked_add(1).unwrap_or(0),
            };
            SocketAddr::new(self.grpc_addr.ip(), port)
        })
    }

    /// Where the gateway (the staff web application) listens: `gateway_addr`, else the gRPC host on
    /// the port after the webhook's (gRPC port + 2), or port 0 (a free one) when the gRPC port is 0.
    pub fn gateway_addr(&self) -> SocketAddr {
        self.gateway_addr.unwrap_or_else(|| {
            let port = match self.grpc_addr.port() {
                0 => 0,
                port => port.checked_add(2).unwrap_or(0),
            };
            SocketAddr::new(self.grpc_addr.ip(), port)
        })
    }

    pub fn keys_dir(&self) -> PathBuf {
        self.data_dir.join("keys")
    }

    /// Written by a running system so client commands can find it with `--data-dir` alone.
    pub fn endpoints_file(&self) -> PathBuf {
        self.data_dir.join("endpoints.json")
    }
}

/// Why `origin` is not an origin a browser sends (`scheme://host[:port]`, http or https, nothing after).
fn origin_problem(origin: &str) -> Option<String> {
    let explain = || {
        Some(format!(
            "{origin:?} is not an origin: expected http:// or https://, a host and an optional port, with no path \
             and no trailing slash (e.g. \"https://wayfinder.example.org\")"
        ))
    };
    let Ok(parsed) = url::Url::parse(origin) else { return explain() };
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return explain();
    }
    // The serialised origin is what browsers send in `Origin`; anything else would never match.
    if parsed.origin().ascii_serialization() != origin {
        return explain();
    }
    None
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail closures return figment::Error, which is large
mod tests {
    use super::*;

    #[test]
    fn defaults_are_embedded_and_valid() {
        figment::Jail::expect_with(|_jail| {
            let config = Config::load(None, None).expect("defaults load");
            assert!(config.is_embedded());
            assert_eq!(config.grpc_addr.port(), 50051);
            assert_eq!(config.webhook_addr().to_string(), "127.0.0.1:50052");
            assert_eq!(config.gateway_addr().to_string(), "127.0.0.1:50053");
            assert!(config.gateway.public_origin.is_none() && config.gateway.upstream_url.is_none());
            assert_eq!(config.database_url_for("intake"), "sqlite:./data/intake.db");
            Ok(())
        });
    }

    #[test]
    fn environment_overrides_file_and_file_overrides_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("wf.toml", "grpc_addr = \"127.0.0.1:6000\"\n[events]\ndelivery_limit = 7\n")?;
            jail.set_env("WAYFINDER_EVENTS__DELIVERY_LIMIT", "9");
            jail.set_env("DATABASE_URL", "postgres://wf@127.0.0.1/wf");
            let config = Config::load(Some(Path::new("wf.toml")), None).expect("loads");
            assert_eq!(config.grpc_addr.port(), 6000);
            assert_eq!(config.events.delivery_limit, 9);
            assert!(!config.is_embedded());
            assert_eq!(
                config.database_url_for("routing"),
                "postgres://wf@127.0.0.1/wf?options=-c%20search_path%3Drouting"
            );
            Ok(())
        });
    }

    #[test]
    fn invalid_values_name_the_field_and_the_allowed_range() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("WAYFINDER_EVENTS__DELIVERY_LIMIT", "0");
            let err = Config::load(None, None).unwrap_err().to_string();
            assert!(err.contains("events.delivery_limit") && err.contains("allowed 1 to 100"), "{err}");
            jail.set_env("WAYFINDER_EVENTS__DELIVERY_LIMIT", "5");
            jail.set_env("WAYFINDER_AUDIT__CHECKPOINT_EVERY_ENTRIES", "0");
            let err = Config::load(None, None).unwrap_err().to_string();
            assert!(err.contains("audit.checkpoint_every_entries") && err.contains("allowed 1 to 1000000"), "{err}");
            jail.set_env("WAYFINDER_AUDIT__CHECKPOINT_EVERY_ENTRIES", "500");
            jail.set_env("DATABASE_URL", "mysql://x");
            let err = Config::load(None, None).unwrap_err().to_string();
            assert!(err.contains("database_url"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn the_gateway_takes_a_free_port_in_tests_and_its_origin_and_upstream_are_checked() {
        figment::Jail::expect_with(|jail| {
            let config = Config::from_figment(Config::defaults_only(Path::new("data"))).expect("loads");
            assert_eq!(config.gateway_addr().port(), 0);
            jail.set_env("WAYFINDER_GATEWAY__PUBLIC_ORIGIN", "https://wayfinder.example.org");
            jail.set_env("WAYFINDER_GATEWAY__UPSTREAM_URL", "http://127.0.0.1:50051");
            let config = Config::load(None, None).expect("loads");
            assert_eq!(config.gateway.public_origin.as_deref(), Some("https://wayfinder.example.org"));
            assert_eq!(config.gateway.upstream_url.as_deref(), Some("http://127.0.0.1:50051"));
            for bad in
                ["https://wayfinder.example.org/", "https://wayfinder.example.org/staff", "wayfinder.example.org"]
            {
                jail.set_env("WAYFINDER_GATEWAY__PUBLIC_ORIGIN", bad);
                let err = Config::load(None, None).unwrap_err().to_string();
                assert!(err.contains("gateway.public_origin") && err.contains("not an origin"), "{bad}: {err}");
            }
            jail.set_env("WAYFINDER_GATEWAY__PUBLIC_ORIGIN", "http://127.0.0.1:8080");
            jail.set_env("WAYFINDER_GATEWAY__UPSTREAM_URL", "127.0.0.1:50051");
            let err = Config::load(None, None).unwrap_err().to_string();
            assert!(err.contains("gateway.upstream_url"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks_and_a_bad_entry_is_named() {
        let one = TrustedProxy::parse("10.0.0.5").expect("an address");
        assert!(one.contains("10.0.0.5".parse().unwrap()) && !one.contains("10.0.0.6".parse().unwrap()));
        let net = TrustedProxy::parse("10.0.0.0/24").expect("a network");
        assert!(net.contains("10.0.0.200".parse().unwrap()) && !net.contains("10.0.1.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.0.0.7".parse().unwrap()), "an IPv4-mapped address is the IPv4 one");
        let v6 = TrustedProxy::parse("fd00::/8").expect("an IPv6 network");
        assert!(v6.contains("fd12::1".parse().unwrap()) && !v6.contains("10.0.0.5".parse().unwrap()));
        assert!(TrustedProxy::parse("0.0.0.0/0").expect("everything").contains("192.0.2.1".parse().unwrap()));
        for bad in ["proxy.example.org", "10.0.0.0/33", "10.0.0.0/x", "fd00::/129"] {
            assert!(TrustedProxy::parse(bad).is_err(), "{bad}");
        }
        figment::Jail::expect_with(|jail| {
            jail.create_file("wayfinder.toml", "[gateway]\ntrusted_proxies = [\"10.0.0.0/24\", \"::1\"]\n")?;
            let config = Config::load(Some(Path::new("wayfinder.toml")), None).expect("loads");
            assert_eq!(config.gateway.proxies().len(), 2);
            // As deploy/ sets it: a list in one environment variable.
            jail.set_env("WAYFINDER_GATEWAY__TRUSTED_PROXIES", "[\"172.17.0.1\"]");
            let config = Config::load(Some(Path::new("wayfinder.toml")), None).expect("loads");
            assert_eq!(config.gateway.trusted_proxies, ["172.17.0.1"]);
            jail.clear_env();
            jail.create_file("bad.toml", "[gateway]\ntrusted_proxies = [\"10.0.0.0/40\"]\n")?;
            let err = Config::load(Some(Path::new("bad.toml")), None).unwrap_err().to_string();
            assert!(err.contains("gateway.trusted_proxies") && err.contains("prefix length must be 0 to 32"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn each_service_may_have_its_own_upstream_and_the_others_fall_back_to_upstream_url() {
        figment::Jail::expect_with(|jail| {
            let config = Config::load(None, None).expect("defaults load");
            assert_eq!(config.gateway.upstream_for("intake"), None);
            assert_eq!(config.gateway.services_without_upstream(), SERVICES);

            jail.create_file(
                "wf.toml",
                "[gateway]\nupstream_url = \"http://services:50051\"\n\
                 [gateway.upstreams]\nintake = \"http://intake:50051\"\nrouting = \"https://routing.internal:443\"\n",
            )?;
            jail.set_env("WAYFINDER_GATEWAY__UPSTREAMS__AUDIT", "http://audit:50051");
            let config = Config::load(Some(Path::new("wf.toml")), None).expect("loads");
            let reached: Vec<_> = SERVICES.iter().map(|service| config.gateway.upstream_for(service)).collect();
            assert_eq!(
                reached,
                [
                    Some("http://intake:50051"),
                    Some("https://routing.internal:443"),
                    Some("http://services:50051"),
                    Some("http://audit:50051"),
                    Some("http://services:50051"),
                ]
            );
            assert!(config.gateway.services_without_upstream().is_empty());

            // Without the shared address, the services left out have none.
            jail.clear_env();
            jail.create_file("wf.toml", "[gateway.upstreams]\nintake = \"http://intake:50051\"\n")?;
            let config = Config::load(Some(Path::new("wf.toml")), None).expect("loads");
            assert_eq!(config.gateway.upstream_for("intake"), Some("http://intake:50051"));
            assert_eq!(config.gateway.upstream_for("cases"), None);
            assert_eq!(config.gateway.services_without_upstream(), ["routing", "cases", "audit", "evaluation"]);
            Ok(())
        });
    }

    #[test]
    fn a_service_upstream_that_is_not_a_url_names_its_key() {
        figment::Jail::expect_with(|jail| {
            for (service, field) in GatewayUpstreams::KEYS {
                let variable = format!("WAYFINDER_GATEWAY__UPSTREAMS__{}", service.to_uppercase());
                for bad in ["intake:50051", "ftp://intake:50051", "http://", "not a url"] {
                    jail.set_env(&variable, bad);
                    let err = Config::load(None, None).unwrap_err().to_string();
                    assert!(err.contains(&format!("`{field}`")) && err.contains("not an http://"), "{bad}: {err}");
                }
                jail.set_env(&variable, format!("http://{service}:50051"));
            }
            let config = Config::load(None, None).expect("every service's URL is fine now");
            assert_eq!(config.gateway.upstream_for("evaluation"), Some("http://evaluation:50051"));

            // A misspelt service is refused, not silently left to the fallback.
            jail.create_file("wf.toml", "[gateway.upstreams]\nintak = \"http://intake:50051\"\n")?;
            let err = Config::load(Some(Path::new("wf.toml")), None).unwrap_err().to_string();
            assert!(err.contains("intak") && err.contains("intake"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn the_upstream_keys_are_the_services() {
        let services: Vec<_> = GatewayUpstreams::KEYS.iter().map(|(service, _)| *service).collect();
        assert_eq!(services, SERVICES);
        for (service, field) in GatewayUpstreams::KEYS {
            assert_eq!(field, format!("gateway.upstreams.{service}"));
        }
    }

    #[test]
    fn secrets_do_not_print() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("AMQP_URL", "amqp://wf:hunter2@127.0.0.1:5672/%2f");
            let config = Config::load(None, None).expect("loads");
            assert!(!format!("{config:?}").contains("hunter2"));
            Ok(())
        });
    }
}
