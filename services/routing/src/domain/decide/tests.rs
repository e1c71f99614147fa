use std::sync::Arc;

use chrono::TimeZone;

use super::*;
use crate::domain::directory::{Capacity, ServiceArea};

const NOW_SECS: i64 = 1_790_000_000;

fn now() -> DateTime<Utc> {
    Utc.timestamp_opt(NOW_SECS, 0).unwrap()
}

fn org_id(n: u8) -> PartnerId {
    format!("org_{:032x}", n).parse().unwrap()
}

fn service(n: u8, types: &[&str], site: Site) -> PartnerService {
    PartnerService {
        id: format!("svc_{:032x}", n),
        organization_id: org_id(n),
        name: format!("Demo Service {n}"),
        description: String::new(),
        status: ServiceStatus::Active,
        service_types: types.iter().map(|t| (*t).to_owned()).collect(),
        minimum_age: 12,
        maximum_age: 24,
        serves_minors: true,
        eligibility_description: String::new(),
        service_areas: vec![ServiceArea { name: "area".into(), site, postal_codes: vec![] }],
        languages: vec!["en".into()],
        capacity: vec![Capacity { unit: "slot".into(), available: 3, maximum: 10 }],
        available_24_7: false,
    }
}

fn org(n: u8, services: Vec<PartnerService>) -> Organization {
    Organization {
        id: org_id(n),
        name: format!("Demo Org {n}"),
        description: "test".into(),
        website: String::new(),
        email: String::new(),
        victim_service_provider: false,
        in_network: true,
        active: true,
        program_team: false,
        services,
    }
}

fn team() -> Organization {
    let mut team = org(1, vec![service(1, &["intensive_case_management", "victim_advocacy"], Site::Countywide)]);
    team.program_team = true;
    team.services[0].available_24_7 = true;
    team
}

fn facts(site: Site, needs: &[&str]) -> ReferralFacts {
    ReferralFacts {
        referral_id: "ref_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d".into(),
        site,
        triage_tier: TriageTier::Routine,
        needs: needs.iter().map(|n| (*n).to_owned()).collect(),
        preferred_language: String::new(),
        is_minor: false,
        age_years: Some(19),
        outside_youth_program: false,
        practice: false,
        already_offered: Vec::new(),
    }
}

fn verdict_of<'a>(candidate: &'a Candidate, rule_id: &str) -> &'a RuleVerdict {
    candidate.verdicts.iter().find(|v| v.rule_id == rule_id).unwrap()
}

#[test]
fn service_active_fails_for_inactive_organizations_services_and_out_of_network() {
    let mut o = org(2, vec![service(2, &["education"], Site::SouthLosAngeles)]);
    assert_eq!(service_active(&o, &o.services[0]).verdict, Verdict::Pass);
    o.services[0].status = ServiceStatus::TemporarilyClosed;
    let v = service_active(&o, &o.services[0]);
    assert_eq!((v.verdict, &*v.detail.to_string()), (Verdict::Fail, "service status temporarily_closed"));
    o.services[0].status = ServiceStatus::Active;
    o.in_network = false;
    assert_eq!(service_active(&o, &o.services[0]).detail, "organization not in network");
    o.in_network = true;
    o.active = false;
    assert_eq!(service_active(&o, &o.services[0]).detail, "organization inactive");
}

#[test]
fn youth_program_sends_outside_referrals_to_the_program_team_only() {
    let partner = org(2, vec![]);
    let mut f = facts(Site::SouthLosAngeles, &[]);
    assert_eq!(youth_program(&partner, &f).verdict, Verdict::Pass);
    f.outside_youth_program = true;
    assert_eq!(youth_program(&partner, &f).verdict, Verdict::Fail);
    assert_eq!(youth_program(&team(), &f).verdict, Verdict::Pass);
}

#[test]
fn serves_site_accepts_the_site_or_countywide() {
    let south = service(2, &["education"], Site::SouthLosAngeles);
    let county = service(3, &["education"], Site::Countywide);
    assert_eq!(serves_site(&south, Site::SouthLosAngeles).detail, "serves south_los_angeles");
    assert_eq!(serves_site(&south, Site::SanFernandoValley).verdict, Verdict::Fail);
    assert_eq!(serves_site(&county, Site::SanFernandoValley).detail, "serves countywide");
    assert_eq!(serves_site(&south, Site::Unspecified).verdict, Verdict::Fail);
    assert_eq!(serves_site(&county, Site::Unspecified).verdict, Verdict::Pass);
    // A countywide referral is served only by countywide services.
    assert_eq!(serves_site(&south, Site::Countywide).verdict, Verdict::Fail);
}

