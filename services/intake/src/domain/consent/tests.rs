use chrono::TimeZone;
use wf_proto::common::v1::{Date, InformationCategory as Cat};

use super::*;

fn details() -> pb::PersonalDetails {
    pb::PersonalDetails {
        legal_first_name: "Demo".into(),
        legal_last_name: "Testy".into(),
        preferred_name: "Dee".into(),
        aliases: vec!["Dee Dee".into()],
        date_of_birth: Some(Date { year: 2009, month: 4, day: 2 }),
        estimated_age: 0,
        pronouns: "she/her".into(),
        phones: vec![pb::Phone { number: "+1-555-0101".into(), ..Default::default() }],
        emails: vec!["demo@example.invalid".into()],
        online_handles: vec!["instagram:@demo_testy".into()],
        address: Some(pb::Address::default()),
        safe_contact: Some(pb::SafeContact { code_word: "blue".into(), ..Default::default() }),
        guardians: vec![pb::Guardian { first_name: "Gina".into(), ..Default::default() }],
        notes: "fictional note".into(),
        ..Default::default()
    }
}

#[test]
fn no_category_releases_nothing() {
    assert_eq!(redact_to_categories(&details(), &[]), pb::PersonalDetails::default());
    assert_eq!(redact_to_categories(&details(), &[Cat::Referral as i32]), pb::PersonalDetails::default());
}

#[test]
fn identity_releases_names_and_birth_only() {
    let out = redact_to_categories(&details(), &[Cat::Identity as i32]);
    assert_eq!(out.legal_first_name, "Demo");
    assert_eq!(out.legal_last_name, "Testy");
    assert_eq!(out.preferred_name, "Dee");
    assert_eq!(out.aliases, vec!["Dee Dee".to_owned()]);
    assert_eq!(out.date_of_birth, Some(Date { year: 2009, month: 4, day: 2 }));
    assert_eq!(out.pronouns, "she/her");
    assert!(out.phones.is_empty() && out.emails.is_empty() && out.safe_contact.is_none());
    assert!(out.guardians.is_empty() && out.notes.is_empty());
}

#[test]
fn contact_releases_contact_and_safe_contact_only() {
    let out = redact_to_categories(&details(), &[Cat::Contact as i32]);
    assert_eq!(out.phones.len(), 1);
    assert_eq!(out.emails.len(), 1);
    assert_eq!(out.online_handles.len(), 1);
    assert!(out.address.is_some());
    assert_eq!(out.safe_contact.as_ref().map(|s| s.code_word.as_str()), Some("blue"));
    assert!(out.legal_first_name.is_empty() && out.date_of_birth.is_none() && out.guardians.is_empty());
}

#[test]
fn guardian_releases_guardians_only() {
    let out = redact_to_categories(&details(), &[Cat::Guardian as i32]);
    assert_eq!(out.guardians.len(), 1);
    assert_eq!(out, pb::PersonalDetails { guardians: details().guardians, ..Default::default() });
}

#[test]
fn notes_release_notes_only() {
    let out = redact_to_categories(&details(), &[Cat::Notes as i32]);
    assert_eq!(out, pb::PersonalDetails { notes: "fictional note".into(), ..Default::default() });
}

#[test]
fn all_personal_categories_release_everything() {
    let all = [Cat::Identity, Cat::Contact, Cat::Guardian, Cat::Notes].map(|c| c as i32);
    assert_eq!(redact_to_categories(&details(), &all), details());
}

#[test]
fn coded_referral_is_split_by_category() {
    let referral = pb::Referral {
        source: 3,
        needs: vec!["shelter".into()],
        screenings: vec![pb::Screening::default()],
        living_situation: 5,
        ..Default::default()
    };
    assert!(redact_referral(&referral, &[Cat::Identity as i32]).is_none());
    let coded = redact_referral(&referral, &[Cat::Referral as i32]).expect("coded");
    assert_eq!((coded.source, coded.needs.len(), coded.screenings.len(), coded.living_situation), (3, 1, 0, 0));
    let screening = redact_referral(&referral, &[Cat::Screening as i32]).expect("screening");
    assert_eq!((screening.source, screening.screenings.len(), screening.living_situation), (0, 1, 0));
    let history = redact_referral(&referral, &[Cat::History as i32]).expect("history");
    assert_eq!((history.source, history.screenings.len(), history.living_situation), (0, 0, 5));
}

#[test]
fn field_paths_name_what_was_returned() {
    let out = redact_to_categories(&details(), &[Cat::Contact as i32]);
    let paths = released_field_paths(&out, None);
    assert_eq!(
        paths,
        ["personal.phones", "personal.emails", "personal.online_handles", "personal.address", "personal.safe_contact"]
    );
}

#[test]
fn activity_honours_expiry_and_revocation() {
    assert!(is_active(10, 100, None, 50));
    assert!(!is_active(10, 100, None, 100), "expired at its expiry instant");
    assert!(!is_active(10, 100, None, 5), "not yet signed");
    assert!(!is_active(10, 100, Some(40), 50), "revoked");
    assert!(is_active(10, 100, Some(60), 50), "revoked later");
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).single().expect("instant")
}

