//! The operations facts: each referral's tier history and match instant, and each offer's
//! outcome, folded from the coded routing, intake and case events the service stored. Pure: the
//! same events give the same facts. Practice referrals are left out (their events are not even
//! stored; the flag is checked again here).

use std::collections::BTreeMap;

use prost::Message;
use wf_events::EventPayload;
use wf_proto::common::v1 as common;
use wf_proto::events::v1 as pb;
use wf_proto::routing::v1::DeclineReason;

use super::codes::code_of;
use super::dataset::{DIMENSIONS, StoredEvent, micros};

/// One referral as operations sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferralFacts {
    pub referral_id: String,
    pub youth_id: String,
    pub site: String,
    pub referral_source: String,
    /// The grouping dimensions of the referral, as the data set codes them (`DIMENSIONS`).
    pub dimensions: BTreeMap<String, String>,
    pub received_at: i64,
    /// (instant the tier was set, tier code), first the tier at receipt, then each re-triage.
    pub tiers: Vec<(i64, String)>,
    /// The first offer accepted or case assigned: when the referral was matched.
    pub matched_at: Option<i64>,
}

impl ReferralFacts {
    /// The referral's value of a grouping dimension ("missing" when it has none).
    pub fn dimension(&self, dimension: &str) -> String {
        self.dimensions.get(dimension).cloned().unwrap_or_else(|| super::codes::MISSING.to_owned())
    }

    /// The tier in force at `at` and the instant it was set.
    pub fn tier_at(&self, at: i64) -> (i64, &str) {
        let mut current = (self.received_at, self.tiers.first().map_or("missing", |(_, t)| t.as_str()));
        for (since, tier) in &self.tiers {
            if *since <= at {
                current = (*since, tier.as_str());
            }
        }
        current
    }
}

/// One offer to a partner organization.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferFacts {
    pub offer_id: String,
    pub referral_id: String,
    /// Organization id ("org_..."): not personal data.
    pub partner_id: String,
    pub offered_at: Option<i64>,
    pub accepted_at: Option<i64>,
    /// Decline reason code, when declined.
    pub declined: Option<String>,
    pub expired: bool,
    pub withdrawn: bool,
}

/// Everything operations analyses need.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Operations {
    pub referrals: Vec<ReferralFacts>,
    pub offers: Vec<OfferFacts>,
    /// The as-of instant the facts were folded at.
    pub as_of: i64,
}

impl Operations {
    /// Keeps referrals (and their offers) received in `[referred.0, referred.1)` at the given sites
    /// (empty: all).
    pub fn scoped(mut self, sites: &[String], referred: (Option<i64>, Option<i64>)) -> Self {
        self.referrals.retain(|r| {
            (sites.is_empty() || sites.contains(&r.site))
                && referred.0.is_none_or(|from| r.received_at >= from)
                && referred.1.is_none_or(|to| r.received_at < to)
        });
        let kept: std::collections::HashSet<&str> = self.referrals.iter().map(|r| r.referral_id.as_str()).collect();
        self.offers.retain(|o| kept.contains(o.referral_id.as_str()));
        self
    }
}

fn tier_code(raw: i32) -> String {
    code_of!(common::TriageTier, "TRIAGE_TIER_", raw)
}

