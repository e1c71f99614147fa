//! Matching quality on a generated, obviously fictional population (acceptance 4).
//!
//! 1,000 youth, then 200 of them referred again with realistic variations (nicknames, typos, swapped
//! day/month, missing date of birth with an estimated age, changed phone). Every referral is matched
//! against all earlier ones the way intake does it: blocking keys pick candidates, the score decides.
//! Prints precision and recall at the default threshold and around it.
//!
//! Run: `cargo bench -p wf-intake --bench matching`

use std::collections::{BTreeMap, BTreeSet};

use wf_crypto::IdentityHasher;
use wf_intake::matching::{self, DEFAULT_THRESHOLD, Identity};
use wf_proto::common::v1::Date;
use wf_proto::intake::v1 as pb;

/// xorshift64*: deterministic, so every run prints the same figures.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const FIRST: &[&str] = &[
    "Alexander",
    "Alexandra",
    "Elizabeth",
    "William",
    "Katherine",
    "Robert",
    "Michael",
    "James",
    "Jennifer",
    "Christopher",
    "Anthony",
    "Daniel",
    "Samantha",
    "Nicholas",
    "Matthew",
    "Joseph",
    "Joshua",
    "Thomas",
    "Abigail",
    "Margaret",
    "Victoria",
    "Gabriela",
    "Guadalupe",
    "Francisco",
    "Demo",
    "Testy",
    "Sample",
    "Mock",
    "Placeholder",
    "Fictiona",
    "Exemplar",
    "Quinn",
    "Rowan",
    "Sage",
    "Avery",
    "Jordan",
    "Taylor",
    "Morgan",
    "Casey",
    "Riley",
    "Harper",
    "Emery",
    "Finley",
    "Hayden",
    "Jesse",
    "Kai",
    "Lane",
    "Marlo",
    "Noel",
    "Oakley",
    "Parker",
    "Reese",
    "Skyler",
    "Tatum",
    "Yuna",
    "Zion",
    "Amani",
    "Bao",
    "Chidi",
    "Dalia",
];
const LAST: &[&str] = &[
    "Testperson",
    "Demoson",
    "Samplewood",
    "Mockridge",
    "Placeholder",
    "Fictionale",
    "Exampleton",
    "Specimen",
    "Dummyfield",
    "Prototype",
    "Rodriguez-Demo",
    "Garcia-Test",
    "Nguyen-Sample",
    "Okafor-Mock",
    "Kowalski-Demo",
    "Haddad-Test",
    "Tanaka-Sample",
    "Johansson-Demo",
    "Moreau-Test",
    "Ivanova-Mock",
    "Abernathy",
    "Blackwood",
    "Castellano",
    "Delacroix",
    "Eastwood",
    "Fairbanks",
    "Greenleaf",
    "Hollister",
    "Ingersoll",
    "Jaramillo",
    "Kingsley",
    "Lockhart",
    "Montague",
    "Northcott",
    "Oyelaran",
    "Pemberton",
    "Quintero",
    "Rutherford",
    "Silverstone",
    "Thistlewood",
    "Underhill",
    "Valentino",
    "Whitcombe",
    "Xiomara",
    "Yellowhorse",
    "Zamboni",
    "Ashdown",
    "Brightwater",
    "Coldwell",
    "Dunmore",
    "Everly",
    "Foxworth",
    "Galloway",
    "Hawthorne",
    "Ironside",
    "Jessup",
    "Kettering",
    "Larkspur",
    "Merriweather",
    "Nettleton",
    "Oakhurst",
    "Pickering",
    "Quayle",
    "Ravenscroft",
    "Stonebridge",
    "Trevelyan",
    "Umberton",
    "Vantongeren",
    "Wainwright",
    "Yardley",
];
const NICK: &[(&str, &str)] = &[
    ("Alexander", "Alex"),
    ("Alexandra", "Alex"),
    ("Elizabeth", "Liz"),
    ("William", "Bill"),
    ("Katherine", "Kate"),
    ("Robert", "Bob"),
    ("Michael", "Mike"),
    ("James", "Jim"),
    ("Jennifer", "Jenny"),
    ("Christopher", "Chris"),
    ("Anthony", "Tony"),
    ("Daniel", "Danny"),
    ("Samantha", "Sam"),
    ("Nicholas", "Nick"),
    ("Matthew", "Matt"),
    ("Joseph", "Joe"),
    ("Joshua", "Josh"),
    ("Thomas", "Tom"),
    ("Abigail", "Abby"),
    ("Margaret", "Maggie"),
    ("Victoria", "Vicky"),
    ("Gabriela", "Gabby"),
    ("Guadalupe", "Lupe"),
    ("Francisco", "Paco"),
];

