use std::path::PathBuf;

/// Why a token could not be issued or verified, or a key could not be loaded.
///
/// Messages are precise enough to debug a client from the server's log, and never contain the token
/// or key material. They are for the log only: a caller is told [`AuthError::public_message`], the
/// same word for every reason, so a prober learns nothing about key ids, clocks or claims.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("missing bearer token")]
    MissingBearerToken,
    #[error("malformed authorization header")]
    MalformedAuthorizationHeader,
    #[error("malformed token")]
    MalformedToken,
    #[error("token is too large")]
    TokenTooLarge,
    #[error("token algorithm not allowed")]
    AlgorithmNotAllowed,
    #[error("token type not accepted here")]
    TokenKindNotAccepted,
    #[error("token has no key id")]
    MissingKeyId,
    #[error("token signed with unknown key id")]
    UnknownKeyId,
    #[error("token has unsupported critical header parameters")]
    UnsupportedCriticalHeader,
    #[error("token signature is invalid")]
    BadSignature,
    #[error("token expired")]
    Expired,
    #[error("token not yet valid")]
    NotYetValid,
    /// `iat` lies further in the future than the clock-skew leeway allows.
    #[error("token issued in the future")]
    IssuedInFuture,
    /// `exp` lies further from now (or from `iat`) than the verifier's maximum lifetime for the kind.
    #[error("token lifetime exceeds the maximum for its type")]
    LifetimeTooLong,
    #[error("token issuer not accepted")]
    WrongIssuer,
    #[error("token audience not accepted")]
    WrongAudience,
    /// The claim name comes from this crate's required list, never from the token.
    #[error("token is missing required claim {0}")]
    MissingClaim(String),
    #[error("token claim {0} is invalid")]
    InvalidClaim(String),
    #[error("token claims are malformed")]
    MalformedClaims,
    #[error("partner token must carry a partner id and role partner")]
    PartnerTokenWithoutPartner,
    #[error("token role does not match token type")]
    RoleDoesNotMatchKind,

    #[error("cannot issue token: {0}")]
    InvalidTokenRequest(&'static str),
    #[error("token signing failed")]
    Signing,
    #[error("invalid signing key: {0}")]
    InvalidSigningKey(&'static str),
    #[error("invalid public key for key id {kid}")]
    InvalidVerificationKey { kid: String },
    #[error("key id must be 1 to 64 printable ascii characters")]
    InvalidKeyId,
    #[error("key id {0} is configured more than once")]
    DuplicateKeyId(String),
    #[error("no verification keys configured")]
    NoVerificationKeys,
    #[error("no accepted token types configured")]
    NoAcceptedKinds,
    #[error("maximum token lifetime must be between 1 second and 30 days")]
    InvalidMaxLifetime,
    #[error("jwt crypto self-test failed: {0}")]
    SelfTest(String),

    #[error("key file {path} is malformed: {reason}")]
    KeyFile { path: PathBuf, reason: &'static str },
    #[error("cannot access key file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What every caller refused for any [`AuthError`] is told.
pub(crate) const UNAUTHENTICATED: &str = "unauthenticated";

impl AuthError {
    /// What the caller may be told about this error: always `"unauthenticated"`, whatever the reason.
    /// The reason itself ([`fmt::Display`](std::fmt::Display), [`AuthError::reason_code`]) goes to the
    /// log and the audit record only.
    pub fn public_message(&self) -> &'static str {
        UNAUTHENTICATED
    }

    /// The gRPC answer for this error: `UNAUTHENTICATED` with [`AuthError::public_message`] and no
    /// details.
    pub fn status(&self) -> tonic::Status {
        tonic::Status::unauthenticated(self.public_message())
    }

    /// A stable snake_case code for the reason, for logs, counters and `access.refused` records
    /// (never shown to the caller).
    pub fn reason_code(&self) -> &'static str {
        match self {
            AuthError::MissingBearerToken => "missing_bearer_token",
            AuthError::MalformedAuthorizationHeader => "malformed_authorization_header",
            AuthError::MalformedToken => "malformed_token",
            AuthError::TokenTooLarge => "token_too_large",
            AuthError::AlgorithmNotAllowed => "algorithm_not_allowed",
            AuthError::TokenKindNotAccepted => "token_kind_not_accepted",
            AuthError::MissingKeyId => "missing_key_id",
            AuthError::UnknownKeyId => "unknown_key_id",
            AuthError::UnsupportedCriticalHeader => "unsupported_critical_header",
            AuthError::BadSignature => "bad_signature",
            AuthError::Expired => "expired",
            AuthError::NotYetValid => "not_yet_valid",
            AuthError::IssuedInFuture => "issued_in_future",
            AuthError::LifetimeTooLong => "lifetime_too_long",
            AuthError::WrongIssuer => "wrong_issuer",
            AuthError::WrongAudience => "wrong_audience",
            AuthError::MissingClaim(_) => "missing_claim",
            AuthError::InvalidClaim(_) => "invalid_claim",
            AuthError::MalformedClaims => "malformed_claims",
            AuthError::PartnerTokenWithoutPartner => "partner_token_without_partner",
            AuthError::RoleDoesNotMatchKind => "role_does_not_match_kind",
            AuthError::InvalidTokenRequest(_)
            | AuthError::Signing
            | AuthError::InvalidSigningKey(_)
            | AuthError::InvalidVerificationKey { .. }
            | AuthError::InvalidKeyId
            | AuthError::DuplicateKeyId(_)
            | AuthError::NoVerificationKeys
            | AuthError::NoAcceptedKinds
            | AuthError::InvalidMaxLifetime
            | AuthError::SelfTest(_)
            | AuthError::KeyFile { .. }
            | AuthError::Io { .. } => "configuration",
        }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        AuthError::Io { path: path.to_path_buf(), source }
    }
}
