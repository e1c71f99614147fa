use super::*;

/// 2026-03-12 21:35:00 UTC: 2:35 PM PDT.
const NOW: i64 = 1_773_351_300_000_000;

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn good() -> Vec<(String, String)> {
    pairs(&[
        ("release_recipient_organization_id", "org_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d"),
        ("release_category", "contact"),
        ("release_category", "identity"),
        ("release_purpose", "service_referral"),
        ("release_signed_at", "2026-03-12T14:00"),
        ("release_expires_on", "2026-09-30"),
        ("release_youth_signed", "1"),
        ("release_youth_basis", "minor_consent_sensitive_services"),
    ])
}

fn fields(errors: Vec<FieldViolation>) -> Vec<String> {
    errors.into_iter().map(|v| v.field).collect()
}

#[test]
fn a_filled_form_makes_the_release_intake_is_asked_for() {
    let release = ReleaseForm::from_pairs(&good()).release("ref_1", NOW).expect("valid");
    assert_eq!(release.referral_id, "ref_1");
    assert_eq!(release.recipient_organization_id, "org_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d");
    assert_eq!(release.categories, [InformationCategory::Contact as i32, InformationCategory::Identity as i32]);
    assert_eq!(release.purpose, "service_referral");
    // 14:00 PDT is 21:00 UTC.
    assert_eq!(release.signed_at.map(|t| t.seconds), Some(NOW / 1_000_000 - 35 * 60));
    // Through the whole of September 30 in Los Angeles: midnight PDT starting October 1 is 07:00 UTC.
    let expires = jiff::Timestamp::from_second(release.expires_at.map(|t| t.seconds).unwrap_or_default()).expect("t");
    assert_eq!(expires.to_string(), "2026-10-01T07:00:00Z");
    assert_eq!(release.signers.len(), 1);
    assert_eq!(release.signers[0].role, SignerRole::Youth as i32);
    assert_eq!(release.signers[0].legal_basis, "minor_consent_sensitive_services");
}

#[test]
fn a_guardian_and_a_representative_sign_beside_the_youth() {
    let mut form = good();
    form.retain(|(k, _)| k != "release_youth_basis");
    form.extend(pairs(&[("release_guardian_signed", "1"), ("release_representative_signed", "1")]));
    let release = ReleaseForm::from_pairs(&form).release("ref_1", NOW).expect("valid");
    let roles: Vec<i32> = release.signers.iter().map(|s| s.role).collect();
    assert_eq!(
        roles,
        [SignerRole::Youth as i32, SignerRole::ParentOrGuardian as i32, SignerRole::LegalRepresentative as i32]
    );
    assert!(release.signers[0].legal_basis.is_empty());
}

#[test]
fn every_missing_or_wrong_value_is_named_by_its_field() {
    let errors = ReleaseForm::from_pairs(&[]).release("ref_1", NOW).expect_err("empty form");
    assert_eq!(
        fields(errors),
        [
            "release_recipient_organization_id",
            "release_category",
            "release_purpose",
            "release_signed_at",
            "release_expires_on",
            "release_youth_signed"
        ]
    );
    let bad = pairs(&[
        ("release_recipient_organization_id", "Fictional Partner"),
        ("release_category", "everything"),
        ("release_purpose", "curiosity"),
        ("release_signed_at", "tomorrow"),
        ("release_expires_on", "never"),
        ("release_youth_signed", "1"),
        ("release_youth_basis", "because"),
    ]);
    let errors = ReleaseForm::from_pairs(&bad).release("ref_1", NOW).expect_err("bad form");
    assert_eq!(
        fields(errors.clone()),
        [
            "release_recipient_organization_id",
            "release_category",
            "release_purpose",
            "release_signed_at",
            "release_expires_on",
            "release_youth_basis"
        ]
    );
    assert!(errors[1].description.contains("\"everything\" is not an information category"));
}

