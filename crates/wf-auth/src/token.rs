//! Issuing and verifying Ed25519-signed JWTs (RFC 8725 practices).

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::{AuthError, Role};

/// Clock skew tolerated on `exp`, `nbf`, `iat` and the lifetime limit, in seconds.
pub const LEEWAY_SECS: u64 = 5;
/// The longest maximum lifetime a verifier can be configured with.
pub const MAX_CONFIGURABLE_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);
/// Longer tokens are refused before any parsing.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

const REQUIRED_CLAIMS: [&str; 4] = ["exp", "iss", "aud", "sub"];

/// What a token is for, carried in the JWT `typ` header so a token minted for one purpose is refused
/// by verifiers configured for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A person's session (hotline, staff, auditors, admins).
    User,
    /// A partner agency's client, always tied to one partner.
    Partner,
    /// One Wayfinder service calling another.
    Service,
}

impl TokenKind {
    pub const ALL: [TokenKind; 3] = [TokenKind::User, TokenKind::Partner, TokenKind::Service];

    /// The `typ` header value.
    pub fn typ(self) -> &'static str {
        match self {
            TokenKind::User => "wf-user+jwt",
            TokenKind::Partner => "wf-partner+jwt",
            TokenKind::Service => "wf-service+jwt",
        }
    }

    /// The kind named by a `typ` header value (exact match).
    pub fn from_typ(typ: &str) -> Option<Self> {
        TokenKind::ALL.into_iter().find(|kind| kind.typ() == typ)
    }

    /// The longest lifetime a [`TokenVerifier`] accepts for this kind unless configured otherwise
    /// ([`TokenVerifier::with_max_lifetime`]):
    /// - user sessions 12 hours (the absolute session limit of OWASP ASVS 5.0 level 2);
    /// - partner clients 12 hours (an adapter re-mints at least twice a day, so a leaked token of the
    ///   most exposed kind is good for half a day at most);
    /// - services 1 hour (machines renew cheaply).
    pub const fn default_max_lifetime(self) -> Duration {
        match self {
            TokenKind::User => Duration::from_secs(12 * 3600),
            TokenKind::Partner => Duration::from_secs(12 * 3600),
            TokenKind::Service => Duration::from_secs(3600),
        }
    }

    fn index(self) -> usize {
        match self {
            TokenKind::User => 0,
            TokenKind::Partner => 1,
            TokenKind::Service => 2,
        }
    }
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.typ())
    }
}

/// The JWT claims set Wayfinder issues and accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub jti: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<String>,
}

/// The verified caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The `sub` claim: a user id, partner client id or service name.
    pub subject: String,
    pub role: Role,
    /// Set for every partner principal; services scope records by it.
    pub partner_id: Option<String>,
    pub kind: TokenKind,
    /// The `jti` claim, for audit entries and revocation lists.
    pub token_id: String,
}

/// Role/kind combinations that would let one kind of token borrow another's powers are refused on both
/// sides: only service tokens carry the `service` role, only partner tokens carry the `partner` role,
/// and partner tokens are always role `partner` with a partner id.
fn check_role_matches_kind(kind: TokenKind, role: Role, partner_id: Option<&str>) -> Result<(), AuthError> {
    let has_partner = partner_id.is_some_and(|id| !id.is_empty());
    match kind {
        TokenKind::Partner if role != Role::Partner || !has_partner => Err(AuthError::PartnerTokenWithoutPartner),
        TokenKind::Service if role != Role::Service => Err(AuthError::RoleDoesNotMatchKind),
        TokenKind::User if matches!(role, Role::Service | Role::Partner) => Err(AuthError::RoleDoesNotMatchKind),
        _ if role == Role::Partner && !has_partner => Err(AuthError::PartnerTokenWithoutPartner),
        _ => Ok(()),
    }
}

/// Signs tokens with one Ed25519 private key.
pub struct TokenIssuer {
    key: EncodingKey,
    kid: String,
    public_pem: Vec<u8>,
    issuer: String,
    audience: String,
}

