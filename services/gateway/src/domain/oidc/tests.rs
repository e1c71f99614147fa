use jsonwebtoken::jwk::JwkSet;

use super::*;

fn set(json: serde_json::Value) -> JwkSet {
    serde_json::from_value(json).expect("a JWK set")
}

fn ec(kid: &str, crv: &str) -> serde_json::Value {
    serde_json::json!({"kty": "EC", "crv": crv, "kid": kid, "use": "sig",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})
}

fn rsa(kid: &str) -> serde_json::Value {
    serde_json::json!({"kty": "RSA", "kid": kid, "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw", "e": "AQAB"})
}

#[test]
fn rfc_7636_appendix_b_challenge() {
    assert_eq!(
        pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
}

#[test]
fn only_asymmetric_algorithms_parse() {
    let names = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        algorithms(&names(&["RS256", "ES256", "EdDSA"])).unwrap(),
        vec![Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA]
    );
    for bad in ["HS256", "none", "rs256", ""] {
        assert!(algorithms(&names(&[bad])).is_err(), "{bad} must be refused");
    }
}

#[test]
fn a_key_is_found_by_kid_and_must_fit_the_algorithm() {
    let keys = set(serde_json::json!({"keys": [ec("a", "P-256"), rsa("b"), ec("c", "P-384")]}));
    let allowed = [Algorithm::ES256, Algorithm::RS256, Algorithm::ES384];
    assert_eq!(select_key(&keys, Some("a"), Algorithm::ES256, &allowed).unwrap().common.key_id.as_deref(), Some("a"));
    assert_eq!(select_key(&keys, Some("b"), Algorithm::RS256, &allowed).unwrap().common.key_id.as_deref(), Some("b"));
    assert_eq!(select_key(&keys, Some("zz"), Algorithm::ES256, &allowed).unwrap_err(), KeyRefusal::UnknownKey);
    // The RSA key named with an EC algorithm, a P-384 key with ES256: refused.
    assert_eq!(select_key(&keys, Some("b"), Algorithm::ES256, &allowed).unwrap_err(), KeyRefusal::Mismatch);
    assert_eq!(select_key(&keys, Some("c"), Algorithm::ES256, &allowed).unwrap_err(), KeyRefusal::Mismatch);
    // An algorithm that is not configured, even with a fitting key.
    assert_eq!(select_key(&keys, Some("a"), Algorithm::ES256, &[Algorithm::RS256]).unwrap_err(), KeyRefusal::Algorithm);
    // HS256 is never a fit, whatever the configuration says.
    assert_eq!(select_key(&keys, Some("b"), Algorithm::HS256, &[Algorithm::HS256]).unwrap_err(), KeyRefusal::Mismatch);
}

#[test]
fn a_shared_secret_an_encryption_key_or_another_declared_algorithm_never_verifies() {
    let oct = serde_json::json!({"kty": "oct", "kid": "s", "k": "c2VjcmV0"});
    let mut enc = ec("e", "P-256");
    enc["use"] = "enc".into();
    let mut declared = ec("d", "P-256");
    declared["alg"] = "ES384".into();
    let keys = set(serde_json::json!({"keys": [oct, enc, declared]}));
    let all = [Algorithm::HS256, Algorithm::ES256, Algorithm::ES384];
    for kid in ["s", "e", "d"] {
        for alg in all {
            assert!(select_key(&keys, Some(kid), alg, &all).is_err(), "{kid} with {alg:?}");
        }
    }
}

#[test]
fn without_a_kid_only_a_single_fitting_key_is_used() {
    let one = set(serde_json::json!({"keys": [ec("a", "P-256"), rsa("b")]}));
    assert_eq!(
        select_key(&one, None, Algorithm::ES256, &[Algorithm::ES256]).unwrap().common.key_id.as_deref(),
        Some("a")
    );
    let two = set(serde_json::json!({"keys": [ec("a", "P-256"), ec("a2", "P-256")]}));
    assert_eq!(select_key(&two, None, Algorithm::ES256, &[Algorithm::ES256]).unwrap_err(), KeyRefusal::Ambiguous);
}

