//! Table-driven validation tests: at least one bad value for every field of
//! `Referral` and `PersonalDetails`, each expected to be reported under its path.
//! Booleans (`practice`, the phone `safe_to_*` flags, `has_legal_authority`) have no
//! invalid value on their own; the contradictions they can form are in the table.

use chrono::{DateTime, TimeZone, Utc};
use wf_proto::common::v1 as common;
use wf_proto::intake::v1 as pb;

use super::validate;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
}

/// The complete documented example: every field set, all valid.
fn valid() -> pb::Referral {
    let json = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/referral.json"))
        .expect("examples/referral.json");
    let request: pb::SubmitReferralRequest = wf_proto::json::from_json(&json).expect("example parses");
    request.referral.expect("example has a referral")
}

fn future() -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds: now().timestamp() + 3_600, nanos: 0 })
}

fn date(year: i32, month: i32, day: i32) -> Option<common::Date> {
    Some(common::Date { year, month, day })
}

type Breakage = fn(&mut pb::Referral);

fn p(r: &mut pb::Referral) -> &mut pb::PersonalDetails {
    r.personal.as_mut().unwrap()
}

fn long(n: usize) -> String {
    "x".repeat(n)
}

const CASES: &[(&str, Breakage)] = &[
    ("referral.source", |r| r.source = 0),
    ("referral.source", |r| r.source = 999),
    ("referral.referring_organization_id", |r| r.referring_organization_id = "acme hotline".into()),
    ("referral.referring_organization_name", |r| r.referring_organization_name = long(201)),
    ("referral.referring_organization_name", |r| r.referring_organization_name = "Demo\u{7}".into()),
    ("referral.external_reference", |r| r.external_reference = "  ".into()),
    ("referral.external_reference", |r| r.external_reference = long(129)),
    ("referral.external_reference", |r| r.external_reference = "HL\u{0}1".into()),
    ("referral.received_at", |r| r.received_at = future()),
    ("referral.received_at", |r| r.received_at = Some(prost_types::Timestamp { seconds: 0, nanos: -5 })),
    ("referral.triage_tier", |r| r.triage_tier = 0),
    ("referral.triage_tier", |r| r.triage_tier = 9),
    ("referral.triage_reason", |r| r.triage_reason = "No safe place".into()),
    ("referral.site", |r| r.site = 0),
    ("referral.site", |r| r.site = 77),
    ("referral.needs[1]", |r| r.needs[1] = "Mental Health".into()),
    ("referral.needs[0]", |r| r.needs[0] = "pizza".into()),
    ("referral.needs[2]", |r| r.needs[2] = "mental_health_".into()),
    ("referral.needs", |r| r.needs = vec!["education".into(); 51]),
    ("referral.preferred_language", |r| r.preferred_language = "Spanish".into()),
    ("referral.screenings[0].tool", |r| r.screenings[0].tool = 0),
    ("referral.screenings[0].tool", |r| r.screenings[0].tool = 42),
    ("referral.screenings[0].tool_version", |r| r.screenings[0].tool_version = long(65)),
    ("referral.screenings[0].tool_version", |r| r.screenings[0].tool_version = "called her aunt: ok".into()),
    ("referral.screenings[0].screened_at", |r| r.screenings[0].screened_at = future()),
    ("referral.screenings[0].screener_id", |r| r.screenings[0].screener_id = "Demo Screener".into()),
    ("referral.screenings[0].screener_organization_id", |r| r.screenings[0].screener_organization_id = "cast".into()),
    ("referral.screenings[0].result", |r| r.screenings[0].result = 0),
    ("referral.screenings[0].score", |r| r.screenings[0].score = -1),
    ("referral.trafficking_status", |r| r.trafficking_status = 9),
    ("referral.trafficking_determined_by", |r| r.trafficking_determined_by = 9),
    ("referral.trafficking_determined_by", |r| r.trafficking_status = 0),
    ("referral.trafficking_type", |r| r.trafficking_type = 9),
    ("referral.age_first_exploited.years", |r| {
        r.age_first_exploited = Some(common::AgeAnswer { answer: Some(common::age_answer::Answer::Years(0)) })
    }),
    ("referral.age_first_exploited.not_given", |r| {
        r.age_first_exploited = Some(common::AgeAnswer { answer: Some(common::age_answer::Answer::NotGiven(0)) })
    }),
    ("referral.prior_participation_basis", |r| r.prior_participation_basis = 99),
    ("referral.former_ward_child_welfare", |r| r.former_ward_child_welfare = 9),
    ("referral.former_ward_juvenile_justice", |r| r.former_ward_juvenile_justice = 9),
    ("referral.income.any_income", |r| r.income.as_mut().unwrap().any_income = 9),
    ("referral.income.any_income", |r| r.income.as_mut().unwrap().any_income = common::NoYes::No as i32),
    ("referral.income.total_monthly_income_cents", |r| r.income.as_mut().unwrap().total_monthly_income_cents = -5),
    ("referral.income.sources[0]", |r| r.income.as_mut().unwrap().sources[0] = 0),
    ("referral.income.sources[1]", |r| r.income.as_mut().unwrap().sources = vec![1, 1]),
    ("referral.employment.employed", |r| r.employment.as_mut().unwrap().employed = 9),
    ("referral.employment.type", |r| r.employment.as_mut().unwrap().r#type = 9),
    ("referral.employment.type", |r| r.employment.as_mut().unwrap().employed = common::NoYes::No as i32),
    ("referral.employment.not_employed_reason", |r| r.employment.as_mut().unwrap().not_employed_reason = 9),
    ("referral.employment.not_employed_reason", |r| r.employment.as_mut().unwrap().not_employed_reason = 1),
    ("referral.living_situation", |r| r.living_situation = 99),
    ("referral.last_grade_completed", |r| r.last_grade_completed = 99),
    ("referral.school_status", |r| r.school_status = 99),
    ("referral.arrests[0].date", |r| r.arrests[0].date = None),
    ("referral.arrests[0].date", |r| r.arrests[0].date = date(2025, 13, 0)),
    ("referral.arrests[0].date", |r| r.arrests[0].date = date(2026, 12, 24)),
    ("referral.arrests[0].charge_category", |r| r.arrests[0].charge_category = "Theft".into()),
    ("referral.arrests[0].justice_level", |r| r.arrests[0].justice_level = 9),
    ("referral.arrests[0].prostitution_related", |r| r.arrests[0].prostitution_related = 9),
    ("referral.ever_arrested", |r| r.ever_arrested = 9),
    ("referral.ever_arrested", |r| r.ever_arrested = common::NoYes::No as i32),
    ("referral.system_involvement[0]", |r| r.system_involvement = vec![99]),
    ("referral.system_involvement", |r| r.system_involvement = vec![1, 2]),
    ("referral.engagement_approach", |r| r.engagement_approach = "Survivor mentor".into()),
    ("referral.sexual_exploitation.ever_exchanged_sex", |r| {
        r.sexual_exploitation.as_mut().unwrap().ever_exchanged_sex = 9
    }),
    ("referral.sexual_exploitation.exchanged_sex_last_three_months", |r| {
        r.sexual_exploitation.as_mut().unwrap().exchanged_sex_last_three_months = 9
    }),
    ("referral.sexual_exploitation.times_last_three_months", |r| {
        r.sexual_exploitation.as_mut().unwrap().times_last_three_months = 99
    }),
    ("referral.sexual_exploitation.ever_made_persuaded_or_forced", |r| {
        r.sexual_exploitation.as_mut().unwrap().ever_made_persuaded_or_forced = 9
    }),
    ("referral.sexual_exploitation.made_persuaded_or_forced_last_three_months", |r| {
        r.sexual_exploitation.as_mut().unwrap().made_persuaded_or_forced_last_three_months = 9
    }),
    ("referral.labor_exploitation.ever_afraid_to_quit", |r| {
        r.labor_exploitation.as_mut().unwrap().ever_afraid_to_quit = 9
    }),
    ("referral.labor_exploitation.ever_promised_different_work", |r| {
        r.labor_exploitation.as_mut().unwrap().ever_promised_different_work = 9
    }),
    ("referral.labor_exploitation.either_in_last_three_months", |r| {
        r.labor_exploitation.as_mut().unwrap().either_in_last_three_months = 9
    }),
    ("referral.channel", |r| r.channel = 99),
    ("referral.requested_partner_service_ids[0]", |r| r.requested_partner_service_ids[0] = "shelter-1".into()),
    ("referral.requested_partner_service_ids[0]", |r| r.requested_partner_service_ids[0] = String::new()),
    ("referral.personal.legal_first_name", |r| p(r).legal_first_name = long(101)),
    ("referral.personal.legal_last_name", |r| p(r).legal_last_name = "Youth\nAlpha".into()),
    ("referral.personal.preferred_name", |r| p(r).preferred_name = long(101)),
    ("referral.personal.aliases[0]", |r| p(r).aliases[0] = " ".into()),
    ("referral.personal.date_of_birth", |r| p(r).date_of_birth = date(2010, 2, 30)),
    ("referral.personal.date_of_birth", |r| p(r).date_of_birth = date(2030, 1, 1)),
    ("referral.personal.date_of_birth", |r| p(r).date_of_birth = date(1800, 1, 1)),
    ("referral.personal.date_of_birth", |r| p(r).date_of_birth = date(1901, 1, 1)),
    ("referral.personal.date_of_birth", |r| p(r).date_of_birth = date(2009, 0, 12)),
    ("referral.personal.date_of_birth", |r| p(r).date_of_birth = date(0, 4, 1)),
    ("referral.personal.estimated_age", |r| p(r).estimated_age = -3),
    ("referral.personal.estimated_age", |r| p(r).estimated_age = 121),
    ("referral.personal.name_data_quality", |r| p(r).name_data_quality = 9),
    ("referral.personal.dob_data_quality", |r| p(r).dob_data_quality = 9),
    ("referral.personal.dob_data_quality", |r| p(r).date_of_birth = date(2009, 4, 0)),
    ("referral.personal.phones[0].number", |r| p(r).phones[0].number = "call me".into()),
    ("referral.personal.phones[0].number", |r| p(r).phones[0].number = "555".into()),
    ("referral.personal.phones[0].number", |r| p(r).phones[0].number = String::new()),
    ("referral.personal.phones[0].kind", |r| p(r).phones[0].kind = "cell".into()),
    ("referral.personal.emails[0]", |r| p(r).emails[0] = "demo.example.org".into()),
    ("referral.personal.emails[0]", |r| p(r).emails[0] = "demo@example".into()),
    ("referral.personal.online_handles[0]", |r| p(r).online_handles[0] = "insta gram".into()),
    ("referral.personal.online_handles[0]", |r| p(r).online_handles[0] = String::new()),
    ("referral.personal.address.address_1", |r| p(r).address.as_mut().unwrap().address_1 = long(201)),
    ("referral.personal.address.address_2", |r| p(r).address.as_mut().unwrap().address_2 = "\u{1b}[1m".into()),
    ("referral.personal.address.city", |r| p(r).address.as_mut().unwrap().city = long(101)),
    ("referral.personal.address.state_province", |r| p(r).address.as_mut().unwrap().state_province = long(101)),
    ("referral.personal.address.postal_code", |r| p(r).address.as_mut().unwrap().postal_code = "90001;".into()),
    ("referral.personal.address.country", |r| p(r).address.as_mut().unwrap().country = "usa".into()),
    ("referral.personal.safe_contact.contacting_prohibited", |r| {
        p(r).safe_contact.as_mut().unwrap().contacting_prohibited = true
    }),
    ("referral.personal.safe_contact.safe_channels[0]", |r| p(r).safe_contact.as_mut().unwrap().safe_channels[0] = 99),
    ("referral.personal.safe_contact.safe_channels[1]", |r| {
        p(r).safe_contact.as_mut().unwrap().safe_channels = vec![2, 2]
    }),
    ("referral.personal.safe_contact.safe_times[0]", |r| p(r).safe_contact.as_mut().unwrap().safe_times[0] = "".into()),
    ("referral.personal.safe_contact.never_say[1]", |r| p(r).safe_contact.as_mut().unwrap().never_say[1] = long(201)),
    ("referral.personal.safe_contact.code_word", |r| p(r).safe_contact.as_mut().unwrap().code_word = long(101)),
    ("referral.personal.safe_contact.instructions", |r| p(r).safe_contact.as_mut().unwrap().instructions = long(2_001)),
    ("referral.personal.guardians[0].first_name", |r| p(r).guardians[0].first_name = long(101)),
    ("referral.personal.guardians[0].last_name", |r| p(r).guardians[0].last_name = "\u{8}".into()),
    ("referral.personal.guardians[0].relationship", |r| p(r).guardians[0].relationship = "aunt".into()),
    ("referral.personal.guardians[0].phones[0].number", |r| p(r).guardians[0].phones[0].number = "x".into()),
    ("referral.personal.guardians[0].phones[0].kind", |r| p(r).guardians[0].phones[0].kind = "Home".into()),
    ("referral.personal.guardians[0].emails[0]", |r| p(r).guardians[0].emails[0] = "@example.org".into()),
    ("referral.personal.guardians[0].may_be_contacted", |r| p(r).guardians[0].flagged_as_exploiter = true),
    ("referral.personal.notes", |r| p(r).notes = long(10_001)),
    ("referral.personal.notes", |r| p(r).notes = "line\u{0}".into()),
    ("referral.personal.pronouns", |r| p(r).pronouns = long(41)),
    // Names refuse invisible characters: bidirectional overrides, zero-width characters, byte order marks.
    ("referral.personal.legal_first_name", |r| p(r).legal_first_name = "De\u{202E}mo".into()),
    ("referral.personal.legal_last_name", |r| p(r).legal_last_name = "Youth\u{200B}Alpha".into()),
    ("referral.personal.preferred_name", |r| p(r).preferred_name = "\u{FEFF}Demo".into()),
    ("referral.personal.aliases[0]", |r| p(r).aliases[0] = "D.\u{2066}A.".into()),
    ("referral.personal.guardians[0].first_name", |r| p(r).guardians[0].first_name = "Pa\u{2060}rent".into()),
    ("referral.personal.guardians[0].last_name", |r| p(r).guardians[0].last_name = "\u{200D}".into()),
    ("referral.referring_organization_name", |r| r.referring_organization_name = "Hot\u{200C}line".into()),
    ("referral.personal.online_handles[0]", |r| p(r).online_handles[0] = "instagram:@demo\u{200B}".into()),
    // Any text refuses bidirectional overrides and byte order marks.
    ("referral.personal.notes", |r| p(r).notes = "call \u{202D}after\u{202C} six".into()),
    ("referral.personal.safe_contact.instructions", |r| {
        p(r).safe_contact.as_mut().unwrap().instructions = "\u{FEFF}text".into()
    }),
    // Lists of personal details have maxima (domain/validate/limits.rs).
    ("referral.personal.aliases", |r| p(r).aliases = vec!["D.A.".into(); 11]),
    ("referral.personal.phones", |r| p(r).phones = vec![p(r).phones[0].clone(); 11]),
    ("referral.personal.emails", |r| p(r).emails = vec!["a@example.org".into(); 11]),
    ("referral.personal.online_handles", |r| p(r).online_handles = vec!["instagram:@a".into(); 11]),
    ("referral.personal.guardians", |r| p(r).guardians = vec![p(r).guardians[0].clone(); 11]),
    ("referral.personal.guardians[0].phones", |r| {
        let phone = p(r).guardians[0].phones[0].clone();
        p(r).guardians[0].phones = vec![phone; 11]
    }),
    ("referral.personal.guardians[0].emails", |r| p(r).guardians[0].emails = vec!["g@example.org".into(); 11]),
    ("referral.personal.safe_contact.safe_times", |r| {
        p(r).safe_contact.as_mut().unwrap().safe_times = vec!["weekdays".into(); 11]
    }),
    ("referral.personal.safe_contact.never_say", |r| {
        p(r).safe_contact.as_mut().unwrap().never_say = vec!["the word".into(); 21]
    }),
];

#[test]
fn the_complete_example_is_valid() {
    assert_eq!(validate(Some(&valid()), now()), vec![]);
}

#[test]
fn each_bad_value_is_reported_under_its_field_path() {
    for (index, (field, break_it)) in CASES.iter().enumerate() {
        let mut referral = valid();
        break_it(&mut referral);
        let violations = validate(Some(&referral), now());
        assert!(!violations.is_empty(), "case {index} ({field}) was accepted");
        for violation in &violations {
            // An unknown need is followed by the list of allowed codes, under the list itself.
            let listed = field.starts_with("referral.needs[") && violation.field == "referral.needs";
            assert!(violation.field == *field || listed, "case {index}: {violations:?}");
            assert!(violation.description.len() > 10, "case {index}: {violation:?} says too little");
        }
    }
    assert_eq!(validate(None, now())[0].field, "referral");
}

#[test]
fn every_problem_is_reported_at_once() {
    let fields: Vec<String> =
        validate(Some(&pb::Referral::default()), now()).into_iter().map(|violation| violation.field).collect();
    assert_eq!(fields, vec!["referral.source", "referral.external_reference", "referral.triage_tier", "referral.site"]);
    let mut many = valid();
    for (_, break_it) in &CASES[..10] {
        break_it(&mut many);
    }
    let fields: std::collections::BTreeSet<String> =
        validate(Some(&many), now()).into_iter().map(|violation| violation.field).collect();
    assert_eq!(fields.len(), 5, "{fields:?}");
}

#[test]
fn needs_are_service_type_codes_of_the_closed_list_named_in_the_answer() {
    let mut referral = valid();
    referral.needs = wf_types::codes::SERVICE_TYPES.iter().map(|code| (*code).to_owned()).collect();
    assert_eq!(validate(Some(&referral), now()), vec![], "every listed code is a need");
    referral.needs = vec!["mental_health".into(), "pizza".into(), "Demo Youth".into()];
    let violations = validate(Some(&referral), now());
    let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
    assert_eq!(fields, ["referral.needs[1]", "referral.needs[2]", "referral.needs", "referral.needs"]);
    for violation in &violations {
        assert!(!violation.description.contains("pizza") && !violation.description.contains("Demo"), "{violation:?}");
        assert!(violation.description.chars().count() <= 200, "shown whole: {violation:?}");
    }
    // The allowed codes, all of them, once, in the list's order.
    let listed: Vec<&str> = violations[2..]
        .iter()
        .flat_map(|v| v.description.split_once("): ").expect("a part of the list").1.split(", "))
        .collect();
    assert_eq!(listed, wf_types::codes::SERVICE_TYPES);
    assert!(violations[2].description.starts_with("allowed codes (1 of 2): intensive_case_management"));
}

#[test]
fn a_long_list_is_split_into_parts_that_each_fit() {
    use super::listed_in_parts;
    assert_eq!(listed_in_parts("allowed", &["a", "b"], 50), ["allowed: a, b"]);
    let parts = listed_in_parts("allowed", &["aaaa", "bbbb", "cccc", "dddd"], 30);
    assert_eq!(parts, ["allowed (1 of 2): aaaa, bbbb", "allowed (2 of 2): cccc, dddd"]);
    assert!(parts.iter().all(|part| part.chars().count() <= 30));
}

#[test]
fn unknown_and_prefers_not_to_answer_are_answers_not_gaps() {
    let mut referral = valid();
    referral.source = common::ReferralSource::ClientPrefersNotToAnswer as i32;
    referral.living_situation = common::LivingSituation::ClientDoesntKnow as i32;
    referral.former_ward_child_welfare = common::NoYes::ClientPrefersNotToAnswer as i32;
    referral.system_involvement = vec![common::SystemInvolvement::ClientDoesntKnow as i32];
    referral.age_first_exploited = Some(common::AgeAnswer {
        answer: Some(common::age_answer::Answer::NotGiven(common::MissingReason::ClientPrefersNotToAnswer as i32)),
    });
    let personal = referral.personal.as_mut().unwrap();
    personal.date_of_birth = None;
    personal.dob_data_quality = pb::DataQuality::ClientDoesntKnow as i32;
    assert_eq!(validate(Some(&referral), now()), vec![]);
    // The same questions left unanswered (value 0) on required fields are missing, and said so.
    referral.source = 0;
    let violations = validate(Some(&referral), now());
    assert_eq!(violations.len(), 1);
    assert!(violations[0].description.contains("REFERRAL_SOURCE_CLIENT_PREFERS_NOT_TO_ANSWER"), "{violations:?}");
}

#[test]
fn partial_dates_are_accepted() {
    let mut referral = valid();
    let personal = referral.personal.as_mut().unwrap();
    personal.date_of_birth = date(2009, 0, 0);
    personal.dob_data_quality = pb::DataQuality::PartialOrApproximate as i32;
    referral.arrests[0].date = date(2025, 0, 0);
    assert_eq!(validate(Some(&referral), now()), vec![]);
}

#[test]
fn a_youth_over_24_is_accepted() {
    let mut referral = valid();
    referral.personal.as_mut().unwrap().date_of_birth = date(1990, 5, 5);
    assert_eq!(validate(Some(&referral), now()), vec![]);
    assert!(crate::domain::derive_facts(&referral, now().date_naive()).outside_youth_program);
}

#[test]
fn messages_never_echo_personal_values() {
    let mut referral = valid();
    let personal = referral.personal.as_mut().unwrap();
    personal.legal_first_name = format!("Demo{}", long(120));
    personal.phones[0].number = "Demo 555 call".into();
    personal.emails[0] = "Demo-at-example".into();
    personal.guardians[0].relationship = "Demo".into();
    referral.referring_organization_id = "Demo".into();
    let violations = validate(Some(&referral), now());
    assert!(violations.len() >= 4);
    for violation in violations {
        assert!(!violation.description.contains("Demo"), "{violation:?}");
    }
}

#[test]
fn list_maxima_are_named_and_lists_at_the_maximum_pass() {
    let mut referral = valid();
    let guardian = referral.personal.as_ref().unwrap().guardians[0].clone();
    p(&mut referral).guardians = vec![guardian; 10];
    p(&mut referral).aliases = vec!["D.A.".into(); 10];
    assert_eq!(validate(Some(&referral), now()), vec![]);
    p(&mut referral).aliases.push("D.A.".into());
    let violations = validate(Some(&referral), now());
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].field, "referral.personal.aliases");
    assert_eq!(violations[0].description, "has 11 entries; allowed at most 10");
}

#[test]
fn names_in_any_script_pass_and_invisible_characters_are_named_not_repeated() {
    let mut referral = valid();
    p(&mut referral).legal_first_name = "Zoë".into();
    p(&mut referral).legal_last_name = "Nguyễn-García".into();
    p(&mut referral).preferred_name = "محمد".into();
    p(&mut referral).aliases = vec!["Иван".into(), "李小龍".into()];
    p(&mut referral).notes = "a family emoji 👨\u{200D}👩\u{200D}👧 in a note is fine".into();
    assert_eq!(validate(Some(&referral), now()), vec![]);
    p(&mut referral).legal_first_name = "Demo\u{202E}ahcnA".into();
    let violations = validate(Some(&referral), now());
    assert_eq!(violations.len(), 1);
    assert!(violations[0].description.contains("U+202A-U+202E"), "{violations:?}");
    assert!(!violations[0].description.contains("Demo"), "{violations:?}");
}
