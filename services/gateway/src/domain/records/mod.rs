//! A referral's records as its page shows and takes them: consent releases as chips (and the form
//! that makes one), and a minor's mandated report with its 36-hour clock. Instants are microseconds
//! since the Unix epoch, read and written as Los Angeles clock time ([`super::queue::time`]).
//! Intake validates every release and report again; these rules only catch what a form can get
//! wrong before the call, each naming the form's field.

use wf_proto::common::v1::InformationCategory;
use wf_proto::intake::v1::{self as intake, MandatedReportAgency, SignerRole};
use wf_proto::time::timestamp_from_micros as timestamp;
use wf_types::{FieldViolation, Purpose};

use super::queue::labels::Table;
use super::queue::time;

#[cfg(test)]
mod tests;

/// Hours a minor's referral allows for the initial report, and then for the written one (intake's
/// `WRITTEN_REPORT_HOURS`).
pub const MANDATED_REPORT_HOURS: i64 = 36;
const HOUR: i64 = 3_600_000_000;
/// A release runs at most this many days from its signing (intake's `MAX_RELEASE_DAYS`).
pub const MAX_RELEASE_DAYS: i64 = 366;
const DAY: i64 = 24 * HOUR;

/// What a release may cover, in the order the form lists them.
pub const CATEGORIES: &Table<InformationCategory> = &[
    (InformationCategory::Identity, "identity", "Identity (names, date of birth)"),
    (InformationCategory::Contact, "contact", "Contact details and safe-contact instructions"),
    (InformationCategory::Guardian, "guardian", "Guardians' names and contacts"),
    (InformationCategory::Referral, "referral", "Coded referral facts"),
    (InformationCategory::Screening, "screening", "Screening results"),
    (InformationCategory::History, "history", "History (system involvement, education, income)"),
    (InformationCategory::ServicePlan, "service_plan", "Service plan and services delivered"),
    (InformationCategory::Notes, "notes", "Notes (never privileged notes)"),
];

/// Why information is released (the purposes a release serves).
pub const RELEASE_PURPOSES: &Table<Purpose> = &[
    (Purpose::ServiceReferral, "service_referral", "Providing the service the partner accepted"),
    (Purpose::CaseCoordination, "case_coordination", "Coordinating care between providers"),
    (Purpose::LegalRepresentation, "legal_representation", "Legal representation"),
];

/// The legal basis on which a youth signs alone (intake's list); empty = none, a guardian or legal
/// representative signs too.
pub const YOUTH_BASES: &Table<&'static str> = &[
    ("adult", "adult", "The youth is an adult"),
    ("emancipated_minor", "emancipated_minor", "Emancipated minor"),
    (
        "minor_consent_mental_health_12_plus",
        "minor_consent_mental_health_12_plus",
        "Minor consent: mental health (12 and over)",
    ),
    ("minor_consent_sensitive_services", "minor_consent_sensitive_services", "Minor consent: sensitive services"),
];

/// Why a release is revoked (a coded reason that reaches the revocation event).
pub const REVOKE_REASONS: &Table<&'static str> = &[
    ("youth_request", "youth_request", "The youth asked"),
    ("guardian_request", "guardian_request", "The guardian asked"),
    ("signed_in_error", "signed_in_error", "Recorded in error"),
    ("service_ended", "service_ended", "The service has ended"),
];

/// Agencies a mandated report goes to.
pub const AGENCIES: &Table<MandatedReportAgency> = &[
    (MandatedReportAgency::ChildWelfare, "child_welfare", "Child welfare (DCFS hotline)"),
    (MandatedReportAgency::LawEnforcement, "law_enforcement", "Law enforcement"),
    (MandatedReportAgency::Probation, "probation", "Probation"),
];

/// The consent form as posted (fields named `release_…`): repeated `release_category`, the rest once each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleaseForm {
    pub recipient_organization_id: String,
    pub categories: Vec<String>,
    pub purpose: String,
    /// `datetime-local`, Los Angeles.
    pub signed_at: String,
    /// `date`, Los Angeles: the release holds through that day.
    pub expires_on: String,
    /// The youth signed (always required).
    pub youth_signed: bool,
    pub youth_basis: String,
    pub guardian_signed: bool,
    pub representative_signed: bool,
    pub document_reference: String,
}