#[test]
fn age_eligible_checks_the_range_and_minors() {
    let partner = org(2, vec![]);
    let mut adults_only = service(2, &["transitional_housing"], Site::SouthLosAngeles);
    adults_only.minimum_age = 18;
    adults_only.serves_minors = false;
    let mut f = facts(Site::SouthLosAngeles, &[]);
    let check = |s: &PartnerService, f: &ReferralFacts| age_eligible(&partner, s, f);

    f.age_years = Some(19);
    assert_eq!(check(&adults_only, &f).detail, "age 19 in 18..24");
    f.age_years = Some(25);
    assert_eq!(
        (check(&adults_only, &f).verdict, check(&adults_only, &f).detail.to_string()),
        (Verdict::Fail, "age 25 above 18..24".into())
    );
    f.age_years = Some(16);
    assert_eq!(check(&adults_only, &f).detail, "minor not served (adults only)");
    let youth = service(3, &["education"], Site::SouthLosAngeles);
    f.age_years = Some(11);
    assert_eq!(check(&youth, &f).detail, "age 11 below 12..24");
    // Age unknown: the minor flag decides.
    f.age_years = None;
    f.is_minor = true;
    assert_eq!(check(&adults_only, &f).verdict, Verdict::Fail);
    assert_eq!(check(&youth, &f).verdict, Verdict::Pass);
    f.is_minor = false;
    assert_eq!(check(&adults_only, &f).verdict, Verdict::Pass);
    // The minor flag wins over an inconsistent age.
    f.is_minor = true;
    f.age_years = Some(19);
    assert_eq!(check(&adults_only, &f).verdict, Verdict::Fail);
    // No maximum.
    let mut open_ended = youth.clone();
    open_ended.maximum_age = 0;
    f.is_minor = false;
    f.age_years = Some(40);
    assert_eq!(check(&open_ended, &f).detail, "age 40 in 12..any");
}

#[test]
fn age_does_not_apply_to_the_program_teams_outside_referrals() {
    let mut f = facts(Site::SouthLosAngeles, &[]);
    f.outside_youth_program = true;
    f.age_years = Some(31);
    let team = team();
    assert_eq!(age_eligible(&team, &team.services[0], &f).verdict, Verdict::NotApplicable);
}

#[test]
fn open_capacity_needs_a_free_place() {
    let mut s = service(2, &["education"], Site::SouthLosAngeles);
    assert_eq!(open_capacity(&s, 1).detail, "capacity 3/10 open");
    // The policy can ask for more open places than one.
    let v = open_capacity(&s, 4);
    assert_eq!((v.verdict, &*v.detail.to_string()), (Verdict::Fail, "capacity 3/10 open, policy needs 4"));
    assert_eq!(open_capacity(&s, 3).verdict, Verdict::Pass);
    s.capacity = vec![
        Capacity { unit: "bed".into(), available: 0, maximum: 4 },
        Capacity { unit: "slot".into(), available: 0, maximum: 6 },
    ];
    let v = open_capacity(&s, 1);
    assert_eq!((v.verdict, &*v.detail.to_string()), (Verdict::Fail, "no capacity (0/10)"));
}

#[test]
fn emergent_referrals_need_a_24_7_responder() {
    let mut s = service(2, &["crisis_intervention"], Site::SouthLosAngeles);
    let emergent = [TriageTier::Emergent];
    assert_eq!(emergent_24_7(&s, TriageTier::Emergent, &emergent).verdict, Verdict::Fail);
    assert_eq!(emergent_24_7(&s, TriageTier::Urgent, &emergent).verdict, Verdict::NotApplicable);
    assert_eq!(emergent_24_7(&s, TriageTier::Unspecified, &emergent).detail, "tier routine");
    // A policy may extend the rule to urgent referrals.
    let urgent_too = [TriageTier::Emergent, TriageTier::Urgent];
    let v = emergent_24_7(&s, TriageTier::Urgent, &urgent_too);
    assert_eq!((v.verdict, &*v.detail.to_string()), (Verdict::Fail, "urgent needs a 24/7 responder"));
    s.available_24_7 = true;
    assert_eq!(emergent_24_7(&s, TriageTier::Emergent, &emergent).verdict, Verdict::Pass);
    assert_eq!(emergent_24_7(&s, TriageTier::Urgent, &urgent_too).verdict, Verdict::Pass);
}

