//! Whose records an entry is about, as the log itself says.
//!
//! Every entry names the records it reads, exports, refuses or changes ([`named_records`]: the
//! record its payload names — never its correlation id, which names the request that caused it,
//! as a matcher's read of one youth's referral made while matching another youth's). The log's
//! own events tie records to youths ([`RecordLinks`], learnt in log order): referrals to their
//! youth (`referral.received`, moved by `possible_match.confirmed`), offers to their referral
//! (`offer.made`), cases to their referrals and youth (`case.assigned`, `case.reopened`,
//! `case.linked`, `case.closed`, `case.awaiting_assignment`) and notes to their case
//! (`case_note.added`, which also says which notes are privileged).
//!
//! The youth of a record is resolved when the log is read, from everything the log holds then: a
//! possible match confirmed after a referral was read moves that read to the earlier youth, and a
//! provisional youth id left without referrals stands for the youth it turned out to be. So the
//! disclosure report, `ListEntries` by youth and `AuditEntry.youth_id` agree by construction, and
//! an appended (hashed, immutable) entry never carries a youth that a later event proves wrong.

use std::collections::{BTreeMap, BTreeSet};

use prost::Message;
use wf_events::EventPayload;
use wf_proto::events::v1 as pb;

use super::chain::Entry;

/// Whose records a query or report covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// One referral, with its offers, cases and their notes.
    Referral(String),
    /// The youth record itself, every referral of the youth, their offers, cases and notes.
    Youth(String),
}

impl Subject {
    pub fn id(&self) -> &str {
        match self {
            Subject::Referral(id) | Subject::Youth(id) => id,
        }
    }
}

/// The entry types that tie records to a youth (read by [`RecordLinks::learn`]).
pub const LINK_TYPES: [&str; 9] = [
    pb::ReferralReceived::TYPE,
    pb::PossibleMatchConfirmed::TYPE,
    pb::OfferMade::TYPE,
    pb::CaseAssigned::TYPE,
    pb::CaseReopened::TYPE,
    pb::CaseLinked::TYPE,
    pb::CaseClosed::TYPE,
    pb::CaseAwaitingAssignment::TYPE,
    pb::CaseNoteAdded::TYPE,
];

/// The payload as `M`, or `None` when it does not decode.
fn decoded<M: Message + Default>(entry: &Entry) -> Option<M> {
    M::decode(entry.content.payload.as_slice()).ok()
}

fn ids<const N: usize>(ids: [&str; N]) -> Vec<String> {
    ids.iter().filter(|id| !id.is_empty()).map(|id| (*id).to_owned()).collect()
}

/// The records `entry`'s payload names, the record it is chiefly about first: the record read or
/// refused, the records exported, the record changed (an offer before its referral, a note before
/// its case). When the payload names none (another kind of event, or one that cannot be read), the
/// entry's aggregate.
pub fn named_records(entry: &Entry) -> Vec<String> {
    let named = payload_records(entry).unwrap_or_default();
    if named.is_empty() && !entry.content.aggregate_id.is_empty() {
        vec![entry.content.aggregate_id.clone()]
    } else {
        named
    }
}

