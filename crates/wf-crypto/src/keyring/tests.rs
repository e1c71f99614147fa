use super::*;
use crate::test_dir::TestDir;

const AAD: &[u8] = b"ref_123/personal";

fn ring(versions: &[u32], current: u32) -> KeyRing {
    let keys = versions.iter().map(|v| (*v, FieldKey::generate())).collect();
    KeyRing::new(keys, current).unwrap()
}

#[test]
fn round_trip() {
    let ring = ring(&[1], 1);
    let sealed = ring.encrypt(b"Maria Lopez", AAD).unwrap();
    assert_eq!(sealed.len(), b"Maria Lopez".len() + SEALED_OVERHEAD);
    assert_eq!(sealed[0], FORMAT_V1);
    assert_eq!(KeyRing::key_version_of(&sealed).unwrap(), 1);
    assert_eq!(ring.decrypt(&sealed, AAD).unwrap(), b"Maria Lopez");
    assert_eq!(ring.decrypt(&ring.encrypt(b"", AAD).unwrap(), AAD).unwrap(), b"");
}

#[test]
fn nonces_differ_between_seals() {
    let ring = ring(&[1], 1);
    let a = ring.encrypt(b"same", AAD).unwrap();
    let b = ring.encrypt(b"same", AAD).unwrap();
    assert_ne!(a, b);
}

#[test]
fn plaintext_does_not_appear_in_sealed_bytes() {
    let ring = ring(&[1], 1);
    let plaintext = b"Maria Lopez, born 2008-03-14, 555-0100";
    let sealed = ring.encrypt(plaintext, AAD).unwrap();
    assert!(!sealed.windows(5).any(|w| plaintext.windows(5).any(|p| p == w)));
}

#[test]
fn any_flipped_bit_in_any_region_fails_authentication() {
    let ring = ring(&[1, 2], 2);
    let sealed = ring.encrypt(b"secret details", AAD).unwrap();
    let regions = [
        ("format", 0..1),
        ("version", 1..5),
        ("nonce", 5..17),
        ("ciphertext", 17..sealed.len() - 16),
        ("tag", sealed.len() - 16..sealed.len()),
    ];
    for (name, range) in regions {
        for byte in range {
            for bit in 0..8 {
                let mut tampered = sealed.clone();
                tampered[byte] ^= 1 << bit;
                let result = ring.decrypt(&tampered, AAD);
                assert!(result.is_err(), "{name} byte {byte} bit {bit} was accepted");
                match name {
                    "format" => assert!(matches!(result, Err(CryptoError::Malformed(_)))),
                    // a version flipped to another key in the ring still cannot authenticate
                    "version" => {
                        assert!(matches!(result, Err(CryptoError::Authentication | CryptoError::UnknownKeyVersion(_))))
                    }
                    _ => assert!(matches!(result, Err(CryptoError::Authentication))),
                }
            }
        }
    }
}

#[test]
fn version_swapped_to_another_known_key_fails_authentication() {
    let ring = ring(&[1, 2], 2);
    let mut sealed = ring.encrypt(b"x", AAD).unwrap();
    sealed[1..5].copy_from_slice(&1u32.to_be_bytes());
    assert!(matches!(ring.decrypt(&sealed, AAD), Err(CryptoError::Authentication)));
}

#[test]
fn wrong_aad_fails_authentication() {
    let ring = ring(&[1], 1);
    let sealed = ring.encrypt(b"x", b"ref_123/personal").unwrap();
    assert!(matches!(ring.decrypt(&sealed, b"ref_124/personal"), Err(CryptoError::Authentication)));
    assert!(matches!(ring.decrypt(&sealed, b"ref_123/contact"), Err(CryptoError::Authentication)));
    assert!(matches!(ring.decrypt(&sealed, b""), Err(CryptoError::Authentication)));
}

#[test]
fn unknown_version_is_reported() {
    let old = ring(&[7], 7);
    let sealed = old.encrypt(b"x", AAD).unwrap();
    let other = ring(&[1], 1);
    assert!(matches!(other.decrypt(&sealed, AAD), Err(CryptoError::UnknownKeyVersion(7))));
}

#[test]
fn truncated_values_are_malformed() {
    let ring = ring(&[1], 1);
    let sealed = ring.encrypt(b"x", AAD).unwrap();
    for len in 0..SEALED_OVERHEAD {
        assert!(matches!(ring.decrypt(&sealed[..len], AAD), Err(CryptoError::Malformed(_))));
    }
    // dropping the last ciphertext byte leaves a well-formed but unauthentic value
    assert!(matches!(ring.decrypt(&sealed[..sealed.len() - 1], AAD), Err(CryptoError::Authentication)));
}

#[test]
fn from_config_reports_precise_errors() {
    let good = BASE64.encode([1u8; 32]);
    assert!(KeyRing::from_config(&[(1, good.clone())], 1).is_ok());
    assert!(matches!(KeyRing::from_config(&[(1, "%%%".into())], 1), Err(CryptoError::KeyNotBase64 { version: 1 })));
    assert!(matches!(
        KeyRing::from_config(&[(2, BASE64.encode([1u8; 16]))], 2),
        Err(CryptoError::KeyWrongLength { version: 2, actual: 16 })
    ));
    assert!(matches!(KeyRing::from_config(&[(1, good.clone())], 2), Err(CryptoError::CurrentVersionMissing(2))));
    assert!(matches!(
        KeyRing::from_config(&[(1, good.clone()), (1, good.clone())], 1),
        Err(CryptoError::DuplicateKeyVersion(1))
    ));
    assert!(matches!(KeyRing::from_config(&[(0, good)], 0), Err(CryptoError::ReservedKeyVersion)));
    let message = KeyRing::from_config(&[(3, BASE64.encode([1u8; 31]))], 3).unwrap_err().to_string();
    assert_eq!(message, "field key version 3 must be 32 bytes, got 31");
}

