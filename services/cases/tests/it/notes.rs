//! Acceptance 6 and issue 12 finding 3: a privileged note (Evidence Code 1038) is read only by its
//! author and the author's named supervisor (roster), with a purpose code, and every read of
//! notes is a `record.accessed` entry naming the notes, never their text. Note text is sealed at
//! rest: neither the SQLite file nor its write-ahead log holds it.

use tonic::Code;
use wf_auth::Role;
use wf_proto::cases::v1::{self as pb, case_service_server::CaseService};
use wf_proto::common::v1::Site;
use wf_proto::events::v1 as events;
use wf_testkit::{Engine, both_engines};

use crate::harness::{Assembled, TestDb, outbox_of, request_as_user};

const SUPERVISOR_A: &str = "cm_000000000000000000000000000000f1";
const SUPERVISOR_B: &str = "cm_000000000000000000000000000000f2";
const OWNER: &str = "cm_000000000000000000000000000000a1";
const COLLEAGUE: &str = "cm_000000000000000000000000000000a2";
const PRIVILEGED_TEXT: &str = "Demo privileged caseworker note 0101 about Jordan";
const ORDINARY_TEXT: &str = "Demo ordinary note 0202 about Jordan";

/// Two teams: usr_owner (supervised by usr_sup_a) and usr_colleague (supervised by usr_sup_b).
fn roster() -> String {
    let mut text = String::new();
    for (id, code, user) in [(SUPERVISOR_A, "SUP-T-1", "usr_sup_a"), (SUPERVISOR_B, "SUP-T-2", "usr_sup_b")] {
        text.push_str(&format!(
            "[[supervisor]]\nid = \"{id}\"\ndisplay_code = \"{code}\"\ndisplay_name = \"Test Supervisor\"\n\
             user_id = \"{user}\"\nsites = [\"countywide\"]\n\n"
        ));
    }
    for (index, (id, user, supervisor)) in
        [(OWNER, "usr_owner", SUPERVISOR_A), (COLLEAGUE, "usr_colleague", SUPERVISOR_B)].iter().enumerate()
    {
        text.push_str(&format!(
            "[[case_manager]]\nid = \"{id}\"\ndisplay_code = \"CM-T-{index}\"\ndisplay_name = \"Test Case Manager\"\n\
             user_id = \"{user}\"\nsites = [\"south_los_angeles\"]\nlanguages = [\"en\"]\nmax_caseload = 5\n\
             supervisor = \"{supervisor}\"\n\n"
        ));
    }
    text
}

fn list(case_id: &str, include_privileged: bool, purpose: &str) -> pb::ListCaseNotesRequest {
    pb::ListCaseNotesRequest {
        case_id: case_id.to_owned(),
        include_privileged,
        purpose: purpose.to_owned(),
        ..Default::default()
    }
}

fn note(case_id: &str, text: &str, privileged: bool) -> pb::AddCaseNoteRequest {
    pb::AddCaseNoteRequest {
        note: Some(pb::CaseNote {
            case_id: case_id.to_owned(),
            text: text.into(),
            privileged,
            category: "contact".into(),
            ..Default::default()
        }),
    }
}

/// Writes the privileged note, then the ordinary one, as usr_owner; returns their ids.
async fn write_notes(assembled: &Assembled, case_id: &str) -> (String, String) {
    let mut ids = Vec::new();
    for (text, privileged) in [(PRIVILEGED_TEXT, true), (ORDINARY_TEXT, false)] {
        let added = assembled
            .api
            .add_case_note(request_as_user(Role::CaseManager, "usr_owner", note(case_id, text, privileged)))
            .await
            .expect("add note");
        ids.push(added.into_inner().note_id);
    }
    (ids[0].clone(), ids[1].clone())
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle.as_bytes())
}

