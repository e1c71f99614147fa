use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::json;

use super::*;

const ISSUER: &str = "https://auth.wayfinder.test";
const AUDIENCE: &str = "wayfinder";
const KID: &str = "test-key-1";

struct Keys {
    private_pem: zeroize::Zeroizing<String>,
    public_pem: Vec<u8>,
}

fn keys() -> Keys {
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    Keys {
        private_pem: key.to_pkcs8_pem(LineEnding::LF).unwrap(),
        public_pem: key.verifying_key().to_public_key_pem(LineEnding::LF).unwrap().into_bytes(),
    }
}

/// An issuer and a verifier sharing one fresh key pair.
pub(crate) fn fixture(accepted: &[TokenKind]) -> (TokenIssuer, TokenVerifier) {
    let (issuer, verifier, _) = fixture_with_keys(accepted);
    (issuer, verifier)
}

fn fixture_with_keys(accepted: &[TokenKind]) -> (TokenIssuer, TokenVerifier, Keys) {
    let keys = keys();
    let issuer = TokenIssuer::from_pem(keys.private_pem.as_bytes(), KID, ISSUER, AUDIENCE).unwrap();
    let verifier = TokenVerifier::new(vec![(KID.into(), keys.public_pem.clone())], ISSUER, AUDIENCE, accepted).unwrap();
    (issuer, verifier, keys)
}

/// Signs arbitrary header fields and claims with `keys`, for tokens the issuer would never mint.
fn sign(keys: &Keys, typ: Option<&str>, kid: Option<&str>, claims: serde_json::Value) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = typ.map(str::to_owned);
    header.kid = kid.map(str::to_owned);
    let key = EncodingKey::from_ed_pem(keys.private_pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

fn good_claims() -> serde_json::Value {
    let now = now_secs();
    json!({
        "sub": "usr_1", "iss": ISSUER, "aud": AUDIENCE, "exp": now + 60, "iat": now,
        "jti": "8a4c", "role": "case_manager"
    })
}

fn with(mut claims: serde_json::Value, key: &str, value: serde_json::Value) -> serde_json::Value {
    claims[key] = value;
    claims
}

fn without(mut claims: serde_json::Value, key: &str) -> serde_json::Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

fn user_token(keys: &Keys, claims: serde_json::Value) -> String {
    sign(keys, Some("wf-user+jwt"), Some(KID), claims)
}

fn assert_refused(verifier: &TokenVerifier, token: &str, expected: &str) {
    let err = verifier.verify(token).expect_err("token was accepted");
    let message = err.to_string();
    assert_eq!(message, expected);
    // no part of the token leaks into the message
    for part in token.split('.').filter(|p| p.len() > 4) {
        assert!(!message.contains(part));
    }
}

#[test]
fn round_trip_for_each_kind() {
    let (issuer, verifier) = fixture(&TokenKind::ALL);
    let ttl = Duration::from_secs(300);
    let cases = [
        (TokenKind::User, "usr_1", Role::Supervisor, None),
        (TokenKind::Partner, "client_1", Role::Partner, Some("ptn_2")),
        (TokenKind::Service, "routing", Role::Service, None),
    ];
    for (kind, subject, role, partner_id) in cases {
        let token = issuer.issue(kind, subject, role, partner_id, ttl).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.typ.as_deref(), Some(kind.typ()));
        assert_eq!(header.kid.as_deref(), Some(KID));
        assert_eq!(header.alg, Algorithm::EdDSA);

        let principal = verifier.verify(&token).unwrap();
        assert_eq!(principal.subject, subject);
        assert_eq!(principal.role, role);
        assert_eq!(principal.kind, kind);
        assert_eq!(principal.partner_id.as_deref(), partner_id);
        assert!(uuid::Uuid::parse_str(&principal.token_id).is_ok());
    }
    let a = issuer.issue(TokenKind::User, "usr_1", Role::Hotline, None, ttl).unwrap();
    let b = issuer.issue(TokenKind::User, "usr_1", Role::Hotline, None, ttl).unwrap();
    assert_ne!(verifier.verify(&a).unwrap().token_id, verifier.verify(&b).unwrap().token_id);
}

