use super::*;

fn content(n: u64) -> EntryContent {
    EntryContent {
        event_id: format!("0192f1c4-d5e6-7a8b-9c0d-{n:012}"),
        event_type: "referral.received".to_owned(),
        schema_version: 1,
        aggregate_id: format!("ref_{n}"),
        correlation_id: format!("ref_{n}"),
        producer: "intake".to_owned(),
        actor: "intake".to_owned(),
        actor_role: "service".to_owned(),
        occurred_at_micros: 1_700_000_000_000_000 + n as i64,
        recorded_at_micros: 1_700_000_000_500_000 + n as i64,
        payload: vec![8, n as u8, 0x12, 0x02, 0xab, 0xcd],
        ..EntryContent::default()
    }
}

/// Seals `contents` into a valid chain from genesis.
fn chain_of(contents: Vec<EntryContent>) -> Vec<Entry> {
    let mut head = ChainHead::genesis();
    let mut entries = Vec::new();
    for content in contents {
        let entry = seal(&head, content).expect("32-byte head");
        head = ChainHead { last_sequence: entry.sequence, last_hash: entry.entry_hash.clone() };
        entries.push(entry);
    }
    entries
}

fn chain(n: u64) -> Vec<Entry> {
    chain_of((1..=n).map(content).collect())
}

fn head_of(entries: &[Entry]) -> ChainHead {
    entries.last().map_or_else(ChainHead::genesis, |last| ChainHead {
        last_sequence: last.sequence,
        last_hash: last.entry_hash.clone(),
    })
}

/// Verifies `entries` from genesis against the head recorded before tampering.
fn check(entries: &[Entry], head: &ChainHead) -> VerifyReport {
    let mut verifier = ChainVerifier::from_genesis();
    let problem = verifier.verify(entries).and_then(|()| verifier.finish(head)).err();
    verifier.report(problem)
}

fn problem(report: &VerifyReport) -> (u64, TamperKind) {
    let problem = report.problem.as_ref().expect("a problem");
    (problem.sequence, problem.kind)
}

#[test]
fn known_answer_vector() {
    let content = EntryContent {
        event_id: "e".to_owned(),
        event_type: "t".to_owned(),
        schema_version: 2,
        aggregate_id: "a".to_owned(),
        correlation_id: String::new(),
        producer: "p".to_owned(),
        actor: "u".to_owned(),
        actor_role: "r".to_owned(),
        purpose: "x".to_owned(),
        release_id: String::new(),
        fields: vec!["f1".to_owned(), "g".to_owned()],
        occurred_at_micros: -1,
        recorded_at_micros: 258,
        payload: vec![0xff],
    };
    // Written out by hand from the module documentation, not with the encoder.
    let mut expected: Vec<u8> = Vec::new();
    expected.extend([0, 0, 0, 24]);
    expected.extend(b"wayfinder.audit.entry.v1");
    expected.extend([0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 7]); // sequence 7
    expected.extend([0, 0, 0, 1, b'e']);
    expected.extend([0, 0, 0, 1, b't']);
    expected.extend([0, 0, 0, 4, 0, 0, 0, 2]); // schema version
    expected.extend([0, 0, 0, 1, b'a']);
    expected.extend([0, 0, 0, 0]); // empty correlation id
    expected.extend([0, 0, 0, 1, b'p']);
    expected.extend([0, 0, 0, 1, b'u']);
    expected.extend([0, 0, 0, 1, b'r']);
    expected.extend([0, 0, 0, 1, b'x']);
    expected.extend([0, 0, 0, 0]); // empty release id
    expected.extend([0, 0, 0, 15, 0, 0, 0, 2, 0, 0, 0, 2, b'f', b'1', 0, 0, 0, 1, b'g']);
    expected.extend([0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]); // -1
    expected.extend([0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 1, 2]); // 258
    expected.extend([0, 0, 0, 1, 0xff]);
    assert_eq!(canonical_bytes(7, &content), expected);

    let previous = [0x11; 32];
    let mut input = previous.to_vec();
    input.extend(&expected);
    let direct: Hash = Sha256::digest(&input).into();
    assert_eq!(entry_hash(&previous, 7, &content), direct);
    // Pinned, so a change to the encoding cannot pass unnoticed.
    assert_eq!(hex::encode(direct), "7cc0e5a95bc2393dc8c3bba587add35272f25522cc0b7b6685c09441a85fd3ee");
}