both_engines!(note_text_is_sealed_at_rest_and_absent_from_the_database_files, |engine| async move {
    let test = TestDb::new(engine).await;
    let assembled = Assembled::start(&test, &roster()).await;
    let (case_id, _) = assembled.open_case(Site::SouthLosAngeles).await;
    write_notes(&assembled, &case_id).await;

    match engine {
        Engine::Sqlite => {
            // Every file of the database: the file itself, its write-ahead log and shared memory.
            let file = test.sqlite_file().expect("sqlite file");
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            let mut seen = 0;
            for entry in std::fs::read_dir(file.parent().unwrap()).unwrap() {
                let path = entry.unwrap().path();
                if !path.file_name().unwrap().to_string_lossy().starts_with(&name) {
                    continue;
                }
                let bytes = std::fs::read(&path).unwrap();
                seen += 1;
                for text in [PRIVILEGED_TEXT, ORDINARY_TEXT, "Jordan"] {
                    assert!(!contains(&bytes, text), "{} holds note text", path.display());
                }
            }
            assert!(seen >= 2, "the database file and its write-ahead log were read ({seen})");
        }
        Engine::Postgres => {
            // Every column of every note row, as text.
            let rows: Vec<(String,)> = sqlx::query_as("SELECT CAST(n AS TEXT) FROM case_notes n")
                .fetch_all(assembled.db.pool())
                .await
                .expect("rows");
            assert_eq!(rows.len(), 2);
            for (row,) in &rows {
                assert!(!row.contains("Jordan"), "a case_notes row holds note text");
            }
        }
    }
    let stored: Vec<(String, Option<Vec<u8>>)> =
        sqlx::query_as("SELECT text, sealed_text FROM case_notes").fetch_all(assembled.db.pool()).await.expect("notes");
    for (text, sealed) in &stored {
        assert_eq!(text, "", "no plaintext column value");
        let sealed = sealed.as_ref().expect("sealed");
        assert!(!contains(sealed, "Jordan"));
    }

    // The author reads them back.
    let notes = assembled
        .api
        .list_case_notes(request_as_user(Role::CaseManager, "usr_owner", list(&case_id, true, "case_management")))
        .await
        .expect("read")
        .into_inner()
        .notes;
    let texts: Vec<&str> = notes.iter().map(|n| n.text.as_str()).collect();
    assert_eq!(texts, [PRIVILEGED_TEXT, ORDINARY_TEXT]);

    // A privileged flag cleared in the database does not expose the note: it no longer opens.
    sqlx::query("UPDATE case_notes SET privileged = 0").execute(assembled.db.pool()).await.expect("tamper");
    let status = assembled
        .api
        .list_case_notes(request_as_user(Role::CaseManager, "usr_colleague", list(&case_id, false, "")))
        .await
        .expect_err("tampered");
    assert_eq!(status.code(), Code::Internal);
    assert!(!status.message().contains("Jordan"), "{}", status.message());
});

