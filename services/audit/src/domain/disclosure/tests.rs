use super::*;
use crate::domain::chain::EntryContent;

fn entry<P: EventPayload>(sequence: u64, aggregate_id: &str, payload: &P) -> Entry {
    Entry {
        sequence,
        content: EntryContent {
            event_type: P::TYPE.into(),
            aggregate_id: aggregate_id.into(),
            occurred_at_micros: 1_700_000_000_000_000,
            payload: payload.encode_to_vec(),
            ..Default::default()
        },
        previous_hash: Vec::new(),
        entry_hash: Vec::new(),
    }
}

fn access(sequence: u64, actor: &str, purpose: &str) -> Entry {
    let payload = pb::RecordAccessed {
        actor: actor.into(),
        record_id: "ref_1".into(),
        actor_organization_id: "org_1".into(),
        break_glass: sequence == 2,
        ..Default::default()
    };
    let mut entry = entry(sequence, "ref_1", &payload);
    entry.content.actor = actor.into();
    entry.content.actor_role = "partner".into();
    entry.content.purpose = purpose.into();
    entry.content.release_id = "rel_1".into();
    entry.content.fields = vec!["personal.legal_first_name".into(), "personal.safe_contact".into()];
    entry
}

fn read_of(sequence: u64, record_id: &str) -> Entry {
    entry(sequence, record_id, &pb::RecordAccessed { record_id: record_id.into(), ..Default::default() })
}

fn refusal_of(sequence: u64, record_id: &str) -> Entry {
    let refused = pb::AccessRefused {
        actor: "usr_hot1".into(),
        actor_role: "hotline".into(),
        operation: "/wayfinder.intake.v1.IntakeService/GetReferral".into(),
        record_id: record_id.into(),
        reason: "out_of_scope".into(),
        suppressed_before: 3,
        ..Default::default()
    };
    let mut entry = entry(sequence, record_id, &refused);
    entry.content.actor = "usr_hot1".into();
    entry.content.actor_role = "hotline".into();
    entry
}

fn records(ids: &[&str]) -> SubjectRecords {
    SubjectRecords { ids: ids.iter().map(|id| (*id).to_owned()).collect(), ..Default::default() }
}

/// Two youths: yth_a (ref_a1, confirmed ref_a2 from provisional yth_p; case_a with notes) and
/// yth_b (ref_b, case_b with a note).
fn links() -> RecordLinks {
    let mut links = RecordLinks::default();
    let entries = [
        entry(
            1,
            "ref_a1",
            &pb::ReferralReceived { referral_id: "ref_a1".into(), youth_id: "yth_a".into(), ..Default::default() },
        ),
        entry(
            2,
            "ref_a2",
            &pb::ReferralReceived { referral_id: "ref_a2".into(), youth_id: "yth_p".into(), ..Default::default() },
        ),
        entry(
            3,
            "pm_1",
            &pb::PossibleMatchConfirmed {
                referral_id: "ref_a2".into(),
                youth_id: "yth_a".into(),
                previous_youth_id: "yth_p".into(),
                ..Default::default()
            },
        ),
        entry(
            4,
            "ref_b",
            &pb::ReferralReceived { referral_id: "ref_b".into(), youth_id: "yth_b".into(), ..Default::default() },
        ),
        entry(
            5,
            "case_a",
            &pb::CaseAssigned {
                case_id: "case_a".into(),
                referral_id: "ref_a1".into(),
                youth_id: "yth_a".into(),
                ..Default::default()
            },
        ),
        entry(
            6,
            "case_b",
            &pb::CaseAwaitingAssignment { case_id: "case_b".into(), referral_id: "ref_b".into(), ..Default::default() },
        ),
        entry(
            7,
            "case_a",
            &pb::CaseNoteAdded {
                note_id: "note_a1".into(),
                case_id: "case_a".into(),
                privileged: true,
                ..Default::default()
            },
        ),
        entry(
            8,
            "case_a",
            &pb::CaseNoteAdded { note_id: "note_a2".into(), case_id: "case_a".into(), ..Default::default() },
        ),
        entry(
            9,
            "case_b",
            &pb::CaseNoteAdded {
                note_id: "note_b1".into(),
                case_id: "case_b".into(),
                privileged: true,
                ..Default::default()
            },
        ),
        // Other events teach nothing.
        entry(10, "ref_b", &pb::OfferMade::default()),
    ];
    for entry in &entries {
        links.learn(entry);
    }
    links
}

