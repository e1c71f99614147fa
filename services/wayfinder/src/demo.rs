//! The demo data set of the embedded mode: a dozen obviously fictional youth,
//! submitted through the public API the first time `wayfinder up` starts on a
//! new data folder. They are practice referrals, so they flow through every
//! service but never count in reports and can be purged.

use wf_auth::Role;
use wf_client::Target;
use wf_proto::common::v1 as common;
use wf_proto::intake::v1 as intake;

const SITES: [common::Site; 3] =
    [common::Site::SouthLosAngeles, common::Site::SouthLosAngeles, common::Site::SanFernandoValley];
const TIERS: [common::TriageTier; 3] =
    [common::TriageTier::Routine, common::TriageTier::Urgent, common::TriageTier::Emergent];
const SOURCES: [common::ReferralSource; 4] = [
    common::ReferralSource::Hotline,
    common::ReferralSource::LawEnforcement,
    common::ReferralSource::ChildWelfare,
    common::ReferralSource::School,
];
const NEEDS: [&[&str]; 4] = [
    &["emergency_shelter", "victim_advocacy"],
    &["mental_health", "education"],
    &["medical_dental", "intensive_case_management"],
    &["other_legal", "employment_training"],
];

/// Twelve fictional referrals (names "Demo Youth-01" … "Demo Youth-12", 555-01xx numbers).
pub fn referrals() -> Vec<intake::SubmitReferralRequest> {
    (1..=12)
        .map(|n: usize| {
            let personal = intake::PersonalDetails {
                legal_first_name: "Demo".into(),
                legal_last_name: format!("Youth-{n:02}"),
                date_of_birth: Some(common::Date { year: 2004 + (n as i32 % 9), month: 1 + (n as i32 % 12), day: 10 }),
                phones: vec![intake::Phone { number: format!("+1-555-01{n:02}"), ..Default::default() }],
                ..Default::default()
            };
            intake::SubmitReferralRequest {
                referral: Some(intake::Referral {
                    source: SOURCES[n % SOURCES.len()] as i32,
                    referring_organization_name: "Demo Referral Partner".into(),
                    external_reference: format!("DEMO-{n:04}"),
                    triage_tier: TIERS[n % TIERS.len()] as i32,
                    site: SITES[n % SITES.len()] as i32,
                    needs: NEEDS[n % NEEDS.len()].iter().map(|s| (*s).to_owned()).collect(),
                    preferred_language: if n.is_multiple_of(3) { "es" } else { "en" }.into(),
                    practice: true,
                    personal: Some(personal),
                    ..Default::default()
                }),
            }
        })
        .collect()
}

/// Submits the demo data set to a running system; returns how many were new.
pub async fn seed(target: &Target) -> anyhow::Result<usize> {
    let mut client = target.intake(Role::Hotline).await?;
    let mut created = 0;
    for request in referrals() {
        let response = client
            .submit_referral(request)
            .await
            .map_err(|status| anyhow::anyhow!("demo referral refused: {:?}: {}", status.code(), status.message()))?;
        created += usize::from(!response.into_inner().duplicate);
    }
    Ok(created)
}

/// The demo's web sign-ins: one per role a person holds, each linked where the system knows the
/// person (the roster's `user_id`, a partner organization of the demo directory).
pub const DEMO_ACCOUNTS: [(&str, Role, Option<&str>, Option<&str>); 8] = [
    ("demo-hotline", Role::Hotline, None, None),
    // Demo Harbor Youth Shelter: the partner most demo referrals are offered to.
    ("demo-partner", Role::Partner, Some("org_e74680f37b1a4624be1014d73e963b4b"), None),
    // CM-SLA-1 and SUP-SLA-1 of the demo roster.
    ("demo-case-manager", Role::CaseManager, None, Some("usr_demo_case_manager")),
    ("demo-supervisor", Role::Supervisor, None, Some("usr_demo_supervisor")),
    ("demo-program-manager", Role::ProgramManager, None, None),
    ("demo-evaluator", Role::Evaluator, None, None),
    ("demo-auditor", Role::Auditor, None, None),
    ("demo-admin", Role::Admin, None, None),
];

