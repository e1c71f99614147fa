//! tonic integration: the server-side gate that authenticates and authorizes every request, and the
//! client-side interceptor that attaches a token.

use std::fmt;
use std::sync::Arc;

use tonic::codegen::http::HeaderMap;
use tonic::metadata::AsciiMetadataValue;
use tonic::service::Interceptor;
use tonic::{Request, Status};

use crate::{AuthError, Principal, Role, TokenVerifier};

const AUTHORIZATION: &str = "authorization";

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

    /// Whether `refusal` would be recorded now rather than left out by a rate limit (asked before
    /// the gate spends effort reading the refused request). Changes nothing.
    fn would_record(&self, _refusal: &Refusal) -> bool {
        true
    }
}

/// A refused call: what to record (its `record_id` still empty: the gate that holds the request
/// body fills it in) and the answer to give.
#[derive(Debug)]
pub struct Refused {
    pub refusal: Refusal,
    pub status: Status,
}

/// The gate in front of every gRPC method: verifies `authorization: Bearer <jwt>`, checks the
/// caller's role against the per-method table ([`crate::rpc`]) and hands back the [`Principal`],
/// which the server puts in the request extensions, where handlers read it with [`principal`].
/// A token that does not verify is refused `UNAUTHENTICATED` with no detail (the reason is logged
/// at debug); a role the table does not allow, or a method missing from it, `PERMISSION_DENIED`.
/// wf-server's `Guarded` service runs it before any handler and records each refusal in the
/// [`RefusalSink`], with the record id read from the refused request.
#[derive(Clone, Debug)]
pub struct AuthGate {
    verifier: Arc<TokenVerifier>,
    refusals: Option<Arc<dyn RefusalSink>>,
}

impl AuthGate {
    pub fn new(verifier: Arc<TokenVerifier>) -> Self {
        AuthGate { verifier, refusals: None }
    }

    /// The same gate, recording refusals in `sink` (each service passes its own).
    pub fn with_refusals(mut self, sink: Arc<dyn RefusalSink>) -> Self {
        self.refusals = Some(sink);
        self
    }

    /// Whether `refusal` would be recorded now (false without a sink, or over the sink's rate limit).
    pub fn would_record(&self, refusal: &Refusal) -> bool {
        self.refusals.as_ref().is_some_and(|sink| sink.would_record(refusal))
    }

    /// Puts `refusal` on the record (nowhere, when the gate has no sink).
    pub fn record(&self, refusal: Refusal) {
        if let Some(sink) = &self.refusals {
            sink.refused(refusal);
        }
    }

    /// The caller of `method` (an HTTP/2 path, `/package.Service/Method`) as `headers` name it, if it
    /// may call that method at all. A refusal is returned, not recorded: see [`AuthGate::record`].
    #[allow(clippy::result_large_err)] // refusals are the rare path; no allocation on the common one
    pub fn admit(&self, headers: &HeaderMap, method: &str) -> Result<Principal, Refused> {
        let rule = crate::rpc::rule(method);
        // Only a method of the table is named in a refusal or an answer: any other path is caller-written
        // text (tonic routes `/Service/<anything>` to the service) and never reaches the log.
        let operation = rule.map_or(UNKNOWN_METHOD, |rule| rule.method).to_owned();
        let principal = match bearer_token(headers).and_then(|token| self.verifier.verify(token)) {
            Ok(principal) => principal,
            Err(reason) => {
                // the reason never contains the token; the token itself is never logged
                tracing::debug!(%reason, reason_code = reason.reason_code(), %operation, "request not authenticated");
                let refusal = Refusal {
                    actor: None,
                    role: None,
                    organization_id: None,
                    operation,
                    record_id: String::new(),
                    reason: RefusalReason::Unauthenticated,
                };
                return Err(Refused { refusal, status: reason.status() });
            }
        };
        let Some(rule) = rule else {
            return Err(Refused {
                refusal: Refusal::of(&principal, &operation, "", RefusalReason::UnknownOperation),
                status: Status::permission_denied("the method called is not an operation this server offers"),
            });
        };
        if !rule.allows(principal.role) {
            let names: Vec<&str> = rule.operations.iter().map(|op| op.describe()).collect();
            return Err(Refused {
                refusal: Refusal::of(&principal, &operation, "", RefusalReason::RoleNotAllowed),
                status: Status::permission_denied(format!("role {} may not {}", principal.role, names.join(" or "))),
            });
        }
        Ok(principal)
    }
}

/// The bearer token from request headers. Exactly one `authorization` entry, scheme `Bearer`
/// (case-insensitive), a single space, then the token.
fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
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

