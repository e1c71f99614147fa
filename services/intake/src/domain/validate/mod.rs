//! Validation of every field of a submitted referral: one violation per problem,
//! each naming the field path, what was wrong and what is allowed. Value 0 of an
//! enum is "missing"; "client doesn't know" and "prefers not to answer" are
//! explicit answers and always valid. The shared [`checker::Checker`] lives in `checker`; the
//! personal details and the repeated records (screenings, income, arrests) in their own parts.

mod checker;
mod limits;
mod personal;
mod records;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use wf_proto::common::v1 as common;
use wf_proto::intake::v1 as pb;
use wf_types::FieldViolation;
use wf_types::codes::SERVICE_TYPES;

use checker::{Checker, MAX_AGE, MAX_EXTERNAL_REFERENCE_LEN, MAX_SHORT_TEXT_LEN};
pub(crate) use checker::{ProtoEnum, enum_values, is_code, latest_day};

/// Validates a submitted referral; an empty list means it may be stored.
pub fn validate(referral: Option<&pb::Referral>, now: DateTime<Utc>) -> Vec<FieldViolation> {
    let Some(referral) = referral else {
        return vec![FieldViolation::new("referral", "is required")];
    };
    let mut c = Checker::new(now);
    referral_fields(&mut c, referral);
    if let Some(personal) = &referral.personal {
        personal::personal_fields(&mut c, personal);
    }
    c.violations
}

/// Validates one screening recorded on its own (`RecordScreening`): the checks a submission applies to
/// each of `referral.screenings`, under the field path `screening`, and the date is required here
/// (a screening recorded after intake always has one).
pub fn validate_screening(screening: Option<&pb::Screening>, now: DateTime<Utc>) -> Vec<FieldViolation> {
    let Some(screening) = screening else {
        return vec![FieldViolation::new("screening", "is required")];
    };
    let mut c = Checker::new(now);
    records::screening_fields(&mut c, "screening", screening);
    if screening.screened_at.is_none() {
        c.push("screening.screened_at", "is required; allowed: when the screening was done, now or earlier");
    }
    c.violations
}

/// What an answer shows of one description: the edge cuts longer ones ("…"), so a list of allowed
/// values longer than this is given over several violations.
const MAX_SHOWN_DESCRIPTION_CHARS: usize = 200;

/// Needs are codes of the closed list of service types (routing matches them against the services of
/// the directory; anything else would route on nothing). Each unknown need is named by its index,
/// never repeated (it may be free text); the allowed codes follow once, under `referral.needs`.
fn needs(c: &mut Checker, needs: &[String]) {
    let mut unknown = false;
    for (index, need) in needs.iter().enumerate() {
        if !SERVICE_TYPES.contains(&need.as_str()) {
            unknown = true;
            c.push(
                format!("referral.needs[{index}]"),
                "is not a service type code; allowed: the codes listed under referral.needs",
            );
        }
    }
    if unknown {
        for part in listed_in_parts("allowed codes", SERVICE_TYPES, MAX_SHOWN_DESCRIPTION_CHARS) {
            c.push("referral.needs", part);
        }
    }
}

/// `values` after `label`, split into as few descriptions of at most `max` characters as hold them
/// all: "label: a, b, c" or "label (1 of 2): a, b" and "label (2 of 2): c".
pub(crate) fn listed_in_parts(label: &str, values: &[&str], max: usize) -> Vec<String> {
    let whole = format!("{label}: {}", values.join(", "));
    if whole.chars().count() <= max {
        return vec![whole];
    }
    // Room for the widest header this list can need ("label (99 of 99): ").
    let room = max.saturating_sub(label.chars().count() + " (99 of 99): ".len());
    let mut parts: Vec<Vec<&str>> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut used = 0;
    for value in values {
        let width = value.chars().count();
        if !current.is_empty() && used + 2 + width > room {
            parts.push(std::mem::replace(&mut current, vec![value]));
            used = width;
        } else {
            used += if current.is_empty() { width } else { 2 + width };
            current.push(value);
        }
    }
    parts.push(current);
    let count = parts.len();
    parts.iter().enumerate().map(|(i, part)| format!("{label} ({} of {count}): {}", i + 1, part.join(", "))).collect()
}