fn release() -> pb::ConsentRelease {
    pb::ConsentRelease {
        referral_id: "ref_x".into(),
        recipient_organization_id: wf_types::PartnerId::generate().to_string(),
        categories: vec![Cat::Identity as i32],
        purpose: "service_referral".into(),
        signed_at: Some(wf_proto::time::timestamp(now() - Duration::hours(1))),
        expires_at: Some(wf_proto::time::timestamp(now() + Duration::days(90))),
        signers: vec![pb::ReleaseSigner { role: pb::SignerRole::Youth as i32, ..Default::default() }],
        ..Default::default()
    }
}

fn fields(violations: &[FieldViolation]) -> Vec<&str> {
    violations.iter().map(|v| v.field.as_str()).collect()
}

const ADULT: SignerFacts = SignerFacts { is_minor: false, has_eligible_guardian: false };
const MINOR: SignerFacts = SignerFacts { is_minor: true, has_eligible_guardian: true };

#[test]
fn a_valid_adult_release_passes() {
    assert!(validate_release(Some(&release()), ADULT, now()).is_empty());
}

#[test]
fn each_bad_field_is_named() {
    type Change = Box<dyn Fn(&mut pb::ConsentRelease)>;
    let cases: Vec<(&str, Change)> = vec![
        ("release.referral_id", Box::new(|r| r.referral_id.clear())),
        ("release.recipient_organization_id", Box::new(|r| r.recipient_organization_id = "acme".into())),
        ("release.categories", Box::new(|r| r.categories.clear())),
        ("release.categories[0]", Box::new(|r| r.categories = vec![0])),
        ("release.categories[1]", Box::new(|r| r.categories = vec![1, 1])),
        ("release.purpose", Box::new(|r| r.purpose = "Service Referral".into())),
        ("release.signed_at", Box::new(|r| r.signed_at = None)),
        ("release.signed_at", Box::new(|r| r.signed_at = Some(wf_proto::time::timestamp(now() + Duration::days(1))))),
        ("release.expires_at", Box::new(|r| r.expires_at = None)),
        ("release.expires_at", Box::new(|r| r.expires_at = Some(wf_proto::time::timestamp(now())))),
        (
            "release.expires_at",
            Box::new(|r| r.expires_at = Some(wf_proto::time::timestamp(now() + Duration::days(MAX_RELEASE_DAYS + 1)))),
        ),
        ("release.revoked_at", Box::new(|r| r.revoked_at = Some(wf_proto::time::timestamp(now())))),
        ("release.signers", Box::new(|r| r.signers.clear())),
        ("release.signers[0].role", Box::new(|r| r.signers[0].role = 0)),
        ("release.signers[0].legal_basis", Box::new(|r| r.signers[0].legal_basis = "because".into())),
    ];
    for (field, change) in cases {
        let mut bad = release();
        change(&mut bad);
        let violations = validate_release(Some(&bad), ADULT, now());
        assert!(fields(&violations).contains(&field), "{field}: {violations:?}");
    }
    assert_eq!(fields(&validate_release(None, ADULT, now())), ["release"]);
}

#[test]
fn a_minor_needs_a_guardian_or_a_basis() {
    let alone = validate_release(Some(&release()), MINOR, now());
    assert_eq!(fields(&alone), ["release.signers"]);

    let mut with_basis = release();
    with_basis.signers[0].legal_basis = "minor_consent_sensitive_services".into();
    assert!(validate_release(Some(&with_basis), MINOR, now()).is_empty());

    let mut with_guardian = release();
    with_guardian
        .signers
        .push(pb::ReleaseSigner { role: pb::SignerRole::ParentOrGuardian as i32, ..Default::default() });
    assert!(validate_release(Some(&with_guardian), MINOR, now()).is_empty());
}

#[test]
fn an_exploiter_guardian_never_signs() {
    let personal = pb::PersonalDetails {
        guardians: vec![pb::Guardian { has_legal_authority: true, flagged_as_exploiter: true, ..Default::default() }],
        ..Default::default()
    };
    let facts = SignerFacts::from_details(true, Some(&personal));
    assert!(!facts.has_eligible_guardian);
    let mut with_guardian = release();
    with_guardian
        .signers
        .push(pb::ReleaseSigner { role: pb::SignerRole::ParentOrGuardian as i32, ..Default::default() });
    let violations = validate_release(Some(&with_guardian), facts, now());
    assert!(fields(&violations).contains(&"release.signers[1].role"), "{violations:?}");
}

#[test]
fn a_partner_other_than_the_referrer_is_not_told_who_referred_the_youth() {
    let referral = pb::Referral {
        source: 3,
        referring_organization_id: "org_referrer".into(),
        referring_organization_name: "Referrer".into(),
        external_reference: "HL-1".into(),
        requested_partner_service_ids: vec!["svc_asked".into()],
        needs: vec!["shelter".into()],
        ..Default::default()
    };
    let mut released = redact_referral(&referral, &[Cat::Referral as i32]).expect("coded");
    assert_eq!(released.external_reference, "HL-1", "the REFERRAL category copies it");
    without_referrer(&mut released);
    assert_eq!(
        (
            released.referring_organization_id.as_str(),
            released.referring_organization_name.as_str(),
            released.external_reference.as_str(),
            released.requested_partner_service_ids.len()
        ),
        ("", "", "", 0)
    );
    assert_eq!((released.source, released.needs.len()), (3, 1), "the rest of the category stays");
}
