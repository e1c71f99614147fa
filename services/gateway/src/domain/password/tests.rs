use super::*;

#[test]
fn fifteen_characters_alone_eight_with_a_second_factor() {
    assert!(check("correct horse b", "mgarcia", false).is_ok()); // 15
    let short = check("correct horse", "mgarcia", false).unwrap_err();
    assert_eq!(short.field, "password");
    assert!(short.description.contains("at least 15 characters (it has 13)"), "{}", short.description);
    assert!(check("quiet-otter", "mgarcia", true).is_ok());
    assert!(check("q-otter", "mgarcia", true).unwrap_err().description.contains("at least 8"));
}

#[test]
fn long_passphrases_are_accepted_and_no_composition_is_asked() {
    let passphrase = "the quick brown fox jumps over the lazy dog near the river bank at dawn";
    assert!(passphrase.chars().count() > 64);
    assert!(check(passphrase, "mgarcia", false).is_ok());
    assert!(check("alllowercaseletters", "mgarcia", false).is_ok());
    assert!(check("ñandú y colibrí juntos", "mgarcia", false).is_ok());
    let too_long = "x".repeat(64) + &"y".repeat(65);
    assert!(check(&too_long, "mgarcia", false).unwrap_err().description.contains("at most 128"));
}

#[test]
fn common_passwords_are_refused_whatever_their_case() {
    // Entries of the vendored list (Django's, lowercased).
    assert!(is_common("password"));
    assert!(is_common("Password"));
    assert!(is_common("1q2w3e4r5t6y7u8i"));
    let refused = check("1q2w3e4r5t6y7u8i", "mgarcia", false).unwrap_err();
    assert!(refused.description.contains("commonly used"), "{}", refused.description);
    assert!(check("Qwertyuiop", "mgarcia", true).unwrap_err().description.contains("commonly used"));
    assert!(!is_common("violet kettle on a windy pier"));
}

#[test]
fn the_username_and_one_repeated_character_are_refused() {
    assert!(check("mgarcia.outreach", "mgarcia.outreach", false).unwrap_err().description.contains("username"));
    assert!(check("MGarcia.Outreach", "mgarcia.outreach", false).is_err());
    assert!(check(&"z".repeat(20), "mgarcia", false).unwrap_err().description.contains("repeated"));
}

#[test]
fn hashes_are_argon2id_salted_and_verify() {
    let first = hash("violet kettle on a windy pier").unwrap();
    let second = hash("violet kettle on a windy pier").unwrap();
    assert!(first.starts_with("$argon2id$v=19$"), "{first}");
    assert_ne!(first, second, "each hash has its own salt");
    assert!(verify("violet kettle on a windy pier", &first));
    assert!(!verify("violet kettle on a windy pie", &first));
    assert!(!verify("anything", "not a phc string"));
    assert!(dummy_hash().starts_with("$argon2id$"));
    assert!(!verify("", dummy_hash()));
}