impl ReleaseForm {
    /// From the posted pairs; unknown names are ignored, a repeated single field keeps its last value.
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut form = ReleaseForm::default();
        for (name, value) in pairs {
            let value = value.trim().to_owned();
            match name.as_str() {
                "release_recipient_organization_id" => form.recipient_organization_id = value,
                "release_category" => form.categories.push(value),
                "release_purpose" => form.purpose = value,
                "release_signed_at" => form.signed_at = value,
                "release_expires_on" => form.expires_on = value,
                "release_youth_signed" => form.youth_signed = value == "1",
                "release_youth_basis" => form.youth_basis = value,
                "release_guardian_signed" => form.guardian_signed = value == "1",
                "release_representative_signed" => form.representative_signed = value == "1",
                "release_document_reference" => form.document_reference = value,
                _ => {}
            }
        }
        form
    }

    /// The release to ask intake for, or the form's errors (field ids of the form).
    pub fn release(&self, referral_id: &str, now: i64) -> Result<intake::ConsentRelease, Vec<FieldViolation>> {
        let mut errors = Vec::new();
        if self.recipient_organization_id.parse::<wf_types::PartnerId>().is_err() {
            errors.push(FieldViolation::new(
                "release_recipient_organization_id",
                "Choose the one partner organization that may receive the information",
            ));
        }
        let mut categories = Vec::new();
        for code in &self.categories {
            match super::queue::labels::parse(CATEGORIES, code) {
                Some(category) if !categories.contains(&(category as i32)) => categories.push(category as i32),
                Some(_) => {}
                None => errors.push(FieldViolation::new(
                    "release_category",
                    format!("\"{}\" is not an information category; choose from the list", short(code)),
                )),
            }
        }
        if self.categories.is_empty() {
            errors.push(FieldViolation::new("release_category", "Choose at least one kind of information to release"));
        }
        let purpose = super::queue::labels::parse(RELEASE_PURPOSES, &self.purpose);
        if purpose.is_none() {
            errors.push(FieldViolation::new(
                "release_purpose",
                format!("Choose what the release is for: {}", super::queue::labels::allowed(RELEASE_PURPOSES)),
            ));
        }
        let signed_at = time::parse_local_time(&self.signed_at);
        match signed_at {
            None => errors.push(FieldViolation::new(
                "release_signed_at",
                "Enter when the release was signed as a date and time, e.g. 2026-03-12 14:35",
            )),
            Some(at) if at > now + 5 * 60_000_000 => errors.push(FieldViolation::new(
                "release_signed_at",
                "The signing time is in the future; record it after signing",
            )),
            Some(_) => {}
        }
        let expires_at = time::end_of_local_day(&self.expires_on);
        match (expires_at, signed_at) {
            (None, _) => errors.push(FieldViolation::new(
                "release_expires_on",
                "Enter the last day the release holds, e.g. 2027-03-12: every release must expire",
            )),
            (Some(at), _) if at <= now => errors.push(FieldViolation::new(
                "release_expires_on",
                "The release would already have expired; choose a later day",
            )),
            (Some(at), Some(signed)) if at > signed + MAX_RELEASE_DAYS * DAY => errors.push(FieldViolation::new(
                "release_expires_on",
                format!("A release holds at most {MAX_RELEASE_DAYS} days from its signing; choose an earlier day"),
            )),
            _ => {}
        }
        let basis = if self.youth_basis.is_empty() {
            None
        } else {
            match super::queue::labels::parse(YOUTH_BASES, &self.youth_basis) {
                Some(basis) => Some(basis),
                None => {
                    errors.push(FieldViolation::new(
                        "release_youth_basis",
                        "Choose the legal basis from the list, or none when a guardian or legal representative signs too",
                    ));
                    None
                }
            }
        };
        if !self.youth_signed {
            errors.push(FieldViolation::new("release_youth_signed", "The youth must sign every release"));
        }
        if self.document_reference.chars().count() > 128 || self.document_reference.chars().any(char::is_control) {
            errors.push(FieldViolation::new(
                "release_document_reference",
                "The document reference is at most 128 characters on one line",
            ));
        }
        let (Some(purpose), Some(signed_at), Some(expires_at), true) =
            (purpose, signed_at, expires_at, errors.is_empty())
        else {
            return Err(errors);
        };
        let signed = Some(timestamp(signed_at));
        let mut signers = vec![intake::ReleaseSigner {
            role: SignerRole::Youth as i32,
            legal_basis: basis.unwrap_or_default().to_owned(),
            signed_at: signed,
        }];
        if self.guardian_signed {
            signers.push(intake::ReleaseSigner {
                role: SignerRole::ParentOrGuardian as i32,
                legal_basis: String::new(),
                signed_at: signed,
            });
        }
        if self.representative_signed {
            signers.push(intake::ReleaseSigner {
                role: SignerRole::LegalRepresentative as i32,
                legal_basis: String::new(),
                signed_at: signed,
            });
        }
        Ok(intake::ConsentRelease {
            referral_id: referral_id.to_owned(),
            recipient_organization_id: self.recipient_organization_id.clone(),
            categories,
            purpose: purpose.code().to_owned(),
            signed_at: signed,
            expires_at: Some(timestamp(expires_at)),
            signers,
            document_reference: self.document_reference.clone(),
            ..Default::default()
        })
    }
}