#[test]
fn offers_needed_service_requires_one_covered_need() {
    let f = facts(Site::SouthLosAngeles, &["education", "mental_health"]);
    assert_eq!(offers_needed_service(1, 1, &f).detail, "covers 1/2 needs");
    assert_eq!(offers_needed_service(0, 1, &f).verdict, Verdict::Fail);
    assert_eq!(offers_needed_service(0, 1, &facts(Site::SouthLosAngeles, &[])).verdict, Verdict::NotApplicable);
    // A stricter policy asks for two covered needs; a one-need referral asks for its one.
    let v = offers_needed_service(1, 2, &f);
    assert_eq!((v.verdict, &*v.detail.to_string()), (Verdict::Fail, "covers 1/2 needs, policy needs 2"));
    assert_eq!(offers_needed_service(2, 2, &f).verdict, Verdict::Pass);
    assert_eq!(offers_needed_service(1, 2, &facts(Site::SouthLosAngeles, &["education"])).verdict, Verdict::Pass);
}

#[test]
fn a_reroute_skips_services_offered_before() {
    let directory = Directory {
        organizations: vec![
            team(),
            org(2, vec![service(2, &["education"], Site::SouthLosAngeles)]),
            org(3, vec![service(3, &["education"], Site::SouthLosAngeles)]),
        ],
    };
    let mut f = facts(Site::SouthLosAngeles, &["education"]);
    let first = decide(&directory, &f, now()).chosen.unwrap();
    f.already_offered.push(first.partner_service_id.clone());
    let second = decide(&directory, &f, now());
    let chosen = second.chosen.as_ref().unwrap();
    assert_ne!(chosen.partner_service_id, first.partner_service_id);
    let skipped = second.candidates.iter().find(|c| c.partner_service_id == first.partner_service_id).unwrap();
    assert!(!skipped.eligible);
    let v = verdict_of(skipped, rule::NOT_OFFERED_BEFORE);
    assert_eq!((v.verdict, &*v.detail.to_string()), (Verdict::Fail, "offered before (declined or expired)"));
    f.already_offered.push(chosen.partner_service_id.clone());
    assert!(decide(&directory, &f, now()).chosen.is_none(), "none left: the referral escalates");
}

#[test]
fn scoring_weighs_needs_language_and_capacity() {
    let p: &Policy = &DEMO_POLICY;
    assert!((score_needs(p, 1, 2).score - 0.3).abs() < 1e-9);
    assert_eq!(score_needs(p, 0, 0).verdict, Verdict::NotApplicable);
    let mut s = service(2, &["education"], Site::SouthLosAngeles);
    s.languages = vec!["en".into(), "es".into()];
    assert_eq!(score_language(p, &s, &"es".into()).score, p.weights.language_match);
    let ko = score_language(p, &s, &"ko".into());
    assert_eq!((ko.verdict, ko.score, &*ko.detail.to_string()), (Verdict::Scored, 0.0, "language ko not spoken"));
    assert_eq!(score_language(p, &s, &"".into()).verdict, Verdict::NotApplicable);
    assert!((score_capacity(p, &s).score - p.weights.capacity_remaining * 3.0 / 5.0).abs() < 1e-9);
    s.capacity[0].available = 9;
    assert_eq!(score_capacity(p, &s).score, p.weights.capacity_remaining, "capped at saturation");
}

