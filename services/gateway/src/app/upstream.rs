//! Calling the services as the signed-in person. Each person's requests carry a short-lived token
//! minted for them (kind user, or kind partner with their partner id; subject = the account's
//! `user_id`), so every service applies its authorization table to the person, not to the
//! gateway. Tokens live [`TOKEN_TTL`] and are cached per session until a minute before they expire.
//! A JSON API caller may bring its own token instead ([`Upstream::verify_bearer`], checked as the
//! services check it, then passed on unchanged by [`Upstream::channel_with_bearer`]).
//!
//! Each service is reached at its own address when one is set (`gateway.upstreams.<service>`, where
//! the services run apart), else at the shared one (`gateway.upstream_url`, or the all-in-one's own
//! port). Channels connect lazily, so the services may start after the gateway.
//!
//! ```ignore
//! let case = app.upstream.cases(&who)?.get_case(request).await.or_page(&who)?;
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use wf_auth::{AuthError, BearerToken, Principal, Role, TokenIssuer, TokenKind, TokenVerifier};
use wf_proto::audit::v1::audit_service_client::AuditServiceClient;
use wf_proto::cases::v1::case_service_client::CaseServiceClient;
use wf_proto::evaluation::v1::evaluation_service_client::EvaluationServiceClient;
use wf_proto::intake::v1::intake_service_client::IntakeServiceClient;
use wf_proto::routing::v1::routing_service_client::RoutingServiceClient;
use wf_types::{FieldViolation, SessionId};

use super::sessions::SignedIn;

/// How long an upstream token lives (the services refuse user tokens over 12 hours; five minutes
/// bounds what a token copied out of the gateway's memory is good for).
pub const TOKEN_TTL: Duration = Duration::from_secs(5 * 60);
/// A cached token is replaced when it has less than this left, so no call leaves with a token about
/// to expire.
const REFRESH_BEFORE: Duration = Duration::from_secs(60);
/// Cached tokens kept before expired ones are dropped.
const CACHE_SWEEP_AT: usize = 4096;
/// A call to the services waits at most this long.
const CALL_TIMEOUT: Duration = Duration::from_secs(15);
/// Connecting to a service waits at most this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A channel whose every request carries the person's token and the current trace context.
pub type AuthedChannel = InterceptedService<Channel, PersonCredentials>;

/// The client-side interceptor: `authorization: Bearer …` plus `traceparent`.
#[derive(Clone, Debug)]
pub struct PersonCredentials(BearerToken);

impl tonic::service::Interceptor for PersonCredentials {
    fn call(&mut self, request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let mut request = self.0.call(request)?;
        wf_telemetry::inject_into_metadata(request.metadata_mut());
        Ok(request)
    }
}

/// Why a call to the services did not give its answer, as the pages and the JSON API report it.
#[derive(Debug)]
pub enum UpstreamFailure {
    /// The record does not exist or is not the person's to see (the services never tell which).
    NotFound,
    /// The person's role may not do this (staff only: a partner gets [`UpstreamFailure::NotFound`]).
    Forbidden(String),
    /// The request broke the contract; each field named.
    Invalid(Vec<FieldViolation>),
    /// The record is not in a state that allows it, or changed meanwhile.
    Conflict(String),
    /// The services cannot be reached (or no upstream is configured yet).
    Unavailable,
    Internal(anyhow::Error),
}

