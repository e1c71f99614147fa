//! The one submission path: the gRPC `SubmitReferral` and the hotline webhook both
//! come here, so validation, sealing, idempotency and the `referral.received` event
//! are the same whichever door a referral uses.

use prost::Message;
use wf_auth::Role;
use wf_crypto::KeyRing;
use wf_events::{Envelope, outbox};
use wf_proto::events::v1 as events;
use wf_proto::intake::v1 as pb;
use wf_server::ApiError;
use wf_types::{ReferralId, ScreeningId, YouthId};

use super::{App, vault};
use crate::{SERVICE, domain, store};

/// Who submits: the authenticated subject (`hotline:<key id>` for the webhook), the role it acts in,
/// and the organization its credentials name (a partner's; a hotline client's when its token carries
/// one). Staff and services have none: they may enter a referral on an organization's behalf (named in
/// the body) and are recorded as themselves (subject and role).
pub struct Submitter<'a> {
    pub subject: &'a str,
    pub role: Role,
    pub organization: Option<&'a str>,
    pub channel: pb::IntakeChannel,
}

impl Submitter<'_> {
    fn origin(&self) -> domain::Origin<'_> {
        domain::Origin { subject: self.subject, organization: self.organization }
    }
}

/// Validates, seals the personal part, stores once per (caller's namespace, external reference) and
/// announces `referral.received`. A caller with an organization submits only as it (a different
/// `referring_organization_id` is refused; an empty one is filled in). A resubmission by the caller that
/// owns the first referral answers with it (`duplicate`: its id, the submitter's status and the youth
/// id the first submission was answered with, never the youth a confirmed match linked it to since);
/// a key held by anyone else answers ALREADY_EXISTS without its ids (the namespace is the caller's
/// own, so only rows stored before it was can collide).
pub async fn submit(
    app: &App,
    submitter: &Submitter<'_>,
    request: pb::SubmitReferralRequest,
) -> Result<pb::SubmitReferralResponse, ApiError> {
    let (db, relay) = (&app.db, &app.relay);
    let keys = app.keys.current();
    let now = app.clock.now();
    let today = now.date_naive();
    let origin = submitter.origin();
    let mut violations = domain::validate(request.referral.as_ref(), now);
    if let Some(referral) = &request.referral {
        violations.extend(domain::referring_organization_violation(referral, origin));
    }
    ApiError::check(violations)?;
    let mut referral = request.referral.unwrap_or_default();
    referral.channel = submitter.channel as i32;
    if let Some(organization) = origin.organization {
        referral.referring_organization_id = organization.to_owned();
    }
    // Screening ids are intake's: a submitted id is replaced, like the channel.
    for screening in &mut referral.screenings {
        screening.screening_id = ScreeningId::generate().to_string();
    }
    let facts = domain::derive_facts(&referral, today);
    let dedupe_key = domain::dedupe_key(origin, &referral.external_reference);
    let referral_id = ReferralId::generate();
    let youth_id = YouthId::generate();
    let received_at = referral.received_at.as_ref().and_then(wf_proto::time::datetime).unwrap_or(now);
    referral.received_at = Some(wf_proto::time::timestamp(received_at));

    let personal = referral.personal.take();
    let sealed = match &personal {
        Some(personal) => {
            Some(vault::seal_personal(&keys, referral_id.as_str(), personal).map_err(ApiError::internal)?)
        }
        None => None,
    };
    let event = events::ReferralReceived {
        referral_id: referral_id.to_string(),
        source: referral.source,
        referring_organization_id: referral.referring_organization_id.clone(),
        triage_tier: referral.triage_tier,
        site: referral.site,
        needs: referral.needs.clone(),
        preferred_language: referral.preferred_language.clone(),
        is_minor: facts.is_minor,
        outside_youth_program: facts.outside_youth_program,
        practice: referral.practice,
        received_at: referral.received_at,
        youth_id: youth_id.to_string(),
        age_years: facts.age_years.unwrap_or(0),
        trafficking_type: referral.trafficking_type,
        trafficking_status: referral.trafficking_status,
        system_involvement: referral.system_involvement.clone(),
        engagement_approach: referral.engagement_approach.clone(),
        contacting_prohibited: personal
            .as_ref()
            .and_then(|p| p.safe_contact.as_ref())
            .is_some_and(|safe| safe.contacting_prohibited),
        requested_partner_service_ids: referral.requested_partner_service_ids.clone(),
        // Baseline codes for the evaluation (codes and counts only).
        age_first_exploited: referral.age_first_exploited,
        prior_participation_basis: referral.prior_participation_basis,
        former_ward_child_welfare: referral.former_ward_child_welfare,
        former_ward_juvenile_justice: referral.former_ward_juvenile_justice,
        any_income: referral.income.as_ref().map_or(0, |income| income.any_income),
        employed: referral.employment.as_ref().map_or(0, |employment| employment.employed),
        living_situation: referral.living_situation,
        last_grade_completed: referral.last_grade_completed,
        school_status: referral.school_status,
        ever_arrested: referral.ever_arrested,
        arrest_count: i32::try_from(referral.arrests.len()).unwrap_or(i32::MAX),
        prostitution_arrest_count: i32::try_from(
            referral
                .arrests
                .iter()
                .filter(|arrest| arrest.prostitution_related == wf_proto::common::v1::NoYes::Yes as i32)
                .count(),
        )
        .unwrap_or(i32::MAX),
        ..Default::default()
    };
    let envelope = Envelope::new(SERVICE, referral_id.as_str(), referral_id.as_str(), &event);

    let mut tx = db.begin().await?;
    let inserted = store::insert_referral(
        &mut tx,
        &store::NewReferral {
            id: referral_id.as_str(),
            youth_id: youth_id.as_str(),
            dedupe_key: &dedupe_key,
            submitted_by: submitter.subject,
            submitted_by_role: submitter.role.as_str(),
            submitted_by_partner: submitter.organization,
            referring_organization_id: &referral.referring_organization_id,
            source: referral.source,
            triage_tier: referral.triage_tier,
            site: referral.site,
            practice: referral.practice,
            is_minor: facts.is_minor,
            outside_program: facts.outside_youth_program,
            status: pb::ReferralStatus::Received as i32,
            coded: referral.encode_to_vec(),
            personal_sealed: sealed.clone(),
            personal_key_version: sealed.as_deref().and_then(|s| KeyRing::key_version_of(s).ok()).map(|v| v as i32),
            received_at: wf_db::to_micros(received_at),
            created_at: wf_db::to_micros(now),
        },
    )
    .await?;
    if !inserted {
        let existing = store::find_by_dedupe_key(&mut tx, &dedupe_key)
            .await?
            .ok_or_else(|| ApiError::Unavailable("a concurrent submission is still settling, retry".into()))?;
        tx.commit().await?;
        let stored =
            domain::Origin { subject: &existing.submitted_by, organization: existing.submitted_by_partner.as_deref() };
        if !origin.submitted(stored) {
            // Never the other submitter's referral id, youth id or status.
            tracing::warn!(referral.id = %existing.id, "external reference held by another submitter");
            return Err(ApiError::AlreadyExists(
                "referral.external_reference is already used by another submitter; use a new external_reference".into(),
            ));
        }
        tracing::debug!(referral.id = %existing.id, "duplicate submission answered with the existing referral");
        return Ok(pb::SubmitReferralResponse {
            referral_id: existing.id,
            duplicate: true,
            status: existing.status,
            youth_id: existing.youth_id,
        });
    }
    store::record_status_change(
        &mut tx,
        referral_id.as_str(),
        &envelope.event_id.to_string(),
        pb::ReferralStatus::Received as i32,
        wf_db::to_micros(now),
        "",
    )
    .await?;
    for screening in &referral.screenings {
        store::screenings::insert(
            &mut tx,
            &store::screenings::ScreeningRow::submitted(
                referral_id.as_str(),
                screening,
                submitter.subject,
                referral.practice,
                true,
            ),
            wf_db::to_micros(now),
        )
        .await?;
    }
    outbox::enqueue(&mut tx, db.backend(), &envelope).await?;
    tx.commit().await?;
    relay.wake();
    tracing::debug!(referral.id = %referral_id, tier = referral.triage_tier, site = referral.site, practice = referral.practice, "referral received");
    Ok(pb::SubmitReferralResponse {
        referral_id: referral_id.to_string(),
        duplicate: false,
        status: pb::ReferralStatus::Received as i32,
        youth_id: youth_id.to_string(),
    })
}