#[test]
fn decide_ranks_by_score_then_capacity_then_id() {
    let mut narrow = service(2, &["education"], Site::SouthLosAngeles);
    narrow.capacity[0].available = 9;
    let broad = service(3, &["education", "employment_training"], Site::SouthLosAngeles);
    let mut twin = service(4, &["education", "employment_training"], Site::SouthLosAngeles);
    twin.capacity[0].available = 5;
    let directory =
        Directory { organizations: vec![team(), org(2, vec![narrow]), org(3, vec![broad]), org(4, vec![twin])] };
    let decision = decide(&directory, &facts(Site::SouthLosAngeles, &["education", "employment_training"]), now());
    let order: Vec<(&str, u32)> = decision.candidates.iter().map(|c| (&c.partner_service_id[28..], c.rank)).collect();
    // twin: 0.6 + 0.15 (5 open); broad: 0.6 + 0.09; narrow: 0.3 + 0.15; the team covers nothing.
    assert_eq!(order, vec![("00000004", 1), ("00000003", 2), ("00000002", 3), ("00000001", 0)]);
    let chosen = decision.chosen.unwrap();
    assert_eq!(chosen.partner_service_id, format!("svc_{:032x}", 4));
    assert_eq!(chosen.explanation, "covers 2/2 needs; capacity 5 open");
    assert!(!decision.candidates[3].eligible);
    assert_eq!(verdict_of(&decision.candidates[3], rule::OFFERS_NEEDED_SERVICE).verdict, Verdict::Fail);

    // Equal scores and capacity: the lower id wins.
    let a = service(5, &["education"], Site::SouthLosAngeles);
    let b = service(6, &["education"], Site::SouthLosAngeles);
    let directory = Directory { organizations: vec![team(), org(6, vec![b]), org(5, vec![a])] };
    let decision = decide(&directory, &facts(Site::SouthLosAngeles, &["education"]), now());
    assert_eq!(decision.chosen.unwrap().partner_service_id, format!("svc_{:032x}", 5));
}

#[test]
fn language_match_breaks_ties_in_favour_of_the_youths_language() {
    let mut spanish = service(3, &["mental_health"], Site::SanFernandoValley);
    spanish.languages = vec!["en".into(), "es".into()];
    spanish.capacity[0].available = 1;
    let english = service(2, &["mental_health"], Site::SanFernandoValley);
    let directory = Directory { organizations: vec![team(), org(2, vec![english]), org(3, vec![spanish])] };
    let mut f = facts(Site::SanFernandoValley, &["mental_health"]);
    f.preferred_language = "es".into();
    let chosen = decide(&directory, &f, now()).chosen.unwrap();
    assert_eq!(chosen.partner_service_id, format!("svc_{:032x}", 3));
    assert_eq!(chosen.explanation, "covers 1/1 needs; language es; capacity 1 open");
}

#[test]
fn deadlines_follow_the_tier() {
    let directory = Directory { organizations: vec![team()] };
    let mut f = facts(Site::SouthLosAngeles, &["victim_advocacy"]);
    for (tier, expected, window) in [
        (TriageTier::Emergent, TriageTier::Emergent, Duration::minutes(90)),
        (TriageTier::Urgent, TriageTier::Urgent, Duration::hours(24)),
        (TriageTier::Routine, TriageTier::Routine, Duration::hours(48)),
        (TriageTier::Unspecified, TriageTier::Routine, Duration::hours(48)),
    ] {
        f.triage_tier = tier;
        let decision = decide(&directory, &f, now());
        assert_eq!(decision.triage_tier, expected);
        assert_eq!(decision.deadline, now() + window);
        assert!(decision.chosen.is_some());
    }
}

#[test]
fn outside_program_referrals_go_to_the_program_team() {
    let directory = Directory::demo().unwrap();
    let mut f = facts(Site::SouthLosAngeles, &["emergency_shelter"]);
    f.outside_youth_program = true;
    f.age_years = Some(29);
    let decision = decide(&directory, &f, now());
    let chosen = decision.chosen.unwrap();
    let team = directory.organizations.iter().find(|o| o.program_team).unwrap();
    assert_eq!(chosen.partner_id, team.id);
    assert!(chosen.explanation.starts_with("outside_youth_program"), "{}", chosen.explanation);
    assert_eq!(decision.candidates.iter().filter(|c| c.eligible).count(), 1);
}

