//! Whose records the log's entries are about, read from the log itself
//! ([`crate::domain::records`]): the links between records and youths, and the entries of one
//! youth's or referral's records. Resolved at read time — never stored with an entry — because a
//! later event (a confirmed match) can move a referral, with every entry about it, to another
//! youth, and an appended entry cannot change.

use wf_db::{Db, DbError};
use wf_events::EventPayload;
use wf_proto::events::v1::RecordExported;

use crate::domain::chain::Entry;
use crate::domain::query::{EntryFilter, RecordScope, TypePattern};
use crate::domain::records::{LINK_TYPES, RecordLinks, Subject, SubjectRecords};
use crate::store::entries;

/// Entries read per round trip.
const PAGE: u32 = 1000;

/// Every entry matching `filter`, page by page.
pub async fn all_entries(db: &Db, mut filter: EntryFilter) -> Result<Vec<Entry>, DbError> {
    let mut found = Vec::new();
    loop {
        let page = entries::list_entries(db, &filter, PAGE, false).await?;
        let full = page.len() == PAGE as usize;
        if let Some(last) = page.last() {
            filter.from_sequence = last.sequence + 1;
        }
        found.extend(page);
        if !full {
            return Ok(found);
        }
    }
}

/// What the whole log says about whose records are whose (learnt in log order).
pub async fn links(db: &Db) -> Result<RecordLinks, DbError> {
    let linking = EntryFilter {
        types: LINK_TYPES.iter().map(|t| TypePattern::Exact((*t).to_owned())).collect(),
        from_sequence: 1,
        ..EntryFilter::default()
    };
    let mut links = RecordLinks::default();
    for entry in all_entries(db, linking).await? {
        links.learn(&entry);
    }
    Ok(links)
}

/// Every record of `subject`: for a youth, the referrals that are theirs, their offers, cases and
/// notes.
pub async fn records_of(db: &Db, subject: &Subject) -> Result<SubjectRecords, DbError> {
    Ok(links(db).await?.records_of(subject))
}

/// The filters that find every candidate entry about `records` by index: entries with one of the
/// records as aggregate, or one of their referrals as correlation, and every export (an export
/// names its records in its payload only). Each candidate is then kept only if a record its
/// payload names is one of them ([`SubjectRecords::named_by`]).
pub fn candidate_filters(base: &EntryFilter, records: &SubjectRecords) -> Vec<EntryFilter> {
    let scope = RecordScope {
        referral_ids: records.referral_ids.iter().cloned().collect(),
        record_ids: records.ids.iter().filter(|id| !records.referral_ids.contains(*id)).cloned().collect(),
    };
    let mut filters = vec![EntryFilter { records: Some(scope), ..base.clone() }];
    let export = RecordExported::TYPE;
    let exports_wanted = base.types.is_empty()
        || base.types.iter().any(|t| match t {
            TypePattern::Exact(name) => name == export,
            TypePattern::Prefix(prefix) => export.starts_with(prefix.as_str()),
        });
    if exports_wanted {
        filters.push(EntryFilter { types: vec![TypePattern::Exact(export.to_owned())], ..base.clone() });
    }
    filters
}

/// Up to `limit` entries matching `base` that name one of `records`, ascending by sequence.
pub async fn entries_about(
    db: &Db,
    base: &EntryFilter,
    records: &SubjectRecords,
    limit: usize,
) -> Result<Vec<Entry>, DbError> {
    let mut found: Vec<Entry> = Vec::new();
    let mut from = base.from_sequence.max(1);
    loop {
        // One window of candidates at a time, so a long log is not read whole for one page. The
        // window is complete up to the least last sequence of the filters that filled their page.
        let mut window = Vec::new();
        let mut through = u64::MAX;
        for mut filter in candidate_filters(base, records) {
            filter.from_sequence = from;
            let page = entries::list_entries(db, &filter, PAGE, false).await?;
            if page.len() == PAGE as usize
                && let Some(last) = page.last()
            {
                through = through.min(last.sequence);
            }
            window.extend(page);
        }
        window.sort_by_key(|entry| entry.sequence);
        window.dedup_by_key(|entry| entry.sequence);
        for entry in window.into_iter().filter(|e| e.sequence <= through) {
            if records.named_by(&entry) {
                found.push(entry);
                if found.len() == limit {
                    return Ok(found);
                }
            }
        }
        if through == u64::MAX {
            return Ok(found);
        }
        from = through + 1;
    }
}