#[test]
fn length_prefixes_keep_neighbouring_fields_apart() {
    let mut left = content(1);
    left.aggregate_id = "ab".to_owned();
    left.correlation_id = "c".to_owned();
    let mut right = content(1);
    right.aggregate_id = "a".to_owned();
    right.correlation_id = "bc".to_owned();
    assert_ne!(canonical_bytes(1, &left), canonical_bytes(1, &right));

    let mut one_field = content(1);
    one_field.fields = vec!["ab".to_owned()];
    let mut two_fields = content(1);
    two_fields.fields = vec!["a".to_owned(), "b".to_owned()];
    assert_ne!(canonical_bytes(1, &one_field), canonical_bytes(1, &two_fields));
}

#[test]
fn a_sealed_chain_verifies_and_links_to_genesis() {
    let entries = chain(5);
    assert_eq!(entries[0].previous_hash, GENESIS_PREVIOUS_HASH.to_vec());
    assert_eq!(entries[1].previous_hash, entries[0].entry_hash);
    let report = check(&entries, &head_of(&entries));
    assert!(report.is_ok(), "{report:?}");
    assert_eq!((report.verified_through, report.entries_verified), (5, 5));
}

#[test]
fn an_empty_chain_verifies_against_an_empty_head() {
    let report = check(&[], &ChainHead::genesis());
    assert!(report.is_ok());
    assert_eq!((report.verified_through, report.entries_verified), (0, 0));
}

#[test]
fn modified_payload_is_found_at_its_sequence() {
    let mut entries = chain(5);
    let head = head_of(&entries);
    entries[2].content.payload[1] ^= 0x01;
    let report = check(&entries, &head);
    assert_eq!(problem(&report), (3, TamperKind::Modified));
    assert_eq!((report.verified_through, report.entries_verified), (2, 2));
}

#[test]
fn modified_and_rehashed_entry_is_found_by_the_next_link() {
    let mut entries = chain(5);
    let head = head_of(&entries);
    entries[1].content.actor = "usr_someone_else".to_owned();
    let previous: Hash = entries[1].previous_hash.as_slice().try_into().unwrap();
    entries[1].entry_hash = entry_hash(&previous, 2, &entries[1].content).to_vec();
    assert_eq!(problem(&check(&entries, &head)), (2, TamperKind::Modified));
}

#[test]
fn rewritten_last_entry_is_found_against_the_head() {
    let mut entries = chain(3);
    let head = head_of(&entries);
    entries[2].content.purpose = "other".to_owned();
    let previous: Hash = entries[2].previous_hash.as_slice().try_into().unwrap();
    entries[2].entry_hash = entry_hash(&previous, 3, &entries[2].content).to_vec();
    assert_eq!(problem(&check(&entries, &head)), (3, TamperKind::Modified));
}

#[test]
fn deleted_entry_leaves_a_gap() {
    let mut entries = chain(5);
    let head = head_of(&entries);
    entries.remove(2);
    let report = check(&entries, &head);
    assert_eq!(problem(&report), (3, TamperKind::Deleted));
    assert_eq!(report.verified_through, 2);
}

#[test]
fn deleted_and_renumbered_entries_are_found() {
    let mut entries = chain(5);
    let head = head_of(&entries);
    entries.remove(1);
    for entry in entries.iter_mut().skip(1) {
        entry.sequence -= 1;
    }
    assert_eq!(problem(&check(&entries, &head)), (2, TamperKind::Deleted));
}

#[test]
fn truncated_end_is_found_against_the_head() {
    let mut entries = chain(5);
    let head = head_of(&entries);
    entries.truncate(3);
    assert_eq!(problem(&check(&entries, &head)), (4, TamperKind::Deleted));
}

#[test]
fn inserted_entry_claiming_a_taken_sequence_is_found() {
    let mut entries = chain(4);
    let head = head_of(&entries);
    // A forger who hashes correctly still has to use a sequence that is already taken.
    let mut forged_content = content(99);
    forged_content.actor = "usr_forger".to_owned();
    let forged = seal(&head_of(&entries[..1]), forged_content).unwrap();
    entries.insert(1, forged);
    assert_eq!(problem(&check(&entries, &head)), (2, TamperKind::Inserted));
}

