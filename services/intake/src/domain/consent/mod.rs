//! Consent releases as pure rules: what makes a release valid, when it is active, and what a
//! partner may see under the releases that name it. No I/O here; the API and store build on it.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use wf_proto::common::v1::InformationCategory;
use wf_proto::intake::v1 as pb;
use wf_types::FieldViolation;

/// A release may run at most this long from its signing; renewing means signing a new one. One year is
/// the longest any partner agreement in DOMAIN.md asks for, and short enough that a youth is asked again.
pub const MAX_RELEASE_DAYS: i64 = 366;

/// Legal bases on which a youth may sign alone.
pub const YOUTH_ALONE_BASES: [&str; 4] =
    ["adult", "emancipated_minor", "minor_consent_mental_health_12_plus", "minor_consent_sensitive_services"];

/// What the referral knows about the people who could sign (from its sealed personal details).
#[derive(Debug, Clone, Copy, Default)]
pub struct SignerFacts {
    pub is_minor: bool,
    /// A guardian with legal authority who is not flagged as an exploiter.
    pub has_eligible_guardian: bool,
}

impl SignerFacts {
    pub fn from_details(is_minor: bool, personal: Option<&pb::PersonalDetails>) -> Self {
        let has_eligible_guardian = personal
            .map(|p| p.guardians.iter().any(|g| g.has_legal_authority && !g.flagged_as_exploiter))
            .unwrap_or(false);
        SignerFacts { is_minor, has_eligible_guardian }
    }
}

fn category_name(category: i32) -> String {
    InformationCategory::try_from(category).map(|c| c.as_str_name().to_owned()).unwrap_or_else(|_| category.to_string())
}

/// Checks a release to be created; `now` is the instant of recording. One violation per problem.
pub fn validate_release(
    release: Option<&pb::ConsentRelease>,
    facts: SignerFacts,
    now: DateTime<Utc>,
) -> Vec<FieldViolation> {
    let Some(release) = release else {
        return vec![FieldViolation::new("release", "is required")];
    };
    let mut violations = Vec::new();
    if release.referral_id.trim().is_empty() {
        violations.push(FieldViolation::new("release.referral_id", "is required (\"ref_...\")"));
    }
    if release.recipient_organization_id.parse::<wf_types::PartnerId>().is_err() {
        violations.push(FieldViolation::new(
            "release.recipient_organization_id",
            "must name exactly one partner organization (\"org_...\")",
        ));
    }
    if release.categories.is_empty() {
        violations.push(FieldViolation::new("release.categories", "at least one information category is required"));
    }
    let mut seen = BTreeSet::new();
    for (i, &category) in release.categories.iter().enumerate() {
        let known = InformationCategory::try_from(category).ok().filter(|c| *c != InformationCategory::Unspecified);
        if known.is_none() {
            violations.push(FieldViolation::new(
                format!("release.categories[{i}]"),
                format!("{} is not an information category; allowed IDENTITY, CONTACT, GUARDIAN, REFERRAL, SCREENING, HISTORY, SERVICE_PLAN, NOTES", category_name(category)),
            ));
        } else if !seen.insert(category) {
            violations.push(FieldViolation::new(format!("release.categories[{i}]"), "is listed twice"));
        }
    }
    // A code from the closed list (it reaches the consent event and every read under the release).
    wf_types::Purpose::required(&release.purpose, "release.purpose", &mut violations);
    let signed_at = release.signed_at.as_ref().and_then(wf_proto::time::datetime);
    match (&release.signed_at, signed_at) {
        (None, _) => violations.push(FieldViolation::new("release.signed_at", "is required")),
        (Some(_), None) => violations.push(FieldViolation::new("release.signed_at", "is not a valid instant")),
        (Some(_), Some(at)) if at > now + Duration::minutes(5) => violations
            .push(FieldViolation::new("release.signed_at", "is in the future; a release is recorded after signing")),
        _ => {}
    }
    match (&release.expires_at, release.expires_at.as_ref().and_then(wf_proto::time::datetime)) {
        (None, _) => violations.push(FieldViolation::new("release.expires_at", "is required: a release must expire")),
        (Some(_), None) => violations.push(FieldViolation::new("release.expires_at", "is not a valid instant")),
        (Some(_), Some(at)) if at <= now => {
            violations.push(FieldViolation::new("release.expires_at", "must be in the future"))
        }
        (Some(_), Some(at)) => {
            if let Some(signed) = signed_at
                && at > signed + Duration::days(MAX_RELEASE_DAYS)
            {
                violations.push(FieldViolation::new(
                    "release.expires_at",
                    format!(
                        "is more than {MAX_RELEASE_DAYS} days after signed_at; allowed at most {MAX_RELEASE_DAYS} days"
                    ),
                ));
            }
        }
    }
    if release.revoked_at.is_some() {
        violations.push(FieldViolation::new("release.revoked_at", "must be empty; revoke with RevokeConsentRelease"));
    }
    violations.extend(validate_signers(&release.signers, facts));
    violations
}