#[test]
fn a_release_signed_ahead_expired_or_longer_than_a_year_is_refused() {
    let with = |key: &str, value: &str| {
        let mut form = good();
        form.retain(|(k, _)| k != key);
        form.push((key.to_owned(), value.to_owned()));
        fields(ReleaseForm::from_pairs(&form).release("ref_1", NOW).expect_err("refused"))
    };
    assert_eq!(with("release_signed_at", "2026-03-12T15:00"), ["release_signed_at"]);
    assert_eq!(with("release_expires_on", "2026-03-11"), ["release_expires_on"]);
    assert_eq!(with("release_expires_on", "2027-03-14"), ["release_expires_on"]);
    // 366 days after the signing day still holds.
    assert!(ReleaseForm::from_pairs(&good()).release("ref_1", NOW).is_ok());
    let long_text = "x".repeat(129);
    assert_eq!(with("release_document_reference", &long_text), ["release_document_reference"]);
}

#[test]
fn a_category_chosen_twice_is_released_once() {
    let mut form = good();
    form.push(("release_category".into(), "contact".into()));
    let release = ReleaseForm::from_pairs(&form).release("ref_1", NOW).expect("valid");
    assert_eq!(release.categories.len(), 2);
}

#[test]
fn a_release_is_active_from_signing_until_expiry_or_revocation() {
    assert_eq!(ReleaseState::of(Some(NOW - 1), Some(NOW + 1), None, NOW), ReleaseState::Active);
    assert_eq!(ReleaseState::of(Some(NOW + 1), Some(NOW + 2), None, NOW), ReleaseState::NotYetSigned);
    assert_eq!(ReleaseState::of(Some(NOW - 2), Some(NOW), None, NOW), ReleaseState::Expired);
    assert_eq!(ReleaseState::of(Some(NOW - 2), Some(NOW + 2), Some(NOW), NOW), ReleaseState::Revoked);
    assert!(ReleaseState::Active.revocable());
    assert!(!ReleaseState::Revoked.revocable());
    assert!(!ReleaseState::Expired.revocable());
}

#[test]
fn category_words_follow_the_forms_order() {
    let words = category_words(&[InformationCategory::Notes as i32, InformationCategory::Identity as i32]);
    assert_eq!(words, ["Identity (names, date of birth)", "Notes (never privileged notes)"]);
}

#[test]
fn the_mandated_clock_runs_36_hours_from_receipt_then_from_the_initial_report() {
    assert_eq!(mandated_step(false, Some(NOW), &[]), None);
    assert_eq!(mandated_step(true, Some(NOW), &[]), Some(MandatedStep::InitialDue { due: NOW + 36 * HOUR }));
    let reported = Report { reported_at: NOW + HOUR, written_report_at: None, written_report_due: NOW + 37 * HOUR };
    assert_eq!(
        mandated_step(true, Some(NOW), std::slice::from_ref(&reported)),
        Some(MandatedStep::WrittenDue { due: NOW + 37 * HOUR })
    );
    let earlier = Report { reported_at: NOW, written_report_at: None, written_report_due: NOW + 36 * HOUR };
    assert_eq!(
        mandated_step(true, Some(NOW), &[reported.clone(), earlier]),
        Some(MandatedStep::WrittenDue { due: NOW + 36 * HOUR })
    );
    let written = Report { written_report_at: Some(NOW + 2 * HOUR), ..reported };
    assert_eq!(mandated_step(true, Some(NOW), &[written]), Some(MandatedStep::Done));
}

#[test]
fn form_times_read_as_los_angeles_clock_time() {
    assert_eq!(time::parse_local_time("2026-03-12T14:35"), Some(NOW));
    assert_eq!(time::local_input(NOW), "2026-03-12T14:35");
    assert_eq!(time::local_date_input(NOW), "2026-03-12");
    assert_eq!(time::parse_local_time("14:35"), None);
    assert_eq!(time::end_of_local_day("2026-13-01"), None);
}