const NOW: i64 = 1_800_000_000;

fn claims() -> IdClaims {
    IdClaims {
        iss: "https://id.example.org".into(),
        sub: "248289761001".into(),
        aud: Audience::One("wayfinder".into()),
        exp: NOW + 300,
        iat: Some(NOW - 1),
        nbf: None,
        nonce: Some("n-0S6_WzA2Mj".into()),
        azp: None,
    }
}

fn expected() -> Expected<'static> {
    Expected { issuer: "https://id.example.org", client_id: "wayfinder", nonce: "n-0S6_WzA2Mj", now: NOW, leeway: 5 }
}

#[test]
fn the_claims_of_this_sign_in_pass() {
    assert_eq!(check_claims(&claims(), &expected()), Ok(()));
    let many = IdClaims {
        aud: Audience::Many(vec!["other".into(), "wayfinder".into()]),
        azp: Some("wayfinder".into()),
        ..claims()
    };
    assert_eq!(check_claims(&many, &expected()), Ok(()));
}

#[test]
fn each_wrong_claim_is_refused() {
    let cases: Vec<(IdClaims, ClaimRefusal)> = vec![
        (IdClaims { iss: "https://id.example.org/".into(), ..claims() }, ClaimRefusal::Issuer),
        (IdClaims { aud: Audience::One("another-client".into()), ..claims() }, ClaimRefusal::Audience),
        (
            IdClaims { aud: Audience::Many(vec!["other".into(), "wayfinder".into()]), ..claims() },
            ClaimRefusal::AuthorizedParty,
        ),
        (IdClaims { azp: Some("other".into()), ..claims() }, ClaimRefusal::AuthorizedParty),
        (IdClaims { exp: NOW - 5, ..claims() }, ClaimRefusal::Expired),
        (IdClaims { iat: Some(NOW + 6), ..claims() }, ClaimRefusal::IssuedInFuture),
        (IdClaims { nbf: Some(NOW + 6), ..claims() }, ClaimRefusal::NotYetValid),
        (IdClaims { nonce: None, ..claims() }, ClaimRefusal::Nonce),
        (IdClaims { nonce: Some("n-0S6_WzA2Mk".into()), ..claims() }, ClaimRefusal::Nonce),
        (IdClaims { sub: String::new(), ..claims() }, ClaimRefusal::Subject),
    ];
    for (claims, refusal) in cases {
        assert_eq!(check_claims(&claims, &expected()), Err(refusal), "{claims:?}");
    }
}

#[test]
fn the_leeway_is_at_most_five_seconds() {
    // Expired 4 s ago: inside the 5 s skew.
    assert_eq!(check_claims(&IdClaims { exp: NOW - 4, ..claims() }, &expected()), Ok(()));
    assert_eq!(check_claims(&IdClaims { iat: Some(NOW + 5), ..claims() }, &expected()), Ok(()));
    // A configured leeway above 5 s is held to 5.
    let generous = Expected { leeway: 60, ..expected() };
    assert_eq!(check_claims(&IdClaims { exp: NOW - 30, ..claims() }, &generous), Err(ClaimRefusal::Expired));
    let strict = Expected { leeway: 0, ..expected() };
    assert_eq!(check_claims(&IdClaims { exp: NOW, ..claims() }, &strict), Err(ClaimRefusal::Expired));
}

#[test]
fn the_authorization_address_carries_pkce_state_and_nonce() {
    let endpoint = url::Url::parse("https://id.example.org/authorize?tenant=la").unwrap();
    let url =
        authorization_url(&endpoint, "wayfinder", "https://wf.example.org/sign-in/oidc/callback", "st", "no", "ch");
    let pairs: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    assert_eq!(get("tenant"), Some("la"));
    assert_eq!(get("response_type"), Some("code"));
    assert_eq!(get("redirect_uri"), Some("https://wf.example.org/sign-in/oidc/callback"));
    assert_eq!(get("scope"), Some("openid"));
    assert_eq!((get("state"), get("nonce"), get("code_challenge")), (Some("st"), Some("no"), Some("ch")));
    assert_eq!(get("code_challenge_method"), Some("S256"));
}
