//! Partner responsiveness: offers made to each partner organization and how they ended
//! (accepted, declined, expired, withdrawn, still open), declines by reason code, and the median
//! time from offer to acceptance. Organization ids are not personal data; every count still goes
//! through disclosure control, and a median is shown only for a partner with at least
//! [`super::MIN_GROUP`] accepted offers.
//!
//! An offer that expired and was then accepted late counts as accepted (the partner did take the
//! youth); its time to accept runs from the offer to the late acceptance.

use std::collections::BTreeMap;

use crate::domain::operations::{OfferFacts, Operations};
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

pub fn partner_responsiveness(operations: &Operations) -> Output {
    let mut by_partner: BTreeMap<&str, Vec<&OfferFacts>> = BTreeMap::new();
    for offer in &operations.offers {
        by_partner.entry(offer.partner_id.as_str()).or_default().push(offer);
    }
    let partners: Vec<String> = by_partner.keys().map(|p| (*p).to_owned()).collect();

    let outcomes: Vec<String> = OUTCOMES.iter().map(|o| (*o).to_owned()).collect();
    let counts: Vec<u64> = by_partner
        .values()
        .flat_map(|offers| OUTCOMES.map(|o| offers.iter().filter(|offer| outcome(offer) == o).count() as u64))
        .collect();
    let outcome_table = count_table(
        "partner_offer_outcomes",
        "Offers made to each partner organization, by how they ended",
        "partner_id",
        &partners,
        &outcomes,
        &counts,
    )
    .note("total = offers made; an offer that expired and was then accepted counts as accepted");

    let mut reasons: Vec<String> = operations.offers.iter().filter_map(|o| o.declined.clone()).collect();
    reasons.sort();
    reasons.dedup();
    let declining: Vec<(&str, &Vec<&OfferFacts>)> = by_partner
        .iter()
        .filter(|(_, offers)| offers.iter().any(|o| o.declined.is_some()))
        .map(|(p, o)| (*p, o))
        .collect();
    let decline_counts: Vec<u64> = declining
        .iter()
        .flat_map(|(_, offers)| {
            reasons.iter().map(|reason| offers.iter().filter(|o| o.declined.as_ref() == Some(reason)).count() as u64)
        })
        .collect();
    let decline_table = count_table(
        "partner_decline_reasons",
        "Declined offers by partner organization and reason code",
        "partner_id",
        &declining.iter().map(|(p, _)| (*p).to_owned()).collect::<Vec<_>>(),
        &reasons,
        &decline_counts,
    );

    let mut time_table = Table::new(
        "partner_time_to_accept",
        "Median hours from offer to acceptance, by partner organization",
        &["partner_id", "median_hours_to_accept"],
    )
    .note(format!("shown for partners with at least {} accepted offers", super::MIN_GROUP));
    for (partner, offers) in &by_partner {
        let mut hours: Vec<f64> = offers.iter().filter_map(|o| hours_to_accept(o)).collect();
        let cell =
            if hours.len() >= super::MIN_GROUP { Cell::number(median(&mut hours), 1) } else { Cell::suppressed() };
        time_table.rows.push(vec![Cell::label(*partner), cell]);
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
        let output = partner_responsiveness(&ops);
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
