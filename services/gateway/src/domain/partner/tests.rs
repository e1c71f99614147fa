use super::*;

/// 2026-07-01T21:30:00Z: 14:30 in Los Angeles (PDT, UTC−7).
const SUMMER: i64 = 1_782_941_400_000_000;
/// 2026-12-07T22:32:00Z: 14:32 in Los Angeles (PST, UTC−8).
const WINTER: i64 = 1_796_682_720_000_000;

#[test]
fn form_dates_and_times_are_los_angeles_time() {
    // 02:00 UTC on 8 December is still the 7th in Los Angeles.
    let late_evening = WINTER + 3 * HOUR + 28 * MINUTE;
    assert_eq!(local_date(late_evening), "2026-12-07");
    assert_eq!(local_time(late_evening), "18:00");
    assert_eq!(local_date(SUMMER), "2026-07-01");
    assert_eq!(local_time(SUMMER), "14:30", "daylight saving time in summer");
}

#[test]
fn a_typed_local_time_is_the_instant_it_names_in_los_angeles() {
    assert_eq!(local_instant("2026-07-01", "14:30"), Ok(SUMMER));
    assert_eq!(local_instant(" 2026-12-07 ", "14:32"), Ok(WINTER));
    assert_eq!(local_instant("2026-13-01", "10:00"), Err(LocalTimeError::Date));
    assert_eq!(local_instant("2026-12-07", "25:00"), Err(LocalTimeError::Time));
    assert_eq!(local_instant("", "10:00"), Err(LocalTimeError::Date));
    assert_eq!(parse_date("2026-03-02"), Ok((2026, 3, 2)));
    assert!(parse_date("2 March").is_err());
}

#[test]
fn capacity_says_when_it_was_reported_and_is_stale_after_a_day() {
    let now = WINTER;
    assert_eq!(ago(now, now - 30 * 1_000_000), "just now");
    assert_eq!(ago(now, now + HOUR), "just now", "a clock a little ahead is not in the future");
    assert_eq!(ago(now, now - 5 * MINUTE), "5 min ago");
    assert_eq!(ago(now, now - 3 * HOUR), "3 h ago");
    assert_eq!(ago(now, now - 2 * DAY - 5 * HOUR), "2 days 5 h ago");
    assert!(!capacity_is_stale(now, Some(now - 3 * HOUR)));
    assert!(!capacity_is_stale(now, Some(now - DAY)));
    assert!(capacity_is_stale(now, Some(now - DAY - MINUTE)));
    assert!(capacity_is_stale(now, None), "never reported is stale");
}

#[test]
fn the_decline_reasons_are_every_reason_of_the_proto_but_unspecified() {
    let listed: Vec<i32> = DECLINE_REASONS.iter().map(|choice| choice.reason as i32).collect();
    let all: Vec<i32> = (1..=10).filter(|n| DeclineReason::try_from(*n).is_ok()).collect();
    assert_eq!(listed, all);
    assert!(DeclineReason::try_from(11).is_err(), "a new proto reason must be added to the list");
    for choice in DECLINE_REASONS {
        assert_eq!(decline_reason(choice.code), Some(choice.reason));
        assert_eq!(decline_reason_label(choice.reason), choice.label);
    }
    assert_eq!(decline_reason(""), None);
    assert_eq!(decline_reason("DECLINE_REASON_NO_CAPACITY"), None);
    assert_eq!(decline_reason_label(DeclineReason::Unspecified), "Not given");
}

