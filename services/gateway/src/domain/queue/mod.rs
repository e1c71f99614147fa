//! The referral queue and a referral's page, as plain rules: which filters a queue address holds
//! ([`Filters`]: parsed from the query string, every bad value a violation naming the filter and its
//! allowed values, and written back so every link round-trips), the order rows are shown in
//! ([`order`]: tier, then deadline), what each row says ([`Row`]), the words for every code
//! ([`labels`]), deadlines as Los Angeles clock time and countdown ([`time`]), and the routing
//! explanation and offer timeline ([`explain`]). No I/O.

pub mod explain;
pub mod labels;
pub mod time;

#[cfg(test)]
mod tests;

use std::cmp::Ordering;

use wf_proto::common::v1::{ReferralSource, Site, TriageTier};
use wf_proto::intake::v1::ReferralStatus;
use wf_types::{CaseManagerId, FieldViolation};

pub use labels::Tier;
use labels::{SITES, SOURCES, STATUSES, TIERS};

/// Microseconds since the epoch of a proto timestamp (`None` when absent or out of range).
pub fn micros(at: &Option<prost_types::Timestamp>) -> Option<i64> {
    at.as_ref().and_then(wf_proto::time::datetime).map(|at| at.timestamp_micros())
}

/// The filters of a queue address (`/referrals?tier=emergent&unassigned=1`). Unset filters match
/// everything; without `status`, every status but closed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub tier: Option<TriageTier>,
    /// Any of these; empty = every open status.
    pub statuses: Vec<ReferralStatus>,
    pub site: Option<Site>,
    pub source: Option<ReferralSource>,
    /// Referrals whose case this case manager holds now.
    pub owner: Option<CaseManagerId>,
    /// Referrals whose case the signed-in person holds (their roster entry's id).
    pub mine: bool,
    /// Referrals whose case nobody holds.
    pub unassigned: bool,
    /// Practice referrals too (partner training; excluded by default, as intake excludes them).
    pub practice: bool,
}

/// The query parameters, as the filters form names its fields.
pub mod param {
    pub const TIER: &str = "tier";
    pub const STATUS: &str = "status";
    pub const SITE: &str = "site";
    pub const SOURCE: &str = "source";
    pub const OWNER: &str = "owner";
    pub const MINE: &str = "mine";
    pub const UNASSIGNED: &str = "unassigned";
    pub const PRACTICE: &str = "practice";
}

const SWITCH_ALLOWED: &str = "allowed: 1 (on) or 0 (off)";

fn switch(field: &str, value: &str, violations: &mut Vec<FieldViolation>) -> bool {
    match value {
        "1" | "on" | "true" | "yes" => true,
        "" | "0" | "off" | "false" | "no" => false,
        _ => {
            violations.push(FieldViolation::new(field, format!("is not a switch; {SWITCH_ALLOWED}")));
            false
        }
    }
}

/// A single-valued filter: the code looked up in `table`; empty means unset (a form's "Any").
fn one_of<E: Copy + PartialEq>(
    field: &str,
    what: &str,
    table: &labels::Table<E>,
    value: &str,
    slot: &mut Option<E>,
    violations: &mut Vec<FieldViolation>,
) {
    if value.is_empty() {
        return;
    }
    match labels::parse(table, value) {
        Some(parsed) if slot.is_some_and(|seen| seen != parsed) => violations.push(FieldViolation::new(
            field,
            format!("is given more than once with different values; allowed: one of {}", labels::allowed(table)),
        )),
        Some(parsed) => *slot = Some(parsed),
        None => {
            violations.push(FieldViolation::new(field, format!("is not {what}; allowed: {}", labels::allowed(table))))
        }
    }
}