/// Youth alone where a legal basis lets them consent (an adult always can); otherwise the youth and a
/// guardian or legal representative. A guardian signature needs a guardian on the referral who has legal
/// authority and is not flagged as an exploiter: an exploiter never signs for the youth.
pub fn validate_signers(signers: &[pb::ReleaseSigner], facts: SignerFacts) -> Vec<FieldViolation> {
    use pb::SignerRole;
    let mut violations = Vec::new();
    if signers.is_empty() {
        return vec![FieldViolation::new("release.signers", "at least the youth must sign")];
    }
    let mut youth_alone_basis = false;
    let mut roles = BTreeSet::new();
    for (i, signer) in signers.iter().enumerate() {
        let role = SignerRole::try_from(signer.role).unwrap_or(SignerRole::Unspecified);
        if role == SignerRole::Unspecified {
            violations.push(FieldViolation::new(
                format!("release.signers[{i}].role"),
                "is required; allowed YOUTH, PARENT_OR_GUARDIAN, LEGAL_REPRESENTATIVE",
            ));
            continue;
        }
        if !roles.insert(signer.role) {
            violations.push(FieldViolation::new(format!("release.signers[{i}].role"), "is listed twice"));
        }
        if role == SignerRole::Youth && !signer.legal_basis.is_empty() {
            if YOUTH_ALONE_BASES.contains(&signer.legal_basis.as_str()) {
                youth_alone_basis = true;
            } else {
                violations.push(FieldViolation::new(
                    format!("release.signers[{i}].legal_basis"),
                    format!("is not a known basis; allowed {}", YOUTH_ALONE_BASES.join(", ")),
                ));
            }
        }
        if role == SignerRole::ParentOrGuardian && !facts.has_eligible_guardian {
            violations.push(FieldViolation::new(
                format!("release.signers[{i}].role"),
                "the referral lists no guardian with legal authority who is not flagged as an exploiter",
            ));
        }
    }
    if !roles.contains(&(SignerRole::Youth as i32)) {
        violations.push(FieldViolation::new("release.signers", "the youth must sign"));
    } else if facts.is_minor
        && !youth_alone_basis
        && !roles.contains(&(SignerRole::ParentOrGuardian as i32))
        && !roles.contains(&(SignerRole::LegalRepresentative as i32))
    {
        violations.push(FieldViolation::new(
            "release.signers",
            "a minor signs alone only with a legal_basis (minor consent or emancipation); otherwise a guardian or legal representative must also sign",
        ));
    }
    violations
}

/// Signed, not expired, not revoked, at `now`.
pub fn is_active(signed_at: i64, expires_at: i64, revoked_at: Option<i64>, now: i64) -> bool {
    signed_at <= now && now < expires_at && revoked_at.is_none_or(|revoked| now < revoked)
}

/// Only the parts of `details` that `categories` cover; everything else is left empty.
pub fn redact_to_categories(details: &pb::PersonalDetails, categories: &[i32]) -> pb::PersonalDetails {
    let has = |c: InformationCategory| categories.contains(&(c as i32));
    let mut out = pb::PersonalDetails::default();
    if has(InformationCategory::Identity) {
        out.legal_first_name = details.legal_first_name.clone();
        out.legal_last_name = details.legal_last_name.clone();
        out.preferred_name = details.preferred_name.clone();
        out.aliases = details.aliases.clone();
        out.date_of_birth = details.date_of_birth;
        out.estimated_age = details.estimated_age;
        out.name_data_quality = details.name_data_quality;
        out.dob_data_quality = details.dob_data_quality;
        out.pronouns = details.pronouns.clone();
    }
    if has(InformationCategory::Contact) {
        out.phones = details.phones.clone();
        out.emails = details.emails.clone();
        out.online_handles = details.online_handles.clone();
        out.address = details.address.clone();
        out.safe_contact = details.safe_contact.clone();
    }
    if has(InformationCategory::Guardian) {
        out.guardians = details.guardians.clone();
    }
    if has(InformationCategory::Notes) {
        out.notes = details.notes.clone();
    }
    out
}

