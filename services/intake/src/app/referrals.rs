//! The referral itself: submitting it through the gRPC door, reading it (personal details only with a
//! purpose, each such read an audited event), and listing summaries with their filters and deadlines.

use prost::Message;
use wf_auth::{Operation, Principal, Role};
use wf_events::{Envelope, outbox};
use wf_proto::common::v1::TriageTier;
use wf_proto::intake::v1 as pb;
use wf_proto::time::timestamp_from_micros as timestamp;
use wf_server::ApiError;
use wf_server::pagination::{next_page, page_token};
use wf_types::{Purpose, ReferralId};

use super::vault::personal_aad;
use super::{App, PAGE_LIMITS, in_scope, own_organization};
use crate::domain::{deadline, listing, progress, receiving, submitter};
use crate::{SERVICE, store};

impl App {
    pub(crate) async fn submit(
        &self,
        principal: &Principal,
        request: pb::SubmitReferralRequest,
    ) -> Result<pb::SubmitReferralResponse, ApiError> {
        let submitter = super::submit::Submitter {
            subject: &principal.subject,
            role: principal.role,
            organization: own_organization(principal),
            channel: pb::IntakeChannel::Grpc,
        };
        super::submit::submit(self, &submitter, request).await
    }

    /// One referral, as each caller may read it (anything outside the caller's scope is NOT_FOUND,
    /// the same answer as an unknown id; each read is a `record.accessed` event before the answer):
    /// - staff, services and program managers: the current coded record, the status, the whole
    ///   history (with event ids and details), the youth, case and case manager ids, `matched_at`
    ///   and the closure reason; the personal details too for staff who may read them and give a
    ///   purpose (fields [`CODED_FIELD`], plus "personal");
    /// - the partner that submitted it: the coded record as it submitted it
    ///   ([`submitter::partner_record`]: never a later triage, correction or screening; of its
    ///   screenings those it submitted, a screener only of its own organization), the minor flag as
    ///   submitted, and the submitter's status and history ([`submitter_partner_view`]; fields
    ///   [`CODED_FIELD`]);
    /// - the partner that serves it now ([`App::serves`]): only the coded facts an offer carries
    ///   ([`receiving::referral_view`]; everything else only under a release, through
    ///   `GetReleasedDetails`), the status, the current episode's history and match, the closure
    ///   reason and the case id so it can act on the case it serves ([`receiving_partner_view`];
    ///   fields [`OFFER_FACTS_FIELD`]);
    /// - a hotline: only the submitter's status and history ([`status_view`]; fields
    ///   [`STATUS_FIELD`]).
    pub(crate) async fn get(
        &self,
        principal: &Principal,
        request: pb::GetReferralRequest,
    ) -> Result<pb::GetReferralResponse, ApiError> {
        let mut violations = Vec::new();
        let purpose = Purpose::optional(&request.purpose, "purpose", &mut violations);
        ApiError::check(violations)?;
        let not_found = || super::not_found("referral", &request.referral_id);
        let stored = store::get_referral(&self.db, &request.referral_id).await?.ok_or_else(not_found)?;
        let submitted = in_scope(principal, stored.origin());
        let receiving = !submitted && self.serves(principal, &stored.id).await?;
        if !submitted && !receiving {
            self.out_of_scope(principal, "GetReferral", &stored.id);
            return Err(not_found());
        }
        let history = store::history(&self.db, &stored.id).await?;
        let purpose_code = purpose.map(|p| p.code()).unwrap_or_default();
        let access = |fields: &[&str]| {
            let fields = fields.iter().map(|field| (*field).to_owned()).collect();
            self.access_envelope(principal, &stored.id, purpose_code, fields, "")
        };
        if !wf_auth::is_allowed(principal.role, Operation::ReadReferral) {
            // ReadReferralStatus alone (a hotline): the status of what it submitted, nothing else.
            // Still a read of the youth's referral, on the record with what it returned.
            self.commit_access(access(&[STATUS_FIELD])).await?;
            return Ok(status_view(stored, &history));
        }
        if principal.role == Role::Partner {
            // Partners read personal details only under a release (GetReleasedDetails).
            if submitted {
                let as_submitted =
                    pb::Referral::decode(stored.submitted_coded.as_slice()).map_err(ApiError::internal)?;
                let screenings = store::screenings::submitted_ids(&self.db, &stored.id).await?;
                let partner = own_organization(principal).unwrap_or(NO_ORGANIZATION);
                let referral = submitter::partner_record(as_submitted, &screenings, partner);
                self.commit_access(access(&[CODED_FIELD])).await?;
                return Ok(submitter_partner_view(stored, referral, &history));
            }
            let current = pb::Referral::decode(stored.coded.as_slice()).map_err(ApiError::internal)?;
            let referral = receiving::referral_view(&current);
            let acceptances = store::acceptances(&self.db, &stored.id).await?;
            self.commit_access(access(&[OFFER_FACTS_FIELD])).await?;
            return Ok(receiving_partner_view(stored, referral, &history, &acceptances));
        }
        let mut referral = pb::Referral::decode(stored.coded.as_slice()).map_err(ApiError::internal)?;
        let mut fields = vec![CODED_FIELD];
        let reads_personal = purpose.is_some() && wf_auth::is_allowed(principal.role, Operation::ReadPersonalDetails);
        if reads_personal && let Some(sealed) = &stored.personal_sealed {
            let plain = self.keys.current().decrypt(sealed, &personal_aad(&stored.id)).map_err(ApiError::internal)?;
            referral.personal = Some(pb::PersonalDetails::decode(plain.as_slice()).map_err(ApiError::internal)?);
            fields.push("personal");
        }
        self.commit_access(access(&fields)).await?;
        let history = history
            .into_iter()
            .map(|row| pb::StatusChange {
                status: row.status,
                at: Some(timestamp(row.at)),
                event_id: row.event_id,
                detail: row.detail,
            })
            .collect();
        Ok(pb::GetReferralResponse {
            referral_id: stored.id,
            referral: Some(referral),
            status: stored.status,
            history,
            youth_id: stored.youth_id,
            is_minor: stored.is_minor,
            matched_at: stored.matched_at.map(timestamp),
            case_id: stored.case_id.unwrap_or_default(),
            closure_reason: stored.closure_reason.unwrap_or_default(),
            case_manager_id: stored.case_manager_id.unwrap_or_default(),
        })
    }