impl Filters {
    /// The filters of a query string (without the `?`). Unknown parameters are ignored; each bad
    /// value is a violation naming the filter and what it allows (never repeating the value, which
    /// came from a URL anyone could have written).
    pub fn parse(query: &str) -> Result<Self, Vec<FieldViolation>> {
        let mut filters = Filters::default();
        let mut violations = Vec::new();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let value = value.trim();
            match key.as_ref() {
                param::TIER => {
                    one_of(param::TIER, "a triage tier", TIERS, value, &mut filters.tier, &mut violations);
                }
                param::STATUS if value.is_empty() => {}
                param::STATUS => match labels::parse(STATUSES, value) {
                    Some(status) if !filters.statuses.contains(&status) => filters.statuses.push(status),
                    Some(_) => {}
                    None => violations.push(FieldViolation::new(
                        param::STATUS,
                        format!("is not a referral status; allowed: {}", labels::allowed(STATUSES)),
                    )),
                },
                param::SITE => one_of(param::SITE, "a site", SITES, value, &mut filters.site, &mut violations),
                param::SOURCE => {
                    one_of(param::SOURCE, "a referral source", SOURCES, value, &mut filters.source, &mut violations);
                }
                param::OWNER if value.is_empty() => {}
                param::OWNER => match value.parse::<CaseManagerId>() {
                    Ok(owner) if filters.owner.as_ref().is_some_and(|seen| *seen != owner) => {
                        violations.push(FieldViolation::new(
                            param::OWNER,
                            "is given more than once with different values; allowed: one case manager",
                        ));
                    }
                    Ok(owner) => filters.owner = Some(owner),
                    Err(_) => violations.push(FieldViolation::new(
                        param::OWNER,
                        "is not a case manager id; allowed: \"cm_\" and 32 lowercase hex digits, as the roster \
                         gives it",
                    )),
                },
                param::MINE => filters.mine |= switch(param::MINE, value, &mut violations),
                param::UNASSIGNED => filters.unassigned |= switch(param::UNASSIGNED, value, &mut violations),
                param::PRACTICE => filters.practice |= switch(param::PRACTICE, value, &mut violations),
                _ => {}
            }
        }
        if filters.mine && filters.owner.is_some() {
            violations.push(FieldViolation::new(
                param::MINE,
                "cannot be combined with owner (both name who holds the case); allowed: one of them",
            ));
        }
        if filters.unassigned && (filters.mine || filters.owner.is_some()) {
            violations.push(FieldViolation::new(
                param::UNASSIGNED,
                "cannot be combined with owner or mine (a referral with an owner is not unassigned); allowed: \
                 one of them",
            ));
        }
        if violations.is_empty() { Ok(filters) } else { Err(violations) }
    }

    /// The query string of these filters, in one order, without the `?` (empty when none is set):
    /// what [`Filters::parse`] reads back as the same filters.
    pub fn to_query(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(code) = self.tier.and_then(|tier| labels::code(TIERS, tier)) {
            query.append_pair(param::TIER, code);
        }
        for code in self.statuses.iter().filter_map(|status| labels::code(STATUSES, *status)) {
            query.append_pair(param::STATUS, code);
        }
        if let Some(code) = self.site.and_then(|site| labels::code(SITES, site)) {
            query.append_pair(param::SITE, code);
        }
        if let Some(code) = self.source.and_then(|source| labels::code(SOURCES, source)) {
            query.append_pair(param::SOURCE, code);
        }
        if let Some(owner) = &self.owner {
            query.append_pair(param::OWNER, owner.as_str());
        }
        for (on, name) in
            [(self.mine, param::MINE), (self.unassigned, param::UNASSIGNED), (self.practice, param::PRACTICE)]
        {
            if on {
                query.append_pair(name, "1");
            }
        }
        query.finish()
    }

    /// The queue's address with these filters.
    pub fn href(&self) -> String {
        let query = self.to_query();
        if query.is_empty() { "/referrals".to_owned() } else { format!("/referrals?{query}") }
    }

    /// The quick filter "emergent, unassigned" (open statuses, practice as now).
    pub fn emergent_unassigned(practice: bool) -> Self {
        Filters { tier: Some(TriageTier::Emergent), unassigned: true, practice, ..Filters::default() }
    }

    /// The statuses to ask intake for: the chosen ones, else every open one.
    pub fn statuses_to_list(&self) -> Vec<ReferralStatus> {
        if self.statuses.is_empty() { labels::open_statuses() } else { self.statuses.clone() }
    }

    /// Whether the rows these filters list include every open emergent referral nobody holds (then
    /// the tab title's count comes from them, without asking again).
    pub fn covers_emergent_unassigned(&self) -> bool {
        self.tier.is_none_or(|tier| tier == TriageTier::Emergent)
            && self.statuses.is_empty()
            && self.site.is_none()
            && self.source.is_none()
            && self.owner.is_none()
            && !self.mine
    }

    pub fn is_empty(&self) -> bool {
        *self == Filters { practice: self.practice, ..Filters::default() }
    }
}

/// A listed referral as the queue needs it (coded fields of intake's summary, no personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub referral_id: String,
    pub tier: Tier,
    pub is_minor: bool,
    pub site: i32,
    pub source: i32,
    pub status: i32,
    /// Microseconds.
    pub received_at: i64,
    /// The current step's deadline, microseconds.
    pub deadline: Option<i64>,
    /// The case manager who holds the case (`cm_…`); empty when nobody does.
    pub owner: String,
    /// The referral's case (`case_…`); empty before it has one.
    pub case_id: String,
    pub practice: bool,
}

