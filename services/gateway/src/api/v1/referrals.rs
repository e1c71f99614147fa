//! Referrals (intake), as the referral queue and page offer them:
//! - `GET /referrals` — the queue with its filters (`domain::queue::Filters`, the page's address
//!   parameters) in its order (tier, then deadline);
//! - `GET /referrals/{id}` — the coded record, its status history and (staff) its screenings;
//! - `POST /referrals/{id}/triage|hold|close` — the page's forms, with the same closed lists;
//! - `POST /referrals/{id}/reveal` — the personal details with a purpose from the closed list, read
//!   by intake with that purpose (audited); only that response holds them.
//!
//! Partners read and list what intake shows them (their own submissions as submitted, the coded
//! facts of a referral offered to them); any other referral is not found. The changes and the
//! reveal are staff's (the pages' rule: a partner gets not found).

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wf_auth::Operation;
use wf_proto::intake::v1 as intake;
use wf_types::{FieldViolation, Purpose, ReferralId};

use super::auth::{Caller, OrApi as _};
use super::codes::{
    ChannelCode, ReferralClosureCode, ReferralStatusCode, ScreeningResultCode, ScreeningToolCode, SiteCode, SourceCode,
    TierCode, all_of, date, instant, some,
};
use super::error::{ApiError, ErrorBody};
use super::input::{CsrfHeader, JsonBody, path_id};
use crate::api::referrals::Abilities;
use crate::app::App;
use crate::domain::queue::labels::{self, CLOSURE_REASONS, HOLD_REASONS, REVEAL_PURPOSES, TRIAGE_REASONS};
use crate::domain::queue::{self, Entry, Filters, shows_queue};

/// Pages of a list read at most, and their size (the services' maximum), as the queue reads them.
const MAX_PAGES: usize = 4;
const PAGE_SIZE: i32 = 500;

/// The queue's filters, as the page's address names them (documentation of [`list`]'s query).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct QueueFilters {
    /// Triage tier.
    tier: Option<TierCode>,
    /// Any of these statuses (repeat the parameter); none = every status but `closed`.
    status: Option<Vec<ReferralStatusCode>>,
    site: Option<SiteCode>,
    source: Option<SourceCode>,
    /// Referrals whose case this case manager holds now (`cm_…`). Staff only.
    owner: Option<String>,
    /// `1`: referrals whose case the caller holds (their roster entry). Staff only.
    mine: Option<String>,
    /// `1`: referrals whose case nobody holds. Staff only.
    unassigned: Option<String>,
    /// `1`: practice referrals too.
    practice: Option<String>,
}

/// A listed referral: coded facts only.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralSummary {
    pub referral_id: String,
    /// The random youth id (staff only).
    pub youth_id: Option<String>,
    pub triage_tier: Option<TierCode>,
    pub status: Option<ReferralStatusCode>,
    pub site: Option<SiteCode>,
    pub source: Option<SourceCode>,
    pub is_minor: bool,
    pub received_at: Option<DateTime<Utc>>,
    /// The current step's deadline (what the queue sorts by).
    pub deadline: Option<DateTime<Utc>>,
    pub case_id: Option<String>,
    /// The case manager who holds the case now (`cm_…`); staff only.
    pub owner: Option<String>,
    pub referring_organization_id: Option<String>,
    pub needs: Vec<String>,
    pub preferred_language: Option<String>,
    pub practice: bool,
}