/// Folds the events that occurred at or before `as_of`. Events of referrals never received (or
/// practice ones) are left out; undecodable payloads are counted in the second value.
pub fn fold(events: &[StoredEvent], as_of: i64) -> (Operations, usize) {
    let mut referrals: BTreeMap<String, ReferralFacts> = BTreeMap::new();
    let mut offers: BTreeMap<String, OfferFacts> = BTreeMap::new();
    let mut matches: Vec<(String, i64)> = Vec::new();
    let mut triages: Vec<(String, i64, String)> = Vec::new();
    let mut undecodable = 0;
    let mut ordered: Vec<&StoredEvent> = events.iter().filter(|e| e.occurred_at <= as_of).collect();
    ordered.sort_by_key(|e| (e.occurred_at, e.seq));
    for event in ordered {
        let bytes = event.payload.as_slice();
        let at = |t: Option<&prost_types::Timestamp>| micros(t).unwrap_or(event.occurred_at);
        let ok = match event.event_type.as_str() {
            pb::ReferralReceived::TYPE => pb::ReferralReceived::decode(bytes).map(|r| {
                if !r.practice && !r.outside_youth_program && !referrals.contains_key(&r.referral_id) {
                    let received_at = at(r.received_at.as_ref());
                    let received_on = chrono::DateTime::from_timestamp_micros(received_at)
                        .map_or(chrono::NaiveDate::MIN, |t| t.date_naive());
                    let baseline = super::dataset::baseline_row("", &r, received_on);
                    let dimensions = DIMENSIONS
                        .iter()
                        .filter_map(|d| baseline.dimension(d).map(|value| ((*d).to_owned(), value)))
                        .collect();
                    referrals.insert(
                        r.referral_id.clone(),
                        ReferralFacts {
                            referral_id: r.referral_id,
                            youth_id: r.youth_id,
                            site: code_of!(common::Site, "SITE_", r.site),
                            referral_source: code_of!(common::ReferralSource, "REFERRAL_SOURCE_", r.source),
                            dimensions,
                            received_at,
                            tiers: vec![(received_at, tier_code(r.triage_tier))],
                            matched_at: None,
                        },
                    );
                }
            }),
            pb::ReferralTriaged::TYPE => pb::ReferralTriaged::decode(bytes).map(|t| {
                if !t.practice {
                    triages.push((t.referral_id, at(t.triaged_at.as_ref()), tier_code(t.triage_tier)));
                }
            }),
            pb::CaseAssigned::TYPE => pb::CaseAssigned::decode(bytes).map(|c| {
                if !c.practice {
                    matches.push((c.referral_id, at(c.assigned_at.as_ref())));
                }
            }),
            pb::OfferMade::TYPE => pb::OfferMade::decode(bytes).map(|o| {
                if !o.practice {
                    let offer = offer_entry(&mut offers, &o.offer_id, &o.referral_id, &o.partner_id);
                    offer.offered_at = Some(at(o.offered_at.as_ref()));
                }
            }),
            pb::OfferAccepted::TYPE => pb::OfferAccepted::decode(bytes).map(|o| {
                if !o.practice {
                    let accepted_at = at(o.accepted_at.as_ref());
                    let offer = offer_entry(&mut offers, &o.offer_id, &o.referral_id, &o.partner_id);
                    offer.accepted_at.get_or_insert(accepted_at);
                    if offer.offered_at.is_none() {
                        offer.offered_at = micros(o.offered_at.as_ref());
                    }
                    matches.push((o.referral_id, accepted_at));
                }
            }),
            pb::OfferDeclined::TYPE => pb::OfferDeclined::decode(bytes).map(|o| {
                if !o.practice {
                    let offer = offer_entry(&mut offers, &o.offer_id, &o.referral_id, &o.partner_id);
                    offer.declined = Some(code_of!(DeclineReason, "DECLINE_REASON_", o.reason));
                }
            }),
            pb::OfferExpired::TYPE => pb::OfferExpired::decode(bytes).map(|o| {
                if !o.practice {
                    offer_entry(&mut offers, &o.offer_id, &o.referral_id, &o.partner_id).expired = true;
                }
            }),
            pb::OfferWithdrawn::TYPE => pb::OfferWithdrawn::decode(bytes).map(|o| {
                if !o.practice {
                    offer_entry(&mut offers, &o.offer_id, &o.referral_id, &o.partner_id).withdrawn = true;
                }
            }),
            _ => Ok(()),
        };
        if ok.is_err() {
            undecodable += 1;
        }
    }
    for (referral_id, since, tier) in triages {
        if let Some(referral) = referrals.get_mut(&referral_id) {
            referral.tiers.push((since.max(referral.received_at), tier));
        }
    }
    for (referral_id, at) in matches {
        if let Some(referral) = referrals.get_mut(&referral_id) {
            referral.matched_at = Some(referral.matched_at.map_or(at, |m| m.min(at)));
        }
    }
    for referral in referrals.values_mut() {
        referral.tiers.sort_by_key(|(since, _)| *since);
    }
    let offers = offers.into_values().filter(|o| referrals.contains_key(&o.referral_id)).collect();
    (Operations { referrals: referrals.into_values().collect(), offers, as_of }, undecodable)
}

