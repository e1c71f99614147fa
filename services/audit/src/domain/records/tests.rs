use super::*;
use crate::domain::chain::EntryContent;

fn entry<P: EventPayload>(sequence: u64, aggregate_id: &str, correlation_id: &str, payload: &P) -> Entry {
    Entry {
        sequence,
        content: EntryContent {
            event_type: P::TYPE.into(),
            aggregate_id: aggregate_id.into(),
            correlation_id: correlation_id.into(),
            payload: payload.encode_to_vec(),
            ..Default::default()
        },
        previous_hash: Vec::new(),
        entry_hash: Vec::new(),
    }
}

fn received(sequence: u64, referral: &str, youth: &str) -> Entry {
    let payload = pb::ReferralReceived { referral_id: referral.into(), youth_id: youth.into(), ..Default::default() };
    entry(sequence, referral, referral, &payload)
}

fn confirmed(sequence: u64, referral: &str, youth: &str, previous: &str) -> Entry {
    let payload = pb::PossibleMatchConfirmed {
        possible_match_id: "pm_1".into(),
        referral_id: referral.into(),
        youth_id: youth.into(),
        previous_youth_id: previous.into(),
        ..Default::default()
    };
    entry(sequence, "pm_1", referral, &payload)
}

fn assigned(sequence: u64, case: &str, referral: &str, youth: &str) -> Entry {
    let payload = pb::CaseAssigned {
        case_id: case.into(),
        referral_id: referral.into(),
        youth_id: youth.into(),
        ..Default::default()
    };
    entry(sequence, case, referral, &payload)
}

fn read(sequence: u64, record: &str, correlation: &str) -> Entry {
    entry(sequence, record, correlation, &pb::RecordAccessed { record_id: record.into(), ..Default::default() })
}

fn learnt(entries: &[Entry]) -> RecordLinks {
    let mut links = RecordLinks::default();
    for entry in entries {
        links.learn(entry);
    }
    links
}

fn sorted(records: &SubjectRecords) -> Vec<&str> {
    records.ids.iter().map(String::as_str).collect()
}

#[test]
fn a_confirmation_after_the_reads_moves_the_referral_its_case_and_the_provisional_id() {
    let log = [
        received(1, "ref_a1", "yth_a"),
        received(2, "ref_b", "yth_b"),
        received(3, "ref_a2", "yth_p"),
        assigned(4, "case_a2", "ref_a2", "yth_p"),
        // The matcher reads youth a's first referral and youth b's while matching the new one.
        read(5, "ref_a1", "ref_a2"),
        read(6, "ref_b", "ref_a2"),
        read(7, "case_a2", "ref_a2"),
        read(8, "yth_p", "ref_a2"),
    ];
    let before = learnt(&log);
    assert_eq!(before.youth_of("ref_a2").as_deref(), Some("yth_p"));
    assert_eq!(before.youth_of_entry(&log[6]).as_deref(), Some("yth_p"));

    let mut log = log.to_vec();
    log.push(confirmed(9, "ref_a2", "yth_a", "yth_p"));
    let links = learnt(&log);
    for record in ["ref_a1", "ref_a2", "case_a2", "yth_p", "yth_a"] {
        assert_eq!(links.youth_of(record).as_deref(), Some("yth_a"), "{record}");
    }
    assert_eq!(links.youth_of("ref_b").as_deref(), Some("yth_b"));
    assert_eq!(links.youth_of("ref_unknown"), None);
    // Each read is its record's youth's, whatever request caused it.
    let youths: Vec<Option<String>> = log[4..8].iter().map(|e| links.youth_of_entry(e)).collect();
    assert_eq!(youths, [Some("yth_a".into()), Some("yth_b".into()), Some("yth_a".into()), Some("yth_a".into())]);
    let a = links.records_of(&Subject::Youth("yth_a".into()));
    assert_eq!(sorted(&a), ["case_a2", "ref_a1", "ref_a2", "yth_a", "yth_p"]);
    assert_eq!(a.referral_ids.iter().collect::<Vec<_>>(), ["ref_a1", "ref_a2"]);
    // The retired provisional id stands for youth a.
    assert_eq!(links.records_of(&Subject::Youth("yth_p".into())).ids, a.ids);
    assert!(!a.named_by(&log[5]) && a.named_by(&log[4]));
    let b = links.records_of(&Subject::Youth("yth_b".into()));
    assert_eq!(sorted(&b), ["ref_b", "yth_b"]);
}