impl ReferralSummary {
    fn of(summary: &intake::ReferralSummary) -> Self {
        ReferralSummary {
            referral_id: summary.referral_id.clone(),
            youth_id: some(&summary.youth_id),
            triage_tier: TierCode::of(summary.triage_tier),
            status: ReferralStatusCode::of(summary.status),
            site: SiteCode::of(summary.site),
            source: SourceCode::of(summary.source),
            is_minor: summary.is_minor,
            received_at: instant(&summary.received_at),
            deadline: instant(&summary.deadline),
            case_id: some(&summary.case_id),
            owner: some(&summary.case_manager_id),
            referring_organization_id: some(&summary.referring_organization_id),
            needs: summary.needs.clone(),
            preferred_language: some(&summary.preferred_language),
            practice: summary.practice,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralList {
    /// In the queue's order: emergent first, then by deadline (none last), then oldest.
    pub referrals: Vec<ReferralSummary>,
    /// More referrals matched than were read (2,000).
    pub truncated: bool,
}

/// intake's names of ListReferrals' fields as the queue's parameters name them.
fn as_parameters(err: ApiError) -> ApiError {
    if err.code != super::error::Code::InvalidArgument {
        return err;
    }
    let parameter = |field: &str| {
        match field.split('[').next().unwrap_or(field) {
            "statuses" => "status",
            "triage_tier" => "tier",
            "case_manager_id" => "owner",
            "unassigned_only" => "unassigned",
            "include_practice" => "practice",
            other => other,
        }
        .to_owned()
    };
    let violations =
        err.violations.into_iter().map(|v| FieldViolation::new(parameter(&v.field), v.description)).collect();
    ApiError::invalid(violations)
}

/// The referral queue.
#[utoipa::path(
    get, path = "/referrals", tag = "referrals", params(QueueFilters),
    responses(
        (status = 200, body = ReferralList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody),
    )
)]
pub async fn list(
    State(app): State<App>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<ReferralList>, ApiError> {
    if !caller.is_partner() && !shows_queue(caller.role) {
        return Err(ApiError::forbidden(format!("role {} may not {}", caller.role, Operation::ListReferrals)));
    }
    let filters = Filters::parse(query.as_deref().unwrap_or_default()).map_err(ApiError::invalid)?;
    let owner = match (&filters.owner, filters.mine) {
        (Some(owner), _) => Some(owner.to_string()),
        (None, true) => match caller.roster_entry(&app).await? {
            Some(own) => Some(own),
            None => {
                return Err(ApiError::invalid_field(
                    "mine",
                    "lists the referrals whose case you hold, but your sign-in is not linked to an entry in the \
                     case-manager roster; allowed: leave it out, or ask a supervisor to link your sign-in",
                ));
            }
        },
        (None, false) => None,
    };
    let mut request = intake::ListReferralsRequest {
        statuses: filters.statuses_to_list().into_iter().map(|s| s as i32).collect(),
        site: filters.site.map_or(0, |s| s as i32),
        triage_tier: filters.tier.map_or(0, |t| t as i32),
        source: filters.source.map_or(0, |s| s as i32),
        case_manager_id: owner.unwrap_or_default(),
        unassigned_only: filters.unassigned,
        include_practice: filters.practice,
        page_size: PAGE_SIZE,
        ..Default::default()
    };
    let mut client = caller.intake(&app)?;
    let mut listed = Vec::new();
    let mut truncated = true;
    for _ in 0..MAX_PAGES {
        let page = client.list_referrals(request.clone()).await.or_api(&caller).map_err(as_parameters)?;
        listed.extend(page.referrals);
        if page.next_page_token.is_empty() {
            truncated = false;
            break;
        }
        request.page_token = page.next_page_token;
    }
    let mut entries: Vec<(Entry, intake::ReferralSummary)> = listed.into_iter().map(|s| (Entry::of(&s), s)).collect();
    entries.sort_by(|a, b| queue::order(&a.0, &b.0));
    Ok(Json(ReferralList { referrals: entries.iter().map(|(_, s)| ReferralSummary::of(s)).collect(), truncated }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusChange {
    pub status: Option<ReferralStatusCode>,
    pub at: Option<DateTime<Utc>>,
    /// A coded detail ("offer off_… partner org_… reason no_capacity"): ids and codes, never a name.
    pub detail: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Screening {
    pub screening_id: String,
    pub tool: Option<ScreeningToolCode>,
    pub tool_version: Option<String>,
    /// The band, never the raw score.
    pub result: Option<ScreeningResultCode>,
    pub screened_at: Option<DateTime<Utc>>,
}

/// One referral: its coded record. `personal` only in the reveal's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Referral {
    pub referral_id: String,
    pub youth_id: Option<String>,
    pub status: Option<ReferralStatusCode>,
    pub triage_tier: Option<TierCode>,
    /// Coded reason of the tier (`imminent_danger`, …).
    pub triage_reason: Option<String>,
    pub site: Option<SiteCode>,
    pub source: Option<SourceCode>,
    pub is_minor: bool,
    pub practice: bool,
    pub received_at: Option<DateTime<Utc>>,
    /// When the referral was first matched to a provider.
    pub matched_at: Option<DateTime<Utc>>,
    pub needs: Vec<String>,
    pub preferred_language: Option<String>,
    pub case_id: Option<String>,
    /// The case manager who holds the case now (`cm_…`).
    pub owner: Option<String>,
    /// Set when closed (null also when its case closed it for a reason this list has no equal of).
    pub closure_reason: Option<ReferralClosureCode>,
    /// Oldest first.
    pub history: Vec<StatusChange>,
    /// The screenings' bands (staff; null for a partner, who reads none here).
    pub screenings: Option<Vec<Screening>>,
    /// The personal details (the reveal's answer only).
    pub personal: Option<PersonalDetails>,
}

/// A referral's personal part as the reveal shows it: safe-contact instructions first. A guardian
/// flagged as a suspected exploiter carries no contact details.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonalDetails {
    /// The purpose the reveal gave (recorded with the caller's name in the access log).
    pub purpose: String,
    pub safe_contact: SafeContact,
    pub preferred_name: String,
    pub legal_first_name: String,
    pub legal_last_name: String,
    pub pronouns: String,
    pub aliases: Vec<String>,
    /// `YYYY-MM-DD`, or `YYYY-MM` / `YYYY` when partly known.
    pub date_of_birth: Option<String>,
    pub estimated_age: Option<i32>,
    pub phones: Vec<Phone>,
    pub emails: Vec<String>,
    pub online_handles: Vec<String>,
    pub address: Option<Address>,
    pub guardians: Vec<Guardian>,
    /// The referrer's notes (may describe exploitation).
    pub notes: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SafeContact {
    /// Nobody may contact the youth directly: contact goes through the referrer.
    pub contacting_prohibited: bool,
    pub safe_channels: Vec<ChannelCode>,
    pub safe_times: Vec<String>,
    pub never_say: Vec<String>,
    pub code_word: String,
    pub instructions: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Phone {
    pub number: String,
    pub kind: String,
    pub safe_to_call: bool,
    pub safe_to_text: bool,
    pub safe_to_leave_voicemail: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Address {
    pub address_1: String,
    pub address_2: String,
    pub city: String,
    pub state_province: String,
    pub postal_code: String,
    pub country: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Guardian {
    pub first_name: String,
    pub last_name: String,
    pub relationship: String,
    pub has_legal_authority: bool,
    /// Never contact: no phones or emails are given.
    pub flagged_as_exploiter: bool,
    pub may_be_contacted: bool,
    pub phones: Vec<Phone>,
    pub emails: Vec<String>,
}

fn phone(phone: &intake::Phone) -> Phone {
    Phone {
        number: phone.number.clone(),
        kind: phone.kind.clone(),
        safe_to_call: phone.safe_to_call,
        safe_to_text: phone.safe_to_text,
        safe_to_leave_voicemail: phone.safe_to_leave_voicemail,
    }
}

impl PersonalDetails {
    fn of(purpose: Purpose, p: &intake::PersonalDetails) -> Self {
        let safe = p.safe_contact.clone().unwrap_or_default();
        PersonalDetails {
            purpose: purpose.code().to_owned(),
            safe_contact: SafeContact {
                contacting_prohibited: safe.contacting_prohibited,
                safe_channels: all_of(&safe.safe_channels, ChannelCode::of),
                safe_times: safe.safe_times,
                never_say: safe.never_say,
                code_word: safe.code_word,
                instructions: safe.instructions,
            },
            preferred_name: p.preferred_name.clone(),
            legal_first_name: p.legal_first_name.clone(),
            legal_last_name: p.legal_last_name.clone(),
            pronouns: p.pronouns.clone(),
            aliases: p.aliases.clone(),
            date_of_birth: date(&p.date_of_birth),
            estimated_age: (p.estimated_age > 0).then_some(p.estimated_age),
            phones: p.phones.iter().map(phone).collect(),
            emails: p.emails.clone(),
            online_handles: p.online_handles.clone(),
            address: p.address.as_ref().map(|a| Address {
                address_1: a.address_1.clone(),
                address_2: a.address_2.clone(),
                city: a.city.clone(),
                state_province: a.state_province.clone(),
                postal_code: a.postal_code.clone(),
                country: a.country.clone(),
            }),
            guardians: p
                .guardians
                .iter()
                .map(|g| Guardian {
                    first_name: g.first_name.clone(),
                    last_name: g.last_name.clone(),
                    relationship: g.relationship.clone(),
                    has_legal_authority: g.has_legal_authority,
                    flagged_as_exploiter: g.flagged_as_exploiter,
                    may_be_contacted: g.may_be_contacted && !g.flagged_as_exploiter,
                    phones: if g.flagged_as_exploiter { Vec::new() } else { g.phones.iter().map(phone).collect() },
                    emails: if g.flagged_as_exploiter { Vec::new() } else { g.emails.clone() },
                })
                .collect(),
            notes: p.notes.clone(),
        }
    }
}

/// The referral `raw` for the caller; with `reveal`, its personal part read with that purpose.
async fn read(app: &App, caller: &Caller, raw: &str, reveal: Option<Purpose>) -> Result<Referral, ApiError> {
    let id: ReferralId = path_id(raw)?;
    let request = intake::GetReferralRequest {
        referral_id: id.to_string(),
        purpose: reveal.map(|p| p.code().to_owned()).unwrap_or_default(),
    };
    let mut client = caller.intake(app)?;
    let got = client.get_referral(request).await.or_api(caller)?;
    let screenings = if caller.is_partner() {
        None
    } else {
        let request =
            intake::ListScreeningsRequest { referral_id: id.to_string(), page_size: PAGE_SIZE, ..Default::default() };
        let listed = client.list_screenings(request).await.or_api(caller)?.screenings;
        Some(
            listed
                .iter()
                .map(|s| Screening {
                    screening_id: s.screening_id.clone(),
                    tool: ScreeningToolCode::of(s.tool),
                    tool_version: some(&s.tool_version),
                    result: ScreeningResultCode::of(s.result),
                    screened_at: instant(&s.screened_at),
                })
                .collect(),
        )
    };
    let referral = got.referral.unwrap_or_default();
    let personal = match (reveal, &referral.personal) {
        (Some(purpose), Some(personal)) => Some(PersonalDetails::of(purpose, personal)),
        (Some(purpose), None) => Some(PersonalDetails::of(purpose, &intake::PersonalDetails::default())),
        (None, _) => None,
    };
    Ok(Referral {
        referral_id: got.referral_id,
        youth_id: some(&got.youth_id),
        status: ReferralStatusCode::of(got.status),
        triage_tier: TierCode::of(referral.triage_tier),
        triage_reason: some(&referral.triage_reason),
        site: SiteCode::of(referral.site),
        source: SourceCode::of(referral.source),
        is_minor: got.is_minor,
        practice: referral.practice,
        received_at: instant(&referral.received_at),
        matched_at: instant(&got.matched_at),
        needs: referral.needs.clone(),
        preferred_language: some(&referral.preferred_language),
        case_id: some(&got.case_id),
        owner: some(&got.case_manager_id),
        closure_reason: ReferralClosureCode::of(got.closure_reason),
        history: got
            .history
            .iter()
            .map(|change| StatusChange {
                status: ReferralStatusCode::of(change.status),
                at: instant(&change.at),
                detail: change.detail.clone(),
            })
            .collect(),
        screenings,
        personal,
    })
}

/// One referral, coded (never its personal part).
#[utoipa::path(
    get, path = "/referrals/{referral_id}", tag = "referrals",
    params(("referral_id" = String, Path, description = "`ref_…`")),
    responses(
        (status = 200, body = Referral),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "Unknown, malformed, or not the caller's to see: one body", body = ErrorBody),
    )
)]
pub async fn get(
    State(app): State<App>,
    caller: Caller,
    Path(referral_id): Path<String>,
) -> Result<Json<Referral>, ApiError> {
    if !caller.is_partner() && !shows_queue(caller.role) {
        return Err(ApiError::forbidden(format!("role {} may not {}", caller.role, Operation::ReadReferral)));
    }
    Ok(Json(read(&app, &caller, &referral_id, None).await?))
}

/// The staff check of the page's forms: who reads referrals, and whose role may change them.
fn may_change(caller: &Caller) -> Result<(), ApiError> {
    caller.staff(shows_queue(caller.role), Operation::ReadReferral)?;
    caller.staff(Abilities::of(caller.role).act, Operation::ManageCases)
}

/// The allowed codes of one of the pages' closed lists, for a violation.
fn allowed<E>(table: &labels::Table<E>) -> String {
    labels::allowed(table)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageBody {
    pub triage_tier: TierCode,
    /// One of `law_enforcement_recovery`, `imminent_danger`, `no_safe_place_tonight`,
    /// `medical_need`, `routine`.
    #[schema(example = "imminent_danger")]
    pub triage_reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TriageAnswer {
    pub status: Option<ReferralStatusCode>,
    /// The deadline the tier sets.
    pub deadline: Option<DateTime<Utc>>,
}

/// Triage: the tier and its coded reason (moves a received referral to triaged).
#[utoipa::path(
    post, path = "/referrals/{referral_id}/triage", tag = "referrals",
    params(("referral_id" = String, Path), CsrfHeader), request_body = TriageBody,
    responses(
        (status = 200, body = TriageAnswer),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    )
)]
pub async fn triage(
    State(app): State<App>,
    caller: Caller,
    Path(referral_id): Path<String>,
    JsonBody(body): JsonBody<TriageBody>,
) -> Result<Json<TriageAnswer>, ApiError> {
    may_change(&caller)?;
    let id: ReferralId = path_id(&referral_id)?;
    let Some(reason) = labels::parse(TRIAGE_REASONS, body.triage_reason.trim()) else {
        return Err(ApiError::invalid_field(
            "triage_reason",
            format!("is not a triage reason; allowed: {}", allowed(TRIAGE_REASONS)),
        ));
    };
    let request = intake::TriageReferralRequest {
        referral_id: id.to_string(),
        triage_tier: body.triage_tier.number(),
        triage_reason: reason.to_owned(),
    };
    let answer = caller.intake(&app)?.triage_referral(request).await.or_api(&caller)?;
    Ok(Json(TriageAnswer { status: ReferralStatusCode::of(answer.status), deadline: instant(&answer.deadline) }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldBody {
    /// `true` puts the referral on hold, `false` resumes it.
    pub on_hold: bool,
    /// Required on hold: `youth_missing`, `youth_in_custody`, `youth_hospitalized`,
    /// `youth_asked_to_pause`. Left out to resume.
    pub reason: Option<String>,
}

/// The referral's status after a change.
#[derive(Debug, Serialize, ToSchema)]
pub struct Changed {
    pub referral: Referral,
}

/// Put on hold with a reason, or resume.
#[utoipa::path(
    post, path = "/referrals/{referral_id}/hold", tag = "referrals",
    params(("referral_id" = String, Path), CsrfHeader), request_body = HoldBody,
    responses(
        (status = 200, body = Changed),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    )
)]
pub async fn hold(
    State(app): State<App>,
    caller: Caller,
    Path(referral_id): Path<String>,
    JsonBody(body): JsonBody<HoldBody>,
) -> Result<Json<Changed>, ApiError> {
    may_change(&caller)?;
    let id: ReferralId = path_id(&referral_id)?;
    let reason = match (body.on_hold, body.reason.as_deref().map(str::trim)) {
        (true, Some(reason)) => labels::parse(HOLD_REASONS, reason).ok_or_else(|| {
            ApiError::invalid_field("reason", format!("is not a hold reason; allowed: {}", allowed(HOLD_REASONS)))
        })?,
        (true, None) => {
            return Err(ApiError::invalid_field(
                "reason",
                format!("is required to put a referral on hold; allowed: {}", allowed(HOLD_REASONS)),
            ));
        }
        (false, None) => "resumed",
        (false, Some(_)) => {
            return Err(ApiError::invalid_field("reason", "is given only to put on hold; allowed: leave it out"));
        }
    };
    let request = intake::SetReferralHoldRequest {
        referral_id: id.to_string(),
        on_hold: body.on_hold,
        reason: reason.to_owned(),
    };
    caller.intake(&app)?.set_referral_hold(request).await.or_api(&caller)?;
    Ok(Json(Changed { referral: read(&app, &caller, &referral_id, None).await? }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    /// One of `enrolled`, `declined_services`, `unreachable`, `ineligible`, `duplicate`, `missing`.
    pub reason: ReferralClosureCode,
    /// For `duplicate`: the referral it duplicates (`ref_…`).
    pub duplicate_of_referral_id: Option<String>,
}

/// Close with a reason.
#[utoipa::path(
    post, path = "/referrals/{referral_id}/close", tag = "referrals",
    params(("referral_id" = String, Path), CsrfHeader), request_body = CloseBody,
    responses(
        (status = 200, body = Changed),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    )
)]
pub async fn close(
    State(app): State<App>,
    caller: Caller,
    Path(referral_id): Path<String>,
    JsonBody(body): JsonBody<CloseBody>,
) -> Result<Json<Changed>, ApiError> {
    may_change(&caller)?;
    let id: ReferralId = path_id(&referral_id)?;
    if labels::code(CLOSURE_REASONS, body.reason.0).is_none() {
        return Err(ApiError::invalid_field(
            "reason",
            format!("is not a reason staff close a referral with; allowed: {}", allowed(CLOSURE_REASONS)),
        ));
    }
    let request = intake::CloseReferralRequest {
        referral_id: id.to_string(),
        reason: body.reason.number(),
        duplicate_of_referral_id: body.duplicate_of_referral_id.unwrap_or_default().trim().to_owned(),
    };
    caller.intake(&app)?.close_referral(request).await.or_api(&caller)?;
    Ok(Json(Changed { referral: read(&app, &caller, &referral_id, None).await? }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealBody {
    /// Why the personal details are needed, from the closed list: `triage`, `safety_planning`,
    /// `case_management`, `mandated_reporting`, `returning_youth_matching`, `routing_review`,
    /// `supervision`, `survivor_request`, `record_correction`, `court_order`, `emergency_access`.
    #[schema(example = "safety_planning")]
    pub purpose: String,
}

/// The personal details, read with a purpose (audited by intake with it). Only this answer holds
/// them; nothing keeps them.
#[utoipa::path(
    post, path = "/referrals/{referral_id}/reveal", tag = "referrals",
    params(("referral_id" = String, Path), CsrfHeader), request_body = RevealBody,
    responses(
        (status = 200, body = Referral),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn reveal(
    State(app): State<App>,
    caller: Caller,
    Path(referral_id): Path<String>,
    JsonBody(body): JsonBody<RevealBody>,
) -> Result<Json<Referral>, ApiError> {
    caller.staff(shows_queue(caller.role), Operation::ReadReferral)?;
    caller.staff(Abilities::of(caller.role).reveal, Operation::ReadPersonalDetails)?;
    path_id::<ReferralId>(&referral_id)?;
    let Some(purpose) = labels::parse(REVEAL_PURPOSES, body.purpose.trim()) else {
        return Err(ApiError::invalid(vec![FieldViolation::new(
            "purpose",
            format!(
                "is not a purpose staff reveal personal details for (it is recorded with your name in the access \
                 log); allowed: {}",
                allowed(REVEAL_PURPOSES)
            ),
        )]));
    };
    Ok(Json(read(&app, &caller, &referral_id, Some(purpose)).await?))
}
