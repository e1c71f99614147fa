//! Signing in through an OpenID Connect provider (authorization code flow, PKCE S256, a nonce).
//!
//! [`Oidc::begin`] keeps a pending sign-in (state, nonce, verifier, and the hash of a
//! browser-binding cookie) and gives the provider's address; [`Oidc::finish`], on the callback,
//! takes the pending sign-in its state names (once), checks that the same browser came back (the
//! binding cookie: the session cookie is `SameSite=Strict`, so the provider's redirect does not
//! carry it), exchanges the code for tokens, verifies the ID token ([`crate::domain::oidc`]: a key of
//! the provider's set by `kid`, an allowed algorithm, `exp iss aud sub` required, the nonce, at most
//! 5 s of skew on the service clock), finds the account linked to the subject and starts its
//! session. Every failure is one answer to the person ([`OidcRefusal::Failed`]); the reason is
//! logged as a code, never with a token or a claim's value.

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Bytes;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use rand::RngCore as _;
use subtle::ConstantTimeEq as _;
use tokio::sync::RwLock;
use wf_db::{Db, DbError};
use wf_types::SharedClock;
use zeroize::Zeroizing;

use super::sessions::{NewSession, Sessions};
use crate::domain::account::Account;
use crate::domain::oidc::{self, ClaimRefusal, Expected, IdClaims, KeyRefusal};
use crate::domain::session::token_hash;
use crate::store;

/// The most a provider's answer (token response, key set) may weigh.
const RESPONSE_LIMIT: usize = 64 * 1024;
/// How long the gateway waits for the provider.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);
/// A key set fetched from a URL is fetched again, when a token names a key it lacks, at most this often.
const REFETCH_AFTER: Duration = Duration::from_secs(60);

type Client = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<Bytes>,
>;

/// Where the provider's keys come from.
enum KeySource {
    File(std::path::PathBuf),
    Url(String),
}

/// The provider's keys as last loaded.
struct Keys {
    set: JwkSet,
    /// When a token naming a key the set lacked last made the gateway fetch the set again.
    refetched: Option<Instant>,
}

/// One provider, as configured (`[gateway.oidc]`).
pub struct Oidc {
    issuer: String,
    client_id: String,
    client_secret: Option<Zeroizing<String>>,
    authorization_endpoint: url::Url,
    token_endpoint: String,
    algorithms: Vec<jsonwebtoken::Algorithm>,
    leeway: i64,
    display_name: String,
    redirect_uri: String,
    source: KeySource,
    keys: RwLock<Keys>,
    client: Client,
    db: Db,
    clock: SharedClock,
}

/// A sign-in sent to the provider: where the browser goes, and the binding cookie's value.
pub struct Started {
    pub location: String,
    pub binding: Zeroizing<String>,
}

/// Why a callback did not sign anyone in.
#[derive(Debug)]
pub enum OidcRefusal {
    /// The one answer for every failure the person or the provider caused (the code is logged).
    Failed(&'static str),
    Storage(DbError),
}

impl From<DbError> for OidcRefusal {
    fn from(err: DbError) -> Self {
        OidcRefusal::Storage(err)
    }
}

impl From<sqlx::Error> for OidcRefusal {
    fn from(err: sqlx::Error) -> Self {
        OidcRefusal::Storage(err.into())
    }
}

fn random_text() -> Zeroizing<String> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(bytes.as_mut());
    Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes.as_ref()))
}

