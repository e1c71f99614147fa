use std::path::PathBuf;

/// Why a token could not be issued or verified, or a key could not be loaded.
///
/// Messages are precise enough to debug a client, and never contain the token or key material.
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

impl AuthError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        AuthError::Io { path: path.to_path_buf(), source }
    }
}