impl fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("kid", &self.kid)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl TokenIssuer {
    /// Loads a PKCS#8 PEM Ed25519 private key. Signs and verifies one token before returning, so a
    /// missing crypto backend or a bad key fails here at start-up rather than at the first request.
    pub fn from_pem(private_pem: &[u8], kid: &str, issuer: &str, audience: &str) -> Result<Self, AuthError> {
        check_kid(kid)?;
        if issuer.is_empty() || audience.is_empty() {
            return Err(AuthError::InvalidTokenRequest("issuer and audience must not be empty"));
        }
        let pem = std::str::from_utf8(private_pem).map_err(|_| AuthError::InvalidSigningKey("not pem text"))?;
        let signing_key = SigningKey::from_pkcs8_pem(pem)
            .map_err(|_| AuthError::InvalidSigningKey("expected a pkcs#8 pem ed25519 private key"))?;
        let public_pem = signing_key
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|_| AuthError::InvalidSigningKey("cannot derive public key"))?
            .into_bytes();
        let key = EncodingKey::from_ed_pem(private_pem)
            .map_err(|_| AuthError::InvalidSigningKey("rejected by jsonwebtoken"))?;
        self_test(&key, &public_pem)?;
        Ok(TokenIssuer {
            key,
            kid: kid.to_owned(),
            public_pem,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        })
    }

    /// Mints a token of `kind` for `subject`, valid for `ttl` from now, with a random `jti`.
    pub fn issue(
        &self,
        kind: TokenKind,
        subject: &str,
        role: Role,
        partner_id: Option<&str>,
        ttl: Duration,
    ) -> Result<String, AuthError> {
        if subject.is_empty() {
            return Err(AuthError::InvalidTokenRequest("subject must not be empty"));
        }
        if ttl < Duration::from_secs(1) {
            return Err(AuthError::InvalidTokenRequest("lifetime must be at least one second"));
        }
        check_role_matches_kind(kind, role, partner_id)?;
        let ttl = i64::try_from(ttl.as_secs()).map_err(|_| AuthError::InvalidTokenRequest("lifetime too long"))?;
        let now = now_secs();
        let claims = Claims {
            sub: subject.to_owned(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            exp: now.checked_add(ttl).ok_or(AuthError::InvalidTokenRequest("lifetime too long"))?,
            iat: now,
            nbf: None,
            jti: uuid::Uuid::new_v4().to_string(),
            role,
            partner_id: partner_id.map(str::to_owned),
        };
        jsonwebtoken::encode(&header(kind, &self.kid), &claims, &self.key).map_err(|_| AuthError::Signing)
    }

    /// The key id written into every token's header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The SPKI PEM public key matching this issuer, for building a [`TokenVerifier`].
    pub fn public_key_pem(&self) -> &[u8] {
        &self.public_pem
    }
}

/// Verifies tokens against a fixed allowlist of public keys and accepted token kinds, and holds each
/// kind to a maximum lifetime ([`TokenKind::default_max_lifetime`] unless configured).
pub struct TokenVerifier {
    keys: HashMap<String, DecodingKey>,
    accepted_kinds: Vec<TokenKind>,
    validation: Validation,
    /// Indexed by [`TokenKind::index`].
    max_lifetimes: [Duration; 3],
}

impl fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut kids: Vec<&String> = self.keys.keys().collect();
        kids.sort();
        f.debug_struct("TokenVerifier")
            .field("kids", &kids)
            .field("accepted_kinds", &self.accepted_kinds)
            .field("issuer", &self.validation.iss)
            .field("audience", &self.validation.aud)
            .field("max_lifetimes", &self.max_lifetimes)
            .finish()
    }
}

impl TokenVerifier {
    /// `keys` are `(kid, SPKI PEM Ed25519 public key)` pairs; tokens naming any other `kid` are refused
    /// and no key is ever fetched. Runs a sign-and-verify self-test before returning.
    pub fn new(
        keys: Vec<(String, Vec<u8>)>,
        issuer: &str,
        audience: &str,
        accepted_kinds: &[TokenKind],
    ) -> Result<Self, AuthError> {
        if keys.is_empty() {
            return Err(AuthError::NoVerificationKeys);
        }
        if accepted_kinds.is_empty() {
            return Err(AuthError::NoAcceptedKinds);
        }
        if issuer.is_empty() || audience.is_empty() {
            return Err(AuthError::InvalidTokenRequest("issuer and audience must not be empty"));
        }
        let mut map = HashMap::with_capacity(keys.len());
        for (kid, pem) in keys {
            check_kid(&kid)?;
            let invalid = || AuthError::InvalidVerificationKey { kid: kid.clone() };
            // ed25519-dalek is stricter than jsonwebtoken's pem parser: it also checks the point.
            let text = std::str::from_utf8(&pem).map_err(|_| invalid())?;
            VerifyingKey::from_public_key_pem(text).map_err(|_| invalid())?;
            let key = DecodingKey::from_ed_pem(&pem).map_err(|_| invalid())?;
            if map.contains_key(&kid) {
                return Err(AuthError::DuplicateKeyId(kid));
            }
            map.insert(kid, key);
        }

        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_required_spec_claims(&REQUIRED_CLAIMS);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);

