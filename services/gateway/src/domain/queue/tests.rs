use wf_proto::routing::v1 as routing;

use super::explain::{self, Outcome};
use super::time::{self, Urgency};
use super::*;

const MINUTE: i64 = 60_000_000;
/// 2025-03-12 21:35:00 UTC: 2:35 PM PDT (daylight saving began on March 9).
const SPRING: i64 = 1_741_815_300_000_000;
/// 2025-01-15 22:35:00 UTC: 2:35 PM PST.
const WINTER: i64 = 1_736_980_500_000_000;

fn entry(id: &str, tier: Tier, deadline: Option<i64>, received_at: i64) -> Entry {
    Entry {
        referral_id: id.to_owned(),
        tier,
        is_minor: false,
        site: Site::SouthLosAngeles as i32,
        source: ReferralSource::Hotline as i32,
        status: ReferralStatus::Received as i32,
        received_at,
        deadline,
        owner: String::new(),
        case_id: String::new(),
        practice: false,
    }
}

fn fields(result: Result<Filters, Vec<FieldViolation>>) -> Vec<(String, String)> {
    result.expect_err("refused").into_iter().map(|v| (v.field, v.description)).collect()
}

#[test]
fn rows_sort_by_tier_then_deadline_with_no_deadline_last() {
    let mut entries = vec![
        entry("ref_routine_soon", Tier::Routine, Some(10), 0),
        entry("ref_emergent_none", Tier::Emergent, None, 0),
        entry("ref_untriaged", Tier::NotTriaged, Some(1), 0),
        entry("ref_emergent_late", Tier::Emergent, Some(300), 0),
        entry("ref_urgent", Tier::Urgent, Some(5), 0),
        entry("ref_emergent_overdue", Tier::Emergent, Some(-50), 0),
        entry("ref_emergent_late_older", Tier::Emergent, Some(300), -10),
    ];
    sort(&mut entries);
    let ids: Vec<&str> = entries.iter().map(|e| e.referral_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "ref_emergent_overdue",
            "ref_emergent_late_older",
            "ref_emergent_late",
            "ref_emergent_none",
            "ref_urgent",
            "ref_routine_soon",
            "ref_untriaged"
        ]
    );
}

#[test]
fn tiers_read_as_words_with_a_shape_and_a_colour() {
    assert_eq!(Tier::of(TriageTier::Emergent as i32), Tier::Emergent);
    assert_eq!(Tier::of(0), Tier::NotTriaged);
    assert_eq!(Tier::of(99), Tier::NotTriaged);
    let emergent = Tier::Emergent;
    assert_eq!((emergent.label(), emergent.icon(), emergent.class()), ("Emergent", "▲", "tier--emergent"));
    assert_eq!(Tier::Urgent.label(), "Urgent");
    assert_eq!(Tier::Routine.class(), "tier--routine");
    assert_eq!(Tier::NotTriaged.label(), "Not triaged");
}

#[test]
fn countdowns_count_whole_minutes_away_from_now() {
    let at = |deadline: i64| time::countdown(deadline, 0);
    assert_eq!(at(47 * MINUTE).text, "due in 47 min");
    assert_eq!(at(47 * MINUTE).urgency, Urgency::Later);
    assert_eq!(at(30 * MINUTE).urgency, Urgency::Soon);
    assert_eq!(at(-12 * MINUTE).text, "overdue by 12 min");
    assert_eq!(at(-12 * MINUTE).urgency, Urgency::Overdue);
    assert_eq!(at(30_000_000).text, "due in 1 min", "half a minute left");
    assert_eq!(at(-30_000_000).text, "overdue by 1 min", "half a minute late is late");
    assert_eq!(at(0).text, "due now");
    assert_eq!(at(90 * MINUTE).text, "due in 1 h 30 min");
    assert_eq!(at(24 * 60 * MINUTE).text, "due in 1 day");
    assert_eq!(at(47 * 60 * MINUTE + 59 * MINUTE).text, "due in 1 day 23 h");
    assert_eq!(at(-(3 * 60) * MINUTE).text, "overdue by 3 h");
    assert_eq!(at(i64::MIN).urgency, Urgency::Overdue, "no overflow");
}

