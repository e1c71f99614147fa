//! tonic integration: the server-side interceptor that authenticates every request, and the client-side
//! interceptor that attaches a token.

use std::fmt;
use std::sync::Arc;

use tonic::metadata::{AsciiMetadataValue, MetadataMap};
use tonic::service::Interceptor;
use tonic::{Request, Status};

use crate::{AuthError, Principal, Role, TokenVerifier};

const AUTHORIZATION: &str = "authorization";

/// The gRPC method of a request (`/package.Service/Method`), put into the request's extensions by
/// the server before the interceptor runs (wf-server's `method_layer`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpcMethod(pub Arc<str>);

/// How a refusal names a method the authorization table does not know.
pub const UNKNOWN_METHOD: &str = "(unknown method)";

/// Why a call was refused, as recorded (`access.refused`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RefusalReason {
    /// No token, or one that did not verify.
    Unauthenticated,
    /// The role may not call this method at all (`PERMISSION_DENIED`).
    RoleNotAllowed,
    /// The record exists but lies outside the caller's scope (answered `NOT_FOUND`).
    OutOfScope,
    /// A method the authorization table has no row for.
    UnknownOperation,
}

impl RefusalReason {
    pub fn code(self) -> &'static str {
        match self {
            RefusalReason::Unauthenticated => "unauthenticated",
            RefusalReason::RoleNotAllowed => "role_not_allowed",
            RefusalReason::OutOfScope => "out_of_scope",
            RefusalReason::UnknownOperation => "unknown_operation",
        }
    }
}

/// One refused call: who (never the token), what, which record, why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The caller's subject, or `None` when unauthenticated.
    pub actor: Option<String>,
    pub role: Option<Role>,
    pub organization_id: Option<String>,
    /// The gRPC method or HTTP route.
    pub operation: String,
    /// The record asked for; empty when refused before the request was read.
    pub record_id: String,
    pub reason: RefusalReason,
}

impl Refusal {
    /// A refusal of `principal`'s call of `operation` on `record_id`.
    pub fn of(principal: &Principal, operation: &str, record_id: &str, reason: RefusalReason) -> Self {
        Refusal {
            actor: Some(principal.subject.clone()),
            role: Some(principal.role),
            organization_id: principal.partner_id.clone().filter(|id| !id.is_empty()),
            operation: operation.to_owned(),
            record_id: record_id.to_owned(),
            reason,
        }
    }
}

/// Where refusals go (wf-server's `Refusals` writes them to the service's outbox). Must not block.
pub trait RefusalSink: Send + Sync + fmt::Debug {
    fn refused(&self, refusal: Refusal);
}

/// Verifies `authorization: Bearer <jwt>` on every request, checks the caller's role against the
/// per-method table ([`crate::rpc`]), and stores the [`Principal`] in the request extensions, where
/// handlers read it with [`principal`]. A token that does not verify answers `UNAUTHENTICATED` with
/// no detail (the reason is logged); a role the table does not allow, or a method missing from it,
/// answers `PERMISSION_DENIED`. Each refusal goes to the [`RefusalSink`], when one is set.
#[derive(Clone, Debug)]
pub struct AuthInterceptor {
    verifier: Arc<TokenVerifier>,
    refusals: Option<Arc<dyn RefusalSink>>,
}

impl AuthInterceptor {
    pub fn new(verifier: Arc<TokenVerifier>) -> Self {
        AuthInterceptor { verifier, refusals: None }
    }

    /// The same interceptor, recording refusals in `sink` (each service passes its own).
    pub fn with_refusals(mut self, sink: Arc<dyn RefusalSink>) -> Self {
        self.refusals = Some(sink);
        self
    }

    fn refuse(&self, refusal: Refusal) {
        if let Some(sink) = &self.refusals {
            sink.refused(refusal);
        }
    }
}

impl Interceptor for AuthInterceptor {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let method = request.extensions().get::<RpcMethod>().map(|m| m.0.clone());
        let rule = method.as_deref().and_then(crate::rpc::rule);
        // Only a method of the table is named in a refusal or an answer: any other path is caller-written
        // text (tonic routes `/Service/<anything>` to the service) and never reaches the log.
        let operation = rule.map_or(UNKNOWN_METHOD, |rule| rule.method).to_owned();
        let principal = match bearer_token(request.metadata()).and_then(|token| self.verifier.verify(token)) {
            Ok(principal) => principal,
            Err(reason) => {
                // the reason never contains the token; the token itself is never logged
                tracing::debug!(%reason, reason_code = reason.reason_code(), %operation, "request not authenticated");
                self.refuse(Refusal {
                    actor: None,
                    role: None,
                    organization_id: None,
                    operation,
                    record_id: String::new(),
                    reason: RefusalReason::Unauthenticated,
                });
                return Err(reason.status());
            }
        };
        let Some(rule) = rule else {
            self.refuse(Refusal::of(&principal, &operation, "", RefusalReason::UnknownOperation));
            return Err(Status::permission_denied("the method called is not an operation this server offers"));
        };
        if !rule.allows(principal.role) {
            self.refuse(Refusal::of(&principal, &operation, "", RefusalReason::RoleNotAllowed));
            let names: Vec<&str> = rule.operations.iter().map(|op| op.describe()).collect();
            return Err(Status::permission_denied(format!("role {} may not {}", principal.role, names.join(" or "))));
        }
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

    const GET_REFERRAL: &str = "/wayfinder.intake.v1.IntakeService/GetReferral";

    fn request_with(value: &str) -> Request<()> {
        calling(GET_REFERRAL, value)
    }