#[test]
fn a_youth_id_that_keeps_other_referrals_is_not_retired() {
    // ref_q2 was first given youth q (an automatic match), then confirmed as youth a: q's other
    // referral stays q's, and so do reads of q.
    let links = learnt(&[
        received(1, "ref_a1", "yth_a"),
        received(2, "ref_q1", "yth_q"),
        received(3, "ref_q2", "yth_q"),
        confirmed(4, "ref_q2", "yth_a", "yth_q"),
    ]);
    assert_eq!(links.youth_of("ref_q2").as_deref(), Some("yth_a"));
    assert_eq!(links.youth_of("ref_q1").as_deref(), Some("yth_q"));
    assert_eq!(links.youth_of("yth_q").as_deref(), Some("yth_q"));
    let a = links.records_of(&Subject::Youth("yth_a".into()));
    assert_eq!(sorted(&a), ["ref_a1", "ref_q2", "yth_a"]);
}

#[test]
fn a_late_or_repeated_referral_received_does_not_undo_a_confirmation() {
    let links = learnt(&[
        received(1, "ref_a1", "yth_a"),
        received(2, "ref_a2", "yth_p"),
        confirmed(3, "ref_a2", "yth_a", "yth_p"),
        received(4, "ref_a2", "yth_p"),
    ]);
    assert_eq!(links.youth_of("ref_a2").as_deref(), Some("yth_a"));
    assert_eq!(links.canonical("yth_p"), "yth_a");
}

#[test]
fn entries_name_their_records_not_their_correlation() {
    let links = learnt(&[
        received(1, "ref_a", "yth_a"),
        received(2, "ref_b", "yth_b"),
        entry(
            3,
            "ref_a",
            "ref_a",
            &pb::OfferMade { offer_id: "off_1".into(), referral_id: "ref_a".into(), ..Default::default() },
        ),
        assigned(4, "case_b", "ref_b", "yth_b"),
        entry(
            5,
            "case_b",
            "ref_b",
            &pb::CaseNoteAdded { note_id: "note_b".into(), case_id: "case_b".into(), ..Default::default() },
        ),
    ]);
    // An offer's acceptance names the offer (its referral's youth), whatever its aggregate.
    let accepted = entry(
        6,
        "ref_zzz",
        "ref_zzz",
        &pb::OfferAccepted { offer_id: "off_1".into(), referral_id: "ref_a".into(), ..Default::default() },
    );
    assert_eq!(named_records(&accepted), ["off_1", "ref_a"]);
    assert_eq!(links.youth_of_entry(&accepted).as_deref(), Some("yth_a"));
    // A read of a note, caused by another youth's referral.
    assert_eq!(links.youth_of_entry(&read(7, "note_b", "ref_a")).as_deref(), Some("yth_b"));
    // Cases' reads name the youth as aggregate and the case as record: the record decides.
    let case_read =
        entry(8, "yth_a", "ref_b", &pb::RecordAccessed { record_id: "case_b".into(), ..Default::default() });
    assert_eq!(links.youth_of_entry(&case_read).as_deref(), Some("yth_b"));
    // An export of two youths' records is neither's alone.
    let export = entry(
        9,
        "exp_1",
        "",
        &pb::RecordExported { record_ids: vec!["ref_a".into(), "ref_b".into()], ..Default::default() },
    );
    assert_eq!(links.youth_of_entry(&export), None);
    // No payload record: the aggregate; a record the log ties to nobody: no youth.
    let unnamed = entry(10, "case_b", "", &pb::RecordAccessed::default());
    assert_eq!(links.youth_of_entry(&unnamed).as_deref(), Some("yth_b"));
    let roster = entry(11, "cm_1", "cm_1", &pb::CaseManagerChanged::default());
    assert_eq!(links.youth_of_entry(&roster), None);
}