fn referral_fields(c: &mut Checker, r: &pb::Referral) {
    c.enumeration::<common::ReferralSource>("referral.source", r.source, true);
    c.id("referral.referring_organization_id", &r.referring_organization_id, "org_");
    c.name("referral.referring_organization_name", &r.referring_organization_name, MAX_SHORT_TEXT_LEN);
    let reference = r.external_reference.trim();
    if reference.is_empty() {
        c.push(
            "referral.external_reference",
            "is required: the submitter's own reference (call or case number) makes resubmission safe",
        );
    } else if reference.len() > MAX_EXTERNAL_REFERENCE_LEN {
        c.push(
            "referral.external_reference",
            format!("is {} characters long; allowed at most {MAX_EXTERNAL_REFERENCE_LEN}", reference.len()),
        );
    } else {
        c.text("referral.external_reference", reference, MAX_EXTERNAL_REFERENCE_LEN, false);
    }
    c.instant("referral.received_at", r.received_at.as_ref());
    c.enumeration::<common::TriageTier>("referral.triage_tier", r.triage_tier, true);
    c.code("referral.triage_reason", &r.triage_reason, false, "no_safe_place_tonight");
    c.enumeration::<common::Site>("referral.site", r.site, true);
    c.list_len("referral.needs", r.needs.len(), limits::CODED);
    needs(c, &r.needs);
    let language = &r.preferred_language;
    if !language.is_empty() && (!(2..=3).contains(&language.len()) || !language.bytes().all(|b| b.is_ascii_lowercase()))
    {
        c.push("referral.preferred_language", "must be an ISO 639 code of 2 or 3 lowercase letters, e.g. en, es");
    }
    c.list_len("referral.screenings", r.screenings.len(), limits::CODED);
    for (index, screening) in r.screenings.iter().enumerate() {
        records::screening_fields(c, &format!("referral.screenings[{index}]"), screening);
    }
    c.enumeration::<common::TraffickingStatus>("referral.trafficking_status", r.trafficking_status, false);
    c.enumeration::<common::TraffickingDeterminedBy>(
        "referral.trafficking_determined_by",
        r.trafficking_determined_by,
        false,
    );
    if r.trafficking_determined_by != 0 && r.trafficking_status == 0 {
        c.push(
            "referral.trafficking_determined_by",
            "is set without referral.trafficking_status; allowed only together with a status",
        );
    }
    c.enumeration::<common::TraffickingType>("referral.trafficking_type", r.trafficking_type, false);
    if let Some(age) = &r.age_first_exploited {
        match age.answer {
            Some(common::age_answer::Answer::Years(years)) if !(1..=MAX_AGE).contains(&years) => c.push(
                "referral.age_first_exploited.years",
                format!("{years} is out of range; allowed 1 to {MAX_AGE}, or not_given with a reason"),
            ),
            Some(common::age_answer::Answer::NotGiven(reason)) => {
                c.enumeration::<common::MissingReason>("referral.age_first_exploited.not_given", reason, true)
            }
            _ => {}
        }
    }
    c.enumeration::<common::PriorParticipationBasis>(
        "referral.prior_participation_basis",
        r.prior_participation_basis,
        false,
    );
    c.enumeration::<common::NoYes>("referral.former_ward_child_welfare", r.former_ward_child_welfare, false);
    c.enumeration::<common::NoYes>("referral.former_ward_juvenile_justice", r.former_ward_juvenile_justice, false);
    if let Some(income) = &r.income {
        records::income_fields(c, income);
    }
    if let Some(employment) = &r.employment {
        records::employment_fields(c, employment);
    }
    c.enumeration::<common::LivingSituation>("referral.living_situation", r.living_situation, false);
    c.enumeration::<common::LastGradeCompleted>("referral.last_grade_completed", r.last_grade_completed, false);
    c.enumeration::<common::SchoolStatus>("referral.school_status", r.school_status, false);
    c.list_len("referral.arrests", r.arrests.len(), limits::CODED);
    for (index, arrest) in r.arrests.iter().enumerate() {
        records::arrest_fields(c, &format!("referral.arrests[{index}]"), arrest);
    }
    c.enumeration::<common::NoYes>("referral.ever_arrested", r.ever_arrested, false);
    if r.ever_arrested == common::NoYes::No as i32 && !r.arrests.is_empty() {
        c.push(
            "referral.ever_arrested",
            "is NO_YES_NO but referral.arrests lists arrests; allowed: YES, or no arrests",
        );
    }
    c.enumeration_list::<common::SystemInvolvement>(
        "referral.system_involvement",
        &r.system_involvement,
        limits::CODED,
    );
    if r.system_involvement.len() > 1 && r.system_involvement.contains(&(common::SystemInvolvement::None as i32)) {
        c.push("referral.system_involvement", "lists SYSTEM_INVOLVEMENT_NONE with other values; NONE must stand alone");
    }
    c.code("referral.engagement_approach", &r.engagement_approach, false, "survivor_mentor");
    if let Some(sexual) = &r.sexual_exploitation {
        let p = "referral.sexual_exploitation";
        c.enumeration::<common::NoYes>(&format!("{p}.ever_exchanged_sex"), sexual.ever_exchanged_sex, false);
        c.enumeration::<common::NoYes>(
            &format!("{p}.exchanged_sex_last_three_months"),
            sexual.exchanged_sex_last_three_months,
            false,
        );
        c.enumeration::<common::ExchangeCount>(
            &format!("{p}.times_last_three_months"),
            sexual.times_last_three_months,
            false,
        );
        c.enumeration::<common::NoYes>(
            &format!("{p}.ever_made_persuaded_or_forced"),
            sexual.ever_made_persuaded_or_forced,
            false,
        );
        c.enumeration::<common::NoYes>(
            &format!("{p}.made_persuaded_or_forced_last_three_months"),
            sexual.made_persuaded_or_forced_last_three_months,
            false,
        );
    }
    if let Some(labor) = &r.labor_exploitation {
        let p = "referral.labor_exploitation";
        c.enumeration::<common::NoYes>(&format!("{p}.ever_afraid_to_quit"), labor.ever_afraid_to_quit, false);
        c.enumeration::<common::NoYes>(
            &format!("{p}.ever_promised_different_work"),
            labor.ever_promised_different_work,
            false,
        );
        c.enumeration::<common::NoYes>(
            &format!("{p}.either_in_last_three_months"),
            labor.either_in_last_three_months,
            false,
        );
    }
    // Set by intake on arrival; a submitted value is overwritten but must still be a known one.
    c.enumeration::<pb::IntakeChannel>("referral.channel", r.channel, false);
    c.list_len("referral.requested_partner_service_ids", r.requested_partner_service_ids.len(), limits::CODED);
    for (index, id) in r.requested_partner_service_ids.iter().enumerate() {
        let field = format!("referral.requested_partner_service_ids[{index}]");
        if id.is_empty() {
            c.push(field, "is empty; allowed: a directory id \"svc_…\"");
        } else {
            c.id(&field, id, "svc_");
        }
    }
}