#[test]
fn clock_times_are_los_angeles_time_with_daylight_saving() {
    assert_eq!(time::clock_time(SPRING, SPRING), "2:35 PM PDT");
    assert_eq!(time::clock_time(WINTER, WINTER), "2:35 PM PST");
    assert_eq!(time::clock_time(SPRING + 24 * 60 * MINUTE, SPRING), "Thu Mar 13, 2:35 PM PDT");
    assert_eq!(time::clock_time(WINTER, SPRING), "Wed Jan 15, 2:35 PM PST");
    assert_eq!(time::clock_time(WINTER - 365 * 24 * 60 * MINUTE, SPRING), "Tue Jan 16 2024, 2:35 PM PST");
    // 11 PM in Los Angeles is already the next day in UTC: the day is Los Angeles's.
    let late = SPRING + (8 * 60 + 25) * MINUTE;
    assert_eq!(time::clock_time(late, SPRING), "11:00 PM PDT");
    assert_eq!(time::machine_time(SPRING), "2025-03-12T14:35:00-07:00");
    assert_eq!(time::date_time(WINTER), "Jan 15 2025, 2:35 PM PST");
}

#[test]
fn every_filter_round_trips_through_the_query_string() {
    let owner: CaseManagerId = "cm_4fb1caa9b6c74909826609ac98974fef".parse().unwrap();
    let all = Filters {
        tier: Some(TriageTier::Emergent),
        statuses: vec![ReferralStatus::Received, ReferralStatus::OnHold],
        site: Some(Site::SanFernandoValley),
        source: Some(ReferralSource::NationalHumanTraffickingHotline),
        owner: Some(owner),
        mine: false,
        unassigned: false,
        practice: true,
    };
    let query = all.to_query();
    assert_eq!(
        query,
        "tier=emergent&status=received&status=on_hold&site=san_fernando_valley&source=\
         national_human_trafficking_hotline&owner=cm_4fb1caa9b6c74909826609ac98974fef&practice=1"
    );
    assert_eq!(Filters::parse(&query), Ok(all));
    for filters in [
        Filters { mine: true, ..Filters::default() },
        Filters::emergent_unassigned(false),
        Filters { source: Some(ReferralSource::Self_), ..Filters::default() },
        Filters::default(),
    ] {
        assert_eq!(Filters::parse(&filters.to_query()), Ok(filters.clone()), "{}", filters.to_query());
    }
    assert_eq!(Filters::default().href(), "/referrals");
    assert_eq!(Filters::emergent_unassigned(false).href(), "/referrals?tier=emergent&unassigned=1");
}

#[test]
fn a_form_s_empty_choices_and_unknown_parameters_filter_nothing() {
    let form = "tier=&status=&site=&source=&owner=&mine=0&unassigned=&practice=off&page=2&utm=x";
    assert_eq!(Filters::parse(form), Ok(Filters::default()));
    assert_eq!(Filters::parse(""), Ok(Filters::default()));
    let repeated = Filters::parse("status=offered&status=offered&tier=urgent&tier=urgent&mine=on").unwrap();
    assert_eq!(repeated.statuses, vec![ReferralStatus::Offered]);
    assert_eq!(repeated.tier, Some(TriageTier::Urgent));
    assert!(repeated.mine);
}

#[test]
fn a_bad_filter_value_names_the_filter_and_its_allowed_values() {
    let refused = fields(Filters::parse("tier=critical"));
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].0, "tier");
    assert_eq!(refused[0].1, "is not a triage tier; allowed: emergent, urgent, routine");
    let refused = fields(Filters::parse("status=open&site=mars&source=rumour&owner=maria&mine=maybe"));
    let named: Vec<&str> = refused.iter().map(|(field, _)| field.as_str()).collect();
    assert_eq!(named, ["status", "site", "source", "owner", "mine"]);
    assert!(refused[0].1.contains("received, triaged, routed"), "{}", refused[0].1);
    assert!(refused[1].1.contains("south_los_angeles, san_fernando_valley, countywide"));
    assert!(refused[3].1.contains("cm_"));
    assert!(refused[4].1.contains("1 (on) or 0 (off)"));
    assert!(refused.iter().all(|(_, description)| !description.contains("mars") && !description.contains("maria")));
    assert_eq!(fields(Filters::parse("tier=urgent&tier=routine"))[0].0, "tier");
}

