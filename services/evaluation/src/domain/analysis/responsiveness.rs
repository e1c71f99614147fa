//! Partner responsiveness: offers made to each partner organization and how they ended
//! (accepted, declined, expired, withdrawn, still open), declines by reason code, and the median
//! time from offer to acceptance. Organization ids are not personal data; every count still goes
//! through disclosure control, and a median is shown only for a partner with at least
//! [`super::MIN_GROUP`] accepted offers.
//!
//! An offer that expired and was then accepted late counts as accepted (the partner did take the
//! youth); its time to accept runs from the offer to the late acceptance.

use std::collections::{BTreeMap, HashMap};

use super::{grouped_header, grouped_label};
use crate::domain::codes;
use crate::domain::operations::{OfferFacts, Operations, ReferralFacts};
use crate::domain::table::{Cell, Output, Table, count_table};

const OUTCOMES: [&str; 5] = ["accepted", "declined", "expired", "withdrawn", "open"];

/// How an offer ended, as an index into the outcome columns.
pub fn outcome(offer: &OfferFacts) -> &'static str {
    if offer.accepted_at.is_some() {
        "accepted"
    } else if offer.declined.is_some() {
        "declined"
    } else if offer.expired {
        "expired"
    } else if offer.withdrawn {
        "withdrawn"
    } else {
        "open"
    }
}

/// Hours from offer to acceptance; None for an offer not accepted or without its offer instant.
pub fn hours_to_accept(offer: &OfferFacts) -> Option<f64> {
    let (offered, accepted) = (offer.offered_at?, offer.accepted_at?);
    Some((accepted - offered).max(0) as f64 / 3_600_000_000.0)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 }
}

