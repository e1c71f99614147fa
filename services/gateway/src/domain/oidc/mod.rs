//! OpenID Connect sign-in, the parts that decide (no I/O): which signing algorithms may be
//! configured and used, which of the provider's keys may verify a token (looked up in the
//! provider's own set by `kid`; never a key the token points at), what an ID token's claims must
//! say (`iss` exactly, `aud` naming this client, `azp` this client when present, `exp` `iat` `nbf`
//! against the service clock with at most 5 s of skew, the `nonce` of this sign-in, a `sub`), the
//! PKCE challenge (RFC 7636, S256) and the address the browser is sent to.

use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

#[cfg(test)]
mod tests;

/// Where the provider sends the browser back, under the gateway's public origin.
pub const CALLBACK_PATH: &str = "/sign-in/oidc/callback";
/// How long a sign-in started at the provider may take to come back, in seconds.
pub const PENDING_SECONDS: i64 = 600;
/// The scopes asked for: only who the person is.
pub const SCOPE: &str = "openid";

/// Parses the configured algorithm names. Every name must be one of the asymmetric algorithms
/// (`wf_config::OidcConfig::ALLOWED_ALGORITHMS`); `none` and shared-secret algorithms never are.
pub fn algorithms(names: &[String]) -> Result<Vec<Algorithm>, String> {
    names
        .iter()
        .map(|name| match name.as_str() {
            "RS256" => Ok(Algorithm::RS256),
            "RS384" => Ok(Algorithm::RS384),
            "RS512" => Ok(Algorithm::RS512),
            "PS256" => Ok(Algorithm::PS256),
            "PS384" => Ok(Algorithm::PS384),
            "PS512" => Ok(Algorithm::PS512),
            "ES256" => Ok(Algorithm::ES256),
            "ES384" => Ok(Algorithm::ES384),
            "EdDSA" => Ok(Algorithm::EdDSA),
            other => Err(format!("{other:?} is not an allowed signing algorithm")),
        })
        .collect()
}

/// Why no key verifies a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRefusal {
    /// The token's algorithm is not configured.
    Algorithm,
    /// No key of the set has the token's `kid` (the set may be stale: fetch it again, once).
    UnknownKey,
    /// The token names no `kid` and the set holds more than one key it could be.
    Ambiguous,
    /// A key has the `kid` but not the kind, curve, use or algorithm the token needs.
    Mismatch,
}

/// The key of `keys` that verifies a token signed with `alg` naming `kid`: `alg` must be allowed,
/// and the key must have that `kid` (or be the only candidate when the token names none), be a
/// signing key, declare that algorithm or none, and be of the algorithm's kind (RSA for RS/PS, the
/// P-256 or P-384 curve for ES256/ES384, Ed25519 for EdDSA). A shared-secret key never verifies.
pub fn select_key<'a>(
    keys: &'a JwkSet,
    kid: Option<&str>,
    alg: Algorithm,
    allowed: &[Algorithm],
) -> Result<&'a Jwk, KeyRefusal> {
    if !allowed.contains(&alg) {
        return Err(KeyRefusal::Algorithm);
    }
    match kid {
        Some(kid) => {
            let key = keys.keys.iter().find(|key| key.common.key_id.as_deref() == Some(kid));
            let key = key.ok_or(KeyRefusal::UnknownKey)?;
            if fits(key, alg) { Ok(key) } else { Err(KeyRefusal::Mismatch) }
        }
        None => {
            let mut fitting = keys.keys.iter().filter(|key| fits(key, alg));
            match (fitting.next(), fitting.next()) {
                (Some(key), None) => Ok(key),
                (None, _) => Err(KeyRefusal::UnknownKey),
                (Some(_), Some(_)) => Err(KeyRefusal::Ambiguous),
            }
        }
    }
}

/// Whether `key` may verify a signature made with `alg`.
fn fits(key: &Jwk, alg: Algorithm) -> bool {
    let for_signing = matches!(key.common.public_key_use, None | Some(PublicKeyUse::Signature));
    let declared = match key.common.key_algorithm {
        None => true,
        Some(declared) => key_algorithm(alg) == Some(declared),
    };
    let kind = match (&key.algorithm, alg) {
        (
            AlgorithmParameters::RSA(_),
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512,
        ) => true,
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES256) => ec.curve == EllipticCurve::P256,
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES384) => ec.curve == EllipticCurve::P384,
        (AlgorithmParameters::OctetKeyPair(okp), Algorithm::EdDSA) => okp.curve == EllipticCurve::Ed25519,
        _ => false,
    };
    for_signing && declared && kind
}