#[test]
fn issued_claims_have_expected_times() {
    let (issuer, _) = fixture(&[TokenKind::User]);
    let token = issuer.issue(TokenKind::User, "usr_1", Role::Hotline, None, Duration::from_secs(900)).unwrap();
    let payload = token.split('.').nth(1).unwrap();
    let claims: Claims = serde_json::from_slice(&B64.decode(payload).unwrap()).unwrap();
    assert_eq!(claims.exp - claims.iat, 900);
    assert!((claims.iat - now_secs()).abs() <= 2);
    assert_eq!((claims.iss.as_str(), claims.aud.as_str()), (ISSUER, AUDIENCE));
    assert_eq!(claims.nbf, None);
}

#[test]
fn expiry_honours_a_small_leeway_only() {
    let (_, verifier, keys) = fixture_with_keys(&[TokenKind::User]);
    let now = now_secs();
    assert_refused(&verifier, &user_token(&keys, with(good_claims(), "exp", json!(now - 10))), "token expired");
    assert_refused(&verifier, &user_token(&keys, with(good_claims(), "exp", json!(now - 3600))), "token expired");
    // within the 5 s leeway
    assert!(verifier.verify(&user_token(&keys, with(good_claims(), "exp", json!(now - 1)))).is_ok());
}

#[test]
fn not_before_in_the_future_is_refused() {
    let (_, verifier, keys) = fixture_with_keys(&[TokenKind::User]);
    let now = now_secs();
    assert_refused(&verifier, &user_token(&keys, with(good_claims(), "nbf", json!(now + 60))), "token not yet valid");
    assert!(verifier.verify(&user_token(&keys, with(good_claims(), "nbf", json!(now)))).is_ok());
    assert_refused(&verifier, &user_token(&keys, with(good_claims(), "nbf", json!("0"))), "token claim nbf is invalid");
}

#[test]
fn wrong_or_missing_issuer_and_audience_are_refused() {
    let (_, verifier, keys) = fixture_with_keys(&[TokenKind::User]);
    let token = |claims| user_token(&keys, claims);
    assert_refused(&verifier, &token(with(good_claims(), "aud", json!("other-app"))), "token audience not accepted");
    assert_refused(
        &verifier,
        &token(with(good_claims(), "iss", json!("https://evil.test"))),
        "token issuer not accepted",
    );
    assert_refused(&verifier, &token(without(good_claims(), "aud")), "token is missing required claim aud");
    assert_refused(&verifier, &token(without(good_claims(), "iss")), "token is missing required claim iss");
    assert_refused(&verifier, &token(without(good_claims(), "exp")), "token is missing required claim exp");
    assert_refused(&verifier, &token(without(good_claims(), "sub")), "token is missing required claim sub");
    assert_refused(&verifier, &token(without(good_claims(), "jti")), "token claims are malformed");
    assert_refused(&verifier, &token(with(good_claims(), "role", json!("root"))), "token claims are malformed");
    assert_refused(&verifier, &token(with(good_claims(), "aud", json!(["other", "x"]))), "token audience not accepted");
}

#[test]
fn issuer_and_audience_are_the_verifiers_own() {
    let keys = keys();
    let issuer = TokenIssuer::from_pem(keys.private_pem.as_bytes(), KID, ISSUER, "cases").unwrap();
    let verifier =
        TokenVerifier::new(vec![(KID.into(), keys.public_pem.clone())], ISSUER, AUDIENCE, &[TokenKind::User]).unwrap();
    let token = issuer.issue(TokenKind::User, "usr_1", Role::Hotline, None, Duration::from_secs(60)).unwrap();
    assert_refused(&verifier, &token, "token audience not accepted");
}

#[test]
fn alg_none_is_refused() {
    let (_, verifier) = fixture(&[TokenKind::User]);
    let header = B64.encode(json!({"alg": "none", "typ": "wf-user+jwt", "kid": KID}).to_string());
    let payload = B64.encode(good_claims().to_string());
    assert_refused(&verifier, &format!("{header}.{payload}."), "token algorithm not allowed");
    let header = B64.encode(json!({"alg": "None", "typ": "wf-user+jwt", "kid": KID}).to_string());
    assert_refused(&verifier, &format!("{header}.{payload}.AAAA"), "token algorithm not allowed");
}

