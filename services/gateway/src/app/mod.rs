//! The gateway's use cases, each owning its transaction: local [`accounts`] (what the command line
//! and the account page change), [`sessions`] (start, resolve, end, sweep), [`sign_in`] (throttle,
//! verify, rotate the session), signing in through an OpenID Connect provider ([`oidc`]) and calling the services as the signed-in person ([`upstream`]).

pub mod accounts;
pub mod oidc;
pub mod sessions;
pub mod sign_in;
pub mod upstream;

use std::sync::Arc;

use wf_db::Db;
use wf_types::SharedClock;

pub use accounts::{AccountError, AccountInfo, Accounts, NewAccount, TotpEnrolment};
pub use oidc::{Oidc, OidcRefusal, Started};
pub use sessions::{EndReason, NewSession, Resolved, Sessions, SignedIn};
pub use sign_in::{SignInAttempt, SignInRefusal};
pub use upstream::{AuthedChannel, Upstream, UpstreamFailure};

/// Everything a request handler reaches: cheap to clone (shared handles).
#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub clock: SharedClock,
    pub accounts: Accounts,
    pub sessions: Sessions,
    pub upstream: Upstream,
    /// The origin every state change must come from (`https://host[:port]`).
    pub public_origin: Arc<str>,
    /// The OpenID Connect provider people may sign in with (`[gateway.oidc]`), if any.
    pub oidc: Option<Arc<Oidc>>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`gateway.trusted_proxies`).
    pub proxies: Arc<[wf_config::TrustedProxy]>,
}

impl App {
    pub fn new(db: Db, clock: SharedClock, accounts: Accounts, upstream: Upstream, public_origin: &str) -> Self {
        let sessions = Sessions::new(db.clone(), clock.clone());
        Self {
            db,
            clock,
            accounts,
            sessions,
            upstream,
            public_origin: Arc::from(public_origin),
            oidc: None,
            proxies: Arc::from(Vec::new()),
        }
    }

    /// The same, believing `proxies`' `X-Forwarded-For`.
    pub fn with_proxies(mut self, proxies: Vec<wf_config::TrustedProxy>) -> Self {
        self.proxies = Arc::from(proxies);
        self
    }

    /// The address a request from `peer` is throttled as (see `domain::throttle::client_address`).
    pub fn client_address(&self, peer: std::net::IpAddr, headers: &http::HeaderMap) -> std::net::IpAddr {
        if self.proxies.is_empty() {
            return peer;
        }
        let forwarded: Vec<&str> =
            headers.get_all("x-forwarded-for").iter().filter_map(|value| value.to_str().ok()).collect();
        crate::domain::throttle::client_address(peer, &forwarded, &self.proxies)
    }

    /// The same, with sign-in through `oidc` too.
    pub fn with_oidc(mut self, oidc: Oidc) -> Self {
        self.oidc = Some(Arc::new(oidc));
        self
    }

    /// Whether the public origin is https (then the responses also carry HSTS).
    pub fn is_https(&self) -> bool {
        self.public_origin.starts_with("https://")
    }
}

/// A task that runs on a blocking thread (password hashing), as a plain result.
pub(crate) async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(|err| anyhow::anyhow!("blocking task failed: {err}"))
}