fn typo(rng: &mut Rng, name: &str) -> String {
    let mut chars: Vec<char> = name.chars().collect();
    let i = (1 + rng.below(chars.len().saturating_sub(2).max(1))).min(chars.len() - 1);
    match rng.below(3) {
        0 if i + 1 < chars.len() => chars.swap(i, i + 1),
        1 => {
            chars.remove(i);
        }
        _ => chars[i] = ['a', 'e', 'i', 'o', 'n', 'r'][rng.below(6)],
    }
    chars.into_iter().collect()
}

fn phone(rng: &mut Rng) -> pb::Phone {
    // 555-01xx numbers are reserved for fiction; the area code varies to make them distinct.
    let number = format!("+1-{:03}-555-01{:02}", 200 + rng.below(700), rng.below(100));
    pb::Phone { number, ..Default::default() }
}

fn person(rng: &mut Rng) -> pb::PersonalDetails {
    pb::PersonalDetails {
        legal_first_name: rng.pick(FIRST).into(),
        legal_last_name: rng.pick(LAST).into(),
        date_of_birth: Some(Date {
            year: 2001 + rng.below(14) as i32,
            month: 1 + rng.below(12) as i32,
            day: 1 + rng.below(28) as i32,
        }),
        phones: if rng.chance(70) { vec![phone(rng)] } else { vec![] },
        ..Default::default()
    }
}

/// The same youth a year or two later, told or typed differently.
fn returning(rng: &mut Rng, original: &pb::PersonalDetails) -> (pb::PersonalDetails, Vec<&'static str>) {
    let mut again = original.clone();
    let mut applied = Vec::new();
    let count = if rng.chance(30) { 2 } else { 1 };
    while applied.len() < count {
        let variation =
            ["nickname", "last_typo", "first_typo", "swapped_dob", "no_dob", "new_phone", "digit_dob"][rng.below(7)];
        if applied.contains(&variation) {
            continue;
        }
        match variation {
            "nickname" => match NICK.iter().find(|(formal, _)| *formal == again.legal_first_name) {
                Some((_, nick)) => again.legal_first_name = (*nick).into(),
                None => continue,
            },
            "last_typo" => again.legal_last_name = typo(rng, &again.legal_last_name),
            "first_typo" => again.legal_first_name = typo(rng, &again.legal_first_name),
            "swapped_dob" => match again.date_of_birth.as_mut() {
                Some(d) if d.day <= 12 && d.day != d.month => std::mem::swap(&mut d.day, &mut d.month),
                _ => continue,
            },
            "digit_dob" => match again.date_of_birth.as_mut() {
                Some(d) => d.day = if d.day % 10 == 9 { d.day - 1 } else { d.day + 1 },
                None => continue,
            },
            "no_dob" => match again.date_of_birth.take() {
                Some(d) => again.estimated_age = 2026 - d.year + rng.below(2) as i32 - 1,
                None => continue,
            },
            _ => again.phones = vec![phone(rng)],
        }
        applied.push(variation);
    }
    (again, applied)
}

struct Outcome {
    predicted: usize,
    true_positive: usize,
}