#[test]
fn hs256_signed_with_the_public_key_is_refused() {
    // the classic key-confusion attack: use the public key as an HMAC secret
    let (_, verifier, keys) = fixture_with_keys(&[TokenKind::User]);
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("wf-user+jwt".into());
    header.kid = Some(KID.into());
    let token = jsonwebtoken::encode(&header, &good_claims(), &EncodingKey::from_secret(&keys.public_pem)).unwrap();
    assert_refused(&verifier, &token, "token algorithm not allowed");
}

#[test]
fn unknown_or_missing_kid_is_refused() {
    let (_, verifier, keys) = fixture_with_keys(&[TokenKind::User]);
    assert_refused(
        &verifier,
        &sign(&keys, Some("wf-user+jwt"), Some("other"), good_claims()),
        "token signed with unknown key id",
    );
    assert_refused(&verifier, &sign(&keys, Some("wf-user+jwt"), None, good_claims()), "token has no key id");
}

#[test]
fn known_kid_with_another_key_is_a_bad_signature() {
    let (_, verifier) = fixture(&[TokenKind::User]);
    let stranger = keys();
    assert_refused(&verifier, &user_token(&stranger, good_claims()), "token signature is invalid");
}

#[test]
fn kinds_not_accepted_are_refused() {
    let (issuer, verifier, keys) = fixture_with_keys(&[TokenKind::Service]);
    let user = issuer.issue(TokenKind::User, "usr_1", Role::Admin, None, Duration::from_secs(60)).unwrap();
    assert_refused(&verifier, &user, "token type not accepted here");
    let partner = issuer.issue(TokenKind::Partner, "c", Role::Partner, Some("ptn_1"), Duration::from_secs(60)).unwrap();
    assert_refused(&verifier, &partner, "token type not accepted here");
    assert_refused(&verifier, &sign(&keys, Some("JWT"), Some(KID), good_claims()), "token type not accepted here");
    assert_refused(&verifier, &sign(&keys, None, Some(KID), good_claims()), "token type not accepted here");
}

#[test]
fn tampered_tokens_are_refused() {
    let (issuer, verifier) = fixture(&[TokenKind::User]);
    let token = issuer.issue(TokenKind::User, "usr_1", Role::Hotline, None, Duration::from_secs(60)).unwrap();
    let parts: Vec<&str> = token.split('.').collect();

    // flip one bit of the signature
    let mut signature = B64.decode(parts[2]).unwrap();
    signature[10] ^= 0x01;
    let forged = format!("{}.{}.{}", parts[0], parts[1], B64.encode(&signature));
    assert_refused(&verifier, &forged, "token signature is invalid");

    // escalate the role, keep the signature
    let mut claims: serde_json::Value = serde_json::from_slice(&B64.decode(parts[1]).unwrap()).unwrap();
    claims["role"] = json!("admin");
    let forged = format!("{}.{}.{}", parts[0], B64.encode(claims.to_string()), parts[2]);
    assert_refused(&verifier, &forged, "token signature is invalid");

    // switch the kind, keep the signature
    let header = B64.encode(json!({"alg": "EdDSA", "typ": "wf-user+jwt", "kid": KID, "x": 1}).to_string());
    assert_refused(&verifier, &format!("{header}.{}.{}", parts[1], parts[2]), "token signature is invalid");

    assert_refused(&verifier, &format!("{}.{}", parts[0], parts[1]), "malformed token");
    assert_refused(&verifier, "", "malformed token");
    assert_refused(&verifier, &"a".repeat(MAX_TOKEN_LEN + 1), "token is too large");
}

