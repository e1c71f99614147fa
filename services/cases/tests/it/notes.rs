//! Acceptance 6: a privileged note (Evidence Code 1038) is read only by the assigned case manager
//! and supervisors, and is absent from every export and from reads by other roles.

use tonic::Code;
use uuid::Uuid;
use wf_auth::{Principal, Role, TokenKind};
use wf_proto::cases::v1::{self as pb, case_service_server::CaseService};
use wf_proto::common::v1::Site;
use wf_testkit::both_engines;
use wf_types::ReferralId;

use crate::harness::{Harness, TestDb};

const OWNER: &str = "cm_000000000000000000000000000000a1";
const COLLEAGUE: &str = "cm_000000000000000000000000000000a2";
const PRIVILEGED_TEXT: &str = "Demo privileged caseworker note 0101";
const ORDINARY_TEXT: &str = "Demo ordinary note";

fn roster() -> String {
    let mut text = String::from(
        "[[supervisor]]\nid = \"cm_000000000000000000000000000000f1\"\ndisplay_code = \"SUP-T-1\"\n\
         display_name = \"Test Supervisor\"\nsites = [\"countywide\"]\n",
    );
    for (index, (id, user)) in [(OWNER, "usr_owner"), (COLLEAGUE, "usr_colleague")].iter().enumerate() {
        text.push_str(&format!(
            "\n[[case_manager]]\nid = \"{id}\"\ndisplay_code = \"CM-T-{index}\"\ndisplay_name = \"Test Case Manager\"\n\
             user_id = \"{user}\"\nsites = [\"south_los_angeles\"]\nlanguages = [\"en\"]\nmax_caseload = 5\n\
             supervisor = \"cm_000000000000000000000000000000f1\"\n"
        ));
    }
    text
}

fn as_user<T>(role: Role, subject: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let kind = if role == Role::Service { TokenKind::Service } else { TokenKind::User };
    let partner_id = (role == Role::Partner).then(|| "org_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d".to_owned());
    request.extensions_mut().insert(Principal {
        subject: subject.to_owned(),
        role,
        partner_id,
        kind,
        token_id: Uuid::new_v4().to_string(),
    });
    request
}

fn list(case_id: &str, include_privileged: bool) -> pb::ListCaseNotesRequest {
    pb::ListCaseNotesRequest {
        case_id: case_id.to_owned(),
        include_privileged,
        purpose: if include_privileged { "case_review".into() } else { String::new() },
        ..Default::default()
    }
}

both_engines!(a_privileged_note_is_read_only_by_the_owner_and_supervisors, |engine| async move {
    let test = TestDb::new(engine).await;
    let harness = Harness::start(&test, Some(&roster())).await;
    let api = harness.cases.api();
    let referral_id = ReferralId::generate();
    let outcome = harness.route(&referral_id, Site::SouthLosAngeles, false).await;
    let wf_cases::events::RoutedOutcome::Opened { case_id, .. } = outcome else { panic!("{outcome:?}") };

    for (text, privileged) in [(PRIVILEGED_TEXT, true), (ORDINARY_TEXT, false)] {
        let note = pb::CaseNote {
            case_id: case_id.clone(),
            text: text.into(),
            privileged,
            category: "contact".into(),
            ..Default::default()
        };
        api.add_case_note(as_user(Role::CaseManager, "usr_owner", pb::AddCaseNoteRequest { note: Some(note) }))
            .await
            .expect("add note");
    }

    let texts = |notes: Vec<pb::CaseNote>| notes.into_iter().map(|n| n.text).collect::<Vec<_>>();
    // The owner and a supervisor read both when they ask for privileged notes.
    for (role, subject) in [(Role::CaseManager, "usr_owner"), (Role::Supervisor, "usr_supervisor")] {
        let notes = api.list_case_notes(as_user(role, subject, list(&case_id, true))).await.expect("read").into_inner();
        assert_eq!(texts(notes.notes), [PRIVILEGED_TEXT, ORDINARY_TEXT], "{role}");
    }
    // Everyone else: refused when asking, and never given it otherwise.
    for (role, subject) in [(Role::CaseManager, "usr_colleague"), (Role::Service, "reports")] {
        let status = api.list_case_notes(as_user(role, subject, list(&case_id, true))).await.expect_err("refused");
        assert_eq!(status.code(), Code::PermissionDenied, "{role}");
        let notes = api.list_case_notes(as_user(role, subject, list(&case_id, false))).await.expect("read");
        assert_eq!(texts(notes.into_inner().notes), [ORDINARY_TEXT], "{role}");
    }
    // The owner too gets it only when asking for it.
    let notes = api.list_case_notes(as_user(Role::CaseManager, "usr_owner", list(&case_id, false))).await.unwrap();
    assert_eq!(texts(notes.into_inner().notes), [ORDINARY_TEXT]);
    for role in [Role::Partner, Role::Hotline, Role::Auditor, Role::Admin, Role::ProgramManager] {
        let status = api.list_case_notes(as_user(role, "usr_other", list(&case_id, false))).await.expect_err("role");
        assert_eq!(status.code(), Code::PermissionDenied, "{role}");
    }

    // Exports — events (what the audit log and reports are built from) and the case record — hold
    // no note text at all, and nothing of the privileged note but its existence.
    let rows: Vec<(String, Vec<u8>)> = sqlx::query_as("SELECT event_type, envelope FROM event_outbox")
        .fetch_all(harness.db.pool())
        .await
        .expect("outbox");
    let contains = |bytes: &[u8], needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    for (event_type, payload) in &rows {
        for text in [PRIVILEGED_TEXT, ORDINARY_TEXT] {
            assert!(!contains(payload, text), "{event_type} carries note text");
        }
    }
    let added: Vec<&Vec<u8>> = rows.iter().filter(|(t, _)| t == "case_note.added").map(|(_, p)| p).collect();
    assert_eq!(added.len(), 2);
    let privileged: wf_proto::events::v1::CaseNoteAdded =
        wf_events::Envelope::decode(added[0]).expect("envelope").payload_as().expect("payload");
    assert!(privileged.privileged && privileged.category.is_empty(), "{privileged:?}");
    let case = api
        .get_case(as_user(Role::Supervisor, "usr_supervisor", pb::GetCaseRequest { case_id: case_id.clone() }))
        .await
        .unwrap()
        .into_inner();
    assert!(!contains(&prost::Message::encode_to_vec(&case), PRIVILEGED_TEXT));

    // Reassigned: the new owner may read it, the former one no longer.
    let reassign = pb::ReassignCaseRequest {
        case_id: case_id.clone(),
        case_manager_id: COLLEAGUE.into(),
        reason: pb::ReassignReason::StaffLeave as i32,
        detail: String::new(),
    };
    api.reassign_case(as_user(Role::Supervisor, "usr_supervisor", reassign)).await.expect("reassign");
    assert!(api.list_case_notes(as_user(Role::CaseManager, "usr_colleague", list(&case_id, true))).await.is_ok());
    let status = api.list_case_notes(as_user(Role::CaseManager, "usr_owner", list(&case_id, true))).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
});