#[test]
fn debug_output_never_shows_key_material() {
    let key_bytes = [0xabu8; 32];
    let ring = KeyRing::new(BTreeMap::from([(1, FieldKey::from_bytes(key_bytes))]), 1).unwrap();
    let debug = format!("{ring:?} {:?}", FieldKey::from_bytes(key_bytes));
    assert!(
        !debug.contains("171") && !debug.to_lowercase().contains("ab, ") && !debug.contains(&BASE64.encode(key_bytes))
    );
    assert!(debug.contains("redacted"));
}

#[test]
fn dev_ring_is_created_once_and_rotation_keeps_old_values_readable() {
    let dir = TestDir::new();
    let first = KeyRing::load_or_create_dev(dir.path()).unwrap();
    assert_eq!(first.current_version(), 1);
    let sealed_v1 = first.encrypt(b"Maria", AAD).unwrap();

    let again = KeyRing::load_or_create_dev(dir.path()).unwrap();
    assert_eq!(again.decrypt(&sealed_v1, AAD).unwrap(), b"Maria");
    assert!(!again.needs_rotation(&sealed_v1));

    let rotated = KeyRing::rotate_dev(dir.path()).unwrap();
    assert_eq!(rotated.current_version(), 2);
    assert_eq!(rotated.versions().collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(rotated.decrypt(&sealed_v1, AAD).unwrap(), b"Maria");
    assert!(rotated.needs_rotation(&sealed_v1));

    let resealed = rotated.reseal(&sealed_v1, AAD).unwrap();
    assert_eq!(KeyRing::key_version_of(&resealed).unwrap(), 2);
    assert!(!rotated.needs_rotation(&resealed));
    assert_eq!(rotated.decrypt(&resealed, AAD).unwrap(), b"Maria");

    // the rotation was persisted
    let reloaded = KeyRing::load_or_create_dev(dir.path()).unwrap();
    assert_eq!(reloaded.current_version(), 2);
    assert_eq!(reloaded.decrypt(&resealed, AAD).unwrap(), b"Maria");
    assert_eq!(reloaded.decrypt(&sealed_v1, AAD).unwrap(), b"Maria");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(FIELD_KEYS_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn malformed_dev_file_is_reported_with_its_path() {
    let dir = TestDir::new();
    std::fs::write(dir.path().join(FIELD_KEYS_FILE), "{not json").unwrap();
    let err = KeyRing::load_or_create_dev(dir.path()).unwrap_err();
    assert!(matches!(err, CryptoError::KeyFile { .. }));
    assert!(err.to_string().contains(FIELD_KEYS_FILE));
}

#[test]
fn needs_rotation_flags_malformed_values() {
    let ring = ring(&[1], 1);
    assert!(ring.needs_rotation(b"short"));
}

#[test]
fn key_files_in_either_format_load() {
    let dir = TestDir::new();
    let single = dir.path().join("single.key");
    std::fs::write(&single, format!("{}\n", FieldKey::generate().to_base64().as_str())).unwrap();
    let ring = KeyRing::load_file(&single).unwrap();
    assert_eq!(ring.current_version(), 1);
    let dev = KeyRing::load_or_create_dev(dir.path()).unwrap();
    let sealed = dev.encrypt(b"Demo", AAD).unwrap();
    let from_file = KeyRing::load_file(&dir.path().join(FIELD_KEYS_FILE)).unwrap();
    assert_eq!(from_file.decrypt(&sealed, AAD).unwrap(), b"Demo");
    let err = KeyRing::rotate_file(&single).unwrap_err().to_string();
    assert!(err.contains("key-ring format"), "{err}");
    std::fs::write(&single, "not base64 at all").unwrap();
    assert!(KeyRing::load_file(&single).is_err());
}

#[test]
fn retiring_removes_an_old_version_and_never_the_current_one() {
    let dir = TestDir::new();
    let path = dir.path().join(FIELD_KEYS_FILE);
    let first = KeyRing::load_or_create_dev(dir.path()).unwrap();
    let old = first.encrypt(b"Demo", AAD).unwrap();
    let rotated = KeyRing::rotate_file(&path).unwrap();
    assert_eq!(rotated.current_version(), 2);
    let resealed = rotated.reseal(&old, AAD).unwrap();
    let err = KeyRing::retire_from_file(&path, 2).unwrap_err().to_string();
    assert!(err.contains("current key"), "{err}");
    let err = KeyRing::retire_from_file(&path, 7).unwrap_err().to_string();
    assert!(err.contains("no key version 7") && err.contains("1, 2"), "{err}");
    let retired = KeyRing::retire_from_file(&path, 1).unwrap();
    assert_eq!(retired.versions().collect::<Vec<_>>(), vec![2]);
    let reloaded = KeyRing::load_file(&path).unwrap();
    assert_eq!(reloaded.decrypt(&resealed, AAD).unwrap(), b"Demo");
    assert!(matches!(reloaded.decrypt(&old, AAD), Err(CryptoError::UnknownKeyVersion(1))));
}
