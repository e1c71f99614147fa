//! tonic integration: the server-side interceptor that authenticates every request, and the client-side
//! interceptor that attaches a token.

use std::fmt;
use std::sync::Arc;

use tonic::metadata::{AsciiMetadataValue, MetadataMap};
use tonic::service::Interceptor;
use tonic::{Request, Status};

use crate::{AuthError, Principal, TokenVerifier};

const AUTHORIZATION: &str = "authorization";

/// Verifies `authorization: Bearer <jwt>` on every request and stores the [`Principal`] in the request
/// extensions, where handlers read it with [`principal`]. Refusals are `UNAUTHENTICATED`.
#[derive(Clone, Debug)]
pub struct AuthInterceptor {
    verifier: Arc<TokenVerifier>,
}

impl AuthInterceptor {
    pub fn new(verifier: Arc<TokenVerifier>) -> Self {
        AuthInterceptor { verifier }
    }
}

impl Interceptor for AuthInterceptor {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let principal =
            bearer_token(request.metadata()).and_then(|token| self.verifier.verify(token)).map_err(|reason| {
                // the reason never contains the token; the token itself is never logged
                tracing::debug!(%reason, "request not authenticated");
                Status::unauthenticated(reason.to_string())
            })?;
        request.extensions_mut().insert(principal);
        Ok(request)
    }
}

/// The bearer token from request metadata. Exactly one `authorization` entry, scheme `Bearer`
/// (case-insensitive), a single space, then the token.
fn bearer_token(metadata: &MetadataMap) -> Result<&str, AuthError> {
    let mut values = metadata.get_all(AUTHORIZATION).iter();
    let value = values.next().ok_or(AuthError::MissingBearerToken)?;
    if values.next().is_some() {
        return Err(AuthError::MalformedAuthorizationHeader);
    }
    let value = value.to_str().map_err(|_| AuthError::MalformedAuthorizationHeader)?;
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::MalformedAuthorizationHeader)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::MalformedAuthorizationHeader);
    }
    if token.is_empty() {
        return Err(AuthError::MissingBearerToken);
    }
    if token.contains(' ') {
        return Err(AuthError::MalformedAuthorizationHeader);
    }
    Ok(token)
}

/// The authenticated caller of `req`, or `UNAUTHENTICATED` when no [`AuthInterceptor`] ran.
#[allow(clippy::result_large_err)] // tonic::Status is what every handler returns anyway
pub fn principal<T>(req: &Request<T>) -> Result<&Principal, Status> {
    req.extensions().get::<Principal>().ok_or_else(|| Status::unauthenticated("request has no authenticated caller"))
}

/// Client-side interceptor adding `authorization: Bearer <token>` to every outgoing request.
/// `Debug` shows no part of the token.
#[derive(Clone)]
pub struct BearerToken {
    header: AsciiMetadataValue,
}

impl BearerToken {
    /// Wraps a token; fails if it cannot be sent as a header value.
    pub fn new(token: &str) -> Result<Self, AuthError> {
        if token.is_empty() {
            return Err(AuthError::MissingBearerToken);
        }
        let mut header: AsciiMetadataValue =
            format!("Bearer {token}").parse().map_err(|_| AuthError::MalformedAuthorizationHeader)?;
        // keeps the value out of http/h2 debug output and HPACK's dynamic table
        header.set_sensitive(true);
        Ok(BearerToken { header })
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken([redacted])")
    }
}

impl Interceptor for BearerToken {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request.metadata_mut().insert(AUTHORIZATION, self.header.clone());
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::token::tests::fixture;
    use crate::{Role, TokenKind};

    fn request_with(value: &str) -> Request<()> {
        let mut request = Request::new(());
        request.metadata_mut().insert(AUTHORIZATION, value.parse().unwrap());
        request
    }

    #[test]
    fn missing_header_is_unauthenticated() {
        let (_, verifier) = fixture(&[TokenKind::User]);
        let status = AuthInterceptor::new(Arc::new(verifier)).call(Request::new(())).unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        assert_eq!(status.message(), "missing bearer token");
    }

    #[test]
    fn garbage_headers_are_unauthenticated() {
        let (issuer, verifier) = fixture(&[TokenKind::User]);
        let mut interceptor = AuthInterceptor::new(Arc::new(verifier));
        let token = issuer.issue(TokenKind::User, "usr_1", Role::Hotline, None, Duration::from_secs(60)).unwrap();
        for (value, message) in [
            ("garbage", "malformed authorization header"),
            ("Basic dXNlcjpwYXNz", "malformed authorization header"),
            (&format!("Bearer {token} extra"), "malformed authorization header"),
            ("Bearer ", "missing bearer token"),
            ("Bearer not.a.jwt", "malformed token"),
            ("Bearer abc", "malformed token"),
        ] {
            let status = interceptor.call(request_with(value)).unwrap_err();
            assert_eq!(status.code(), tonic::Code::Unauthenticated, "{value}");
            assert_eq!(status.message(), message, "{value}");
            assert!(!status.message().contains(&token));
        }
    }

    #[test]
    fn two_authorization_headers_are_refused() {
        let (issuer, verifier) = fixture(&[TokenKind::User]);
        let token = issuer.issue(TokenKind::User, "usr_1", Role::Hotline, None, Duration::from_secs(60)).unwrap();
        let mut request = request_with(&format!("Bearer {token}"));
        request.metadata_mut().append(AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
        let status = AuthInterceptor::new(Arc::new(verifier)).call(request).unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
    }

    #[test]
    fn valid_token_inserts_the_principal() {
        let (issuer, verifier) = fixture(&[TokenKind::Partner]);
        let token = issuer
            .issue(TokenKind::Partner, "client_9", Role::Partner, Some("ptn_7"), Duration::from_secs(60))
            .unwrap();
        let mut interceptor = AuthInterceptor::new(Arc::new(verifier));
        let request = interceptor.call(request_with(&format!("bearer {token}"))).unwrap();
        let principal = principal(&request).unwrap();
        assert_eq!(principal.subject, "client_9");
        assert_eq!(principal.role, Role::Partner);
        assert_eq!(principal.partner_id.as_deref(), Some("ptn_7"));
        assert_eq!(principal.kind, TokenKind::Partner);
        assert!(!principal.token_id.is_empty());
    }

    #[test]
    fn principal_is_unauthenticated_without_interceptor() {
        let status = principal(&Request::new(())).unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
    }

    #[test]
    fn client_interceptor_adds_the_header_and_redacts_debug() {
        let (issuer, verifier) = fixture(&[TokenKind::Service]);
        let token = issuer.issue(TokenKind::Service, "intake", Role::Service, None, Duration::from_secs(60)).unwrap();
        let mut bearer = BearerToken::new(&token).unwrap();
        assert!(!format!("{bearer:?}").contains(&token[..10]));

        let outgoing = bearer.call(Request::new(())).unwrap();
        let value = outgoing.metadata().get(AUTHORIZATION).unwrap();
        assert!(value.is_sensitive());
        assert_eq!(value.to_str().unwrap(), format!("Bearer {token}"));

        // what the client sends, the server accepts
        let incoming = AuthInterceptor::new(Arc::new(verifier)).call(outgoing).unwrap();
        assert_eq!(principal(&incoming).unwrap().subject, "intake");

        assert!(BearerToken::new("line\nbreak").is_err());
        assert!(BearerToken::new("").is_err());
    }
}