impl Entry {
    /// A row of intake's `ListReferrals`, as the queue orders it.
    pub fn of(summary: &wf_proto::intake::v1::ReferralSummary) -> Self {
        Entry {
            tier: Tier::of(summary.triage_tier),
            is_minor: summary.is_minor,
            site: summary.site,
            source: summary.source,
            status: summary.status,
            received_at: micros(&summary.received_at).unwrap_or_default(),
            deadline: micros(&summary.deadline),
            owner: summary.case_manager_id.clone(),
            case_id: summary.case_id.clone(),
            practice: summary.practice,
            referral_id: summary.referral_id.clone(),
        }
    }
}

/// The queue's order: tier (emergent first), then deadline (soonest, overdue first; none last),
/// then the oldest received, then the id, so equal rows keep one order.
pub fn order(a: &Entry, b: &Entry) -> Ordering {
    let deadline = match (a.deadline, b.deadline) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    };
    a.tier
        .cmp(&b.tier)
        .then(deadline)
        .then(a.received_at.cmp(&b.received_at))
        .then_with(|| a.referral_id.cmp(&b.referral_id))
}

/// Sorts entries into the queue's order ([`order`]).
pub fn sort(entries: &mut [Entry]) {
    entries.sort_by(order);
}

/// How many entries are open, emergent and held by nobody: the tab title's "(N) Emergent".
pub fn waiting_emergent(entries: &[Entry]) -> usize {
    entries
        .iter()
        .filter(|e| e.tier == Tier::Emergent && e.owner.is_empty() && e.status != ReferralStatus::Closed as i32)
        .count()
}

/// The page title: "(2) Emergent · Referral queue" while emergent referrals wait for an owner.
pub fn title(waiting_emergent: usize) -> String {
    match waiting_emergent {
        0 => "Referral queue".to_owned(),
        n => format!("({n}) Emergent · Referral queue"),
    }
}

/// A short form of a referral id for lists: the prefix and the last 8 hex digits (`ref_4b5c6d01`);
/// the link carries the whole id.
pub fn short_id(referral_id: &str) -> String {
    match referral_id.strip_prefix("ref_") {
        Some(hex) if hex.len() > 8 => format!("ref_{}", &hex[hex.len() - 8..]),
        _ => referral_id.to_owned(),
    }
}

/// What the age column says: intake tells only whether the youth is a minor (from the date of birth
/// or an estimated age); without either the youth is not known to be one.
pub fn age_band(is_minor: bool) -> &'static str {
    if is_minor { "Minor (under 18)" } else { "18–24, or age not known" }
}

/// One row of the queue, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub referral_id: String,
    pub short_id: String,
    pub tier: Tier,
    pub minor: bool,
    pub age: &'static str,
    pub site: &'static str,
    pub source: &'static str,
    pub status: &'static str,
    /// Clock time, RFC 3339 for `<time>`, and the countdown; `None` when nothing is due.
    pub due: Option<Due>,
    /// The owner's name (or id when the roster cannot be read); empty when nobody holds the case.
    pub owner: String,
    /// It has a case nobody holds: a case manager may claim it.
    pub claimable: bool,
    pub practice: bool,
}

/// A deadline as a page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub clock: String,
    pub machine: String,
    pub countdown: time::Countdown,
}

impl Due {
    pub fn at(deadline: i64, now: i64) -> Self {
        Due {
            clock: time::clock_time(deadline, now),
            machine: time::machine_time(deadline),
            countdown: time::countdown(deadline, now),
        }
    }
}

/// The row of `entry` at `now`; `owner_name` names a case manager id.
pub fn row(entry: &Entry, now: i64, owner_name: impl Fn(&str) -> Option<String>) -> Row {
    Row {
        referral_id: entry.referral_id.clone(),
        short_id: short_id(&entry.referral_id),
        tier: entry.tier,
        minor: entry.is_minor,
        age: age_band(entry.is_minor),
        site: labels::label_of(SITES, entry.site, "No site given"),
        source: labels::label_of(SOURCES, entry.source, "Not given"),
        status: labels::label_of(STATUSES, entry.status, "Unknown"),
        due: entry.deadline.map(|deadline| Due::at(deadline, now)),
        owner: if entry.owner.is_empty() {
            String::new()
        } else {
            owner_name(&entry.owner).unwrap_or_else(|| entry.owner.clone())
        },
        claimable: entry.owner.is_empty() && !entry.case_id.is_empty(),
        practice: entry.practice,
    }
}

/// Whether the staff navigation offers the queue to `role`: staff who list and read referrals.
pub fn shows_queue(role: wf_auth::Role) -> bool {
    use wf_auth::{Operation, is_allowed};
    role != wf_auth::Role::Partner
        && is_allowed(role, Operation::ListReferrals)
        && is_allowed(role, Operation::ReadReferral)
}