#[test]
fn role_and_kind_must_agree() {
    let (issuer, verifier, keys) = fixture_with_keys(&TokenKind::ALL);
    let ttl = Duration::from_secs(60);
    let partner = |claims| sign(&keys, Some("wf-partner+jwt"), Some(KID), claims);
    let service = |claims| sign(&keys, Some("wf-service+jwt"), Some(KID), claims);

    let partner_claims = with(with(good_claims(), "role", json!("partner")), "partner_id", json!("ptn_1"));
    assert!(verifier.verify(&partner(partner_claims.clone())).is_ok());
    let message = "partner token must carry a partner id and role partner";
    assert_refused(&verifier, &partner(without(partner_claims.clone(), "partner_id")), message);
    assert_refused(&verifier, &partner(with(partner_claims.clone(), "partner_id", json!(""))), message);
    assert_refused(&verifier, &partner(with(partner_claims.clone(), "role", json!("admin"))), message);
    // a user token claiming the service role, or a service token claiming a person's role
    assert_refused(
        &verifier,
        &user_token(&keys, with(good_claims(), "role", json!("service"))),
        "token role does not match token type",
    );
    assert_refused(&verifier, &service(good_claims()), "token role does not match token type");
    // role partner is a partner token's only
    assert_refused(
        &verifier,
        &user_token(&keys, with(good_claims(), "role", json!("partner"))),
        "token role does not match token type",
    );

    // the issuer refuses to mint the same combinations
    assert!(issuer.issue(TokenKind::Partner, "c", Role::Partner, None, ttl).is_err());
    assert!(issuer.issue(TokenKind::Partner, "c", Role::Admin, Some("ptn_1"), ttl).is_err());
    assert!(issuer.issue(TokenKind::User, "u", Role::Service, None, ttl).is_err());
    assert!(issuer.issue(TokenKind::Service, "s", Role::Admin, None, ttl).is_err());
    assert!(issuer.issue(TokenKind::User, "", Role::Admin, None, ttl).is_err());
    assert!(issuer.issue(TokenKind::User, "u", Role::Admin, None, Duration::ZERO).is_err());
}

#[test]
fn critical_headers_are_refused() {
    let (_, verifier, keys) = fixture_with_keys(&[TokenKind::User]);
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some("wf-user+jwt".into());
    header.kid = Some(KID.into());
    header.crit = Some(vec!["exp".into()]);
    let key = EncodingKey::from_ed_pem(keys.private_pem.as_bytes()).unwrap();
    let token = jsonwebtoken::encode(&header, &good_claims(), &key).unwrap();
    assert_refused(&verifier, &token, "token has unsupported critical header parameters");
}

#[test]
fn constructors_check_their_inputs() {
    let keys = keys();
    let bad = |r: Result<TokenIssuer, AuthError>| r.unwrap_err().to_string();
    assert!(bad(TokenIssuer::from_pem(b"not a pem", KID, ISSUER, AUDIENCE)).starts_with("invalid signing key"));
    assert!(bad(TokenIssuer::from_pem(&keys.public_pem, KID, ISSUER, AUDIENCE)).starts_with("invalid signing key"));
    assert_eq!(
        bad(TokenIssuer::from_pem(keys.private_pem.as_bytes(), "", ISSUER, AUDIENCE)),
        AuthError::InvalidKeyId.to_string()
    );

    let pair = || vec![(KID.to_owned(), keys.public_pem.clone())];
    assert!(matches!(
        TokenVerifier::new(vec![], ISSUER, AUDIENCE, &[TokenKind::User]),
        Err(AuthError::NoVerificationKeys)
    ));
    assert!(matches!(TokenVerifier::new(pair(), ISSUER, AUDIENCE, &[]), Err(AuthError::NoAcceptedKinds)));
    assert!(matches!(
        TokenVerifier::new(vec![(KID.into(), b"junk".to_vec())], ISSUER, AUDIENCE, &[TokenKind::User]),
        Err(AuthError::InvalidVerificationKey { .. })
    ));
    let mut twice = pair();
    twice.extend(pair());
    assert!(matches!(
        TokenVerifier::new(twice, ISSUER, AUDIENCE, &[TokenKind::User]),
        Err(AuthError::DuplicateKeyId(_))
    ));
}

#[test]
fn debug_output_shows_no_key_material() {
    let (issuer, verifier) = fixture(&TokenKind::ALL);
    let debug = format!("{issuer:?} {verifier:?}");
    assert!(!debug.contains("PRIVATE") && !debug.contains("content"));
    assert!(debug.contains(KID));
}