#[test]
fn a_youth_owns_their_referrals_cases_and_notes_and_no_one_elses() {
    let links = links();
    let a = links.records_of(&Subject::Youth("yth_a".into()));
    let ids: Vec<&str> = a.ids.iter().map(String::as_str).collect();
    assert_eq!(ids, ["case_a", "note_a1", "note_a2", "ref_a1", "ref_a2", "yth_a", "yth_p"]);
    assert_eq!(a.referral_ids.iter().collect::<Vec<_>>(), ["ref_a1", "ref_a2"]);
    assert_eq!(a.privileged_notes.iter().collect::<Vec<_>>(), ["note_a1"]);

    let b = links.records_of(&Subject::Youth("yth_b".into()));
    let ids: Vec<&str> = b.ids.iter().map(String::as_str).collect();
    assert_eq!(ids, ["case_b", "note_b1", "ref_b", "yth_b"]);

    let referral = links.records_of(&Subject::Referral("ref_a1".into()));
    let ids: Vec<&str> = referral.ids.iter().map(String::as_str).collect();
    assert_eq!(ids, ["case_a", "note_a1", "note_a2", "ref_a1"]);

    let unknown = links.records_of(&Subject::Youth("yth_z".into()));
    assert_eq!(unknown.ids.iter().collect::<Vec<_>>(), ["yth_z"]);
}

fn offer_made(sequence: u64, offer_id: &str, referral_id: &str) -> Entry {
    // As routing sends it: the referral is the aggregate, the offer only in the payload.
    let made = pb::OfferMade { offer_id: offer_id.into(), referral_id: referral_id.into(), ..Default::default() };
    entry(sequence, referral_id, &made)
}

#[test]
fn the_offers_of_a_youths_referrals_are_theirs_and_no_one_elses() {
    let mut links = links();
    // ref_a2 is youth a's through the confirmed match of provisional yth_p.
    links.learn(&offer_made(11, "off_a2", "ref_a2"));
    links.learn(&offer_made(12, "off_b", "ref_b"));
    // An offer of a referral the log does not tie to anyone belongs to no youth.
    links.learn(&offer_made(13, "off_z", "ref_z"));

    let a = links.records_of(&Subject::Youth("yth_a".into()));
    let ids: Vec<&str> = a.ids.iter().map(String::as_str).collect();
    assert_eq!(ids, ["case_a", "note_a1", "note_a2", "off_a2", "ref_a1", "ref_a2", "yth_a", "yth_p"]);
    assert_eq!(a.referral_ids.iter().collect::<Vec<_>>(), ["ref_a1", "ref_a2"], "an offer is no referral");
    // A partner's refused reach for the offer, and a read of it, are youth a's disclosures.
    let mut refused = refusal_of(14, "off_a2");
    refused.content.correlation_id = "off_a2".into();
    assert!(concerns(&refused, &a));
    assert_eq!(row(&refused, &a).unwrap().record, "off_a2");
    assert!(concerns(&read_of(15, "off_a2"), &a));
    assert!(!concerns(&read_of(16, "off_b"), &a));
    assert!(!concerns(&refusal_of(17, "off_z"), &a));

    let b = links.records_of(&Subject::Youth("yth_b".into()));
    let ids: Vec<&str> = b.ids.iter().map(String::as_str).collect();
    assert_eq!(ids, ["case_b", "note_b1", "off_b", "ref_b", "yth_b"]);
    assert!(concerns(&refusal_of(18, "off_b"), &b));

    let referral = links.records_of(&Subject::Referral("ref_a2".into()));
    let ids: Vec<&str> = referral.ids.iter().map(String::as_str).collect();
    assert_eq!(ids, ["off_a2", "ref_a2"]);
    assert!(LINK_TYPES.contains(&pb::OfferMade::TYPE), "the report reads offer.made from the log");
}

#[test]
fn an_entry_concerns_the_subject_whose_record_its_payload_names() {
    let a = links().records_of(&Subject::Youth("yth_a".into()));
    assert!(concerns(&read_of(1, "ref_a1"), &a));
    assert!(concerns(&read_of(2, "case_a"), &a));
    assert!(concerns(&read_of(3, "note_a1"), &a));
    assert!(concerns(&refusal_of(4, "ref_a2"), &a));
    assert!(!concerns(&read_of(5, "ref_b"), &a));
    assert!(!concerns(&read_of(6, "note_b1"), &a));
    // A matcher's read of youth b's referral, caused by youth a's referral (its correlation):
    // youth b's disclosure, not youth a's.
    let mut matching = read_of(7, "ref_b");
    matching.content.correlation_id = "ref_a1".into();
    assert!(!concerns(&matching, &a));
    // The payload names no record: the aggregate decides.
    let mut unnamed = read_of(8, "");
    unnamed.content.aggregate_id = "case_a".into();
    assert!(concerns(&unnamed, &a));
    // An export of several youths' records concerns each of them.
    let export = entry(
        9,
        "exp_1",
        &pb::RecordExported { record_ids: vec!["ref_b".into(), "ref_a2".into()], ..Default::default() },
    );
    assert!(concerns(&export, &a));
    // Changes of the subject's records too, by the record they change; notices are no changes.
    let triaged = entry(10, "ref_b", &pb::ReferralTriaged { referral_id: "ref_a1".into(), ..Default::default() });
    assert!(concerns(&triaged, &a));
    assert!(!concerns(
        &entry(11, "ref_a1", &pb::ReferralTriaged { referral_id: "ref_b".into(), ..Default::default() }),
        &a
    ));
    assert!(!concerns(&entry(12, "case_a", &pb::FollowUpDue { case_id: "case_a".into(), ..Default::default() }), &a));
    assert!(!concerns(&entry(13, "cm_1", &pb::CaseManagerChanged::default()), &a));
}