#[test]
fn who_holds_the_case_is_asked_one_way_at_a_time() {
    let owner = "owner=cm_4fb1caa9b6c74909826609ac98974fef";
    assert_eq!(fields(Filters::parse(&format!("mine=1&{owner}")))[0].0, "mine");
    assert_eq!(fields(Filters::parse("mine=1&unassigned=1"))[0].0, "unassigned");
    assert_eq!(fields(Filters::parse(&format!("unassigned=1&{owner}")))[0].0, "unassigned");
}

#[test]
fn the_tab_title_counts_open_emergent_referrals_nobody_holds() {
    let mut held = entry("ref_b", Tier::Emergent, None, 0);
    held.owner = "cm_4fb1caa9b6c74909826609ac98974fef".into();
    let mut closed = entry("ref_c", Tier::Emergent, None, 0);
    closed.status = ReferralStatus::Closed as i32;
    let entries = vec![entry("ref_a", Tier::Emergent, None, 0), held, closed, entry("ref_d", Tier::Urgent, None, 0)];
    assert_eq!(waiting_emergent(&entries), 1);
    assert_eq!(title(1), "(1) Emergent · Referral queue");
    assert_eq!(title(0), "Referral queue");
    assert!(Filters::default().covers_emergent_unassigned());
    assert!(Filters::emergent_unassigned(true).covers_emergent_unassigned());
    assert!(!Filters { tier: Some(TriageTier::Routine), ..Filters::default() }.covers_emergent_unassigned());
    assert!(!Filters { mine: true, ..Filters::default() }.covers_emergent_unassigned());
    assert!(!Filters { statuses: vec![ReferralStatus::Closed], ..Filters::default() }.covers_emergent_unassigned());
}

#[test]
fn a_row_says_only_coded_facts() {
    let mut minor = entry("ref_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d", Tier::Emergent, Some(SPRING + 47 * MINUTE), 0);
    minor.is_minor = true;
    minor.owner = "cm_4fb1caa9b6c74909826609ac98974fef".into();
    let row = row(&minor, SPRING, |id| (id == "cm_4fb1caa9b6c74909826609ac98974fef").then(|| "CM One".to_owned()));
    assert_eq!(row.short_id, "ref_3a4b5c6d");
    assert_eq!(
        (row.age, row.site, row.source, row.status),
        ("Minor (under 18)", "South Los Angeles", "Hotline", "Received")
    );
    let due = row.due.expect("due");
    assert_eq!((due.clock.as_str(), due.countdown.text.as_str()), ("3:22 PM PDT", "due in 47 min"));
    assert_eq!(row.owner, "CM One");
    let unknown_owner = super::row(&minor, SPRING, |_| None);
    assert_eq!(unknown_owner.owner, "cm_4fb1caa9b6c74909826609ac98974fef", "the id when the roster has no name");
    assert_eq!(age_band(false), "18–24, or age not known");
}

fn verdict(rule: &str, verdict: routing::Verdict, score: f64, detail: &str) -> routing::RuleVerdict {
    routing::RuleVerdict { rule_id: rule.into(), verdict: verdict as i32, score, detail: detail.into() }
}