/// The JWK `alg` value of an asymmetric algorithm (none for a shared-secret one).
fn key_algorithm(alg: Algorithm) -> Option<KeyAlgorithm> {
    Some(match alg {
        Algorithm::RS256 => KeyAlgorithm::RS256,
        Algorithm::RS384 => KeyAlgorithm::RS384,
        Algorithm::RS512 => KeyAlgorithm::RS512,
        Algorithm::PS256 => KeyAlgorithm::PS256,
        Algorithm::PS384 => KeyAlgorithm::PS384,
        Algorithm::PS512 => KeyAlgorithm::PS512,
        Algorithm::ES256 => KeyAlgorithm::ES256,
        Algorithm::ES384 => KeyAlgorithm::ES384,
        Algorithm::EdDSA => KeyAlgorithm::EdDSA,
        _ => return None,
    })
}

/// `aud`: one string or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn names(&self) -> &[String] {
        match self {
            Audience::One(one) => std::slice::from_ref(one),
            Audience::Many(many) => many,
        }
    }
}

/// The claims of an ID token the gateway reads. `exp iss aud sub` are required by the signature
/// check too (`jsonwebtoken`'s required claims); here they are compared.
#[derive(Debug, Clone, Deserialize)]
pub struct IdClaims {
    pub iss: String,
    pub sub: String,
    pub aud: Audience,
    pub exp: i64,
    #[serde(default)]
    pub iat: Option<i64>,
    #[serde(default)]
    pub nbf: Option<i64>,
    #[serde(default)]
    pub nonce: Option<String>,
    #[serde(default)]
    pub azp: Option<String>,
}

/// What this sign-in expects of its ID token.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    /// Seconds since the Unix epoch on the service clock.
    pub now: i64,
    /// At most [`wf_config::OidcConfig::MAX_LEEWAY_SECONDS`].
    pub leeway: i64,
}

/// Why an ID token's claims were refused (logged as its code; the person sees one message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimRefusal {
    Issuer,
    Audience,
    AuthorizedParty,
    Expired,
    IssuedInFuture,
    NotYetValid,
    Nonce,
    Subject,
}

impl ClaimRefusal {
    pub fn code(self) -> &'static str {
        match self {
            ClaimRefusal::Issuer => "issuer",
            ClaimRefusal::Audience => "audience",
            ClaimRefusal::AuthorizedParty => "authorized_party",
            ClaimRefusal::Expired => "expired",
            ClaimRefusal::IssuedInFuture => "issued_in_future",
            ClaimRefusal::NotYetValid => "not_yet_valid",
            ClaimRefusal::Nonce => "nonce",
            ClaimRefusal::Subject => "subject",
        }
    }
}

/// Whether `claims` are what this sign-in expects (OpenID Connect Core 1.0 §3.1.3.7).
pub fn check_claims(claims: &IdClaims, expected: &Expected<'_>) -> Result<(), ClaimRefusal> {
    let leeway = expected.leeway.clamp(0, 5);
    if claims.iss != expected.issuer {
        return Err(ClaimRefusal::Issuer);
    }
    let audience = claims.aud.names();
    if !audience.iter().any(|aud| aud == expected.client_id) {
        return Err(ClaimRefusal::Audience);
    }
    // Several audiences: the token must have been issued to this client.
    match &claims.azp {
        Some(azp) if azp != expected.client_id => return Err(ClaimRefusal::AuthorizedParty),
        None if audience.len() > 1 => return Err(ClaimRefusal::AuthorizedParty),
        _ => {}
    }
    if claims.exp.saturating_add(leeway) <= expected.now {
        return Err(ClaimRefusal::Expired);
    }
    if claims.iat.is_some_and(|iat| iat > expected.now.saturating_add(leeway)) {
        return Err(ClaimRefusal::IssuedInFuture);
    }
    if claims.nbf.is_some_and(|nbf| nbf > expected.now.saturating_add(leeway)) {
        return Err(ClaimRefusal::NotYetValid);
    }
    let nonce_ok = claims.nonce.as_deref().is_some_and(|nonce| {
        nonce.len() == expected.nonce.len()
            && subtle::ConstantTimeEq::ct_eq(nonce.as_bytes(), expected.nonce.as_bytes()).into()
    });
    if !nonce_ok {
        return Err(ClaimRefusal::Nonce);
    }
    if claims.sub.is_empty() || claims.sub.len() > 255 {
        return Err(ClaimRefusal::Subject);
    }
    Ok(())
}

/// The PKCE challenge of `verifier` (RFC 7636 §4.2, S256: BASE64URL(SHA-256(verifier)), no padding).
pub fn pkce_challenge(verifier: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The provider's authorization address for one sign-in (OpenID Connect Core 1.0 §3.1.2.1).
pub fn authorization_url(
    endpoint: &url::Url,
    client_id: &str,
    redirect_uri: &str,
    state: &str,
    nonce: &str,
    challenge: &str,
) -> url::Url {
    let mut url = endpoint.clone();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", SCOPE)
        .append_pair("state", state)
        .append_pair("nonce", nonce)
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256");
    url
}