/// A typed value echoed in a message: at most 40 characters, so a message never carries a paste.
fn short(value: &str) -> String {
    value.chars().take(40).collect()
}

/// Where a release stands at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseState {
    Active,
    /// Signed later than now (recorded ahead of its signing time, within intake's tolerance).
    NotYetSigned,
    Expired,
    Revoked,
}

impl ReleaseState {
    pub fn of(signed_at: Option<i64>, expires_at: Option<i64>, revoked_at: Option<i64>, now: i64) -> Self {
        if revoked_at.is_some_and(|at| at <= now) {
            return ReleaseState::Revoked;
        }
        if expires_at.is_none_or(|at| at <= now) {
            return ReleaseState::Expired;
        }
        if signed_at.is_none_or(|at| at > now) {
            return ReleaseState::NotYetSigned;
        }
        ReleaseState::Active
    }

    pub fn label(self) -> &'static str {
        match self {
            ReleaseState::Active => "Active",
            ReleaseState::NotYetSigned => "Not yet in force",
            ReleaseState::Expired => "Expired",
            ReleaseState::Revoked => "Revoked",
        }
    }

    /// The chip's CSS modifier (words always beside the colour).
    pub fn class(self) -> &'static str {
        match self {
            ReleaseState::Active => "release-chip--active",
            ReleaseState::NotYetSigned => "release-chip--pending",
            ReleaseState::Expired | ReleaseState::Revoked => "release-chip--ended",
        }
    }

    /// Whether it can still be revoked.
    pub fn revocable(self) -> bool {
        matches!(self, ReleaseState::Active | ReleaseState::NotYetSigned)
    }
}

/// The words of each category a release covers, in the form's order.
pub fn category_words(categories: &[i32]) -> Vec<&'static str> {
    CATEGORIES.iter().filter(|(c, _, _)| categories.contains(&(*c as i32))).map(|(_, _, label)| *label).collect()
}

/// A mandated report as the clock reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub reported_at: i64,
    pub written_report_at: Option<i64>,
    pub written_report_due: i64,
}

/// The step of a minor's mandated report that is open now, and its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MandatedStep {
    /// No report yet: the initial report is due 36 hours after receipt.
    InitialDue { due: i64 },
    /// Reported, the written report is due 36 hours after the initial one.
    WrittenDue { due: i64 },
    /// Every report has its written report.
    Done,
}

/// The open step for a referral received at `received_at` with `reports` recorded: `None` for a
/// youth not known to be a minor (nothing is mandated). The earliest written report still missing
/// is the one due first.
pub fn mandated_step(is_minor: bool, received_at: Option<i64>, reports: &[Report]) -> Option<MandatedStep> {
    if !is_minor {
        return None;
    }
    if reports.is_empty() {
        return received_at.map(|at| MandatedStep::InitialDue { due: at + MANDATED_REPORT_HOURS * HOUR });
    }
    let missing = reports.iter().filter(|r| r.written_report_at.is_none()).map(|r| r.written_report_due).min();
    Some(match missing {
        Some(due) => MandatedStep::WrittenDue { due },
        None => MandatedStep::Done,
    })
}