fn main() {
    // Another population: MATCHING_SEED=<number> cargo bench -p wf-intake --bench matching
    let seed = std::env::var("MATCHING_SEED").ok().and_then(|s| s.parse::<u64>().ok()).unwrap_or(0x005E_ED0F_F1C7_10A1);
    println!("seed {seed}");
    let mut rng = Rng(seed.max(1));
    let hasher = IdentityHasher::new([42; 32]);
    // (youth index, received year, details)
    let mut referrals: Vec<(usize, i32, pb::PersonalDetails)> = Vec::new();
    for youth in 0..1000 {
        referrals.push((youth, 2024 + rng.below(2) as i32, person(&mut rng)));
    }
    let mut variations: BTreeMap<&str, usize> = BTreeMap::new();
    for _ in 0..200 {
        let youth = rng.below(1000);
        let (again, applied) = returning(&mut rng, &referrals[youth].2);
        for v in applied {
            *variations.entry(v).or_default() += 1;
        }
        referrals.push((youth, 2026, again));
    }

    // Every referral against every earlier one sharing a key: (new, earlier, score).
    let started = std::time::Instant::now();
    let mut index: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut scored: Vec<(usize, usize, f64)> = Vec::new();
    let identities: Vec<Identity> = referrals.iter().map(|(_, year, d)| Identity::from_details(d, *year)).collect();
    let mut candidates_seen = 0;
    for (i, identity) in identities.iter().enumerate() {
        let keys = matching::keys(identity, &hasher);
        let candidates: BTreeSet<usize> = keys.iter().filter_map(|k| index.get(&k.hash)).flatten().copied().collect();
        candidates_seen += candidates.len();
        for j in candidates {
            scored.push((i, j, matching::score(identity, &identities[j]).score));
        }
        for key in keys {
            index.entry(key.hash).or_default().push(i);
        }
    }
    let elapsed = started.elapsed();

    let truth: BTreeSet<(usize, usize)> = (0..referrals.len())
        .flat_map(|i| (0..i).map(move |j| (i, j)))
        .filter(|&(i, j)| referrals[i].0 == referrals[j].0)
        .collect();
    let found_by_blocking = truth.iter().filter(|pair| scored.iter().any(|(i, j, _)| (*i, *j) == **pair)).count();
    let at = |threshold: f64| {
        let predicted: Vec<(usize, usize)> =
            scored.iter().filter(|(_, _, s)| *s >= threshold).map(|(i, j, _)| (*i, *j)).collect();
        Outcome { predicted: predicted.len(), true_positive: predicted.iter().filter(|p| truth.contains(p)).count() }
    };

    println!("matching benchmark: 1000 youth, 200 re-referrals, {} true pairs", truth.len());
    println!("variations applied: {variations:?}");
    println!(
        "candidates compared: {candidates_seen} ({:.1} per referral); blocking recall {:.3}; {:.1} ms in all",
        candidates_seen as f64 / referrals.len() as f64,
        found_by_blocking as f64 / truth.len() as f64,
        elapsed.as_secs_f64() * 1000.0
    );
    println!("threshold  predicted  true_pos  precision  recall");
    for threshold in [0.70, 0.75, 0.80, DEFAULT_THRESHOLD, 0.85, 0.90] {
        let outcome = at(threshold);
        let precision =
            if outcome.predicted == 0 { 1.0 } else { outcome.true_positive as f64 / outcome.predicted as f64 };
        let recall = outcome.true_positive as f64 / truth.len() as f64;
        let mark = if threshold == DEFAULT_THRESHOLD { "  <- default" } else { "" };
        println!(
            "{threshold:>9.2}  {:>9}  {:>8}  {precision:>9.3}  {recall:>6.3}{mark}",
            outcome.predicted, outcome.true_positive
        );
    }
    let outcome = at(DEFAULT_THRESHOLD);
    let precision = outcome.true_positive as f64 / outcome.predicted.max(1) as f64;
    let recall = outcome.true_positive as f64 / truth.len() as f64;
    let pass = precision >= 0.95 && recall >= 0.90;
    println!(
        "default threshold {DEFAULT_THRESHOLD:.2}: precision {precision:.3} (goal >= 0.95), recall {recall:.3} (goal >= 0.90): {}",
        if pass { "PASS" } else { "FAIL" }
    );
}
