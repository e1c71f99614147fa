use wf_proto::common::v1::Date;

use super::*;

fn person(first: &str, last: &str, dob: Option<(i32, i32, i32)>) -> Identity {
    let details = pb::PersonalDetails {
        legal_first_name: first.into(),
        legal_last_name: last.into(),
        date_of_birth: dob.map(|(year, month, day)| Date { year, month, day }),
        ..Default::default()
    };
    Identity::from_details(&details, 2026)
}

fn hasher() -> IdentityHasher {
    IdentityHasher::new([7; 32])
}

#[test]
fn identical_people_score_one_on_name_and_dob() {
    let a = person("Demo", "Testy", Some((2009, 4, 2)));
    let s = score(&a, &a.clone());
    assert_eq!(s.score, 1.0);
    assert_eq!(s.matched_on, vec!["name_dob"]);
}

#[test]
fn nicknames_count_as_the_same_given_name() {
    for (nick, formal) in [("Alex", "Alexandra"), ("Liz", "Elizabeth"), ("Bill", "William"), ("Kate", "Katherine")] {
        assert_eq!(given_similarity(&norm(nick), &norm(formal)), 1.0, "{nick}/{formal}");
        let s = score(&person(nick, "Testy", Some((2009, 4, 2))), &person(formal, "Testy", Some((2009, 4, 2))));
        assert!(s.score >= DEFAULT_THRESHOLD, "{nick}/{formal}: {s:?}");
    }
    assert!(given_similarity("bill", "kate") < 0.6);
}

#[test]
fn swapped_day_and_month_and_one_digit_are_near() {
    let a = person("Demo", "Testy", Some((2009, 4, 2)));
    assert_eq!(dob_similarity(&a, &person("Demo", "Testy", Some((2009, 2, 4)))), 0.9);
    assert_eq!(dob_similarity(&a, &person("Demo", "Testy", Some((2008, 4, 2)))), 0.8);
    assert_eq!(dob_similarity(&a, &person("Demo", "Testy", Some((1999, 11, 20)))), 0.0);
    assert!(score(&a, &person("Demo", "Testy", Some((2009, 2, 4)))).score >= DEFAULT_THRESHOLD);
}

#[test]
fn small_typos_keep_names_close_and_different_names_apart() {
    assert!(name_similarity("testy", "testy") >= 0.95, "transposition");
    assert!(name_similarity("rodriguez", "rodriguex") >= 0.95, "one typo");
    assert!(name_similarity("testy", "johnson") < 0.6);
    let a = person("Demo", "Rodriguez", Some((2009, 4, 2)));
    assert!(score(&a, &person("Demo", "Rodriguex", Some((2009, 4, 2)))).score >= DEFAULT_THRESHOLD);
    assert!(score(&a, &person("Mara", "Jensen", Some((2009, 4, 2)))).score < DEFAULT_THRESHOLD);
    assert!(
        score(&a, &person("Demo", "Rodriguez", Some((2001, 11, 23)))).score < DEFAULT_THRESHOLD,
        "same name, other person"
    );
}

#[test]
fn missing_dob_with_estimated_age_is_neutral() {
    let mut b = person("Demo", "Testy", None);
    b.birth_year = Some(2009);
    let a = person("Demo", "Testy", Some((2009, 4, 2)));
    assert_eq!(dob_similarity(&a, &b), 0.5);
    b.phones = vec!["5550100000".into()];
    let mut a2 = a.clone();
    a2.phones = b.phones.clone();
    let s = score(&a2, &b);
    assert!(s.score >= DEFAULT_THRESHOLD && s.matched_on == vec!["phone"], "{s:?}");
}

#[test]
fn soundex_follows_the_standard() {
    assert_eq!(soundex("robert"), "R163");
    assert_eq!(soundex("rupert"), "R163");
    assert_eq!(soundex("ashcraft"), "A261");
    assert_eq!(soundex("tymczak"), "T522");
    assert_eq!(soundex("pfister"), "P236");
    assert_eq!(soundex(""), "");
}

#[test]
fn keys_are_keyed_hashes_shared_by_variants() {
    let a = keys(&person("Alex", "Testy", Some((2009, 4, 2))), &hasher());
    let b = keys(&person("Alexandra", "Testy", Some((2009, 2, 4))), &hasher());
    assert!(a.iter().all(|k| k.hash.len() == 64 && !k.hash.contains("testy")));
    let shared: Vec<_> = a.iter().filter(|k| b.contains(k)).map(|k| k.kind).collect();
    assert!(shared.contains(&"block_sound") && shared.contains(&"block_given_md"), "{shared:?}");
    assert!(!shared.contains(&"name_dob"));
    let other_key = keys(&person("Alex", "Testy", Some((2009, 4, 2))), &IdentityHasher::new([8; 32]));
    assert!(a.iter().all(|k| !other_key.contains(k)), "another key, other hashes");
    let exact = keys(&person("Alex", "Testy", Some((2009, 4, 2))), &hasher());
    assert_eq!(a, exact);
}