#[test]
fn issuer_exposes_its_public_key_for_verifiers() {
    let (issuer, _) = fixture(&[TokenKind::User]);
    let verifier = TokenVerifier::new(
        vec![(issuer.kid().to_owned(), issuer.public_key_pem().to_vec())],
        ISSUER,
        AUDIENCE,
        &[TokenKind::User],
    )
    .unwrap();
    let token = issuer.issue(TokenKind::User, "u", Role::Auditor, None, Duration::from_secs(60)).unwrap();
    assert_eq!(verifier.verify(&token).unwrap().role, Role::Auditor);
}

#[test]
fn typ_names_round_trip() {
    for kind in TokenKind::ALL {
        assert_eq!(TokenKind::from_typ(kind.typ()), Some(kind));
    }
    assert_eq!(TokenKind::from_typ("JWT"), None);
}

#[test]
fn a_user_token_carrying_role_partner_is_refused_even_with_a_partner_id() {
    let (issuer, verifier, keys) = fixture_with_keys(&TokenKind::ALL);
    let claims = with(with(good_claims(), "role", json!("partner")), "partner_id", json!("org_1"));
    assert_refused(&verifier, &user_token(&keys, claims.clone()), "token role does not match token type");
    // the same claims in a partner token are fine
    assert!(verifier.verify(&sign(&keys, Some("wf-partner+jwt"), Some(KID), claims)).is_ok());
    // and the issuer will not mint the user-kind one
    let minted = issuer.issue(TokenKind::User, "usr_2", Role::Partner, Some("org_1"), Duration::from_secs(60));
    assert!(matches!(minted, Err(AuthError::RoleDoesNotMatchKind)));
}

#[test]
fn a_token_issued_in_the_future_is_refused_beyond_the_leeway() {
    let (_, verifier, keys) = fixture_with_keys(&[TokenKind::User]);
    let now = now_secs();
    let issued_at = |iat: i64| user_token(&keys, with(good_claims(), "iat", json!(iat)));
    assert_refused(&verifier, &issued_at(now + 60), "token issued in the future");
    assert_refused(&verifier, &issued_at(now + 24 * 3600), "token issued in the future");
    // clock skew within the 5 s leeway is tolerated
    assert!(verifier.verify(&issued_at(now + 2)).is_ok());
    assert!(verifier.verify(&issued_at(now - 60)).is_ok());
    // iat is required and must be a number
    assert_refused(&verifier, &user_token(&keys, without(good_claims(), "iat")), "token claims are malformed");
    assert_refused(&verifier, &issued_at_str(&keys), "token claims are malformed");
}

fn issued_at_str(keys: &Keys) -> String {
    user_token(keys, with(good_claims(), "iat", json!("now")))
}

#[test]
fn an_exp_further_away_than_the_maximum_lifetime_is_refused() {
    let (_, verifier, keys) = fixture_with_keys(&TokenKind::ALL);
    let now = now_secs();
    let user = |exp: i64| user_token(&keys, with(good_claims(), "exp", json!(exp)));
    let twelve_hours = 12 * 3600;
    assert_eq!(verifier.max_lifetime(TokenKind::User), Duration::from_secs(twelve_hours as u64));
    assert_refused(&verifier, &user(now + twelve_hours + 60), "token lifetime exceeds the maximum for its type");
    assert_refused(&verifier, &user(now + 365 * 24 * 3600), "token lifetime exceeds the maximum for its type");
    assert_refused(&verifier, &user(i64::MAX), "token lifetime exceeds the maximum for its type");
    assert!(verifier.verify(&user(now + twelve_hours)).is_ok());

    // each kind has its own maximum: a service token lives an hour at most
    let service_claims = with(with(good_claims(), "role", json!("service")), "exp", json!(now + 2 * 3600));
    let service = sign(&keys, Some("wf-service+jwt"), Some(KID), service_claims);
    assert_refused(&verifier, &service, "token lifetime exceeds the maximum for its type");
    let partner_claims = with(with(good_claims(), "role", json!("partner")), "partner_id", json!("org_1"));
    let partner =
        |exp: i64| sign(&keys, Some("wf-partner+jwt"), Some(KID), with(partner_claims.clone(), "exp", json!(exp)));
    assert_refused(&verifier, &partner(now + 13 * 3600), "token lifetime exceeds the maximum for its type");
    assert!(verifier.verify(&partner(now + 3600)).is_ok());
}

