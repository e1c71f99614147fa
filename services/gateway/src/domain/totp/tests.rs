use super::*;

/// RFC 6238 appendix B's SHA-1 secret.
const RFC_SECRET: &[u8] = b"12345678901234567890";

#[test]
fn rfc_6238_test_vectors() {
    // (time, 8-digit TOTP) from RFC 6238 appendix B, SHA-1 rows.
    let vectors = [
        (59, 94_287_082),
        (1_111_111_109, 7_081_804),
        (1_111_111_111, 14_050_471),
        (1_234_567_890, 89_005_924),
        (2_000_000_000, 69_279_037),
        (20_000_000_000, 65_353_130),
    ];
    for (time, expected) in vectors {
        let step = u64::try_from(step_at(time)).unwrap();
        assert_eq!(code_at(RFC_SECRET, step, 8), expected, "time {time}");
        assert_eq!(code_at(RFC_SECRET, step, 6), expected % 1_000_000, "time {time}, 6 digits");
    }
}

#[test]
fn one_step_of_drift_either_way_and_no_more() {
    let now = 1_234_567_890;
    let step = step_at(now);
    let code = |s: i64| code_at(RFC_SECRET, u64::try_from(s).unwrap(), DIGITS);
    assert_eq!(accepted_step(RFC_SECRET, code(step), now, None), Some(step));
    assert_eq!(accepted_step(RFC_SECRET, code(step - 1), now, None), Some(step - 1));
    assert_eq!(accepted_step(RFC_SECRET, code(step + 1), now, None), Some(step + 1));
    assert_eq!(accepted_step(RFC_SECRET, code(step - 2), now, None), None);
    assert_eq!(accepted_step(RFC_SECRET, code(step + 2), now, None), None);
}

#[test]
fn a_used_step_is_never_accepted_again() {
    let now = 1_111_111_111;
    let step = step_at(now);
    let current = code_at(RFC_SECRET, u64::try_from(step).unwrap(), DIGITS);
    assert_eq!(accepted_step(RFC_SECRET, current, now, Some(step)), None, "replay of the same code");
    let earlier = code_at(RFC_SECRET, u64::try_from(step - 1).unwrap(), DIGITS);
    assert_eq!(accepted_step(RFC_SECRET, earlier, now, Some(step)), None, "an older code after a newer one");
    let next = code_at(RFC_SECRET, u64::try_from(step + 1).unwrap(), DIGITS);
    assert_eq!(accepted_step(RFC_SECRET, next, now, Some(step)), Some(step + 1));
}

#[test]
fn codes_are_six_digits_as_typed() {
    assert_eq!(parse_code("287 082"), Some(287_082));
    assert_eq!(parse_code("005924"), Some(5_924));
    assert_eq!(parse_code("005-924"), Some(5_924));
    assert_eq!(parse_code("12345"), None);
    assert_eq!(parse_code("1234567"), None);
    assert_eq!(parse_code("12a456"), None);
    assert_eq!(parse_code(""), None);
}

#[test]
fn base32_round_trips_and_matches_rfc_4648() {
    // RFC 4648 §10 vectors (padding dropped).
    assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
    assert_eq!(base32_encode(b"f"), "MY");
    assert_eq!(base32_encode(RFC_SECRET), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    assert_eq!(base32_decode("mzxw 6ytb oi======").unwrap(), b"foobar");
    assert_eq!(base32_decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap(), RFC_SECRET);
    assert_eq!(base32_decode("MZ1"), None);
    assert_eq!(grouped("GEZDGNBVGY"), "GEZD GNBV GY");
}

#[test]
fn the_key_uri_names_issuer_account_and_parameters() {
    let uri = otpauth_uri("m.garcia@cast", RFC_SECRET);
    assert_eq!(
        uri,
        "otpauth://totp/Wayfinder:m.garcia%40cast?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Wayfinder\
         &algorithm=SHA1&digits=6&period=30"
    );
}