/// The ids a known payload names; `None` for another type or an unreadable payload.
fn payload_records(entry: &Entry) -> Option<Vec<String>> {
    macro_rules! by_type {
        ($($message:ident => |$e:ident| $ids:expr),* $(,)?) => {
            match entry.content.event_type.as_str() {
                $(pb::$message::TYPE => decoded::<pb::$message>(entry).map(|$e| $ids),)*
                _ => None,
            }
        };
    }
    by_type! {
        RecordAccessed => |e| ids([&e.record_id]),
        AccessRefused => |e| ids([&e.record_id]),
        RecordExported => |e| e.record_ids.into_iter().filter(|id| !id.is_empty()).collect(),
        ReferralReceived => |e| ids([&e.referral_id]),
        ReferralTriaged => |e| ids([&e.referral_id]),
        ReferralUpdated => |e| ids([&e.referral_id]),
        ReferralHoldChanged => |e| ids([&e.referral_id]),
        ReferralClosed => |e| ids([&e.referral_id]),
        ReferralPurged => |e| ids([&e.referral_id]),
        ConsentReleaseCreated => |e| ids([&e.referral_id]),
        ConsentReleaseRevoked => |e| ids([&e.referral_id]),
        MandatedReportRecorded => |e| ids([&e.referral_id]),
        MandatedReportOverdue => |e| ids([&e.referral_id]),
        ScreeningRecorded => |e| ids([&e.referral_id]),
        PossibleMatchFound => |e| ids([&e.referral_id]),
        PossibleMatchConfirmed => |e| ids([&e.referral_id]),
        PossibleMatchRejected => |e| ids([&e.referral_id]),
        ReferralRouted => |e| ids([&e.referral_id]),
        ReferralEscalated => |e| ids([&e.referral_id]),
        EscalationResolved => |e| ids([&e.referral_id]),
        OfferMade => |e| ids([&e.offer_id, &e.referral_id]),
        OfferAccepted => |e| ids([&e.offer_id, &e.referral_id]),
        OfferDeclined => |e| ids([&e.offer_id, &e.referral_id]),
        OfferExpired => |e| ids([&e.offer_id, &e.referral_id]),
        OfferWithdrawn => |e| ids([&e.offer_id, &e.referral_id]),
        CaseAssigned => |e| ids([&e.case_id]),
        CaseStageChanged => |e| ids([&e.case_id]),
        ReadinessChanged => |e| ids([&e.case_id]),
        ContactAttemptRecorded => |e| ids([&e.case_id]),
        ServicePlanGoalChanged => |e| ids([&e.case_id]),
        InterventionDelivered => |e| ids([&e.case_id]),
        InterventionWithdrawn => |e| ids([&e.case_id]),
        FollowUpDue => |e| ids([&e.case_id]),
        FollowUpOverdue => |e| ids([&e.case_id]),
        FollowUpRecorded => |e| ids([&e.case_id]),
        FollowUpCancelled => |e| ids([&e.case_id]),
        RecidivismRecorded => |e| ids([&e.case_id]),
        CaseClosed => |e| ids([&e.case_id]),
        CaseReopened => |e| ids([&e.case_id]),
        CaseLinked => |e| ids([&e.case_id, &e.earlier_case_id]),
        CaseAwaitingAssignment => |e| ids([&e.case_id]),
        CaseNoteAdded => |e| ids([&e.note_id, &e.case_id]),
    }
}

/// Which records belong to which youth, as the log's events say. Learn the entries in log order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordLinks {
    /// Referral → its youth now (a confirmed match moves it).
    referral_youth: BTreeMap<String, String>,
    /// Youth id → how many referrals it has now.
    referral_count: BTreeMap<String, usize>,
    /// Youth id → the youth one of its referrals was last moved to by a confirmed match.
    moved_to: BTreeMap<String, String>,
    /// Every youth id the links name.
    youths: BTreeSet<String>,
    /// Offer → its referral.
    offer_referral: BTreeMap<String, String>,
    /// Case → the referrals it serves.
    case_referrals: BTreeMap<String, BTreeSet<String>>,
    /// Case → the youth its own events last named.
    case_youth: BTreeMap<String, String>,
    /// Note → its case.
    note_case: BTreeMap<String, String>,
    privileged_notes: BTreeSet<String>,
}

/// The records of one subject.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectRecords {
    /// Every record id: youth (and retired provisional youth), referral, offer, case and note ids.
    pub ids: BTreeSet<String>,
    /// The referral ids among them (entries caused by a referral carry it as correlation id).
    pub referral_ids: BTreeSet<String>,
    /// The privileged notes among them.
    pub privileged_notes: BTreeSet<String>,
}