fn offer_entry<'a>(
    offers: &'a mut BTreeMap<String, OfferFacts>,
    offer_id: &str,
    referral_id: &str,
    partner_id: &str,
) -> &'a mut OfferFacts {
    offers.entry(offer_id.to_owned()).or_insert_with(|| OfferFacts {
        offer_id: offer_id.to_owned(),
        referral_id: referral_id.to_owned(),
        partner_id: partner_id.to_owned(),
        offered_at: None,
        accepted_at: None,
        declined: None,
        expired: false,
        withdrawn: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000_000;
    const T0: i64 = 1_767_268_800_000_000;

    fn ts(at: i64) -> Option<prost_types::Timestamp> {
        Some(wf_proto::time::timestamp_from_micros(at))
    }

    fn push<P: EventPayload + Message>(events: &mut Vec<StoredEvent>, at: i64, payload: P) {
        let seq = events.len() as i64 + 1;
        events.push(StoredEvent {
            seq,
            event_type: P::TYPE.to_owned(),
            occurred_at: at,
            payload: payload.encode_to_vec(),
        });
    }

    fn received(referral: &str, at: i64, tier: common::TriageTier, practice: bool) -> pb::ReferralReceived {
        pb::ReferralReceived {
            referral_id: referral.into(),
            youth_id: format!("yth_{referral}"),
            received_at: ts(at),
            triage_tier: tier as i32,
            site: common::Site::SouthLosAngeles as i32,
            practice,
            ..Default::default()
        }
    }

    #[test]
    fn folds_re_triage_expired_then_accepted_offers_and_leaves_practice_out() {
        let mut events = Vec::new();
        push(&mut events, T0, received("ref_a", T0, common::TriageTier::Routine, false));
        push(&mut events, T0, received("ref_p", T0, common::TriageTier::Routine, true));
        push(
            &mut events,
            T0 + HOUR,
            pb::ReferralTriaged {
                referral_id: "ref_a".into(),
                triage_tier: common::TriageTier::Emergent as i32,
                triaged_at: ts(T0 + HOUR),
                ..Default::default()
            },
        );
        let made = |offer: &str, at: i64| pb::OfferMade {
            offer_id: offer.into(),
            referral_id: "ref_a".into(),
            partner_id: "org_a".into(),
            offered_at: ts(at),
            ..Default::default()
        };
        push(&mut events, T0 + HOUR, made("off_1", T0 + HOUR));
        push(
            &mut events,
            T0 + 3 * HOUR,
            pb::OfferExpired {
                offer_id: "off_1".into(),
                referral_id: "ref_a".into(),
                partner_id: "org_a".into(),
                ..Default::default()
            },
        );
        push(
            &mut events,
            T0 + 4 * HOUR,
            pb::OfferAccepted {
                offer_id: "off_1".into(),
                referral_id: "ref_a".into(),
                partner_id: "org_a".into(),
                accepted_at: ts(T0 + 4 * HOUR),
                ..Default::default()
            },
        );
        push(
            &mut events,
            T0 + 2 * HOUR,
            pb::OfferDeclined {
                offer_id: "off_p".into(),
                referral_id: "ref_p".into(),
                partner_id: "org_a".into(),
                practice: true,
                ..Default::default()
            },
        );
        let (operations, undecodable) = fold(&events, T0 + 100 * HOUR);
        assert_eq!(undecodable, 0);
        assert_eq!(operations.referrals.len(), 1, "practice referral left out");
        let referral = &operations.referrals[0];
        assert_eq!(referral.tiers, vec![(T0, "routine".into()), (T0 + HOUR, "emergent".into())]);
        assert_eq!(referral.matched_at, Some(T0 + 4 * HOUR));
        assert_eq!(referral.tier_at(T0 + 4 * HOUR), (T0 + HOUR, "emergent"));
        assert_eq!(operations.offers.len(), 1);
        let offer = &operations.offers[0];
        assert!(offer.expired && offer.accepted_at == Some(T0 + 4 * HOUR));
        assert_eq!(offer.offered_at, Some(T0 + HOUR));
        // Matched three hours after becoming emergent: the 90-minute deadline was missed.
        assert_eq!(
            super::super::analysis::deadlines::compliance(referral, operations.as_of),
            Some(("emergent".into(), super::super::analysis::deadlines::Compliance::Missed))
        );
        // Before the as-of instant of the acceptance, the referral was not matched.
        let (earlier, _) = fold(&events, T0 + 2 * HOUR);
        assert_eq!(earlier.referrals[0].matched_at, None);
        assert!(earlier.scoped(&["san_fernando_valley".into()], (None, None)).referrals.is_empty());
    }
}
