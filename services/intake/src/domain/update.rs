//! `UpdateReferral`: applying a field mask to a stored referral. Pure; the caller validates the
//! merged referral with the same validator as a submission and re-seals the personal part.

use wf_proto::intake::v1 as pb;
use wf_types::FieldViolation;

use super::matching::FIELDS_READ;

/// Referral fields staff may complete or correct (top-level paths).
const REFERRAL_FIELDS: &[&str] = &[
    "source",
    "referring_organization_name",
    "received_at",
    "site",
    "needs",
    "preferred_language",
    "trafficking_status",
    "trafficking_determined_by",
    "trafficking_type",
    "age_first_exploited",
    "prior_participation_basis",
    "former_ward_child_welfare",
    "former_ward_juvenile_justice",
    "income",
    "employment",
    "living_situation",
    "last_grade_completed",
    "school_status",
    "arrests",
    "ever_arrested",
    "system_involvement",
    "engagement_approach",
    "sexual_exploitation",
    "labor_exploitation",
    "requested_partner_service_ids",
    "personal",
];

/// Personal fields, as `personal.<field>`.
const PERSONAL_FIELDS: &[&str] = &[
    "legal_first_name",
    "legal_last_name",
    "preferred_name",
    "aliases",
    "date_of_birth",
    "estimated_age",
    "name_data_quality",
    "dob_data_quality",
    "phones",
    "emails",
    "online_handles",
    "address",
    "safe_contact",
    "guardians",
    "notes",
    "pronouns",
];

/// Fields that are not corrected through `UpdateReferral`, with where they are changed instead.
fn not_updatable(path: &str) -> Option<&'static str> {
    Some(match path {
        "referring_organization_id" | "external_reference" => {
            "is part of the idempotency key and never changes; submit a new referral instead"
        }
        "triage_tier" | "triage_reason" => "is set with TriageReferral",
        "screenings" => "is added to with RecordScreening",
        "practice" => "is fixed at submission (practice referrals never count and can be purged)",
        "channel" => "is set by intake",
        _ => return None,
    })
}

/// What an update changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateOutcome {
    /// Paths whose value actually changed, in mask order.
    pub changed: Vec<String>,
    /// A personal field changed: the personal part must be re-sealed.
    pub personal_changed: bool,
    /// An identity field changed: returning-youth matching must run again.
    pub identity_changed: bool,
}

macro_rules! copy_changed {
    ($path:expr, $to:expr, $from:expr, [$($field:ident),* $(,)?]) => {
        match $path {
            $(stringify!($field) => {
                let changed = $to.$field != $from.$field;
                $to.$field = $from.$field.clone();
                Some(changed)
            })*
            _ => None,
        }
    };
}

fn copy_referral_field(path: &str, to: &mut pb::Referral, from: &pb::Referral) -> Option<bool> {
    copy_changed!(
        path,
        to,
        from,
        [
            source,
            referring_organization_name,
            received_at,
            site,
            needs,
            preferred_language,
            trafficking_status,
            trafficking_determined_by,
            trafficking_type,
            age_first_exploited,
            prior_participation_basis,
            former_ward_child_welfare,
            former_ward_juvenile_justice,
            income,
            employment,
            living_situation,
            last_grade_completed,
            school_status,
            arrests,
            ever_arrested,
            system_involvement,
            engagement_approach,
            sexual_exploitation,
            labor_exploitation,
            requested_partner_service_ids,
            personal,
        ]
    )
}

fn copy_personal_field(path: &str, to: &mut pb::PersonalDetails, from: &pb::PersonalDetails) -> Option<bool> {
    copy_changed!(
        path,
        to,
        from,
        [
            legal_first_name,
            legal_last_name,
            preferred_name,
            aliases,
            date_of_birth,
            estimated_age,
            name_data_quality,
            dob_data_quality,
            phones,
            emails,
            online_handles,
            address,
            safe_contact,
            guardians,
            notes,
            pronouns,
        ]
    )
}

/// Checks the mask's paths: each known, updatable and listed once. One violation per bad path.
fn check_paths(paths: &[String]) -> Vec<FieldViolation> {
    if paths.is_empty() {
        return vec![FieldViolation::new(
            "update_mask",
            "is required: list the field paths to change, e.g. income, personal.safe_contact",
        )];
    }
    let mut violations = Vec::new();
    for (index, path) in paths.iter().enumerate() {
        let field = format!("update_mask.paths[{index}]");
        if paths[..index].contains(path) {
            violations.push(FieldViolation::new(field, "appears twice; list each path once"));
        } else if let Some(reason) = not_updatable(path) {
            violations.push(FieldViolation::new(field, format!("\"{path}\" {reason}")));
        } else if let Some(personal) = path.strip_prefix("personal.") {
            if !PERSONAL_FIELDS.contains(&personal) {
                violations.push(FieldViolation::new(
                    field,
                    format!(
                        "is not a field of PersonalDetails; allowed: personal.{}",
                        PERSONAL_FIELDS.join(", personal.")
                    ),
                ));
            }
        } else if !REFERRAL_FIELDS.contains(&path.as_str()) {
            violations.push(FieldViolation::new(
                field,
                format!(
                    "is not an updatable field of Referral; allowed: {}, or personal.<field>",
                    REFERRAL_FIELDS.join(", ")
                ),
            ));
        }
    }
    violations
}