#[test]
fn a_lifetime_longer_than_the_maximum_stays_refused_as_the_token_ages() {
    // minted 13 h ago for 13 h and 1 minute: only a minute is left, but it was never a 12 h token
    let (_, verifier, keys) = fixture_with_keys(&[TokenKind::User]);
    let now = now_secs();
    let claims = with(with(good_claims(), "iat", json!(now - 13 * 3600)), "exp", json!(now + 60));
    assert_refused(&verifier, &user_token(&keys, claims), "token lifetime exceeds the maximum for its type");
    let claims = with(with(good_claims(), "iat", json!(i64::MIN)), "exp", json!(now + 60));
    assert_refused(&verifier, &user_token(&keys, claims), "token lifetime exceeds the maximum for its type");
}

#[test]
fn the_maximum_lifetime_is_configurable_per_kind() {
    let (issuer, verifier, keys) = fixture_with_keys(&TokenKind::ALL);
    let verifier = verifier.with_max_lifetime(TokenKind::User, Duration::from_secs(600)).unwrap();
    assert_eq!(verifier.max_lifetime(TokenKind::User), Duration::from_secs(600));
    assert_eq!(verifier.max_lifetime(TokenKind::Partner), TokenKind::Partner.default_max_lifetime());
    let now = now_secs();
    let user = |exp: i64| user_token(&keys, with(good_claims(), "exp", json!(exp)));
    assert_refused(&verifier, &user(now + 900), "token lifetime exceeds the maximum for its type");
    assert!(verifier.verify(&user(now + 600)).is_ok());
    // what the issuer mints within the limit is accepted
    let token = issuer.issue(TokenKind::User, "usr_1", Role::Hotline, None, Duration::from_secs(600)).unwrap();
    assert!(verifier.verify(&token).is_ok());
    let token = issuer.issue(TokenKind::User, "usr_1", Role::Hotline, None, Duration::from_secs(3600)).unwrap();
    assert_refused(&verifier, &token, "token lifetime exceeds the maximum for its type");

    let fresh = || fixture(&[TokenKind::User]).1;
    assert!(matches!(fresh().with_max_lifetime(TokenKind::User, Duration::ZERO), Err(AuthError::InvalidMaxLifetime)));
    assert!(matches!(
        fresh().with_max_lifetime(TokenKind::User, MAX_CONFIGURABLE_LIFETIME + Duration::from_secs(1)),
        Err(AuthError::InvalidMaxLifetime)
    ));
    assert!(fresh().with_max_lifetime(TokenKind::Service, MAX_CONFIGURABLE_LIFETIME).is_ok());
}

#[test]
fn every_authentication_error_tells_the_caller_only_unauthenticated() {
    let (_, verifier, keys) = fixture_with_keys(&[TokenKind::User]);
    let now = now_secs();
    let stranger = self::keys();
    let refused = [
        "".to_owned(),
        "a".repeat(MAX_TOKEN_LEN + 1),
        sign(&keys, Some("wf-user+jwt"), Some("other-key"), good_claims()),
        sign(&keys, Some("wf-user+jwt"), None, good_claims()),
        sign(&keys, Some("wf-service+jwt"), Some(KID), good_claims()),
        user_token(&stranger, good_claims()),
        user_token(&keys, with(good_claims(), "exp", json!(now - 3600))),
        user_token(&keys, with(good_claims(), "iat", json!(now + 3600))),
        user_token(&keys, with(good_claims(), "exp", json!(now + 48 * 3600))),
        user_token(&keys, with(good_claims(), "aud", json!("other"))),
        user_token(&keys, with(good_claims(), "role", json!("partner"))),
    ];
    let mut reasons = std::collections::HashSet::new();
    for token in &refused {
        let err = verifier.verify(token).expect_err("refused");
        assert_eq!(err.public_message(), "unauthenticated", "{err}");
        let status = err.status();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        assert_eq!(status.message(), "unauthenticated");
        assert!(status.details().is_empty() && status.metadata().is_empty());
        // the log still learns why
        assert_ne!(err.to_string(), "unauthenticated");
        reasons.insert(err.reason_code());
    }
    // eleven tokens, eleven different reasons for the log
    assert_eq!(reasons.len(), refused.len(), "{reasons:?}");
    assert!(!reasons.contains("configuration"));
}