#[test]
fn an_offer_that_cannot_be_answered_says_why() {
    let now = WINTER;
    assert!(is_answerable(OfferStatus::Pending, Some(now + MINUTE), now));
    assert!(!is_answerable(OfferStatus::Pending, Some(now), now));
    assert!(!is_answerable(OfferStatus::Accepted, Some(now + HOUR), now));
    assert_eq!(not_open(OfferStatus::Accepted, Some(now + HOUR), now), NotOpen::Closed(OfferStatus::Accepted));
    assert_eq!(not_open(OfferStatus::Pending, Some(now - MINUTE), now), NotOpen::DeadlinePassed);
    assert_eq!(not_open(OfferStatus::Pending, Some(now + HOUR), now), NotOpen::NoOpenPlace);
    assert!(NotOpen::Closed(OfferStatus::Withdrawn).message().contains("it is withdrawn"));
    assert!(NotOpen::DeadlinePassed.message().contains("deadline has passed"));
    assert!(NotOpen::NoOpenPlace.message().contains("No open places"), "names the decline reason to pick");
}

#[test]
fn pending_offers_come_first_by_deadline_then_the_rest_newest_first() {
    use OfferStatus::*;
    let mut offers = vec![(Accepted, 50, 1), (Pending, 300, 2), (Declined, 10, 3), (Pending, 200, 4)];
    offers.sort_by(|a, b| offer_order(*a, *b));
    assert_eq!(offers, vec![(Pending, 200, 4), (Pending, 300, 2), (Declined, 10, 3), (Accepted, 50, 1)]);
}

#[test]
fn offers_show_coded_facts_in_words() {
    assert_eq!(age_band(16, true), "15–17");
    assert_eq!(age_band(18, false), "18–20");
    assert_eq!(age_band(24, false), "21–24");
    assert_eq!(age_band(0, true), "Under 18 (age unknown)");
    assert_eq!(age_band(0, false), "Age unknown");
    assert_eq!(code_label("emergency_shelter"), "Emergency shelter");
    assert_eq!(code_label(""), "");
    assert_eq!(language_label("es"), "Spanish");
    assert_eq!(language_label(""), "No preference");
    assert_eq!(language_label("xx"), "Language code xx");
}

#[test]
fn form_codes_name_the_proto_values() {
    assert_eq!(contact_channel("text_message"), Some(ContactChannel::TextMessage));
    assert_eq!(contact_channel("CONTACT_CHANNEL_EMAIL"), None);
    assert_eq!(contact_outcome("reached"), Some(ContactOutcome::Reached));
    assert_eq!(contact_outcome(""), None);
    assert_eq!(contact_channel_label(ContactChannel::InPerson), "In person");
    assert_eq!(contact_outcome_label(ContactOutcome::Unspecified), "Not given");
    assert_eq!(unit_type("nights"), Some(wf_proto::cases::v1::UnitType::Nights));
    assert_eq!(unit_type("UNIT_TYPE_HOURS"), None);
    // Every channel and outcome of the protos but UNSPECIFIED is offered.
    assert_eq!(CONTACT_CHANNELS.len(), (1..).take_while(|n| ContactChannel::try_from(*n).is_ok()).count());
    assert_eq!(CONTACT_OUTCOMES.len(), (1..).take_while(|n| ContactOutcome::try_from(*n).is_ok()).count());
}

#[test]
fn counts_never_claim_more_precision_than_the_page_they_come_from() {
    assert_eq!(Count::of_page(3, false).to_string(), "3");
    assert_eq!(Count::of_page(COUNT_PAGE, true).to_string(), "100+");
    assert!(Count::Exact(0).is_zero() && !Count::AtLeast(0).is_zero());
    assert_eq!(home_title(Some(Count::Exact(1))), "(1) Emergent – Action needed");
    assert_eq!(home_title(Some(Count::AtLeast(100))), "(100+) Emergent – Action needed");
    assert_eq!(home_title(Some(Count::Exact(0))), "Action needed");
    assert_eq!(home_title(None), "Action needed");
}

#[test]
fn filtered_lists_carry_their_filters_in_the_address() {
    assert_eq!(
        filtered("/referrals", &[("tier", "emergent"), ("unassigned", "true")]),
        "/referrals?tier=emergent&unassigned=true"
    );
    assert_eq!(filtered("/offers", &[]), "/offers");
    assert_eq!(filtered("/x", &[("a", "b c&d")]), "/x?a=b+c%26d");
}