pub fn partner_responsiveness(operations: &Operations, group_by: Option<&str>) -> Output {
    // One line per partner organization, or per partner and the group of the offer's referral.
    let referrals: HashMap<&str, &ReferralFacts> =
        operations.referrals.iter().map(|r| (r.referral_id.as_str(), r)).collect();
    let mut lines: BTreeMap<(String, String), Vec<&OfferFacts>> = BTreeMap::new();
    for offer in &operations.offers {
        let group = match group_by {
            Some(d) => {
                referrals.get(offer.referral_id.as_str()).map_or_else(|| codes::MISSING.to_owned(), |r| r.dimension(d))
            }
            None => String::new(),
        };
        lines.entry((offer.partner_id.clone(), group)).or_default().push(offer);
    }
    let mut by_partner: Vec<((String, String), Vec<&OfferFacts>)> = lines.into_iter().collect();
    by_partner.sort_by(|((pa, a), _), ((pb, b), _)| {
        let (a_key, b_key) = (codes::order_key(a), codes::order_key(b));
        pa.cmp(pb).then(a_key.0.cmp(&b_key.0)).then(a_key.1.total_cmp(&b_key.1)).then_with(|| a.cmp(b))
    });
    let label = |(partner, group): &(String, String)| grouped_label(partner, group_by.map(|_| group.as_str()));
    let header = grouped_header("partner_id", group_by);
    let by = |what: &str| match group_by {
        Some(d) => format!("{what} and {d}"),
        None => what.to_owned(),
    };
    let partners: Vec<String> = by_partner.iter().map(|(key, _)| label(key)).collect();

    let outcomes: Vec<String> = OUTCOMES.iter().map(|o| (*o).to_owned()).collect();
    let counts: Vec<u64> = by_partner
        .iter()
        .flat_map(|(_, offers)| OUTCOMES.map(|o| offers.iter().filter(|offer| outcome(offer) == o).count() as u64))
        .collect();
    let outcome_table = count_table(
        "partner_offer_outcomes",
        &by("Offers made to each partner organization, by how they ended"),
        &header,
        &partners,
        &outcomes,
        &counts,
    )
    .note("total = offers made; an offer that expired and was then accepted counts as accepted");

    let mut reasons: Vec<String> = operations.offers.iter().filter_map(|o| o.declined.clone()).collect();
    reasons.sort();
    reasons.dedup();
    let declining: Vec<&((String, String), Vec<&OfferFacts>)> =
        by_partner.iter().filter(|(_, offers)| offers.iter().any(|o| o.declined.is_some())).collect();
    let decline_counts: Vec<u64> = declining
        .iter()
        .flat_map(|(_, offers)| {
            reasons.iter().map(|reason| offers.iter().filter(|o| o.declined.as_ref() == Some(reason)).count() as u64)
        })
        .collect();
    let decline_table = count_table(
        "partner_decline_reasons",
        &by("Declined offers by partner organization and reason code"),
        &header,
        &declining.iter().map(|(key, _)| label(key)).collect::<Vec<_>>(),
        &reasons,
        &decline_counts,
    );

    let mut time_table = Table::new(
        "partner_time_to_accept",
        &by("Median hours from offer to acceptance, by partner organization"),
        &[header.as_str(), "median_hours_to_accept"],
    )
    .note(format!("shown for partners with at least {} accepted offers", super::MIN_GROUP));
    for (key, offers) in &by_partner {
        let mut hours: Vec<f64> = offers.iter().filter_map(|o| hours_to_accept(o)).collect();
        let cell =
            if hours.len() >= super::MIN_GROUP { Cell::number(median(&mut hours), 1) } else { Cell::suppressed() };
        time_table.rows.push(vec![Cell::label(label(key)), cell]);
    }
    Output { tables: vec![outcome_table, decline_table, time_table], charts: Vec::new() }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000_000;

    fn offer(id: usize, partner: &str) -> OfferFacts {
        OfferFacts {
            offer_id: format!("off_{id}"),
            referral_id: format!("ref_{id}"),
            partner_id: partner.into(),
            offered_at: Some(0),
            accepted_at: None,
            declined: None,
            expired: false,
            withdrawn: false,
        }
    }

    #[test]
    fn an_expired_then_accepted_offer_counts_as_accepted_with_its_late_time() {
        let mut late = offer(1, "org_a");
        late.expired = true;
        late.accepted_at = Some(30 * HOUR);
        assert_eq!(outcome(&late), "accepted");
        assert_eq!(hours_to_accept(&late), Some(30.0));
        let mut expired = offer(2, "org_a");
        expired.expired = true;
        assert_eq!(outcome(&expired), "expired");
        assert_eq!(hours_to_accept(&expired), None);
    }

    #[test]
    fn outcomes_reasons_and_medians_under_disclosure_control() {
        let mut offers = Vec::new();
        for i in 0..20 {
            let mut o = offer(i, "org_a");
            o.accepted_at = Some((i as i64 + 1) * HOUR);
            offers.push(o);
        }
        for i in 20..35 {
            let mut o = offer(i, "org_a");
            o.declined = Some(if i < 32 { "no_capacity".into() } else { "safety_concern".into() });
            offers.push(o);
        }
        for i in 35..40 {
            let mut o = offer(i, "org_b");
            o.accepted_at = Some(HOUR);
            offers.push(o);
        }
        let ops = Operations { referrals: Vec::new(), offers, as_of: 0 };
        let output = partner_responsiveness(&ops, None);
        let outcomes = &output.tables[0];
        let a = outcomes.rows.iter().find(|r| r[0].value == "org_a").unwrap();
        // org_b's 5 accepted go, and org_a's 20 with them (the column total would give them away).
        assert!(a[1].suppressed, "{a:?}");
        assert_eq!(a[2].number, Some(15.0));
        let total = outcomes.rows.last().unwrap();
        assert_eq!((total[1].number, total[6].number), (Some(25.0), Some(40.0)));
        let b = outcomes.rows.iter().find(|r| r[0].value == "org_b").unwrap();
        assert!(b[1].suppressed, "5 accepted offers must not be shown: {b:?}");
        let reasons = &output.tables[1];
        let a = reasons.rows.iter().find(|r| r[0].value == "org_a").unwrap();
        assert!(a[1].suppressed && a[2].suppressed, "12 + 3: the 3 goes and so does its complement: {a:?}");
        for table in &output.tables[..2] {
            for row in &table.rows {
                for cell in &row[1..] {
                    if let Some(n) = cell.number {
                        assert!(n == 0.0 || n >= 11.0, "{row:?}");
                    }
                }
            }
        }
        let times = &output.tables[2];
        assert_eq!(times.rows[0][1].number, Some(10.5));
        assert!(times.rows[1][1].suppressed);
    }
}

#[cfg(test)]
mod grouped {
    use super::*;

    #[test]
    fn offers_are_split_by_the_group_of_their_referral() {
        let referral = |id: usize, site: &str| ReferralFacts {
            referral_id: format!("ref_{id}"),
            youth_id: format!("yth_{id}"),
            site: site.into(),
            referral_source: "hotline".into(),
            dimensions: [("site".to_owned(), site.to_owned())].into_iter().collect(),
            received_at: 0,
            tiers: vec![(0, "routine".into())],
            matched_at: None,
        };
        let referrals: Vec<ReferralFacts> =
            (0..30).map(|i| referral(i, if i < 15 { "south_los_angeles" } else { "san_fernando_valley" })).collect();
        let offers = (0..30)
            .map(|i| OfferFacts {
                offer_id: format!("off_{i}"),
                referral_id: format!("ref_{i}"),
                partner_id: "org_a".into(),
                offered_at: Some(0),
                accepted_at: None,
                declined: None,
                expired: false,
                withdrawn: false,
            })
            .collect();
        let ops = Operations { referrals, offers, as_of: 0 };
        let output = partner_responsiveness(&ops, Some("site"));
        let outcomes = &output.tables[0];
        assert_eq!(outcomes.columns[0], "partner_id / site");
        let labels: Vec<&str> = outcomes.rows.iter().map(|r| r[0].value.as_str()).collect();
        assert_eq!(labels, ["org_a / san_fernando_valley", "org_a / south_los_angeles", "total"]);
        assert_eq!(outcomes.rows[0][5].number, Some(15.0), "15 open offers: {outcomes:?}");
    }
}
