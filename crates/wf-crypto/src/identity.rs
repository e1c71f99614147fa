//! Keyed hashing of identities, so records about the same person can be matched without names.
//!
//! A plain SHA-256 of "maria lopez|2008-03-14" could be reversed by hashing every likely name and birth
//! date; an HMAC with a secret key cannot be, as long as the key stays out of the database.

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use rand::rngs::OsRng;
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use crate::CryptoError;
use crate::secret_file::{read_secret_file, write_secret_file};

/// File name of the development identity hashing key inside the data directory.
pub const IDENTITY_KEY_FILE: &str = "identity_hmac.key";

/// HMAC-SHA256 over normalized identities. The secret is zeroized on drop; `Debug` never shows it.
#[derive(Clone)]
pub struct IdentityHasher {
    secret: [u8; 32],
}

impl IdentityHasher {
    /// Builds a hasher from a 32-byte secret.
    pub fn new(secret: [u8; 32]) -> Self {
        IdentityHasher { secret }
    }

    /// Builds a hasher from the base64 of a 32-byte secret (the configuration form).
    pub fn from_base64(encoded: &str) -> Result<Self, CryptoError> {
        let decoded = Zeroizing::new(BASE64.decode(encoded.trim()).map_err(|_| CryptoError::BadIdentityKey)?);
        let secret: [u8; 32] = decoded.as_slice().try_into().map_err(|_| CryptoError::BadIdentityKey)?;
        Ok(IdentityHasher { secret })
    }

    /// Loads `dir/identity_hmac.key` (base64 text), creating it with mode 0600 and a fresh secret when
    /// absent. For development and the embedded mode only.
    pub fn load_or_create_dev(dir: &Path) -> Result<Self, CryptoError> {
        let path = dir.join(IDENTITY_KEY_FILE);
        if let Some(hasher) = Self::read_dev_file(&path)? {
            return Ok(hasher);
        }
        let mut secret = [0u8; 32];
        OsRng.fill_bytes(&mut secret);
        let hasher = IdentityHasher { secret };
        secret.zeroize();
        let encoded = Zeroizing::new(BASE64.encode(hasher.secret) + "\n");
        if write_secret_file(&path, encoded.as_bytes(), true)? {
            return Ok(hasher);
        }
        // Another process created the file first: use its key, not ours.
        Self::read_dev_file(&path)?.ok_or_else(|| CryptoError::KeyFile {
            path: path.clone(),
            reason: "file vanished while being created".to_owned(),
        })
    }

    /// HMAC-SHA256 of an already normalized identity (see [`normalize_identity`]).
    pub fn hash(&self, normalized: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).expect("hmac accepts any key length");
        mac.update(normalized.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// [`IdentityHasher::hash`] as 64 lowercase hex characters, for storage and indexing.
    pub fn hash_hex(&self, normalized: &str) -> String {
        hex::encode(self.hash(normalized))
    }

    fn read_dev_file(path: &Path) -> Result<Option<Self>, CryptoError> {
        let Some(bytes) = read_secret_file(path)? else {
            return Ok(None);
        };
        let bytes = Zeroizing::new(bytes);
        let bad = |reason: &str| CryptoError::KeyFile { path: path.to_path_buf(), reason: reason.to_owned() };
        let text = std::str::from_utf8(&bytes).map_err(|_| bad("not utf-8 text"))?;
        Self::from_base64(text).map(Some).map_err(|_| bad("expected base64 of 32 bytes"))
    }
}

impl Drop for IdentityHasher {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

impl fmt::Debug for IdentityHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdentityHasher([redacted])")
    }
}

/// The canonical form of an identity for matching: `first|last|yyyy-mm-dd` (the date empty when unknown).
///
/// Names are lowercased, common Latin diacritics are stripped (`José` → `jose`, `Weiß` → `weiss`),
/// apostrophes are dropped (`O'Brien` → `obrien`), other punctuation becomes a space
/// (`Mary-Jane` → `mary jane`), and runs of whitespace collapse to one space with none at the ends.
/// First and last name stay separate fields so `("Ann", "Lee Smith")` and `("Ann Lee", "Smith")` differ.
pub fn normalize_identity(first: &str, last: &str, dob: Option<(i32, u32, u32)>) -> String {
    let dob = dob.map(|(year, month, day)| format!("{year:04}-{month:02}-{day:02}")).unwrap_or_default();
    format!("{}|{}|{dob}", normalize_name(first), normalize_name(last))
}