        let ephemeral = SigningKey::generate(&mut rand::rngs::OsRng);
        let private_pem = ephemeral
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|_| AuthError::SelfTest("cannot encode ephemeral key".into()))?;
        let public_pem = ephemeral
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|_| AuthError::SelfTest("cannot encode ephemeral key".into()))?;
        let encoding = EncodingKey::from_ed_pem(private_pem.as_bytes())
            .map_err(|_| AuthError::SelfTest("ephemeral key rejected".into()))?;
        self_test(&encoding, public_pem.as_bytes())?;

        let mut accepted = accepted_kinds.to_vec();
        accepted.dedup();
        let max_lifetimes = TokenKind::ALL.map(TokenKind::default_max_lifetime);
        Ok(TokenVerifier { keys: map, accepted_kinds: accepted, validation, max_lifetimes })
    }

    /// The same verifier, accepting tokens of `kind` only while their `exp` is at most `max` away
    /// from now and from their `iat` (plus the leeway). `max` must lie between one second and
    /// [`MAX_CONFIGURABLE_LIFETIME`].
    pub fn with_max_lifetime(mut self, kind: TokenKind, max: Duration) -> Result<Self, AuthError> {
        if max < Duration::from_secs(1) || max > MAX_CONFIGURABLE_LIFETIME {
            return Err(AuthError::InvalidMaxLifetime);
        }
        self.max_lifetimes[kind.index()] = max;
        Ok(self)
    }

    /// The longest lifetime accepted for `kind`.
    pub fn max_lifetime(&self, kind: TokenKind) -> Duration {
        self.max_lifetimes[kind.index()]
    }

    /// The kinds this verifier accepts.
    pub fn accepted_kinds(&self) -> &[TokenKind] {
        &self.accepted_kinds
    }

    /// Checks signature, `typ`, `kid`, `iss`, `aud`, `exp`, `nbf`, `iat`, the maximum lifetime of the
    /// kind and the role/kind rules, and returns the caller. The error never contains the token.
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::TokenTooLarge);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|e| match e.kind() {
            // `alg: none` or an unknown name fails to parse as an `Algorithm`
            ErrorKind::Json(_) if token_names_alg(token) => AuthError::AlgorithmNotAllowed,
            _ => AuthError::MalformedToken,
        })?;
        if header.alg != Algorithm::EdDSA {
            return Err(AuthError::AlgorithmNotAllowed);
        }
        let kind = header
            .typ
            .as_deref()
            .and_then(TokenKind::from_typ)
            .filter(|kind| self.accepted_kinds.contains(kind))
            .ok_or(AuthError::TokenKindNotAccepted)?;
        if header.crit.is_some() {
            return Err(AuthError::UnsupportedCriticalHeader);
        }
        let kid = header.kid.as_deref().ok_or(AuthError::MissingKeyId)?;
        let key = self.keys.get(kid).ok_or(AuthError::UnknownKeyId)?;

        // Decode into a JSON value first so that missing or mistyped registered claims are reported by
        // the validator precisely, before our own `Claims` type is applied.
        let data = jsonwebtoken::decode::<serde_json::Value>(token, key, &self.validation).map_err(map_jwt_error)?;
        let claims: Claims = serde_json::from_value(data.claims).map_err(|_| AuthError::MalformedClaims)?;
        if claims.sub.is_empty() {
            return Err(AuthError::InvalidClaim("sub".into()));
        }
        if claims.jti.is_empty() {
            return Err(AuthError::InvalidClaim("jti".into()));
        }
        check_role_matches_kind(kind, claims.role, claims.partner_id.as_deref())?;
        self.check_times(kind, &claims, now_secs())?;

        Ok(Principal {
            subject: claims.sub,
            role: claims.role,
            partner_id: claims.partner_id,
            kind,
            token_id: claims.jti,
        })
    }
}