impl RecordLinks {
    /// Takes in what `entry` says about whose records are whose (nothing, for other entries or an
    /// unreadable payload).
    pub fn learn(&mut self, entry: &Entry) {
        match entry.content.event_type.as_str() {
            pb::ReferralReceived::TYPE => {
                if let Some(e) = decoded::<pb::ReferralReceived>(entry)
                    && !e.referral_id.is_empty()
                    && !e.youth_id.is_empty()
                {
                    self.youths.insert(e.youth_id.clone());
                    // A redelivered or late `referral.received` never undoes a confirmed match.
                    if !self.referral_youth.contains_key(&e.referral_id) {
                        self.set_referral_youth(e.referral_id, e.youth_id);
                    }
                }
            }
            pb::PossibleMatchConfirmed::TYPE => {
                if let Some(e) = decoded::<pb::PossibleMatchConfirmed>(entry)
                    && !e.referral_id.is_empty()
                    && !e.youth_id.is_empty()
                {
                    self.youths.insert(e.youth_id.clone());
                    let before = self.set_referral_youth(e.referral_id, e.youth_id.clone());
                    let previous = if e.previous_youth_id.is_empty() { before } else { Some(e.previous_youth_id) };
                    if let Some(previous) = previous.filter(|p| *p != e.youth_id) {
                        self.youths.insert(previous.clone());
                        self.moved_to.insert(previous, e.youth_id);
                    }
                }
            }
            pb::OfferMade::TYPE => {
                if let Some(e) = decoded::<pb::OfferMade>(entry)
                    && !e.offer_id.is_empty()
                    && !e.referral_id.is_empty()
                {
                    self.offer_referral.insert(e.offer_id, e.referral_id);
                }
            }
            pb::CaseAssigned::TYPE => {
                if let Some(e) = decoded::<pb::CaseAssigned>(entry) {
                    self.case(&e.case_id, &e.referral_id, &e.youth_id);
                }
            }
            pb::CaseReopened::TYPE => {
                if let Some(e) = decoded::<pb::CaseReopened>(entry) {
                    self.case(&e.case_id, &e.referral_id, &e.youth_id);
                }
            }
            pb::CaseLinked::TYPE => {
                if let Some(e) = decoded::<pb::CaseLinked>(entry) {
                    self.case(&e.case_id, &e.referral_id, &e.youth_id);
                    self.case(&e.earlier_case_id, "", &e.youth_id);
                }
            }
            pb::CaseClosed::TYPE => {
                if let Some(e) = decoded::<pb::CaseClosed>(entry) {
                    self.case(&e.case_id, &e.referral_id, &e.youth_id);
                    for linked in &e.linked_referral_ids {
                        self.case(&e.case_id, linked, "");
                    }
                }
            }
            pb::CaseAwaitingAssignment::TYPE => {
                if let Some(e) = decoded::<pb::CaseAwaitingAssignment>(entry) {
                    self.case(&e.case_id, &e.referral_id, "");
                }
            }
            pb::CaseNoteAdded::TYPE => {
                if let Some(e) = decoded::<pb::CaseNoteAdded>(entry)
                    && !e.note_id.is_empty()
                    && !e.case_id.is_empty()
                {
                    if e.privileged {
                        self.privileged_notes.insert(e.note_id.clone());
                    }
                    self.note_case.insert(e.note_id, e.case_id);
                }
            }
            _ => {}
        }
    }

    /// `referral_id` is `youth_id`'s now; the youth it had before, if any.
    fn set_referral_youth(&mut self, referral_id: String, youth_id: String) -> Option<String> {
        *self.referral_count.entry(youth_id.clone()).or_default() += 1;
        let before = self.referral_youth.insert(referral_id, youth_id);
        if let Some(count) = before.as_ref().and_then(|before| self.referral_count.get_mut(before)) {
            *count = count.saturating_sub(1);
        }
        before
    }

    /// A case serves `referral_id` and (when named) belongs to `youth_id`.
    fn case(&mut self, case_id: &str, referral_id: &str, youth_id: &str) {
        if case_id.is_empty() {
            return;
        }
        if !referral_id.is_empty() {
            self.case_referrals.entry(case_id.to_owned()).or_default().insert(referral_id.to_owned());
        }
        if !youth_id.is_empty() {
            self.youths.insert(youth_id.to_owned());
            self.case_youth.insert(case_id.to_owned(), youth_id.to_owned());
        }
    }