both_engines!(a_privileged_note_is_read_only_by_its_author_and_the_authors_supervisor, |engine| async move {
    let test = TestDb::new(engine).await;
    let assembled = Assembled::start(&test, &roster()).await;
    let api = &assembled.api;
    let (case_id, referral_id) = assembled.open_case(Site::SouthLosAngeles).await;
    let (privileged_id, ordinary_id) = write_notes(&assembled, &case_id).await;

    let read = |role: Role, subject: &'static str, request: pb::ListCaseNotesRequest| async move {
        api.list_case_notes(request_as_user(role, subject, request))
            .await
            .map(|r| r.into_inner().notes.into_iter().map(|n| n.note_id).collect::<Vec<_>>())
    };
    let both = vec![privileged_id.clone(), ordinary_id.clone()];
    let ordinary = vec![ordinary_id.clone()];
    // With a purpose: the author and the author's named supervisor read the privileged note.
    assert_eq!(read(Role::CaseManager, "usr_owner", list(&case_id, true, "case_management")).await.unwrap(), both);
    assert_eq!(read(Role::Supervisor, "usr_sup_a", list(&case_id, true, "supervision")).await.unwrap(), both);
    // Anyone else asking gets it left out: another team's supervisor, a case manager who did not
    // write it, a supervisor not on the roster. (Services and partners read no notes at all.)
    for (role, subject) in
        [(Role::Supervisor, "usr_sup_b"), (Role::CaseManager, "usr_colleague"), (Role::Supervisor, "usr_not_on_roster")]
    {
        let got = read(role, subject, list(&case_id, true, "supervision")).await.expect("read");
        assert_eq!(got, ordinary, "{role} {subject}");
    }
    // Not asking: left out for the author too.
    assert_eq!(read(Role::CaseManager, "usr_owner", list(&case_id, false, "")).await.unwrap(), ordinary);
    // The case's owner is not what counts: reassigned to usr_colleague, the note stays with its author.
    let reassign = pb::ReassignCaseRequest {
        case_id: case_id.clone(),
        case_manager_id: COLLEAGUE.into(),
        reason: pb::ReassignReason::StaffLeave as i32,
        detail: String::new(),
        expected_updated_at: None,
    };
    api.reassign_case(request_as_user(Role::Supervisor, "usr_sup_a", reassign)).await.expect("reassign");
    assert_eq!(
        read(Role::CaseManager, "usr_colleague", list(&case_id, true, "case_management")).await.unwrap(),
        ordinary
    );
    assert_eq!(read(Role::CaseManager, "usr_owner", list(&case_id, true, "case_management")).await.unwrap(), both);

    // Privileged notes need a purpose from the closed list; free text is refused and not repeated.
    let free_text = "reviewing Jordan Smith's file, 555-0100";
    for purpose in ["", "case_review", free_text] {
        let status = read(Role::Supervisor, "usr_sup_a", list(&case_id, true, purpose)).await.expect_err("purpose");
        assert_eq!(status.code(), Code::InvalidArgument, "{purpose:?}");
        let shown = format!("{status:?}");
        assert!(shown.contains("purpose"), "{shown}");
        assert!(!shown.contains("Jordan") && !shown.contains("case_review"), "{shown}");
    }
    let status = read(Role::CaseManager, "usr_owner", list(&case_id, false, free_text)).await.expect_err("free text");
    assert_eq!(status.code(), Code::InvalidArgument);
    // Notes are staff's: a partner serving the case and a Wayfinder service are refused too.
    for role in [Role::Partner, Role::Service, Role::Hotline, Role::Auditor, Role::Admin, Role::ProgramManager] {
        let status = read(role, "usr_other", list(&case_id, false, "")).await.expect_err("role");
        assert_eq!(status.code(), Code::PermissionDenied, "{role}");
    }

    // Every successful read is on the record: who, in which role, which case, the purpose, and
    // each note returned — the privileged one marked — never the text.
    let accesses = outbox_of::<events::RecordAccessed>(&assembled.db, "record.accessed").await;
    assert_eq!(accesses.len(), 2 + 3 + 1 + 2, "one entry per read");
    let case = wf_cases::store::get_case(&assembled.db, &case_id).await.unwrap().unwrap();
    for (envelope, access) in &accesses {
        assert_eq!(access.record_id, case_id);
        assert_eq!(access.fields[0], "case_notes");
        assert_eq!(envelope.correlation_id, referral_id.as_str(), "found by the referral's disclosure report");
        assert_eq!(Some(envelope.aggregate_id.as_str()), case.youth_id.as_deref(), "and by the youth's");
    }
    let supervisor_read = &accesses[1].1;
    assert_eq!((supervisor_read.actor.as_str(), supervisor_read.actor_role.as_str()), ("usr_sup_a", "supervisor"));
    assert_eq!(supervisor_read.purpose, "supervision");
    assert_eq!(
        supervisor_read.fields,
        ["case_notes".to_owned(), format!("privileged_case_note:{privileged_id}"), format!("case_note:{ordinary_id}")]
    );
    let other_supervisor = &accesses[2].1;
    assert_eq!(other_supervisor.actor, "usr_sup_b");
    assert_eq!(other_supervisor.fields, ["case_notes".to_owned(), format!("case_note:{ordinary_id}")]);
    let rows: Vec<(Vec<u8>,)> =
        sqlx::query_as("SELECT envelope FROM event_outbox").fetch_all(assembled.db.pool()).await.expect("outbox");
    for (bytes,) in &rows {
        assert!(!contains(bytes, "Jordan"), "an event carries note text or a free-text purpose");
    }
    let added = outbox_of::<events::CaseNoteAdded>(&assembled.db, "case_note.added").await;
    assert!(added[0].1.privileged && added[0].1.category.is_empty(), "{:?}", added[0].1);
});