impl TokenVerifier {
    /// `exp` and `nbf` were checked by the validator; this adds what it does not check: a token is not
    /// issued in the future, and its `exp` is no further than the kind's maximum lifetime from now
    /// nor from its `iat` (a long-lived token stays refused as it ages).
    fn check_times(&self, kind: TokenKind, claims: &Claims, now: i64) -> Result<(), AuthError> {
        let leeway = LEEWAY_SECS as i64;
        if claims.iat > now.saturating_add(leeway) {
            return Err(AuthError::IssuedInFuture);
        }
        let max = i64::try_from(self.max_lifetime(kind).as_secs()).unwrap_or(i64::MAX).saturating_add(leeway);
        if claims.exp.saturating_sub(now) > max || claims.exp.saturating_sub(claims.iat) > max {
            return Err(AuthError::LifetimeTooLong);
        }
        Ok(())
    }
}

fn header(kind: TokenKind, kid: &str) -> Header {
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some(kind.typ().to_owned());
    header.kid = Some(kid.to_owned());
    header
}

fn map_jwt_error(err: jsonwebtoken::errors::Error) -> AuthError {
    match err.into_kind() {
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
        ErrorKind::InvalidAudience => AuthError::WrongAudience,
        ErrorKind::InvalidSignature => AuthError::BadSignature,
        ErrorKind::InvalidAlgorithm => AuthError::AlgorithmNotAllowed,
        ErrorKind::MissingRequiredClaim(claim) => AuthError::MissingClaim(known_claim(&claim)),
        ErrorKind::InvalidClaimFormat(claim) => AuthError::InvalidClaim(known_claim(&claim)),
        ErrorKind::InvalidSubject => AuthError::InvalidClaim("sub".into()),
        _ => AuthError::MalformedToken,
    }
}

/// Claim names in errors come from a fixed list, so nothing from a token can reach a message or log.
fn known_claim(name: &str) -> String {
    ["exp", "nbf", "iss", "aud", "sub"].into_iter().find(|known| *known == name).unwrap_or("unknown").to_owned()
}

/// Whether the header has an `alg` member at all (so a parse failure is about its value).
fn token_names_alg(token: &str) -> bool {
    use base64::Engine as _;
    let Some(encoded) = token.split('.').next() else {
        return false;
    };
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(encoded.trim_end_matches('=')) else {
        return false;
    };
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|header| header.get("alg").cloned())
        .is_some_and(|alg| alg.is_string())
}

fn check_kid(kid: &str) -> Result<(), AuthError> {
    if kid.is_empty() || kid.len() > 64 || !kid.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AuthError::InvalidKeyId);
    }
    Ok(())
}

fn now_secs() -> i64 {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    i64::try_from(secs).unwrap_or(i64::MAX)
}

/// Signs and verifies one token through jsonwebtoken's crypto provider. Without a backend the provider
/// panics; that panic is caught and turned into an error here, at start-up.
fn self_test(key: &EncodingKey, public_pem: &[u8]) -> Result<(), AuthError> {
    let run = || -> Result<(), String> {
        let decoding = DecodingKey::from_ed_pem(public_pem).map_err(|e| format!("public key: {e}"))?;
        let now = now_secs();
        let claims = Claims {
            sub: "self-test".into(),
            iss: "wf-auth-self-test".into(),
            aud: "wf-auth-self-test".into(),
            exp: now + 60,
            iat: now,
            nbf: None,
            jti: "self-test".into(),
            role: Role::Service,
            partner_id: None,
        };
        let token = jsonwebtoken::encode(&header(TokenKind::Service, "self-test"), &claims, key)
            .map_err(|e| format!("sign: {e}"))?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&["wf-auth-self-test"]);
        validation.set_audience(&["wf-auth-self-test"]);
        let decoded =
            jsonwebtoken::decode::<Claims>(&token, &decoding, &validation).map_err(|e| format!("verify: {e}"))?;
        if decoded.claims != claims {
            return Err("claims changed in round trip".into());
        }
        Ok(())
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(reason)) => Err(AuthError::SelfTest(reason)),
        Err(_) => Err(AuthError::SelfTest("jsonwebtoken crypto backend panicked (is `rust_crypto` enabled?)".into())),
    }
}

#[cfg(test)]
pub(crate) mod tests;