#[test]
fn nobody_eligible_means_no_choice_and_no_ranks() {
    let directory = Directory::demo().unwrap();
    let f = facts(Site::SanFernandoValley, &["childcare"]);
    let decision = decide(&directory, &f, now());
    assert!(decision.chosen.is_none());
    assert_eq!(decision.candidates.len(), directory.services().count());
    assert!(decision.candidates.iter().all(|c| !c.eligible && c.rank == 0));
}

#[test]
fn practice_referrals_are_routed_like_any_other() {
    let directory = Directory::demo().unwrap();
    let live = facts(Site::SouthLosAngeles, &["emergency_shelter", "mental_health"]);
    let practice = ReferralFacts { practice: true, ..live.clone() };
    assert_eq!(decide(&directory, &live, now()), decide(&directory, &practice, now()));
}

/// xorshift64*: a small seeded generator, so the property test is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// The hard filters restated directly over the data, independent of the verdicts,
/// applying only those `policy` enables, with its parameters.
fn passes_every_hard_filter(policy: &Policy, org: &Organization, s: &PartnerService, f: &ReferralFacts) -> bool {
    let p = &policy.filters;
    let active = !p.service_active || (org.active && org.in_network && s.status == ServiceStatus::Active);
    let program = !p.youth_program || !f.outside_youth_program || org.program_team;
    let site = !p.serves_site
        || s.sites().any(|x| x == Site::Countywide)
        || (f.site != Site::Countywide && f.site != Site::Unspecified && s.sites().any(|x| x == f.site));
    let minor = f.is_minor || f.age_years.is_some_and(|a| a < 18);
    let age = !p.age_eligible
        || (f.outside_youth_program && org.program_team)
        || ((!minor || s.serves_minors)
            && f.age_years.is_none_or(|a| a >= s.minimum_age && (s.maximum_age == 0 || a <= s.maximum_age)));
    let capacity = p.open_capacity.is_none_or(|minimum| s.open_capacity() >= minimum);
    let emergent = p.emergent_24_7.as_ref().is_none_or(|tiers| !tiers.contains(&effective_tier(f.triage_tier)))
        || s.available_24_7;
    let covered = f.needs.iter().filter(|n| s.service_types.contains(n)).count();
    let needs = p.offers_needed_service.is_none_or(|minimum| {
        f.outside_youth_program || f.needs.is_empty() || covered >= (minimum as usize).min(f.needs.len())
    });
    let fresh = !f.already_offered.contains(&s.id);
    active && program && site && age && capacity && emergent && needs && fresh
}

/// The demo policy with each filter switched off one time in four and random parameters.
fn random_policy(rng: &mut Rng) -> Policy {
    let mut policy = DEMO_POLICY.clone();
    let mut on = || rng.below(4) != 0;
    let f = &mut policy.filters;
    (f.service_active, f.youth_program, f.serves_site, f.age_eligible) = (on(), on(), on(), on());
    let (capacity_on, emergent_on, needs_on) = (on(), on(), on());
    f.open_capacity = capacity_on.then(|| 1 + rng.below(3) as u32);
    f.emergent_24_7 = emergent_on.then(|| {
        if rng.below(2) == 0 { vec![TriageTier::Emergent] } else { vec![TriageTier::Emergent, TriageTier::Urgent] }
    });
    f.offers_needed_service = needs_on.then(|| 1 + rng.below(2) as u32);
    policy.weights.language_match = rng.below(100) as f64 / 100.0;
    policy
}