fn normalize_name(name: &str) -> String {
    let mut folded = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        if let Some(ascii) = fold_latin(c) {
            folded.push_str(ascii);
        } else if is_apostrophe(c) {
            // dropped: O'Brien and OBrien are the same name
        } else if c.is_alphanumeric() {
            folded.push(c);
        } else {
            // punctuation, symbols, whitespace and combining marks separate words
            folded.push(' ');
        }
    }
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | '‘' | 'ʼ' | '`' | '´')
}

/// Folds a lowercase Latin letter with a diacritic (Latin-1 Supplement and Latin Extended-A) to ASCII.
fn fold_latin(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĳ' => "ij",
        'ĵ' => "j",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' | 'ŉ' | 'ŋ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ſ' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ŧ' => "t",
        'þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_dir::TestDir;

    #[test]
    fn normalizes_case_diacritics_whitespace_and_punctuation() {
        assert_eq!(normalize_identity("  José ", "GARCÍA-López", Some((2008, 3, 4))), "jose|garcia lopez|2008-03-04");
        assert_eq!(normalize_identity("Zoë", "O'Brien", None), "zoe|obrien|");
        assert_eq!(normalize_identity("Zoe", "O’Brien", None), normalize_identity("ZOË", "OBrien", None));
        assert_eq!(normalize_identity("Mary\t\n Jane", "Weiß", None), "mary jane|weiss|");
        assert_eq!(normalize_identity("Łukasz", "Dvořák", None), "lukasz|dvorak|");
        assert_eq!(normalize_identity("J.R.", "Smith, Jr.", None), "j r|smith jr|");
        assert_eq!(normalize_identity("", "", None), "||");
    }

    #[test]
    fn decomposed_diacritics_are_stripped_too() {
        // "e" followed by U+0301 COMBINING ACUTE ACCENT
        assert_eq!(normalize_identity("Jose\u{301}", "x", None), "jose|x|");
    }

    #[test]
    fn first_and_last_name_stay_separate_fields() {
        assert_ne!(normalize_identity("Ann", "Lee Smith", None), normalize_identity("Ann Lee", "Smith", None));
    }

    #[test]
    fn non_latin_letters_are_kept() {
        assert_eq!(normalize_identity("Алина", "李", None), "алина|李|");
    }

    #[test]
    fn hash_is_keyed_and_stable() {
        let a = IdentityHasher::new([7; 32]);
        let b = IdentityHasher::new([8; 32]);
        let id = normalize_identity("Maria", "Lopez", Some((2008, 3, 14)));
        assert_eq!(a.hash(&id), a.hash(&id));
        assert_ne!(a.hash(&id), b.hash(&id));
        assert_eq!(a.hash_hex(&id), hex::encode(a.hash(&id)));
        assert_eq!(a.hash_hex(&id).len(), 64);
        assert!(!format!("{a:?}").contains('7'));
    }

    #[test]
    fn hash_is_plain_hmac_sha256_of_the_normalized_text() {
        let hasher = IdentityHasher::new([0x0b; 32]);
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&[0x0b; 32]).unwrap();
        mac.update(b"Hi There");
        let expected: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(hasher.hash("Hi There"), expected);
    }

    #[test]
    fn dev_key_is_created_once_with_owner_only_mode() {
        let dir = TestDir::new();
        let first = IdentityHasher::load_or_create_dev(dir.path()).unwrap();
        let second = IdentityHasher::load_or_create_dev(dir.path()).unwrap();
        assert_eq!(first.hash("x"), second.hash("x"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(IDENTITY_KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn bad_key_material_is_refused() {
        assert!(matches!(IdentityHasher::from_base64("not base64!"), Err(CryptoError::BadIdentityKey)));
        assert!(matches!(IdentityHasher::from_base64(&BASE64.encode([1u8; 16])), Err(CryptoError::BadIdentityKey)));
    }
}