#[test]
fn a_change_is_a_row_with_who_and_what() {
    let a = links().records_of(&Subject::Youth("yth_a".into()));
    let mut stage = entry(
        1,
        "case_a",
        &pb::CaseStageChanged {
            case_id: "case_a".into(),
            from_stage: wf_proto::cases::v1::CaseStage::Active as i32,
            to_stage: wf_proto::cases::v1::CaseStage::Missing as i32,
            reason: "youth_missing".into(),
            ..Default::default()
        },
    );
    stage.content.actor = "cases".into();
    stage.content.actor_role = "service".into();
    let row = row(&stage, &a).unwrap();
    assert_eq!((row.kind, row.record.as_str(), row.actor.as_str()), ("change", "case_a", "cases"));
    assert_eq!(row.what, "case.stage_changed: from=active, to=missing, reason=youth_missing");
    let csv = render_csv(&[row]);
    assert!(
        csv.contains(",case_a,change,cases,service,,,n/a (change),\"case.stage_changed: from=active, to=missing, reason=youth_missing\",no"),
        "{csv}"
    );
    let mut note = entry(
        2,
        "case_a",
        &pb::CaseNoteAdded {
            note_id: "note_a1".into(),
            case_id: "case_a".into(),
            author_id: "usr_cm1".into(),
            privileged: true,
            category: "safety_plan".into(),
            ..Default::default()
        },
    );
    note.content.actor = "cases".into();
    note.content.actor_role = "service".into();
    let row = super::row(&note, &a).unwrap();
    assert_eq!(
        (row.record.as_str(), row.actor.as_str(), row.actor_role.as_str()),
        ("note_a1 (privileged note)", "usr_cm1", "")
    );
}

#[test]
fn reads_exports_and_refusals_are_disclosures() {
    let mut other = access(1, "intake", "");
    other.content.event_type = "roster.case_manager_changed".into();
    let subject = records(&["ref_1"]);
    assert_eq!(row(&other, &subject), None);
    let read = row(&access(2, "usr_p1", "service_delivery"), &subject).unwrap();
    assert_eq!((read.kind, read.organization.as_str(), read.break_glass), ("read", "org_1", true));
    assert_eq!(read.record, "ref_1");
    assert_eq!(read.what, "personal.legal_first_name; personal.safe_contact");
    assert_eq!(read.occurred_at, "2023-11-14T22:13:20Z");

    let refused = row(&refusal_of(3, "ref_1"), &subject).unwrap();
    assert_eq!((refused.kind, refused.actor.as_str(), refused.actor_role.as_str()), ("refused", "usr_hot1", "hotline"));
    assert_eq!(refused.record, "ref_1");
    assert_eq!(
        refused.what,
        "/wayfinder.intake.v1.IntakeService/GetReferral refused: out_of_scope (after 3 refusals not recorded)"
    );
    let csv = render_csv(&[refused]);
    assert!(csv.contains(",ref_1,refused,usr_hot1,hotline,,,none (refused),"), "{csv}");

    let export = entry(
        4,
        "exp_1",
        &pb::RecordExported {
            export_kind: "hmis_csv".into(),
            record_ids: vec!["ref_9".into(), "ref_1".into()],
            record_count: 2,
            ..Default::default()
        },
    );
    let export = row(&export, &subject).unwrap();
    assert_eq!(
        (export.kind, export.record.as_str(), export.what.as_str()),
        ("export", "ref_1", "hmis_csv (2 records)")
    );
}

#[test]
fn privileged_notes_are_marked_as_such() {
    let a = links().records_of(&Subject::Youth("yth_a".into()));
    assert_eq!(row(&read_of(1, "note_a1"), &a).unwrap().record, "note_a1 (privileged note)");
    assert_eq!(row(&read_of(2, "note_a2"), &a).unwrap().record, "note_a2");
}

#[test]
fn csv_quotes_and_defuses_formulas() {
    let rows = [row(&access(1, "=HYPERLINK(\"x\")", "a,b"), &records(&["ref_1"])).unwrap()];
    let csv = render_csv(&rows);
    let line = csv.lines().nth(1).unwrap();
    assert!(line.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{line}");
    assert!(line.contains("\"a,b\""), "{line}");
    assert_eq!(csv.lines().count(), 2);
}

#[test]
fn html_escapes_every_value() {
    let rows = [row(&access(1, "<script>alert('x')</script>", "\"&"), &records(&["ref_1"])).unwrap()];
    let html = render_html("yth_<b>", 0, &rows);
    assert!(!html.contains("<script>") && !html.contains("<b>"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(html.contains("&quot;&amp;"));
    assert!(html.contains("yth_&lt;b&gt;"));
}