#[test]
fn why_this_partner_reads_as_a_checklist_with_capacity_at_decision_time() {
    use routing::Verdict::*;
    let chosen = routing::Candidate {
        partner_service_id: "svc_a".into(),
        eligible: true,
        verdicts: vec![
            verdict("serves_site", Pass, 0.0, "serves south_los_angeles"),
            verdict("open_capacity", Pass, 0.0, "capacity 3/8 open"),
            verdict("language_match", Scored, 0.0, "language es not spoken"),
            verdict("needs_covered", Scored, 2.0, "covers 2/2 needs"),
            verdict("emergent_24_7", NotApplicable, 0.0, "tier routine"),
            verdict("some_new_rule", Fail, 0.0, "x"),
        ],
        ..Default::default()
    };
    let list = explain::checklist(&chosen);
    let read: Vec<(&str, Outcome, &str)> =
        list.iter().map(|c| (c.label.as_str(), c.outcome, c.detail.as_str())).collect();
    assert_eq!(
        read,
        [
            ("Serves the youth's site", Outcome::Met, "serves south_los_angeles"),
            ("Has an open place", Outcome::Met, "capacity 3/8 open"),
            ("Speaks the youth's preferred language", Outcome::NotMet, "language es not spoken"),
            ("Covers the youth's needs", Outcome::Met, "covers 2/2 needs"),
            ("Answers around the clock (emergent referrals)", Outcome::DoesNotApply, "tier routine"),
            ("some_new_rule", Outcome::NotMet, "x"),
        ]
    );
    assert_eq!(explain::capacity_at_decision(&chosen).as_deref(), Some("capacity 3/8 open"));
    let other = routing::Candidate {
        partner_service_id: "svc_b".into(),
        verdicts: vec![verdict("serves_site", Fail, 0.0, "does not serve countywide")],
        ..Default::default()
    };
    let decision = routing::RoutingDecision {
        partner_service_id: "svc_a".into(),
        candidates: vec![chosen.clone(), other.clone()],
        attempt: 1,
        ..Default::default()
    };
    assert_eq!(explain::chosen(&decision).map(|c| c.partner_service_id.as_str()), Some("svc_a"));
    assert_eq!(
        explain::exclusions(&decision),
        vec![("Serves the youth's site".to_owned(), 1), ("some_new_rule".to_owned(), 1)]
    );
    let later = routing::RoutingDecision { attempt: 2, ..decision.clone() };
    assert_eq!(explain::latest(&[decision.clone(), later]).map(|d| d.attempt), Some(2));
    let no_match = routing::RoutingDecision { candidates: vec![other], ..Default::default() };
    assert!(explain::chosen(&no_match).is_none());
}

#[test]
fn an_offer_reads_as_its_timeline() {
    let ts = wf_proto::time::timestamp_from_micros;
    let offer = routing::Offer {
        offer_id: "off_1".into(),
        status: routing::OfferStatus::Declined as i32,
        offered_at: Some(ts(SPRING)),
        deadline: Some(ts(SPRING + 90 * MINUTE)),
        responded_at: Some(ts(SPRING + 10 * MINUTE)),
        decline_reason: routing::DeclineReason::NoCapacity as i32,
        ..Default::default()
    };
    let steps = explain::offer_steps(&offer, "Harbor Shelter", SPRING);
    let read: Vec<(&str, &str)> = steps.iter().map(|s| (s.label.as_str(), s.detail.as_str())).collect();
    assert_eq!(read, [("Offered to Harbor Shelter", "answer due 4:05 PM PDT"), ("Declined", "No capacity")]);
    assert_eq!(steps[1].at, Some(SPRING + 10 * MINUTE));
    let pending = routing::Offer { status: routing::OfferStatus::Pending as i32, ..offer.clone() };
    let steps = explain::offer_steps(&pending, "Harbor Shelter", SPRING + 100 * MINUTE);
    assert_eq!((steps[1].detail.as_str(), steps[1].class), ("overdue by 10 min", "step--overdue"));
    let expired = routing::Offer { status: routing::OfferStatus::Expired as i32, ..offer };
    assert_eq!(explain::offer_steps(&expired, "Harbor Shelter", SPRING)[1].at, Some(SPRING + 90 * MINUTE));
}

#[test]
fn coded_details_read_as_words() {
    assert_eq!(labels::code_words("triage_tier_emergent imminent_danger"), "Emergent: Imminent danger");
    let offer =
        "offer off_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d partner org_e74680f37b1a4624be1014d73e963b4b reason no_capacity";
    let named = labels::code_words_naming(offer, |id| id.starts_with("org_").then(|| "Harbor".to_owned()));
    assert_eq!(named, "offer off_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d partner Harbor reason No capacity");
    assert_eq!(labels::code_words("youth_missing"), "Youth missing");
    assert_eq!(labels::code_words("some_code"), "some code");
    let duplicate = wf_proto::intake::v1::ReferralClosureReason::Duplicate as i32;
    assert_eq!(labels::closure_label(duplicate), "Duplicate of another referral");
    assert_eq!(labels::closure_label(0), "Closed by its case");
}