both_engines!(notes_written_before_sealing_are_sealed_and_leave_no_plaintext_behind, |engine| async move {
    let test = TestDb::new(engine).await;
    let assembled = Assembled::start(&test, &roster()).await;
    let (case_id, _) = assembled.open_case(Site::SouthLosAngeles).await;
    // A note as the service stored it before sealing: the text in the clear.
    sqlx::query(
        "INSERT INTO case_notes (note_id, case_id, author_id, written_at, text, privileged, category) \
         VALUES ($1, $2, 'usr_owner', 1, $3, 1, 'contact')",
    )
    .bind(wf_types::NoteId::generate().to_string())
    .bind(case_id.clone())
    .bind(PRIVILEGED_TEXT)
    .execute(assembled.db.pool())
    .await
    .expect("legacy note");

    let keys = wf_crypto::load_field_keys(assembled.config.field_key_file.as_deref(), &assembled.config.keys_dir())
        .expect("keys");
    let sealed = wf_cases::app::sealing::seal_plaintext_notes(&assembled.db, &keys, 10).await.expect("seal");
    assert_eq!(sealed, 1);
    assert_eq!(wf_cases::app::sealing::seal_plaintext_notes(&assembled.db, &keys, 10).await.expect("again"), 0);
    assert_eq!(wf_cases::app::sealing::key_usage(&assembled.db).await.expect("usage"), [(1, 1)]);
    if let Some(file) = test.sqlite_file() {
        for path in [file.clone(), file.with_file_name("test.db-wal")] {
            if let Ok(bytes) = std::fs::read(&path) {
                assert!(!contains(&bytes, "Jordan"), "{} still holds the old plaintext", path.display());
            }
        }
    }
    let (text,): (String,) =
        sqlx::query_as("SELECT text FROM case_notes").fetch_one(assembled.db.pool()).await.unwrap();
    assert_eq!(text, "");
    let notes = assembled
        .api
        .list_case_notes(request_as_user(Role::CaseManager, "usr_owner", list(&case_id, true, "case_management")))
        .await
        .expect("read")
        .into_inner()
        .notes;
    assert_eq!(notes.iter().map(|n| n.text.as_str()).collect::<Vec<_>>(), [PRIVILEGED_TEXT]);
});

/// `wf_cases::build` must give the use cases the note key ring (`App::with_note_keys`): without it
/// every note write is refused. Ignored until `src/lib.rs` passes the keys (the lead's file).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_built_service_seals_case_notes() {
    let test = TestDb::new(Engine::Sqlite).await;
    let harness = crate::harness::Harness::start(&test, Some(&roster())).await;
    let referral_id = wf_types::ReferralId::generate();
    let wf_cases::RoutedOutcome::Opened { case_id, .. } =
        harness.route(&referral_id, Site::SouthLosAngeles, false).await
    else {
        panic!("a case opens")
    };
    harness
        .cases
        .api()
        .add_case_note(request_as_user(Role::CaseManager, "usr_owner", note(&case_id, PRIVILEGED_TEXT, true)))
        .await
        .expect("the built service seals and stores notes");
    let (text, sealed): (String, Option<Vec<u8>>) =
        sqlx::query_as("SELECT text, sealed_text FROM case_notes").fetch_one(harness.db.pool()).await.expect("note");
    assert!(text.is_empty() && sealed.is_some());
}