/// Copies the masked fields of `from` onto `to` (whose `personal` holds the opened personal part).
/// A path named in the mask but unset in `from` clears that field, as field masks do.
pub fn apply_update_mask(
    to: &mut pb::Referral,
    from: &pb::Referral,
    paths: &[String],
) -> Result<UpdateOutcome, Vec<FieldViolation>> {
    let violations = check_paths(paths);
    if !violations.is_empty() {
        return Err(violations);
    }
    let empty = pb::PersonalDetails::default();
    let mut outcome = UpdateOutcome::default();
    for path in paths {
        let changed = if let Some(personal) = path.strip_prefix("personal.") {
            let source = from.personal.as_ref().unwrap_or(&empty);
            let target = to.personal.get_or_insert_with(Default::default);
            let changed = copy_personal_field(personal, target, source).unwrap_or(false);
            if changed {
                outcome.personal_changed = true;
                // A field the returning-youth matcher reads: the referral is matched again.
                outcome.identity_changed |= FIELDS_READ.contains(&path.as_str());
            }
            changed
        } else {
            let changed = copy_referral_field(path, to, from).unwrap_or(false);
            if changed && path == "personal" {
                outcome.personal_changed = true;
                outcome.identity_changed = true;
            }
            changed
        };
        if changed {
            outcome.changed.push(path.clone());
        }
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wf_proto::common::v1 as common;

    fn stored() -> pb::Referral {
        pb::Referral {
            external_reference: "HL-1".into(),
            site: common::Site::SouthLosAngeles as i32,
            needs: vec!["mental_health".into()],
            personal: Some(pb::PersonalDetails {
                legal_first_name: "Fictional".into(),
                notes: "kept".into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn paths(list: &[&str]) -> Vec<String> {
        list.iter().map(|p| (*p).to_owned()).collect()
    }

    #[test]
    fn only_masked_fields_change_and_unchanged_ones_are_not_reported() {
        let mut to = stored();
        let from = pb::Referral {
            site: common::Site::SanFernandoValley as i32,
            needs: vec!["mental_health".into()],
            preferred_language: "es".into(),
            ..Default::default()
        };
        let outcome = apply_update_mask(&mut to, &from, &paths(&["site", "needs"])).expect("applies");
        assert_eq!(outcome.changed, vec!["site".to_owned()], "needs were equal");
        assert!(!outcome.personal_changed);
        assert_eq!(to.site, common::Site::SanFernandoValley as i32);
        assert!(to.preferred_language.is_empty(), "not in the mask");
        assert_eq!(to.external_reference, "HL-1");
    }

    #[test]
    fn personal_paths_change_one_personal_field_and_flag_identity_changes() {
        let mut to = stored();
        let from = pb::Referral {
            personal: Some(pb::PersonalDetails {
                safe_contact: Some(pb::SafeContact { contacting_prohibited: true, ..Default::default() }),
                legal_first_name: "Other".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let outcome = apply_update_mask(&mut to, &from, &paths(&["personal.safe_contact"])).expect("applies");
        assert_eq!(outcome.changed, vec!["personal.safe_contact".to_owned()]);
        assert!(outcome.personal_changed && !outcome.identity_changed);
        let personal = to.personal.as_ref().expect("personal");
        assert_eq!(personal.legal_first_name, "Fictional", "not in the mask");
        assert_eq!(personal.notes, "kept");

        let outcome = apply_update_mask(&mut to, &from, &paths(&["personal.legal_first_name"])).expect("applies");
        assert!(outcome.identity_changed);
        assert_eq!(to.personal.as_ref().expect("personal").legal_first_name, "Other");
    }

    #[test]
    fn a_masked_path_unset_in_the_request_clears_the_field() {
        let mut to = stored();
        let outcome =
            apply_update_mask(&mut to, &pb::Referral::default(), &paths(&["personal.notes"])).expect("applies");
        assert_eq!(outcome.changed, vec!["personal.notes".to_owned()]);
        assert!(to.personal.expect("personal").notes.is_empty());
    }

    #[test]
    fn bad_paths_are_refused_one_violation_each() {
        let mut to = stored();
        let violations = apply_update_mask(
            &mut to,
            &pb::Referral::default(),
            &paths(&["site", "external_reference", "personal.shoe_size", "colour", "site", "triage_tier"]),
        )
        .expect_err("refused");
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "update_mask.paths[1]",
                "update_mask.paths[2]",
                "update_mask.paths[3]",
                "update_mask.paths[4]",
                "update_mask.paths[5]"
            ]
        );
        assert!(violations[0].description.contains("idempotency key"), "{}", violations[0].description);
        assert!(violations[1].description.contains("allowed: personal.legal_first_name"));
        assert!(violations[3].description.contains("appears twice"));
        assert!(violations[4].description.contains("TriageReferral"));
        assert_eq!(to, stored(), "nothing applied when a path is bad");
        let empty = apply_update_mask(&mut to, &pb::Referral::default(), &[]).expect_err("empty mask");
        assert_eq!(empty[0].field, "update_mask");
    }
}