impl UpstreamFailure {
    /// Classifies a gRPC status for `who`. Partners get "not found" for every refusal, so an
    /// address outside their scope answers exactly like one that does not exist.
    pub fn from_status(status: tonic::Status, who: &SignedIn) -> Self {
        use tonic::Code;
        match status.code() {
            Code::NotFound => UpstreamFailure::NotFound,
            Code::PermissionDenied if who.is_partner() => UpstreamFailure::NotFound,
            Code::PermissionDenied => UpstreamFailure::Forbidden(status.message().to_owned()),
            Code::InvalidArgument | Code::OutOfRange => {
                use tonic_types::StatusExt as _;
                let details = status.get_error_details();
                let mut violations: Vec<FieldViolation> = details
                    .bad_request()
                    .map(|bad| {
                        bad.field_violations
                            .iter()
                            .map(|v| FieldViolation::new(v.field.clone(), v.description.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                if violations.is_empty() {
                    violations.push(FieldViolation::new("request", status.message().to_owned()));
                }
                UpstreamFailure::Invalid(violations)
            }
            Code::FailedPrecondition | Code::Aborted | Code::AlreadyExists => {
                UpstreamFailure::Conflict(status.message().to_owned())
            }
            Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted | Code::Cancelled => {
                UpstreamFailure::Unavailable
            }
            // A token the services refuse is the gateway's fault, never the person's.
            code => UpstreamFailure::Internal(anyhow::anyhow!("upstream answered {code:?}: {}", status.message())),
        }
    }
}

/// The services the gateway calls; each may live at an address of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UpstreamService {
    Intake,
    Routing,
    Cases,
    Audit,
    Evaluation,
}

impl UpstreamService {
    /// Every service, in the order of `wf_config::SERVICES`.
    pub const ALL: [UpstreamService; 5] = [
        UpstreamService::Intake,
        UpstreamService::Routing,
        UpstreamService::Cases,
        UpstreamService::Audit,
        UpstreamService::Evaluation,
    ];

    /// The service's name, as in the configuration (`gateway.upstreams.<name>`).
    pub fn name(self) -> &'static str {
        match self {
            UpstreamService::Intake => "intake",
            UpstreamService::Routing => "routing",
            UpstreamService::Cases => "cases",
            UpstreamService::Audit => "audit",
            UpstreamService::Evaluation => "evaluation",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A lazily connecting channel to `url`, with the gateway's call and connect timeouts.
fn lazy_channel(url: &str, key: &str) -> anyhow::Result<Channel> {
    let endpoint = Endpoint::from_shared(url.to_owned())
        .map_err(|err| anyhow::anyhow!("{key} {url:?}: {err}"))?
        .timeout(CALL_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT);
    Ok(endpoint.connect_lazy())
}

/// Where the calls go: a service's own channel, else the shared one.
#[derive(Default)]
struct Channels {
    shared: Option<Channel>,
    own: [Option<Channel>; UpstreamService::ALL.len()],
}

impl Channels {
    fn to(&self, service: UpstreamService) -> Option<Channel> {
        self.own[service.index()].as_ref().or(self.shared.as_ref()).cloned()
    }
}

struct CachedToken {
    token: String,
    refresh_at: Instant,
}

struct Inner {
    issuer: TokenIssuer,
    channels: RwLock<Channels>,
    tokens: Mutex<HashMap<SessionId, CachedToken>>,
    /// Checks the bearer tokens the JSON API is called with (user and partner kinds only).
    bearer: OnceLock<TokenVerifier>,
}

/// The services, as the gateway reaches them.
#[derive(Clone)]
pub struct Upstream {
    inner: Arc<Inner>,
}

impl Upstream {
    /// Mints with `issuer`; no services until [`Upstream::set_url`] or [`Upstream::set_service_url`].
    pub fn new(issuer: TokenIssuer) -> Self {
        Self {
            inner: Arc::new(Inner {
                issuer,
                channels: RwLock::new(Channels::default()),
                tokens: Mutex::new(HashMap::new()),
                bearer: OnceLock::new(),
            }),
        }
    }

    /// Sets the verifier of the JSON API's bearer tokens (once; [`crate::bearer_verifier`]). Until
    /// it is set every bearer token is refused.
    pub fn set_bearer_verifier(&self, verifier: TokenVerifier) {
        // A second call keeps the first verifier: the keys do not change while the gateway runs.
        let _ = self.inner.bearer.set(verifier);
    }

    /// The caller a bearer token names, checked as the services check it (signature, kind, `exp iss
    /// aud sub`, lifetime, role and kind), before the gateway passes it on.
    pub fn verify_bearer(&self, token: &str) -> Result<Principal, AuthError> {
        self.inner.bearer.get().ok_or(AuthError::NoVerificationKeys)?.verify(token)
    }

    /// A channel to `service` (its own address, else the shared one) carrying `token`, a bearer
    /// token the caller brought and [`Upstream::verify_bearer`] accepted: the services see the
    /// caller's own token and check it again.
    pub fn channel_with_bearer(&self, service: UpstreamService, token: &str) -> Result<AuthedChannel, UpstreamFailure> {
        let channel = self.channels().to(service).ok_or(UpstreamFailure::Unavailable)?;
        let bearer = BearerToken::new(token)
            .map_err(|err| UpstreamFailure::Internal(anyhow::anyhow!("bearer token header: {err}")))?;
        Ok(InterceptedService::new(channel, PersonCredentials(bearer)))
    }

    /// Points every service without an address of its own at the shared gRPC address
    /// (`http://127.0.0.1:50051`). Connects lazily: the services may start after the gateway. Must be
    /// called inside the Tokio runtime.
    pub fn set_url(&self, url: &str) -> anyhow::Result<()> {
        let channel = lazy_channel(url, "gateway.upstream_url")?;
        self.channels_mut().shared = Some(channel);
        Ok(())
    }

    /// Points `service` at its own gRPC address (`http://intake:50051`), whatever the shared one is.
    /// Connects lazily, with the same timeouts. Must be called inside the Tokio runtime.
    pub fn set_service_url(&self, service: UpstreamService, url: &str) -> anyhow::Result<()> {
        let channel = lazy_channel(url, &format!("gateway.upstreams.{}", service.name()))?;
        self.channels_mut().own[service.index()] = Some(channel);
        Ok(())
    }

    /// Whether any services address is set.
    pub fn is_configured(&self) -> bool {
        let channels = self.channels();
        channels.shared.is_some() || channels.own.iter().any(Option::is_some)
    }

    fn channels(&self) -> std::sync::RwLockReadGuard<'_, Channels> {
        self.inner.channels.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn channels_mut(&self) -> std::sync::RwLockWriteGuard<'_, Channels> {
        self.inner.channels.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The token for `who` (cached per session).
    pub fn token_for(&self, who: &SignedIn) -> Result<String, UpstreamFailure> {
        let now = Instant::now();
        let mut tokens = self.inner.tokens.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(cached) = tokens.get(&who.session_id)
            && cached.refresh_at > now
        {
            return Ok(cached.token.clone());
        }
        let (kind, partner) = match who.role {
            Role::Partner => (TokenKind::Partner, who.partner_id.as_ref().map(|p| p.as_str())),
            _ => (TokenKind::User, None),
        };
        let token = self
            .inner
            .issuer
            .issue(kind, &who.user_id, who.role, partner, TOKEN_TTL)
            .map_err(|err| UpstreamFailure::Internal(anyhow::anyhow!("minting an upstream token: {err}")))?;
        if tokens.len() >= CACHE_SWEEP_AT {
            tokens.retain(|_, cached| cached.refresh_at > now);
        }
        // The token's expiry is on the wall clock the services verify with, so the cache uses real
        // time too (not the service clock, which tests move).
        tokens.insert(
            who.session_id.clone(),
            CachedToken { token: token.clone(), refresh_at: now + TOKEN_TTL - REFRESH_BEFORE },
        );
        Ok(token)
    }

    /// Drops the cached token of a session that ended.
    pub fn forget(&self, session: &SessionId) {
        self.inner.tokens.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(session);
    }

    /// A channel to the shared address (`gateway.upstream_url`) carrying `who`'s token. The service
    /// clients below use [`Upstream::channel_to`], which prefers a service's own address.
    pub fn channel_for(&self, who: &SignedIn) -> Result<AuthedChannel, UpstreamFailure> {
        let channel = self.channels().shared.clone().ok_or(UpstreamFailure::Unavailable)?;
        self.authed(channel, who)
    }

    /// A channel to `service` (its own address, else the shared one) carrying `who`'s token;
    /// [`UpstreamFailure::Unavailable`] when neither is set.
    pub fn channel_to(&self, service: UpstreamService, who: &SignedIn) -> Result<AuthedChannel, UpstreamFailure> {
        let channel = self.channels().to(service).ok_or(UpstreamFailure::Unavailable)?;
        self.authed(channel, who)
    }

    fn authed(&self, channel: Channel, who: &SignedIn) -> Result<AuthedChannel, UpstreamFailure> {
        let bearer = BearerToken::new(&self.token_for(who)?)
            .map_err(|err| UpstreamFailure::Internal(anyhow::anyhow!("upstream token header: {err}")))?;
        Ok(InterceptedService::new(channel, PersonCredentials(bearer)))
    }

    pub fn intake(&self, who: &SignedIn) -> Result<IntakeServiceClient<AuthedChannel>, UpstreamFailure> {
        Ok(IntakeServiceClient::new(self.channel_to(UpstreamService::Intake, who)?))
    }

    pub fn routing(&self, who: &SignedIn) -> Result<RoutingServiceClient<AuthedChannel>, UpstreamFailure> {
        Ok(RoutingServiceClient::new(self.channel_to(UpstreamService::Routing, who)?))
    }

    pub fn cases(&self, who: &SignedIn) -> Result<CaseServiceClient<AuthedChannel>, UpstreamFailure> {
        Ok(CaseServiceClient::new(self.channel_to(UpstreamService::Cases, who)?))
    }

    pub fn audit(&self, who: &SignedIn) -> Result<AuditServiceClient<AuthedChannel>, UpstreamFailure> {
        Ok(AuditServiceClient::new(self.channel_to(UpstreamService::Audit, who)?))
    }

    pub fn evaluation(&self, who: &SignedIn) -> Result<EvaluationServiceClient<AuthedChannel>, UpstreamFailure> {
        Ok(EvaluationServiceClient::new(self.channel_to(UpstreamService::Evaluation, who)?))
    }
}
