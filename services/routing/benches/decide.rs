//! Routing decisions per second for the pure decision function, over a generated
//! 50-partner directory (one service each, varied types, sites, ages, languages and
//! capacity) and a rotating set of referral facts. Prints a report; the goal is
//! ≥ 50,000 decisions per second on one core.
//!
//! The rate per core is decisions over the CPU time the measuring thread ran (Linux
//! `/proc/thread-self/stat`), because on a shared machine wall-clock time also counts the
//! time spent waiting for a core; the wall-clock rate is printed beside it. For figures that
//! do not depend on the machine's load, count instructions:
//! `valgrind --tool=callgrind target/release/deps/decide-…` (the report's decision count
//! divides the total).
//!
//! `cargo bench -p wf-routing --bench decide`

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use wf_proto::common::v1::{Site, TriageTier};
use wf_proto::routing::v1::ServiceStatus;
use wf_routing::domain::directory::{Capacity, KNOWN_SERVICE_TYPES, ServiceArea};
use wf_routing::domain::{Directory, Organization, PartnerService, Policy, ReferralFacts, decide_with};

const PARTNERS: usize = 50;
const GOAL_PER_SECOND: f64 = 50_000.0;
const MEASURE_FOR: Duration = Duration::from_secs(3);
/// At least this much CPU time is measured, so a loaded machine still gives a stable rate.
const MEASURE_CPU_FOR: Duration = Duration::from_secs(1);
/// Unless this much wall-clock time passes first.
const MEASURE_AT_MOST: Duration = Duration::from_secs(30);
/// Linux reports thread CPU time in USER_HZ ticks, fixed at 100 per second for user space.
const TICKS_PER_SECOND: u64 = 100;

const SITES: [Site; 3] = [Site::SouthLosAngeles, Site::SanFernandoValley, Site::Countywide];
const LANGUAGES: [&str; 5] = ["en", "es", "ko", "hy", "tl"];

fn generated_directory() -> Directory {
    let organizations = (0..PARTNERS)
        .map(|n| {
            let id: wf_types::PartnerId = format!("org_{:032x}", n + 1).parse().expect("valid partner id");
            let types = (0..3).map(|k| KNOWN_SERVICE_TYPES[(n * 7 + k * 5) % KNOWN_SERVICE_TYPES.len()].to_owned());
            let service = PartnerService {
                id: format!("svc_{:032x}", n + 1),
                organization_id: id.clone(),
                name: format!("Demo Bench Service {n}"),
                description: String::new(),
                status: if n % 13 == 0 { ServiceStatus::Inactive } else { ServiceStatus::Active },
                service_types: types.collect(),
                minimum_age: [0, 12, 16, 18][n % 4],
                maximum_age: [0, 24, 21, 25][n % 4],
                serves_minors: n % 4 != 3,
                eligibility_description: String::new(),
                service_areas: vec![ServiceArea { name: "area".into(), site: SITES[n % 3], postal_codes: vec![] }],
                languages: vec!["en".into(), LANGUAGES[n % LANGUAGES.len()].into()],
                capacity: vec![Capacity { unit: "slot".into(), available: (n % 6) as u32, maximum: 10 }],
                available_24_7: n % 5 == 0,
            };
            Organization {
                id,
                name: format!("Demo Bench Partner {n}"),
                description: "generated".into(),
                website: String::new(),
                email: String::new(),
                victim_service_provider: false,
                in_network: n % 17 != 0,
                active: true,
                program_team: n == 0,
                services: vec![service],
            }
        })
        .collect();
    Directory { organizations }
}

fn referral_facts() -> Vec<ReferralFacts> {
    let tiers = [TriageTier::Emergent, TriageTier::Urgent, TriageTier::Routine];
    (0..64)
        .map(|n| ReferralFacts {
            referral_id: format!("ref_{:032x}", n + 1),
            site: SITES[n % 3],
            triage_tier: tiers[n % 3],
            needs: (0..1 + n % 3)
                .map(|k| KNOWN_SERVICE_TYPES[(n * 3 + k * 11) % KNOWN_SERVICE_TYPES.len()].to_owned())
                .collect(),
            preferred_language: LANGUAGES[n % LANGUAGES.len()].to_owned(),
            is_minor: n % 2 == 0,
            age_years: Some(12 + (n % 14) as u32),
            outside_youth_program: n % 29 == 0,
            practice: false,
            already_offered: Vec::new(),
        })
        .collect()
}

/// CPU time (user + system) the calling thread has run; `None` where `/proc` is not Linux's.
fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start with field 3, the state;
    // utime and stime are fields 14 and 15.
    let (_, fields) = stat.rsplit_once(')')?;
    let mut fields = fields.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((user + system) * 1000 / TICKS_PER_SECOND))
}

fn main() {
    let directory = generated_directory();
    let facts = referral_facts();
    let policy = Policy::demo();
    let now = Utc.timestamp_opt(1_790_000_000, 0).unwrap();

    // Warm up, and count how the generated referrals end.
    let routed = facts.iter().filter(|f| decide_with(&policy, &directory, f, now).chosen.is_some()).count();

    let cpu_started = thread_cpu_time();
    let started = Instant::now();
    let mut decisions: u64 = 0;
    loop {
        for f in &facts {
            black_box(decide_with(&policy, black_box(&directory), black_box(f), now));
        }
        decisions += facts.len() as u64;
        let wall = started.elapsed();
        let cpu_enough = match (cpu_started, thread_cpu_time()) {
            (Some(from), Some(to)) => to.saturating_sub(from) >= MEASURE_CPU_FOR,
            _ => true,
        };
        if (wall >= MEASURE_FOR && cpu_enough) || wall >= MEASURE_AT_MOST {
            break;
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_started.zip(thread_cpu_time()).map(|(from, to)| to.saturating_sub(from).as_secs_f64());
    let per_wall_second = decisions as f64 / wall;
    // Per core: over the CPU time when it is known, else over wall-clock time.
    let per_core = cpu.filter(|cpu| *cpu > 0.0).map_or(per_wall_second, |cpu| decisions as f64 / cpu);
    println!("routing decision benchmark (pure decide_with, one thread)");
    println!("  directory:        {PARTNERS} partners, {} services", directory.services().count());
    println!("  referral facts:   {} ({routed} routed, {} escalated)", facts.len(), facts.len() - routed);
    match cpu {
        Some(cpu) => println!("  decisions:        {decisions} in {wall:.2} s wall-clock, {cpu:.2} s on a core"),
        None => println!("  decisions:        {decisions} in {wall:.2} s wall-clock (CPU time unknown)"),
    }
    println!("  per decision:     {:.2} µs on a core", 1e6 / per_core);
    println!("  decisions/second: {per_core:.0} per core ({per_wall_second:.0} per wall-clock second)");
    println!(
        "  goal:             ≥ {GOAL_PER_SECOND:.0}/s per core — {}",
        if per_core >= GOAL_PER_SECOND { "met" } else { "NOT met" }
    );
}