    fn calling(method: &str, value: &str) -> Request<()> {
        let mut request = Request::new(());
        request.metadata_mut().insert(AUTHORIZATION, value.parse().unwrap());
        request.extensions_mut().insert(RpcMethod(method.into()));
        request
    }

    /// A sink that keeps what it is given.
    #[derive(Debug, Default)]
    struct Kept(std::sync::Mutex<Vec<Refusal>>);

    impl RefusalSink for Kept {
        fn refused(&self, refusal: Refusal) {
            self.0.lock().unwrap().push(refusal);
        }
    }

    #[test]
    fn missing_header_is_unauthenticated() {
        let (_, verifier) = fixture(&[TokenKind::User]);
        let status = AuthInterceptor::new(Arc::new(verifier)).call(Request::new(())).unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        assert_eq!(status.message(), "unauthenticated");
    }

    #[test]
    fn garbage_headers_are_unauthenticated() {
        let (issuer, verifier) = fixture(&[TokenKind::User]);
        let mut interceptor = AuthInterceptor::new(Arc::new(verifier));
        let token = issuer.issue(TokenKind::User, "usr_1", Role::Hotline, None, Duration::from_secs(60)).unwrap();
        for value in [
            "garbage",
            "Basic dXNlcjpwYXNz",
            &format!("Bearer {token} extra"),
            "Bearer ",
            "Bearer not.a.jwt",
            "Bearer abc",
        ] {
            let status = interceptor.call(request_with(value)).unwrap_err();
            assert_eq!(status.code(), tonic::Code::Unauthenticated, "{value}");
            // the caller learns nothing of why: the reason is for the log
            assert_eq!(status.message(), "unauthenticated", "{value}");
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
        let mut outgoing = outgoing;
        outgoing.extensions_mut().insert(RpcMethod("/wayfinder.audit.v1.AuditService/VerifyChain".into()));
        let incoming = AuthInterceptor::new(Arc::new(verifier)).call(outgoing).unwrap();
        assert_eq!(principal(&incoming).unwrap().subject, "intake");

        assert!(BearerToken::new("line\nbreak").is_err());
        assert!(BearerToken::new("").is_err());
    }

    #[test]
    fn a_role_the_table_does_not_allow_is_refused_before_any_handler_and_recorded() {
        let (issuer, verifier) = fixture(&[TokenKind::User]);
        let kept = Arc::new(Kept::default());
        let mut interceptor = AuthInterceptor::new(Arc::new(verifier)).with_refusals(kept.clone());
        let token = issuer.issue(TokenKind::User, "usr_hot", Role::Hotline, None, Duration::from_secs(60)).unwrap();
        let bearer = format!("Bearer {token}");
        let status =
            interceptor.call(calling("/wayfinder.intake.v1.IntakeService/ListScreenings", &bearer)).unwrap_err();
        assert_eq!(status.code(), tonic::Code::PermissionDenied);
        assert_eq!(status.message(), "role hotline may not read referrals");
        assert!(interceptor.call(calling(GET_REFERRAL, &bearer)).is_ok());
        let refused = kept.0.lock().unwrap().clone();
        assert_eq!(
            refused,
            [Refusal {
                actor: Some("usr_hot".into()),
                role: Some(Role::Hotline),
                organization_id: None,
                operation: "/wayfinder.intake.v1.IntakeService/ListScreenings".into(),
                record_id: String::new(),
                reason: RefusalReason::RoleNotAllowed,
            }]
        );
    }

    #[test]
    fn a_method_missing_from_the_table_is_refused_for_everyone() {
        let (issuer, verifier) = fixture(&[TokenKind::Service]);
        let kept = Arc::new(Kept::default());
        let mut interceptor = AuthInterceptor::new(Arc::new(verifier)).with_refusals(kept.clone());
        let token = issuer.issue(TokenKind::Service, "intake", Role::Service, None, Duration::from_secs(60)).unwrap();
        let bearer = format!("Bearer {token}");
        for request in [calling("/wayfinder.intake.v1.IntakeService/DropEverything", &bearer), {
            let mut no_method = Request::new(());
            no_method.metadata_mut().insert(AUTHORIZATION, bearer.parse().unwrap());
            no_method
        }] {
            assert_eq!(interceptor.call(request).unwrap_err().code(), tonic::Code::PermissionDenied);
        }
        let refused = kept.0.lock().unwrap().clone();
        let reasons: Vec<RefusalReason> = refused.iter().map(|r| r.reason).collect();
        assert_eq!(reasons, [RefusalReason::UnknownOperation, RefusalReason::UnknownOperation]);
        // the path a caller wrote is never recorded (it could be any text)
        assert!(refused.iter().all(|r| r.operation == UNKNOWN_METHOD), "{refused:?}");
    }

    #[test]
    fn a_token_that_does_not_verify_is_recorded_as_unauthenticated_without_the_token() {
        let (_, verifier) = fixture(&[TokenKind::User]);
        let kept = Arc::new(Kept::default());
        let mut interceptor = AuthInterceptor::new(Arc::new(verifier)).with_refusals(kept.clone());
        assert!(interceptor.call(request_with("Bearer eyJhbGciOiJFZERTQSJ9.e30.c2ln")).is_err());
        let refused = kept.0.lock().unwrap().clone();
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].actor, None);
        assert_eq!(refused[0].reason, RefusalReason::Unauthenticated);
        assert_eq!(refused[0].operation, GET_REFERRAL);
        assert!(!format!("{:?}", refused[0]).contains("eyJ"));
    }
}
