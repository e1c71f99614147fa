//! What a referral's page shows of its records, for staff who act on referrals (`ManageCases`):
//! consent releases as chips (recipient, categories, purpose, expiry, state) with the form's
//! choices, a minor's mandated report with its 36-hour clock, and possible returning-youth matches
//! waiting for a decision. Their forms are [`super::record_actions`].

use wf_proto::intake::v1::{self as intake, PossibleMatchStatus};

use super::{Abilities, Choice, Directory, PAGE_SIZE, When, every_page};
use crate::api::OrPage as _;
use crate::api::PageError;
use crate::app::{App, SignedIn};
use crate::domain::queue::labels::{self, Table};
use crate::domain::queue::{self, time};
use crate::domain::records::{
    self, AGENCIES, CATEGORIES, MandatedStep, RELEASE_PURPOSES, REVOKE_REASONS, ReleaseForm, ReleaseState, YOUTH_BASES,
};

/// One consent release as a chip.
#[derive(Debug, Clone)]
pub struct ReleaseChip {
    pub release_id: String,
    pub recipient: String,
    pub categories: Vec<&'static str>,
    pub purpose: String,
    pub expires: Option<When>,
    pub revoked: Option<When>,
    pub state: ReleaseState,
}

/// The consent form's choices, with what was posted when it is shown again with errors.
#[derive(Debug, Clone, Default)]
pub struct ReleaseFormView {
    pub recipients: Vec<Choice>,
    pub categories: Vec<Choice>,
    pub purposes: Vec<Choice>,
    pub bases: Vec<Choice>,
    pub signed_at: String,
    pub expires_on: String,
    pub guardian_signed: bool,
    pub representative_signed: bool,
    pub document_reference: String,
    pub revoke_reasons: Vec<Choice>,
}

/// A minor's mandated report: the clock and what is recorded.
#[derive(Debug, Clone)]
pub struct MandatedView {
    /// "Initial report due", "Written report due" or "Reported".
    pub step: &'static str,
    pub due: Option<When>,
    /// "due in 3 h", "overdue by 12 min".
    pub countdown: String,
    pub urgency_class: &'static str,
    pub reports: Vec<ReportView>,
    pub agencies: Vec<Choice>,
    /// The report form's default time (now, Los Angeles).
    pub now_input: String,
}

#[derive(Debug, Clone)]
pub struct ReportView {
    pub mandated_report_id: String,
    pub agency: &'static str,
    pub reported: Option<When>,
    pub written: Option<When>,
    pub written_due: Option<When>,
    pub agency_reference: String,
}

/// A possible returning youth waiting for a decision.
#[derive(Debug, Clone)]
pub struct MatchView {
    pub possible_match_id: String,
    pub matched_on: Vec<&'static str>,
    /// "92%".
    pub strength: String,
    pub found: Option<When>,
}

/// The records part of the page.
#[derive(Debug, Clone, Default)]
pub struct Records {
    pub releases: Vec<ReleaseChip>,
    pub release_form: ReleaseFormView,
    pub mandated: Option<MandatedView>,
    pub matches: Vec<MatchView>,
}

/// What a possible match matched on, in words (intake's codes).
const MATCH_KEYS: &[(&str, &str)] = &[
    ("name_dob", "name and date of birth"),
    ("alias_dob", "an alias and date of birth"),
    ("phone", "phone number"),
    ("email", "email address"),
    ("external_id", "a referrer's reference"),
];

fn matched_on(code: &str) -> &'static str {
    MATCH_KEYS.iter().find(|(key, _)| *key == code).map_or("another identifier", |(_, words)| words)
}

async fn releases(app: &App, who: &SignedIn, referral_id: &str) -> Result<Vec<intake::ConsentRelease>, PageError> {
    let client = app.upstream.intake(who)?;
    let (releases, _) = every_page(|page_token| {
        let mut client = client.clone();
        let request = intake::ListConsentReleasesRequest {
            referral_id: referral_id.to_owned(),
            page_size: PAGE_SIZE,
            page_token,
            ..Default::default()
        };
        async move {
            let page = client.list_consent_releases(request).await.or_page(who)?;
            Ok((page.releases, page.next_page_token))
        }
    })
    .await?;
    Ok(releases)
}

async fn reports(app: &App, who: &SignedIn, referral_id: &str) -> Result<Vec<intake::MandatedReport>, PageError> {
    let request = intake::ListMandatedReportsRequest {
        referral_id: referral_id.to_owned(),
        page_size: PAGE_SIZE,
        ..Default::default()
    };
    Ok(app.upstream.intake(who)?.list_mandated_reports(request).await.or_page(who)?.reports)
}

async fn matches(app: &App, who: &SignedIn, referral_id: &str) -> Result<Vec<intake::PossibleMatch>, PageError> {
    let request = intake::ListPossibleMatchesRequest {
        referral_id: referral_id.to_owned(),
        status: PossibleMatchStatus::Pending as i32,
        page_size: PAGE_SIZE,
        ..Default::default()
    };
    Ok(app.upstream.intake(who)?.list_possible_matches(request).await.or_page(who)?.matches)
}