    /// Whether `principal` is a partner that serves the youth now: it accepted an offer for the
    /// referral in its case's current episode, and the case is not closed
    /// ([`crate::domain::progress::serves_now`]).
    pub(crate) async fn serves(&self, principal: &Principal, referral_id: &str) -> Result<bool, ApiError> {
        match own_organization(principal).filter(|_| principal.role == Role::Partner) {
            Some(partner) => Ok(store::progress::serves_now(&self.db, referral_id, partner).await?),
            None => Ok(false),
        }
    }

    /// Commits several access events in one transaction (a list read touching several referrals),
    /// before the data they record is returned.
    pub(crate) async fn commit_accesses(&self, accesses: Vec<Envelope>) -> Result<(), ApiError> {
        if accesses.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin().await?;
        for access in &accesses {
            outbox::enqueue(&mut tx, self.db.backend(), access).await?;
        }
        tx.commit().await?;
        self.relay.wake();
        Ok(())
    }

    /// Commits an access event ([`App::access_envelope`]) alone, before the data it records is returned.
    pub(crate) async fn commit_access(&self, access: Envelope) -> Result<(), ApiError> {
        let mut tx = self.db.begin().await?;
        outbox::enqueue(&mut tx, self.db.backend(), &access).await?;
        tx.commit().await?;
        self.relay.wake();
        Ok(())
    }

    /// The `record.accessed` event of a read of `fields` of a referral by `principal`. Every read of
    /// personal data and of a coded record (`referral.coded`, `referral.status`, `referral.screenings`,
    /// `referral.mandated_reports`) is an audited event: the field paths returned, the purpose code
    /// when one was given and, for a partner, the release(s) that allowed it (comma-separated when
    /// several).
    pub(crate) fn access_envelope(
        &self,
        principal: &Principal,
        referral_id: &str,
        purpose: &str,
        fields: Vec<String>,
        release_id: &str,
    ) -> Envelope {
        self.access_envelope_of(principal, referral_id, referral_id, purpose, fields, release_id)
    }

    /// As [`App::access_envelope`], for any record (a youth) read in the course of `referral_id`'s work.
    pub(crate) fn access_envelope_of(
        &self,
        principal: &Principal,
        record_id: &str,
        referral_id: &str,
        purpose: &str,
        fields: Vec<String>,
        release_id: &str,
    ) -> Envelope {
        let mut access =
            wf_server::access::record_accessed(principal, record_id, purpose, fields, self.clock.now_micros());
        access.release_id = release_id.to_owned();
        Envelope::new(SERVICE, record_id, referral_id, &access)
    }