/// The authenticated caller of `req`, or `UNAUTHENTICATED` when no [`AuthGate`] admitted it.
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

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, value.parse().unwrap());
        headers
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
        let refused = AuthGate::new(Arc::new(verifier)).admit(&HeaderMap::new(), GET_REFERRAL).unwrap_err();
        assert_eq!(refused.status.code(), tonic::Code::Unauthenticated);
        assert_eq!(refused.status.message(), "unauthenticated");
    }

    #[test]
    fn garbage_headers_are_unauthenticated() {
        let (issuer, verifier) = fixture(&[TokenKind::User]);
        let gate = AuthGate::new(Arc::new(verifier));
        let token = issuer.issue(TokenKind::User, "usr_1", Role::Hotline, None, Duration::from_secs(60)).unwrap();
        for value in [
            "garbage",
            "Basic dXNlcjpwYXNz",
            &format!("Bearer {token} extra"),
            "Bearer ",
            "Bearer not.a.jwt",
            "Bearer abc",
        ] {
            let status = gate.admit(&headers(value), GET_REFERRAL).unwrap_err().status;
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
        let mut two = headers(&format!("Bearer {token}"));
        two.append(AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
        let refused = AuthGate::new(Arc::new(verifier)).admit(&two, GET_REFERRAL).unwrap_err();
        assert_eq!(refused.status.code(), tonic::Code::Unauthenticated);
    }

    #[test]
    fn valid_token_admits_the_principal() {
        let (issuer, verifier) = fixture(&[TokenKind::Partner]);
        let token = issuer
            .issue(TokenKind::Partner, "client_9", Role::Partner, Some("ptn_7"), Duration::from_secs(60))
            .unwrap();
        let gate = AuthGate::new(Arc::new(verifier));
        let principal = gate.admit(&headers(&format!("bearer {token}")), GET_REFERRAL).unwrap();
        assert_eq!(principal.subject, "client_9");
        assert_eq!(principal.role, Role::Partner);
        assert_eq!(principal.partner_id.as_deref(), Some("ptn_7"));
        assert_eq!(principal.kind, TokenKind::Partner);
        assert!(!principal.token_id.is_empty());
    }

    #[test]
    fn principal_is_unauthenticated_without_the_gate() {
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
        let sent = outgoing.metadata().clone().into_headers();
        let admitted = AuthGate::new(Arc::new(verifier)).admit(&sent, "/wayfinder.audit.v1.AuditService/VerifyChain");
        assert_eq!(admitted.unwrap().subject, "intake");

        assert!(BearerToken::new("line\nbreak").is_err());
        assert!(BearerToken::new("").is_err());
    }

    #[test]
    fn a_role_the_table_does_not_allow_is_refused_before_any_handler() {
        let (issuer, verifier) = fixture(&[TokenKind::User]);
        let gate = AuthGate::new(Arc::new(verifier));
        let token = issuer.issue(TokenKind::User, "usr_hot", Role::Hotline, None, Duration::from_secs(60)).unwrap();
        let bearer = headers(&format!("Bearer {token}"));
        let refused = gate.admit(&bearer, "/wayfinder.intake.v1.IntakeService/ListScreenings").unwrap_err();
        assert_eq!(refused.status.code(), tonic::Code::PermissionDenied);
        assert_eq!(refused.status.message(), "role hotline may not read referrals");
        assert!(gate.admit(&bearer, GET_REFERRAL).is_ok());
        assert_eq!(
            refused.refusal,
            Refusal {
                actor: Some("usr_hot".into()),
                role: Some(Role::Hotline),
                organization_id: None,
                operation: "/wayfinder.intake.v1.IntakeService/ListScreenings".into(),
                record_id: String::new(),
                reason: RefusalReason::RoleNotAllowed,
            }
        );
    }

    #[test]
    fn a_method_missing_from_the_table_is_refused_for_everyone() {
        let (issuer, verifier) = fixture(&[TokenKind::Service]);
        let gate = AuthGate::new(Arc::new(verifier));
        let token = issuer.issue(TokenKind::Service, "intake", Role::Service, None, Duration::from_secs(60)).unwrap();
        let bearer = headers(&format!("Bearer {token}"));
        for method in ["/wayfinder.intake.v1.IntakeService/DropEverything", "", "/"] {
            let refused = gate.admit(&bearer, method).unwrap_err();
            assert_eq!(refused.status.code(), tonic::Code::PermissionDenied);
            assert_eq!(refused.refusal.reason, RefusalReason::UnknownOperation);
            // the path a caller wrote is never recorded (it could be any text)
            assert_eq!(refused.refusal.operation, UNKNOWN_METHOD);
        }
    }

    #[test]
    fn a_token_that_does_not_verify_is_refused_as_unauthenticated_without_the_token() {
        let (_, verifier) = fixture(&[TokenKind::User]);
        let gate = AuthGate::new(Arc::new(verifier));
        let refused = gate.admit(&headers("Bearer eyJhbGciOiJFZERTQSJ9.e30.c2ln"), GET_REFERRAL).unwrap_err();
        assert_eq!(refused.refusal.actor, None);
        assert_eq!(refused.refusal.reason, RefusalReason::Unauthenticated);
        assert_eq!(refused.refusal.operation, GET_REFERRAL);
        assert!(!format!("{:?}", refused.refusal).contains("eyJ"));
    }

    #[test]
    fn a_refusal_goes_to_the_sink_when_there_is_one() {
        let (_, verifier) = fixture(&[TokenKind::User]);
        let kept = Arc::new(Kept::default());
        let verifier = Arc::new(verifier);
        let refused = AuthGate::new(verifier.clone()).admit(&HeaderMap::new(), GET_REFERRAL).unwrap_err();
        AuthGate::new(verifier.clone()).record(refused.refusal.clone());
        AuthGate::new(verifier).with_refusals(kept.clone()).record(refused.refusal.clone());
        assert_eq!(*kept.0.lock().unwrap(), [refused.refusal]);
    }
}