#[test]
fn inserted_entry_with_a_bad_link_is_found() {
    let mut entries = chain(4);
    let head = head_of(&entries);
    let mut forged = seal(&ChainHead { last_sequence: 1, last_hash: vec![7; 32] }, content(99)).unwrap();
    forged.sequence = 2;
    entries.insert(1, forged);
    assert_eq!(problem(&check(&entries, &head)), (2, TamperKind::Inserted));
}

#[test]
fn inserted_and_renumbered_entries_are_found() {
    let mut entries = chain(4);
    let head = head_of(&entries);
    let forged = seal(&head_of(&entries[..2]), content(99)).unwrap();
    entries.insert(2, forged);
    for entry in entries.iter_mut().skip(3) {
        entry.sequence += 1;
    }
    assert_eq!(problem(&check(&entries, &head)), (3, TamperKind::Inserted));
}

#[test]
fn entries_beyond_the_head_are_inserted() {
    let mut entries = chain(3);
    let head = head_of(&entries);
    let appended = seal(&head, content(4)).unwrap();
    entries.push(appended);
    assert_eq!(problem(&check(&entries, &head)), (4, TamperKind::Inserted));
}

#[test]
fn reordered_rows_are_found() {
    let mut entries = chain(5);
    let head = head_of(&entries);
    entries.swap(1, 3);
    assert_eq!(problem(&check(&entries, &head)), (2, TamperKind::Reordered));
}

#[test]
fn swapped_contents_are_found_as_reordered() {
    let mut entries = chain(5);
    let head = head_of(&entries);
    // Contents and hashes trade places; the sequence column stays.
    let (second, third) = (entries[1].clone(), entries[2].clone());
    entries[1] = Entry { sequence: 2, ..third };
    entries[2] = Entry { sequence: 3, ..second };
    assert_eq!(problem(&check(&entries, &head)), (2, TamperKind::Reordered));
}

#[test]
fn a_hash_of_the_wrong_length_is_modified_not_a_panic() {
    let mut entries = chain(3);
    let head = head_of(&entries);
    entries[1].previous_hash.pop();
    assert_eq!(problem(&check(&entries, &head)), (2, TamperKind::Modified));
}

#[test]
fn batches_with_look_ahead_give_the_same_answer_as_one_run() {
    let entries = chain(10);
    let head = head_of(&entries);
    let mut verifier = ChainVerifier::from_genesis();
    let mut start = 0;
    while start < entries.len() {
        let end = (start + 4).min(entries.len());
        let window = &entries[start..(end + 1).min(entries.len())];
        verifier.verify_window(window, end - start).unwrap();
        start = end;
    }
    verifier.finish(&head).unwrap();
    assert_eq!(verifier.report(None).entries_verified, 10);
}

#[test]
fn a_run_can_resume_from_a_stored_hash() {
    let entries = chain(6);
    let mut verifier = ChainVerifier::starting_at(4, entries[2].entry_hash.clone());
    verifier.verify(&entries[3..]).unwrap();
    verifier.finish(&head_of(&entries)).unwrap();
    let report = verifier.report(None);
    assert_eq!((report.from_sequence, report.verified_through, report.entries_verified), (4, 6, 3));

    let mut wrong_anchor = ChainVerifier::starting_at(4, vec![9; 32]);
    let problem = wrong_anchor.verify(&entries[3..]).unwrap_err();
    assert_eq!((problem.sequence, problem.kind), (4, TamperKind::BrokenLink));
}

#[test]
fn problem_codes_are_stable() {
    let codes: Vec<&str> = [
        TamperKind::Modified,
        TamperKind::Deleted,
        TamperKind::Inserted,
        TamperKind::Reordered,
        TamperKind::BrokenLink,
        TamperKind::BadSignature,
    ]
    .iter()
    .map(|kind| kind.code())
    .collect();
    assert_eq!(codes, ["modified", "deleted", "inserted", "reordered", "broken_link", "bad_signature"]);
}