impl Oidc {
    /// The provider of `config`, its keys loaded (a file now; a URL now, and again when needed).
    pub async fn new(
        config: &wf_config::OidcConfig,
        public_origin: &str,
        db: Db,
        clock: SharedClock,
    ) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        if let Some((field, reason)) = config.problem() {
            anyhow::bail!("{field}: {reason}");
        }
        let algorithms = oidc::algorithms(&config.algorithms)
            .map_err(|reason| anyhow::anyhow!("gateway.oidc.algorithms: {reason}"))?;
        let client_secret = match &config.client_secret_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("gateway.oidc.client_secret_file {}", path.display()))?;
                Some(Zeroizing::new(text.trim().to_owned()))
            }
            None => None,
        };
        let source = match (&config.jwks_file, &config.jwks_url) {
            (Some(path), _) => KeySource::File(path.clone()),
            (None, Some(url)) => KeySource::Url(url.clone()),
            (None, None) => anyhow::bail!("gateway.oidc.jwks_file: set exactly one of jwks_file and jwks_url"),
        };
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .context("the system's trusted certificates (for the OpenID Connect provider)")?
            .https_or_http()
            .enable_http1()
            .build();
        let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector);
        let provider = Self {
            issuer: config.issuer.clone(),
            client_id: config.client_id.clone(),
            client_secret,
            authorization_endpoint: url::Url::parse(&config.authorization_endpoint)
                .context("gateway.oidc.authorization_endpoint")?,
            token_endpoint: config.token_endpoint.clone(),
            algorithms,
            leeway: i64::try_from(config.leeway_seconds.min(wf_config::OidcConfig::MAX_LEEWAY_SECONDS)).unwrap_or(5),
            display_name: config.display_name.clone(),
            redirect_uri: format!("{}{}", public_origin.trim_end_matches('/'), oidc::CALLBACK_PATH),
            source,
            keys: RwLock::new(Keys { set: JwkSet { keys: Vec::new() }, refetched: None }),
            client,
            db,
            clock,
        };
        provider.reload_keys(false).await.context("loading the OpenID Connect provider's keys")?;
        Ok(provider)
    }

    /// The provider's name for the sign-in button.
    pub fn display_name(&self) -> &str {
        &self.display_name
    }

    /// Loads the key set from its file or URL (`refetch`: because a token named a key it lacked).
    async fn reload_keys(&self, refetch: bool) -> anyhow::Result<()> {
        let bytes = match &self.source {
            KeySource::File(path) => {
                tokio::fs::read(path).await.map_err(|err| anyhow::anyhow!("{}: {err}", path.display()))?
            }
            KeySource::Url(url) => self.get(url).await?,
        };
        let set: JwkSet = serde_json::from_slice(&bytes)
            .map_err(|err| anyhow::anyhow!("the key set is not a JWKS document: {err}"))?;
        let mut keys = self.keys.write().await;
        keys.set = set;
        if refetch {
            keys.refetched = Some(Instant::now());
        }
        Ok(())
    }

    /// Starts a sign-in: a pending row, and the provider's address for the browser.
    pub async fn begin(&self) -> Result<Started, DbError> {
        let (state, nonce, verifier, binding) = (random_text(), random_text(), random_text(), random_text());
        let pending = store::oidc::Pending {
            state_hash: token_hash(&state),
            binding_hash: token_hash(&binding),
            nonce: nonce.to_string(),
            verifier: verifier.to_string(),
            created_at: self.clock.now_micros(),
        };
        let mut tx = self.db.begin().await?;
        store::oidc::insert(&mut tx, &pending).await?;
        tx.commit().await?;
        let location = oidc::authorization_url(
            &self.authorization_endpoint,
            &self.client_id,
            &self.redirect_uri,
            &state,
            &nonce,
            &oidc::pkce_challenge(&verifier),
        );
        Ok(Started { location: location.into(), binding })
    }

    /// Finishes the sign-in the callback names: a new session for the linked account.
    pub async fn finish(
        &self,
        sessions: &Sessions,
        state: &str,
        code: &str,
        binding: Option<&str>,
    ) -> Result<(NewSession, Account), OidcRefusal> {
        let mut conn = self.db.pool().acquire().await.map_err(DbError::from)?;
        let pending =
            store::oidc::take(&mut conn, &token_hash(state)).await?.ok_or(OidcRefusal::Failed("unknown_state"))?;
        drop(conn);
        let same_browser = binding
            .is_some_and(|binding| bool::from(token_hash(binding).as_bytes().ct_eq(pending.binding_hash.as_bytes())));
        if !same_browser {
            return Err(OidcRefusal::Failed("other_browser"));
        }
        let now = self.clock.now_micros();
        if now.saturating_sub(pending.created_at) > oidc::PENDING_SECONDS * 1_000_000 {
            return Err(OidcRefusal::Failed("too_late"));
        }
        if code.is_empty() || code.len() > 2048 {
            return Err(OidcRefusal::Failed("no_code"));
        }
        let id_token = self.exchange(code, &pending.verifier).await?;
        let claims = self.verify(&id_token, &pending.nonce).await?;
        let mut conn = self.db.pool().acquire().await.map_err(DbError::from)?;
        let account = store::accounts::by_oidc_subject(&mut conn, &self.issuer, &claims.sub)
            .await?
            .ok_or(OidcRefusal::Failed("not_linked"))?;
        drop(conn);
        if account.is_disabled() {
            return Err(OidcRefusal::Failed("disabled"));
        }
        let session = sessions.start_for(&account.id, "oidc", None).await?;
        tracing::info!(account_id = %account.id, session_id = %session.row.id, method = "oidc", "signed in");
        Ok((session, account))
    }

    /// The token endpoint's ID token for `code` (RFC 6749 §4.1.3, with the PKCE verifier).
    async fn exchange(&self, code: &str, verifier: &str) -> Result<Zeroizing<String>, OidcRefusal> {
        let body = {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "authorization_code")
                .append_pair("code", code)
                .append_pair("redirect_uri", &self.redirect_uri)
                .append_pair("client_id", &self.client_id)
                .append_pair("code_verifier", verifier);
            if let Some(secret) = &self.client_secret {
                form.append_pair("client_secret", secret);
            }
            Zeroizing::new(form.finish())
        };
        let request = hyper::Request::post(&self.token_endpoint)
            .header(hyper::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(hyper::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::from(body.as_bytes().to_vec())))
            .map_err(|_| OidcRefusal::Failed("token_request"))?;
        let bytes = self.send(request).await.map_err(|err| {
            tracing::warn!(error = %err, "the OpenID Connect token endpoint did not answer");
            OidcRefusal::Failed("token_endpoint")
        })?;
        #[derive(serde::Deserialize)]
        struct TokenResponse {
            id_token: Option<String>,
        }
        let response: TokenResponse =
            serde_json::from_slice(&bytes).map_err(|_| OidcRefusal::Failed("token_response"))?;
        response.id_token.map(Zeroizing::new).ok_or(OidcRefusal::Failed("no_id_token"))
    }

    /// The claims of `token`, verified.
    async fn verify(&self, token: &str, nonce: &str) -> Result<IdClaims, OidcRefusal> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| OidcRefusal::Failed("token_header"))?;
        let key = match self.key_for(header.kid.as_deref(), header.alg).await {
            Err(KeyRefusal::UnknownKey) if self.may_refetch().await => {
                if let Err(err) = self.reload_keys(true).await {
                    tracing::warn!(error = %err, "fetching the OpenID Connect provider's keys again failed");
                }
                self.key_for(header.kid.as_deref(), header.alg).await
            }
            other => other,
        }
        .map_err(|refusal| {
            OidcRefusal::Failed(match refusal {
                KeyRefusal::Algorithm => "algorithm",
                KeyRefusal::UnknownKey => "unknown_key",
                KeyRefusal::Ambiguous => "ambiguous_key",
                KeyRefusal::Mismatch => "key_mismatch",
            })
        })?;
        let mut validation = Validation::new(header.alg);
        validation.algorithms = vec![header.alg];
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.client_id]);
        // Times are compared on the service clock below (the crate reads the system clock).
        validation.validate_exp = false;
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<IdClaims>(token, &key, &validation)
            .map_err(|_| OidcRefusal::Failed("signature_or_claims"))?;
        let expected = Expected {
            issuer: &self.issuer,
            client_id: &self.client_id,
            nonce,
            now: self.clock.now().timestamp(),
            leeway: self.leeway,
        };
        oidc::check_claims(&data.claims, &expected)
            .map_err(|refusal: ClaimRefusal| OidcRefusal::Failed(refusal.code()))?;
        Ok(data.claims)
    }

    async fn key_for(&self, kid: Option<&str>, alg: jsonwebtoken::Algorithm) -> Result<DecodingKey, KeyRefusal> {
        let keys = self.keys.read().await;
        let jwk = oidc::select_key(&keys.set, kid, alg, &self.algorithms)?;
        DecodingKey::from_jwk(jwk).map_err(|_| KeyRefusal::Mismatch)
    }

    /// Whether the key set comes from a URL and no unknown key made the gateway fetch it in the
    /// last minute (so forged `kid`s cannot make it hammer the provider).
    async fn may_refetch(&self) -> bool {
        if !matches!(self.source, KeySource::Url(_)) {
            return false;
        }
        let mut keys = self.keys.write().await;
        let due = keys.refetched.is_none_or(|at| at.elapsed() >= REFETCH_AFTER);
        if due {
            // Claimed now, so two callbacks at once fetch once.
            keys.refetched = Some(Instant::now());
        }
        due
    }

    async fn get(&self, url: &str) -> anyhow::Result<Vec<u8>> {
        let request = hyper::Request::get(url)
            .header(hyper::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::new()))
            .map_err(|err| anyhow::anyhow!("{url}: {err}"))?;
        self.send(request).await
    }

    /// Sends `request`, and reads a 200 answer of at most [`RESPONSE_LIMIT`] bytes.
    async fn send(&self, request: hyper::Request<Full<Bytes>>) -> anyhow::Result<Vec<u8>> {
        let work = async {
            let response = self.client.request(request).await.map_err(|err| anyhow::anyhow!("{err}"))?;
            let status = response.status();
            let body = Limited::new(response.into_body(), RESPONSE_LIMIT)
                .collect()
                .await
                .map_err(|err| anyhow::anyhow!("reading the answer: {err}"))?
                .to_bytes();
            if !status.is_success() {
                anyhow::bail!("answered {status}");
            }
            Ok(body.to_vec())
        };
        tokio::time::timeout(PROVIDER_TIMEOUT, work)
            .await
            .map_err(|_| anyhow::anyhow!("no answer within {} s", PROVIDER_TIMEOUT.as_secs()))?
    }
}