/// The coded referral facts the categories cover, copied field by field so that anything added to
/// `Referral` later stays private until someone decides which category it belongs to.
pub fn redact_referral(referral: &pb::Referral, categories: &[i32]) -> Option<pb::Referral> {
    let has = |c: InformationCategory| categories.contains(&(c as i32));
    let (coded, screening, history) =
        (has(InformationCategory::Referral), has(InformationCategory::Screening), has(InformationCategory::History));
    if !(coded || screening || history) {
        return None;
    }
    let mut out = pb::Referral::default();
    if coded {
        out.source = referral.source;
        out.referring_organization_id = referral.referring_organization_id.clone();
        out.referring_organization_name = referral.referring_organization_name.clone();
        out.external_reference = referral.external_reference.clone();
        out.received_at = referral.received_at;
        out.triage_tier = referral.triage_tier;
        out.triage_reason = referral.triage_reason.clone();
        out.site = referral.site;
        out.needs = referral.needs.clone();
        out.preferred_language = referral.preferred_language.clone();
        out.practice = referral.practice;
        out.trafficking_status = referral.trafficking_status;
        out.trafficking_determined_by = referral.trafficking_determined_by;
        out.trafficking_type = referral.trafficking_type;
        out.sexual_exploitation = referral.sexual_exploitation;
        out.labor_exploitation = referral.labor_exploitation;
        out.engagement_approach = referral.engagement_approach.clone();
        out.channel = referral.channel;
        out.requested_partner_service_ids = referral.requested_partner_service_ids.clone();
    }
    if screening {
        out.screenings = referral.screenings.clone();
    }
    if history {
        out.age_first_exploited = referral.age_first_exploited;
        out.prior_participation_basis = referral.prior_participation_basis;
        out.former_ward_child_welfare = referral.former_ward_child_welfare;
        out.former_ward_juvenile_justice = referral.former_ward_juvenile_justice;
        out.income = referral.income.clone();
        out.employment = referral.employment;
        out.living_situation = referral.living_situation;
        out.last_grade_completed = referral.last_grade_completed;
        out.school_status = referral.school_status;
        out.arrests = referral.arrests.clone();
        out.ever_arrested = referral.ever_arrested;
        out.system_involvement = referral.system_involvement.clone();
    }
    Some(out)
}

/// Clears who referred the youth from a referral a partner other than the submitting organization
/// reads (the receiving partner, in `GetReferral` and in `GetReleasedDetails`' REFERRAL category):
/// the referring organization, the call number it gave (`external_reference`) and the partner
/// services it asked for, which are the referring organization's.
pub fn without_referrer(referral: &mut pb::Referral) {
    referral.referring_organization_id.clear();
    referral.referring_organization_name.clear();
    referral.external_reference.clear();
    referral.requested_partner_service_ids.clear();
}

/// Field paths of what a released read returns (non-empty fields only), for the access event.
pub fn released_field_paths(personal: &pb::PersonalDetails, referral: Option<&pb::Referral>) -> Vec<String> {
    let mut paths = Vec::new();
    let mut push = |present: bool, path: &str| {
        if present {
            paths.push(path.to_owned());
        }
    };
    push(!personal.legal_first_name.is_empty(), "personal.legal_first_name");
    push(!personal.legal_last_name.is_empty(), "personal.legal_last_name");
    push(!personal.preferred_name.is_empty(), "personal.preferred_name");
    push(!personal.aliases.is_empty(), "personal.aliases");
    push(personal.date_of_birth.is_some(), "personal.date_of_birth");
    push(personal.estimated_age != 0, "personal.estimated_age");
    push(!personal.pronouns.is_empty(), "personal.pronouns");
    push(!personal.phones.is_empty(), "personal.phones");
    push(!personal.emails.is_empty(), "personal.emails");
    push(!personal.online_handles.is_empty(), "personal.online_handles");
    push(personal.address.is_some(), "personal.address");
    push(personal.safe_contact.is_some(), "personal.safe_contact");
    push(!personal.guardians.is_empty(), "personal.guardians");
    push(!personal.notes.is_empty(), "personal.notes");
    if let Some(referral) = referral {
        push(referral.source != 0 || !referral.needs.is_empty(), "referral.coded");
        push(!referral.screenings.is_empty(), "referral.screenings");
        push(
            referral.prior_participation_basis != 0 || referral.living_situation != 0 || !referral.arrests.is_empty(),
            "referral.history",
        );
    }
    paths
}

#[cfg(test)]
mod tests;