    /// Summaries, newest first, narrowed by the request's filters. A partner lists what its
    /// organization submitted, as submitted and filtered by what it is shown ([`summary`]), without
    /// youth, case or case manager ids; each summary returned is a `record.accessed` event (fields
    /// [`SUMMARY_FIELD`]).
    pub(crate) async fn list(
        &self,
        principal: &Principal,
        request: pb::ListReferralsRequest,
    ) -> Result<pb::ListReferralsResponse, ApiError> {
        let partner = principal.role == Role::Partner;
        let mut violations = Vec::new();
        let page_size = PAGE_LIMITS.size_within(request.page_size, &mut violations);
        page_token::<ReferralId>(&request.page_token, &mut violations);
        let filter = match listing::parse_filter(&request, partner) {
            Ok(filter) => Some(filter),
            Err(filter_violations) => {
                violations.extend(filter_violations);
                None
            }
        };
        ApiError::check(violations)?;
        let filter = filter.unwrap_or_default();
        // A partner lists what its organization submitted (a partner token without one: nothing).
        let submitted_by_partner = partner.then(|| own_organization(principal).unwrap_or(NO_ORGANIZATION));
        let mut rows = store::list_referrals(
            &self.db,
            &store::ListFilter {
                submitted_by_partner,
                include_practice: request.include_practice,
                statuses: &filter.statuses,
                site: filter.site,
                triage_tier: filter.triage_tier,
                referring_organization_id: filter.referring_organization_id.as_deref(),
                received_from: filter.received_from,
                received_before: filter.received_before,
                youth_id: filter.youth_id.as_deref(),
                source: filter.source,
                case_manager_id: filter.case_manager_id.as_deref(),
                unassigned_only: filter.unassigned_only,
                before_id: (!request.page_token.is_empty()).then_some(request.page_token.as_str()),
                limit: page_size as i64 + 1,
            },
        )
        .await?;
        let next_page_token = next_page(&mut rows, page_size, |row| row.id.clone());
        let referrals = rows.into_iter().map(|row| summary(row, partner)).collect::<Result<Vec<_>, _>>()?;
        // Each referral listed is a read of its summary, on the record before the page is returned.
        let accesses = referrals
            .iter()
            .map(|summary| self.access_envelope(principal, &summary.referral_id, "", vec![SUMMARY_FIELD.into()], ""))
            .collect();
        self.commit_accesses(accesses).await?;
        Ok(pb::ListReferralsResponse { referrals, next_page_token })
    }
}

/// A listed referral. A partner (who lists only what it submitted) is not told which youth it was
/// found to be nor where the youth went or who holds the case (no youth, case or case manager id,
/// as GetReferral); it is shown the referral as it submitted it (source, tier, site, receipt, minor
/// flag, needs and language: the store's submitted columns, never a later triage or correction), the
/// submitter's status (`domain::submitter`) and, as deadline, only the submitted tier's time limit
/// while that is open ([`deadline::for_partner`]).
fn summary(row: store::SummaryRow, partner: bool) -> Result<pb::ReferralSummary, ApiError> {
    let coded = pb::Referral::decode(row.coded.as_slice()).map_err(ApiError::internal)?;
    let shown = if partner { row.submitter_status } else { row.status };
    let status = pb::ReferralStatus::try_from(shown).unwrap_or(pb::ReferralStatus::Unspecified);
    let mandated = match (row.is_minor != 0, row.mandated_reports) {
        (false, _) => deadline::Mandated::NotRequired,
        (true, 0) => deadline::Mandated::NoReport,
        (true, _) => deadline::Mandated::Reported { written_due: row.written_report_due },
    };
    let step = row.matching_step.as_deref().and_then(progress::Matching::from_code);
    let facts = deadline::DeadlineFacts {
        status,
        tier: TriageTier::try_from(row.triage_tier).unwrap_or(TriageTier::Unspecified),
        received_at: row.received_at,
        matched: row.matched_at.is_some(),
        first_contact: row.first_contact_at.is_some(),
        pending_offer_deadline: progress::waiting_offer_deadline(step, row.offer_deadline, row.matched_at.is_some()),
        mandated,
    };
    let due = if partner { deadline::for_partner(&facts) } else { deadline::current(&facts) };
    Ok(pb::ReferralSummary {
        referral_id: row.id,
        youth_id: if partner { String::new() } else { row.youth_id },
        source: row.source,
        referring_organization_id: row.referring_organization_id,
        received_at: Some(timestamp(row.received_at)),
        triage_tier: row.triage_tier,
        site: row.site,
        status: shown,
        is_minor: row.is_minor != 0,
        practice: row.practice != 0,
        deadline: due.map(|due| timestamp(due.at)),
        case_id: if partner { String::new() } else { row.case_id.unwrap_or_default() },
        case_manager_id: if partner { String::new() } else { row.case_manager_id.unwrap_or_default() },
        needs: coded.needs,
        preferred_language: coded.preferred_language,
    })
}

/// Matches no stored organization: the list scope of a partner whose token names none.
pub(crate) const NO_ORGANIZATION: &str = "-";

