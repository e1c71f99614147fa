//! What the partner that serves a referral's youth now (it accepted an offer in the case's current
//! episode, the case open) reads of the referral through `GetReferral`. DESIGN.md privacy rule 2: a
//! partner sees "the coded facts of an offer made to it (enough to decide)" and, beyond them, only
//! "under an active release naming it, the released categories" (`GetReleasedDetails`). So its
//! referral holds exactly the coded facts routing's `Offer` carries — needs, preferred language,
//! triage tier, site, practice (minor or not is the response's `is_minor`; the offer's age in years
//! has no field in a referral) — and nothing else: no screenings, trafficking status, exploitation,
//! arrest, income, education or living-situation history, no engagement approach, no source, and
//! never who referred the youth. Its history and match are the current episode's only: an earlier
//! episode of the youth's case is not the partner's to know.

use wf_proto::intake::v1 as pb;

/// The referral the receiving partner reads: the offer's coded facts of `referral`, copied field by
/// field into an empty record. Every field of `Referral` is named below, so a field added to it does
/// not compile until someone decides whether an offer carries it.
pub fn referral_view(referral: &pb::Referral) -> pb::Referral {
    let pb::Referral {
        // What an offer carries.
        needs,
        preferred_language,
        triage_tier,
        site,
        practice,
        // Who referred the youth (the referring organization's).
        source: _,
        referring_organization_id: _,
        referring_organization_name: _,
        external_reference: _,
        requested_partner_service_ids: _,
        channel: _,
        received_at: _,
        // Only under a release (GetReleasedDetails).
        triage_reason: _,
        personal: _,
        screenings: _,
        trafficking_status: _,
        trafficking_determined_by: _,
        trafficking_type: _,
        age_first_exploited: _,
        prior_participation_basis: _,
        former_ward_child_welfare: _,
        former_ward_juvenile_justice: _,
        income: _,
        employment: _,
        living_situation: _,
        last_grade_completed: _,
        school_status: _,
        arrests: _,
        ever_arrested: _,
        system_involvement: _,
        engagement_approach: _,
        sexual_exploitation: _,
        labor_exploitation: _,
    } = referral;
    pb::Referral {
        needs: needs.clone(),
        preferred_language: preferred_language.clone(),
        triage_tier: *triage_tier,
        site: *site,
        practice: *practice,
        ..Default::default()
    }
}

/// Whether the history entry numbered `seq` (intake's recording order) belongs to the case's current
/// episode: recorded after the reopening that started it (`episode_seq`, the reopening's own entry
/// included in the earlier side), or any entry while the referral's case never reopened.
pub fn in_current_episode(episode_seq: Option<i64>, seq: i64) -> bool {
    episode_seq.is_none_or(|start| seq > start)
}

/// One accepted offer of the referral as intake recorded it: its number in intake's recording order
/// and the instant the partner accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acceptance {
    pub recorded_seq: i64,
    pub accepted_at: i64,
}

/// When the referral was first matched in the case's current episode: `matched_at` (the first
/// acceptance ever) while the case never reopened, else the earliest acceptance recorded since the
/// reopening (none yet: `None`).
pub fn matched_in_current_episode(
    episode_seq: Option<i64>,
    matched_at: Option<i64>,
    acceptances: &[Acceptance],
) -> Option<i64> {
    match episode_seq {
        None => matched_at,
        Some(start) => acceptances.iter().filter(|a| a.recorded_seq > start).map(|a| a.accepted_at).min(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wf_proto::common::v1 as common;

    /// A referral with every field set to something other than its default. A field added to
    /// `Referral` fails to compile here too: set it, then decide in `referral_view`.
    fn everything() -> pb::Referral {
        pb::Referral {
            source: common::ReferralSource::Hotline as i32,
            referring_organization_id: "org_0193a1b2c3d4e5f60718293a4b5c6d01".into(),
            referring_organization_name: "Outside Org".into(),
            external_reference: "HL-1".into(),
            received_at: Some(prost_types::Timestamp { seconds: 1_772_000_000, nanos: 0 }),
            triage_tier: common::TriageTier::Urgent as i32,
            triage_reason: "imminent_danger".into(),
            site: common::Site::SouthLosAngeles as i32,
            needs: vec!["emergency_shelter".into()],
            preferred_language: "es".into(),
            practice: true,
            personal: Some(pb::PersonalDetails { legal_first_name: "Demo".into(), ..Default::default() }),
            screenings: vec![pb::Screening { screener_id: "usr_1".into(), ..Default::default() }],
            trafficking_status: common::TraffickingStatus::Possible as i32,
            trafficking_determined_by: common::TraffickingDeterminedBy::Ngo as i32,
            trafficking_type: common::TraffickingType::Sex as i32,
            age_first_exploited: Some(common::AgeAnswer::default()),
            prior_participation_basis: common::PriorParticipationBasis::Voluntary as i32,
            former_ward_child_welfare: common::NoYes::Yes as i32,
            former_ward_juvenile_justice: common::NoYes::Yes as i32,
            income: Some(common::Income::default()),
            employment: Some(common::Employment::default()),
            living_situation: 1,
            last_grade_completed: 1,
            school_status: 1,
            arrests: vec![pb::ArrestEvent { charge_category: "theft".into(), ..Default::default() }],
            ever_arrested: common::NoYes::Yes as i32,
            system_involvement: vec![1],
            engagement_approach: "street_outreach".into(),
            sexual_exploitation: Some(common::SexualExploitation::default()),
            labor_exploitation: Some(common::LaborExploitation::default()),
            channel: pb::IntakeChannel::Grpc as i32,
            requested_partner_service_ids: vec!["svc_0193a1b2c3d4e5f60718293a4b5c6d99".into()],
        }
    }

    #[test]
    fn the_receiving_partner_reads_exactly_the_offers_coded_facts() {
        let full = everything();
        let expected = pb::Referral {
            needs: full.needs.clone(),
            preferred_language: full.preferred_language.clone(),
            triage_tier: full.triage_tier,
            site: full.site,
            practice: full.practice,
            ..Default::default()
        };
        assert_eq!(referral_view(&full), expected);
    }

    #[test]
    fn history_and_match_are_the_current_episodes() {
        assert!(in_current_episode(None, 1), "a case never reopened: every entry");
        assert!(!in_current_episode(Some(7), 3), "before the reopening");
        assert!(!in_current_episode(Some(7), 7), "the reopening itself tells of the earlier episode");
        assert!(in_current_episode(Some(7), 8));

        let acceptances = [
            Acceptance { recorded_seq: 3, accepted_at: 100 },
            Acceptance { recorded_seq: 9, accepted_at: 900 },
            Acceptance { recorded_seq: 8, accepted_at: 950 },
        ];
        assert_eq!(matched_in_current_episode(None, Some(100), &acceptances), Some(100));
        assert_eq!(matched_in_current_episode(Some(7), Some(100), &acceptances), Some(900), "first since reopening");
        assert_eq!(matched_in_current_episode(Some(10), Some(100), &acceptances), None, "none since reopening");
    }
}