    /// The youth `youth_id` stands for: itself, or — once a confirmed match moved its last referral
    /// away — the youth it turned out to be (a provisional id, retired), followed to the end.
    pub fn canonical(&self, youth_id: &str) -> String {
        let mut current = youth_id.to_owned();
        let mut seen = BTreeSet::new();
        while let Some(next) = self.moved_to.get(&current) {
            let still_has_referrals = self.referral_count.get(&current).is_some_and(|n| *n > 0);
            if still_has_referrals || !seen.insert(current.clone()) {
                break;
            }
            current = next.clone();
        }
        current
    }

    fn youth_of_referral(&self, referral_id: &str) -> Option<String> {
        self.referral_youth.get(referral_id).map(|youth| self.canonical(youth))
    }

    /// A case is its referrals' youth (the first referral the log tied to it whose youth is known,
    /// so a confirmed match moves the case with its referral); without one, the youth its own
    /// events named.
    fn youth_of_case(&self, case_id: &str) -> Option<String> {
        self.case_referrals
            .get(case_id)
            .into_iter()
            .flatten()
            .find_map(|referral| self.youth_of_referral(referral))
            .or_else(|| self.case_youth.get(case_id).map(|youth| self.canonical(youth)))
    }

    /// The youth whose record `record_id` is (a youth, referral, offer, case or note id), when the
    /// log ties it to one.
    pub fn youth_of(&self, record_id: &str) -> Option<String> {
        if let Some(youth) = self.youth_of_referral(record_id) {
            return Some(youth);
        }
        if let Some(referral) = self.offer_referral.get(record_id) {
            return self.youth_of_referral(referral);
        }
        if self.case_referrals.contains_key(record_id) || self.case_youth.contains_key(record_id) {
            return self.youth_of_case(record_id);
        }
        if let Some(case) = self.note_case.get(record_id) {
            return self.youth_of_case(case);
        }
        self.youths.contains(record_id).then(|| self.canonical(record_id))
    }

    /// The one youth whose records `entry` names, if it names exactly one youth's (an export of
    /// several youths' records has none).
    pub fn youth_of_entry(&self, entry: &Entry) -> Option<String> {
        let youths: BTreeSet<String> = named_records(entry).iter().filter_map(|record| self.youth_of(record)).collect();
        if youths.len() == 1 { youths.into_iter().next() } else { None }
    }

    /// Every record of `subject`.
    pub fn records_of(&self, subject: &Subject) -> SubjectRecords {
        let mut ids = BTreeSet::new();
        let referrals: BTreeSet<String> = match subject {
            Subject::Referral(referral) => BTreeSet::from([referral.clone()]),
            Subject::Youth(youth) => {
                let youth = self.canonical(youth);
                ids.insert(subject.id().to_owned());
                ids.extend(self.youths.iter().filter(|y| self.canonical(y) == youth).cloned());
                self.referral_youth
                    .keys()
                    .filter(|r| self.youth_of_referral(r).as_ref() == Some(&youth))
                    .cloned()
                    .collect()
            }
        };
        let offers = self.offer_referral.iter().filter(|(_, r)| referrals.contains(*r)).map(|(o, _)| o.clone());
        let mut cases: BTreeSet<String> = self
            .case_referrals
            .iter()
            .filter(|(_, served)| served.iter().any(|r| referrals.contains(r)))
            .map(|(case, _)| case.clone())
            .collect();
        if let Subject::Youth(youth) = subject {
            let youth = self.canonical(youth);
            let all_cases = self.case_referrals.keys().chain(self.case_youth.keys());
            cases.extend(all_cases.filter(|case| self.youth_of_case(case).as_ref() == Some(&youth)).cloned());
        }
        let notes: BTreeSet<String> =
            self.note_case.iter().filter(|(_, case)| cases.contains(*case)).map(|(note, _)| note.clone()).collect();
        let privileged_notes = notes.intersection(&self.privileged_notes).cloned().collect();
        ids.extend(referrals.iter().cloned());
        ids.extend(offers);
        ids.extend(cases);
        ids.extend(notes);
        SubjectRecords { ids, referral_ids: referrals, privileged_notes }
    }
}

impl SubjectRecords {
    /// Whether `entry` names one of these records.
    pub fn named_by(&self, entry: &Entry) -> bool {
        named_records(entry).iter().any(|record| self.ids.contains(record))
    }
}

#[cfg(test)]
mod tests;