/// Where a new data folder's demo sign-ins are written (readable by its owner only).
pub const DEMO_ACCOUNTS_FILE: &str = "demo-accounts.txt";

/// A generated passphrase: four groups of five letters (about 94 bits), never on a common list.
pub fn passphrase() -> String {
    use rand::Rng;
    let mut rng = rand::rngs::OsRng;
    (0..4)
        .map(|_| (0..5).map(|_| char::from(b'a' + rng.gen_range(0..26u8))).collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Creates the demo's sign-ins with generated passphrases, writes them to
/// [`DEMO_ACCOUNTS_FILE`] in the data folder and returns the file's text.
pub async fn seed_accounts(accounts: &wf_gateway::Accounts, data_dir: &std::path::Path) -> anyhow::Result<String> {
    let mut text = String::from(
        "# Demo sign-ins for the web application (fictional practice data only). Each person\n\
         # acknowledges confidentiality at first sign-in. Username  role  passphrase\n",
    );
    for (username, role, partner, user_id) in DEMO_ACCOUNTS {
        let password = passphrase();
        let new = wf_gateway::NewAccount {
            username: username.to_owned(),
            role,
            partner_id: partner.map(str::parse).transpose()?,
            user_id: user_id.map(str::to_owned),
            password: zeroize::Zeroizing::new(password.clone()),
        };
        accounts.add(new).await.map_err(|err| anyhow::anyhow!("demo account {username}: {err}"))?;
        text.push_str(&format!("{username:<22} {:<16} {password}\n", role.as_str()));
    }
    let path = data_dir.join(DEMO_ACCOUNTS_FILE);
    std::fs::write(&path, &text).map_err(|err| anyhow::anyhow!("writing {}: {err}", path.display()))?;
    Ok(text)
}

/// Size and seed of the demo's synthetic evaluation cohort.
pub const SYNTHETIC_COHORT: (i32, u64) = (400, 20_260_701);

/// Seeds the evaluation's synthetic demonstration cohort (generated youth, clearly marked, never
/// mixed with program data: the evaluation refuses it once program data exists); returns its size.
pub async fn seed_evaluation(target: &Target) -> anyhow::Result<i64> {
    let mut client = target.evaluation(Role::ProgramManager).await?;
    let (size, seed) = SYNTHETIC_COHORT;
    let response = client
        .seed_synthetic_cohort(wf_proto::evaluation::v1::SeedSyntheticCohortRequest { size, seed })
        .await
        .map_err(|status| anyhow::anyhow!("{:?}: {}", status.code(), status.message()))?;
    Ok(response.into_inner().youth_count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_passphrases_meet_the_policy_and_differ() {
        let (one, two) = (passphrase(), passphrase());
        assert_eq!(one.len(), 23);
        assert!(one.len() >= 15 && one != two);
    }

    #[test]
    fn every_role_of_a_person_has_one_demo_account() {
        let roles: Vec<Role> = DEMO_ACCOUNTS.iter().map(|(_, role, _, _)| *role).collect();
        for role in Role::ALL.into_iter().filter(|role| *role != Role::Service) {
            assert_eq!(roles.iter().filter(|r| **r == role).count(), 1, "{role}");
        }
    }

    #[test]
    fn demo_referrals_are_fictional_practice_and_distinct() {
        let referrals = referrals();
        assert_eq!(referrals.len(), 12);
        let mut references = std::collections::HashSet::new();
        for request in &referrals {
            let referral = request.referral.as_ref().expect("referral");
            assert!(referral.practice, "demo data never counts in reports");
            let personal = referral.personal.as_ref().expect("personal");
            assert_eq!(personal.legal_first_name, "Demo");
            assert!(personal.phones[0].number.starts_with("+1-555-01"), "fictional numbers only");
            assert!(references.insert(referral.external_reference.clone()));
        }
    }
}