fn choices<E: Copy>(table: &Table<E>, selected: &[String]) -> Vec<Choice> {
    table.iter().map(|(_, code, label)| Choice::new(*code, *label, selected.iter().any(|s| s == code))).collect()
}

/// What the referral page shows of its records for `who` (nothing without `ManageCases`).
/// `posted` is the consent form as posted, when it is shown again with its errors.
pub async fn load(
    app: &App,
    who: &SignedIn,
    referral: &str,
    facts: (bool, Option<i64>),
    directory: &Directory,
    posted: Option<&ReleaseForm>,
) -> Result<Records, PageError> {
    if !Abilities::of(who.role).act {
        return Ok(Records::default());
    }
    let (is_minor, received_at) = facts;
    let (found_releases, found_reports, found_matches) =
        tokio::join!(releases(app, who, referral), reports(app, who, referral), matches(app, who, referral));
    let (found_releases, found_reports, found_matches) = (found_releases?, found_reports?, found_matches?);
    let now = app.clock.now_micros();
    let releases = found_releases
        .iter()
        .map(|r| ReleaseChip {
            release_id: r.release_id.clone(),
            recipient: directory.organization(&r.recipient_organization_id),
            categories: records::category_words(&r.categories),
            purpose: r
                .purpose
                .parse::<wf_types::Purpose>()
                .ok()
                .and_then(|p| labels::label(RELEASE_PURPOSES, p))
                .map_or_else(|| labels::code_words(&r.purpose), str::to_owned),
            expires: When::of(&r.expires_at),
            revoked: When::of(&r.revoked_at),
            state: ReleaseState::of(
                queue::micros(&r.signed_at),
                queue::micros(&r.expires_at),
                queue::micros(&r.revoked_at),
                now,
            ),
        })
        .collect();
    let default_form = ReleaseForm::default();
    let form = posted.unwrap_or(&default_form);
    let release_form = ReleaseFormView {
        recipients: directory
            .organizations()
            .into_iter()
            .map(|(id, name)| {
                let selected = form.recipient_organization_id == id;
                Choice::new(id, name, selected)
            })
            .collect(),
        categories: choices(CATEGORIES, &form.categories),
        purposes: choices(RELEASE_PURPOSES, std::slice::from_ref(&form.purpose)),
        bases: choices(YOUTH_BASES, std::slice::from_ref(&form.youth_basis)),
        signed_at: if posted.is_some() { form.signed_at.clone() } else { time::local_input(now) },
        expires_on: form.expires_on.clone(),
        guardian_signed: form.guardian_signed,
        representative_signed: form.representative_signed,
        document_reference: form.document_reference.clone(),
        revoke_reasons: choices(REVOKE_REASONS, &[]),
    };
    let clock_reports: Vec<records::Report> = found_reports
        .iter()
        .filter_map(|r| {
            Some(records::Report {
                reported_at: queue::micros(&r.reported_at)?,
                written_report_at: queue::micros(&r.written_report_at),
                written_report_due: queue::micros(&r.written_report_due)?,
            })
        })
        .collect();
    let mandated = records::mandated_step(is_minor, received_at, &clock_reports).map(|step| {
        let (label, due) = match step {
            MandatedStep::InitialDue { due } => ("Initial report due", Some(due)),
            MandatedStep::WrittenDue { due } => ("Written report due", Some(due)),
            MandatedStep::Done => ("Reported, with the written report", None),
        };
        let countdown = due.map(|due| time::countdown(due, now));
        MandatedView {
            step: label,
            due: due.map(When::at),
            countdown: countdown.as_ref().map(|c| c.text.clone()).unwrap_or_default(),
            urgency_class: countdown.map_or("", |c| c.urgency.class()),
            reports: found_reports
                .iter()
                .map(|r| ReportView {
                    mandated_report_id: r.mandated_report_id.clone(),
                    agency: labels::label_of(AGENCIES, r.agency, "Agency not given"),
                    reported: When::of(&r.reported_at),
                    written: When::of(&r.written_report_at),
                    written_due: When::of(&r.written_report_due),
                    agency_reference: r.agency_reference.clone(),
                })
                .collect(),
            agencies: choices(AGENCIES, &[]),
            now_input: time::local_input(now),
        }
    });
    let matches = found_matches
        .iter()
        .map(|m| MatchView {
            possible_match_id: m.possible_match_id.clone(),
            matched_on: m.matched_on.iter().map(|code| matched_on(code)).collect(),
            strength: format!("{:.0}%", (m.score.clamp(0.0, 1.0) * 100.0)),
            found: When::of(&m.found_at),
        })
        .collect();
    Ok(Records { releases, release_form, mandated, matches })
}