#[test]
fn property_the_chosen_service_passes_every_hard_filter() {
    let demo = Directory::demo().unwrap();
    let needs: Vec<&str> = crate::domain::directory::KNOWN_SERVICE_TYPES.to_vec();
    let sites = [Site::Unspecified, Site::SouthLosAngeles, Site::SanFernandoValley, Site::Countywide];
    let tiers = [TriageTier::Unspecified, TriageTier::Emergent, TriageTier::Urgent, TriageTier::Routine];
    let languages = ["", "en", "es", "ko", "hy", "tl", "fr"];
    let statuses =
        [ServiceStatus::Active, ServiceStatus::Active, ServiceStatus::Inactive, ServiceStatus::TemporarilyClosed];
    let all_services: Vec<String> = demo.services().map(|s| s.id.clone()).collect();
    let mut rng = Rng(0x5eed_2026_cafe_f00d);
    let (mut chosen_count, mut escalated_count) = (0, 0);
    for _ in 0..4000 {
        // Perturb the directory: capacity runs out, services close, partners leave the network.
        let mut directory = demo.clone();
        for org in &mut directory.organizations {
            org.in_network = rng.below(10) != 0;
            for s in &mut org.services {
                s.capacity[0].available = rng.below(4) as u32;
                s.status = *rng.pick(&statuses);
                s.available_24_7 = rng.below(2) == 0;
            }
        }
        let f = ReferralFacts {
            referral_id: "ref_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d".into(),
            site: *rng.pick(&sites),
            triage_tier: *rng.pick(&tiers),
            needs: (0..rng.below(4)).map(|_| (*rng.pick(&needs)).to_owned()).collect(),
            preferred_language: (*rng.pick(&languages)).to_owned(),
            is_minor: rng.below(3) == 0,
            age_years: if rng.below(5) == 0 { None } else { Some(10 + rng.below(25) as u32) },
            outside_youth_program: rng.below(10) == 0,
            practice: rng.below(2) == 0,
            // Re-routes: some services already had the referral.
            already_offered: (0..rng.below(3)).map(|_| rng.pick(&all_services).clone()).collect(),
        };
        // Half the time the demo policy, else a random one.
        let policy = if rng.below(2) == 0 { DEMO_POLICY.clone() } else { random_policy(&mut rng) };
        let decision = decide_with(&policy, &directory, &f, now());
        for candidate in &decision.candidates {
            let (org, s) = directory
                .organizations
                .iter()
                .flat_map(|o| o.services.iter().map(move |s| (o, s)))
                .find(|(_, s)| s.id == candidate.partner_service_id)
                .unwrap();
            assert_eq!(candidate.eligible, passes_every_hard_filter(&policy, org, s, &f), "{f:?} {candidate:?}");
        }
        match &decision.chosen {
            Some(choice) => {
                chosen_count += 1;
                let best = &decision.candidates[0];
                assert_eq!((best.rank, &best.partner_service_id), (1, &choice.partner_service_id));
                let org = directory.organization(choice.partner_id.as_str()).unwrap();
                let s = directory.service(&choice.partner_service_id).unwrap();
                assert!(passes_every_hard_filter(&policy, org, s, &f), "{f:?} chose {choice:?}");
                assert!(decision.candidates.iter().filter(|c| c.eligible).all(|c| c.score <= choice.score));
            }
            None => {
                escalated_count += 1;
                assert!(decision.candidates.iter().all(|c| !c.eligible && c.rank == 0));
            }
        }
    }
    // The generator must exercise both outcomes, or the property proves little.
    assert!(chosen_count > 500 && escalated_count > 500, "chosen {chosen_count}, escalated {escalated_count}");
}