/// The field path a list read records for each referral listed: its summary (coded facts and status).
pub(crate) const SUMMARY_FIELD: &str = "referral.summary";

/// The field path a coded read records: the referral's coded record (facts, screenings, ids), or
/// for its submitting partner the record as it submitted it.
pub(crate) const CODED_FIELD: &str = "referral.coded";

/// The field path the receiving partner's read records: the coded facts an offer carries
/// ([`receiving::referral_view`]), with the status and the current episode's history.
pub(crate) const OFFER_FACTS_FIELD: &str = "referral.offer_facts";

/// The field path a status read records (a hotline's [`status_view`]): the referral's status and
/// its status history (statuses and instants only).
pub(crate) const STATUS_FIELD: &str = "referral.status";

/// The submitter's view (`domain::submitter`) of a stored referral and its history.
fn submitter_view(stored: &store::StoredReferral, history: &[store::HistoryRow]) -> submitter::View {
    let entries: Vec<submitter::Entry> =
        history.iter().map(|row| submitter::Entry { seq: row.seq, status: row.status, at: row.at }).collect();
    // Dated against the receipt as submitted: a later correction of it is not the submitter's to see.
    submitter::view(stored.status, stored.submitted_received_at, stored.matched_at, &entries, stored.hand_off.as_ref())
}

/// The submitter's history entries: status and instant only (no event id, no detail).
fn changes(view: &submitter::View) -> Vec<pb::StatusChange> {
    view.history
        .iter()
        .map(|&(status, at)| pb::StatusChange { status, at: Some(timestamp(at)), ..Default::default() })
        .collect()
}

/// What a caller that may read only the status of a referral (role hotline) gets: the referral id,
/// the submitter's status and history (`domain::submitter`: nothing after the referral left
/// intake's hands) as (status, instant) only. No coded record, no youth, case or case manager id, no
/// minor flag, no matched instant, no closure reason, no event ids, no history detail (which names
/// the serving partner and the case manager), no deadline.
fn status_view(stored: store::StoredReferral, history: &[store::HistoryRow]) -> pb::GetReferralResponse {
    let view = submitter_view(&stored, history);
    pb::GetReferralResponse {
        referral_id: stored.id,
        status: view.status,
        history: changes(&view),
        ..Default::default()
    }
}

/// What the partner that submitted a referral gets: `referral`, the coded record as it submitted it
/// ([`submitter::partner_record`]), the minor flag as submitted, the submitter's status and history
/// (`domain::submitter`) without event ids or details, when it was matched if that was before the
/// hand-off, and the closure reason only of a staff closure while the referral was in intake's
/// hands. Never the youth, case or case manager id.
fn submitter_partner_view(
    stored: store::StoredReferral,
    referral: pb::Referral,
    history: &[store::HistoryRow],
) -> pb::GetReferralResponse {
    let view = submitter_view(&stored, history);
    pb::GetReferralResponse {
        referral_id: stored.id,
        referral: Some(referral),
        status: view.status,
        history: changes(&view),
        youth_id: String::new(),
        is_minor: stored.submitted_is_minor,
        matched_at: view.matched_at.map(timestamp),
        case_id: String::new(),
        case_manager_id: String::new(),
        closure_reason: if view.closure_shown { stored.closure_reason.unwrap_or_default() } else { 0 },
    }
}

/// What the partner that serves the youth now gets: `referral`, the offer's coded facts
/// ([`receiving::referral_view`]), the minor flag, the status, the history entries of the case's
/// current episode ([`receiving::in_current_episode`]) as (status, instant) only, the first match of
/// that episode ([`receiving::matched_in_current_episode`]), the closure reason and the case id it
/// serves. Never the youth or case manager id, nor who referred the youth.
fn receiving_partner_view(
    stored: store::StoredReferral,
    referral: pb::Referral,
    history: &[store::HistoryRow],
    acceptances: &[receiving::Acceptance],
) -> pb::GetReferralResponse {
    let history = history
        .iter()
        .filter(|row| receiving::in_current_episode(stored.episode_seq, row.seq))
        .map(|row| pb::StatusChange { status: row.status, at: Some(timestamp(row.at)), ..Default::default() })
        .collect();
    pb::GetReferralResponse {
        referral_id: stored.id,
        referral: Some(referral),
        status: stored.status,
        history,
        youth_id: String::new(),
        is_minor: stored.is_minor,
        matched_at: receiving::matched_in_current_episode(stored.episode_seq, stored.matched_at, acceptances)
            .map(timestamp),
        case_id: stored.case_id.unwrap_or_default(),
        closure_reason: stored.closure_reason.unwrap_or_default(),
        case_manager_id: String::new(),
    }
}