/// Each detail renders exactly the text the rules wrote before details were structured
/// (the stored decisions and the API show this text).
#[test]
fn every_detail_renders_its_former_text() {
    let es: Arc<str> = Arc::from("es");
    let cases: Vec<(Detail, &str)> = vec![
        (Detail::DisabledByPolicy, "disabled by policy"),
        (Detail::OrganizationInactive, "organization inactive"),
        (Detail::OrganizationNotInNetwork, "organization not in network"),
        (Detail::ServiceStatus(ServiceStatus::TemporarilyClosed), "service status temporarily_closed"),
        (Detail::ServiceStatus(ServiceStatus::Inactive), "service status inactive"),
        (Detail::Active, "active"),
        (Detail::WithinYouthProgram, "within youth program"),
        (Detail::ProgramTeamRefersOut, "outside youth program: program team refers out"),
        (Detail::ProgramTeamOnly, "outside youth program: program team only"),
        (Detail::ServesSite(Site::SanFernandoValley), "serves san_fernando_valley"),
        (Detail::ServesCountywide, "serves countywide"),
        (Detail::ReferralSiteUnspecified, "referral site unspecified: countywide services only"),
        (Detail::DoesNotServeSite(Site::SouthLosAngeles), "does not serve south_los_angeles"),
        (Detail::AgeLimitsDoNotApply, "outside referral: age limits do not apply"),
        (Detail::MinorNotServed, "minor not served (adults only)"),
        (Detail::Age { age: 11, fit: AgeFit::Below, minimum: 12, maximum: 24 }, "age 11 below 12..24"),
        (Detail::Age { age: 25, fit: AgeFit::Above, minimum: 18, maximum: 24 }, "age 25 above 18..24"),
        (Detail::Age { age: 16, fit: AgeFit::In, minimum: 12, maximum: 24 }, "age 16 in 12..24"),
        (Detail::Age { age: 40, fit: AgeFit::In, minimum: 12, maximum: 0 }, "age 40 in 12..any"),
        (Detail::AgeUnknown { minor: true, minimum: 0, maximum: 17 }, "age unknown, minor served in 0..17"),
        (Detail::AgeUnknown { minor: false, minimum: 18, maximum: 0 }, "age unknown, adult served in 18..any"),
        (Detail::CapacityOpen { open: 3, maximum: 10 }, "capacity 3/10 open"),
        (Detail::NoCapacity { maximum: 10 }, "no capacity (0/10)"),
        (Detail::CapacityBelowPolicy { open: 3, maximum: 10, needed: 4 }, "capacity 3/10 open, policy needs 4"),
        (Detail::AroundTheClockResponder, "24/7 responder"),
        (Detail::NeedsAroundTheClock(TriageTier::Emergent), "emergent needs a 24/7 responder"),
        (Detail::Tier(TriageTier::Routine), "tier routine"),
        (Detail::OutsideReferral, "outside referral"),
        (Detail::NoNeedsGiven, "no needs given"),
        (Detail::NeedsCovered { covered: 1, wanted: 2 }, "covers 1/2 needs"),
        (Detail::NeedsBelowPolicy { covered: 1, wanted: 2, needed: 2 }, "covers 1/2 needs, policy needs 2"),
        (Detail::OfferedBefore, "offered before (declined or expired)"),
        (Detail::NotOfferedBefore, "not offered before"),
        (Detail::NoLanguagePreference, "no language preference"),
        (Detail::Language { code: es.clone(), spoken: true }, "language es"),
        (Detail::Language { code: es, spoken: false }, "language es not spoken"),
        (Detail::OpenPlaces { open: 5 }, "capacity 5 open"),
        (Detail::Text("as stored".into()), "as stored"),
    ];
    for (detail, text) in &cases {
        assert_eq!(detail.to_string(), *text);
        assert!(detail.renders_as(text), "{detail:?}");
        assert!(!detail.renders_as(&format!("{text}!")) && !detail.renders_as(&text[..text.len() - 1]), "{detail:?}");
        // Stored as the text; read back as text that still equals the facts.
        let json = serde_json::to_string(detail).unwrap();
        assert_eq!(json, serde_json::to_string(text).unwrap());
        let stored: Detail = serde_json::from_str(&json).unwrap();
        assert_eq!(stored, *detail);
        assert_eq!(*detail, stored);
    }
    assert_ne!(Detail::NeedsCovered { covered: 1, wanted: 2 }, Detail::NeedsCovered { covered: 2, wanted: 2 });
    assert_ne!(Detail::Text("covers 1/2 needs".into()), Detail::NeedsCovered { covered: 2, wanted: 2 });
}

/// The rules' verdicts over a directory give the same text as the rules built before,
/// in every position of a decision, and a stored decision reads back equal.
#[test]
fn a_stored_decision_reads_back_equal_and_with_the_same_text() {
    let directory = Directory::demo().unwrap();
    let mut f = facts(Site::SouthLosAngeles, &["emergency_shelter", "mental_health"]);
    f.preferred_language = "es".into();
    let decision = decide(&directory, &f, now());
    let json = serde_json::to_string(&decision.candidates).unwrap();
    let stored: Vec<Candidate> = serde_json::from_str(&json).unwrap();
    assert_eq!(stored, decision.candidates);
    let texts: Vec<String> =
        decision.candidates.iter().flat_map(|c| c.verdicts.iter().map(|v| v.detail.to_string())).collect();
    let stored_texts: Vec<String> =
        stored.iter().flat_map(|c| c.verdicts.iter().map(|v| v.detail.to_string())).collect();
    assert_eq!(texts, stored_texts);
    assert!(texts.iter().any(|t| t == "language es" || t == "language es not spoken"), "{texts:?}");
}
