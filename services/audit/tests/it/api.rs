//! The gRPC API end to end: the service hosted on port 0 with the in-process bus, events
//! published through the bus, queries made with real tokens.

use std::time::Duration;

use tonic::Code;
use wf_audit::CheckpointPolicy;
use wf_auth::{Role, TokenKind};
use wf_events::Envelope;
use wf_proto::audit::v1 as pb;
use wf_proto::audit::v1::audit_service_client::AuditServiceClient;
use wf_proto::common::v1::TimeRange;
use wf_testkit::{AuthedChannel, Engine, TestServer, TestService, both_engines};
use wf_types::SystemClock;

use crate::common::{accessed, offer_made, received, referral_id};

type Client = AuditServiceClient<AuthedChannel>;

/// Audit alone on port 0, its checkpoint worker idle (the test makes its checkpoints itself).
async fn start(engine: Engine) -> TestServer {
    let audit = TestService::new(wf_audit::migrations(), |ctx| async move {
        let policy = CheckpointPolicy {
            every_entries: 1000,
            every: Duration::from_secs(3600),
            ..CheckpointPolicy::for_data_dir(&ctx.config.data_dir)
        };
        Ok(wf_audit::build_with(ctx, policy).await? as _)
    });
    TestServer::start_many(engine, SystemClock::shared(), vec![audit]).await
}

async fn client(server: &TestServer, kind: TokenKind, subject: &str, role: Role) -> Client {
    AuditServiceClient::new(server.channel(&server.tokens.token(kind, subject, role)).await)
}

fn sequences(response: &pb::ListEntriesResponse) -> Vec<u64> {
    response.entries.iter().map(|e| e.sequence).collect()
}

async fn auditors_query_and_verify_through_grpc(engine: Engine) {
    let server = start(engine).await;
    let (first, second) = (referral_id(), referral_id());
    let events = [received(&first), accessed(&first, "usr_cm7"), offer_made(&first), received(&second)];
    for event in &events {
        server.publish(event).await;
    }
    // A redelivery through the bus leaves the log as it was.
    server.publish(&events[1]).await;

    let mut auditor = client(&server, TokenKind::User, "usr_auditor1", Role::Auditor).await;
    let all = auditor.list_entries(pb::ListEntriesRequest::default()).await.expect("list").into_inner();
    assert_eq!(sequences(&all), [1, 2, 3, 4]);
    assert!(all.next_page_token.is_empty());
    let access = &all.entries[1];
    assert_eq!(access.event_id, events[1].event_id.to_string());
    assert_eq!((access.actor.as_str(), access.actor_role.as_str()), ("usr_cm7", "case_manager"));
    assert_eq!(access.fields, ["personal.legal_first_name"]);
    assert_eq!(access.payload, events[1].payload);
    assert_eq!(access.previous_hash, all.entries[0].entry_hash);
    assert_eq!(access.entry_hash.len(), 32);

    let page = |size: i32, token: &str| pb::ListEntriesRequest {
        page_size: size,
        page_token: token.to_owned(),
        ..Default::default()
    };
    let page_one = auditor.list_entries(page(3, "")).await.expect("page 1").into_inner();
    assert_eq!((sequences(&page_one), page_one.next_page_token.as_str()), (vec![1, 2, 3], "3"));
    let page_two = auditor.list_entries(page(3, &page_one.next_page_token)).await.expect("page 2").into_inner();
    assert_eq!((sequences(&page_two), page_two.next_page_token.as_str()), (vec![4], ""));

    let by_referral = pb::ListEntriesRequest { correlation_id: first.clone(), ..Default::default() };
    assert_eq!(sequences(&auditor.list_entries(by_referral).await.expect("by referral").into_inner()), [1, 2, 3]);
    let by_actor = pb::ListEntriesRequest { actor: "usr_cm7".into(), ..Default::default() };
    assert_eq!(sequences(&auditor.list_entries(by_actor).await.expect("by actor").into_inner()), [2]);
    let by_aggregate = pb::ListEntriesRequest { aggregate_id: second.clone(), ..Default::default() };
    assert_eq!(sequences(&auditor.list_entries(by_aggregate).await.expect("by aggregate").into_inner()), [4]);
    let by_type =
        pb::ListEntriesRequest { types: vec!["offer.*".into(), "record.accessed".into()], ..Default::default() };
    assert_eq!(sequences(&auditor.list_entries(by_type).await.expect("by type").into_inner()), [2, 3]);
    let from_three = pb::ListEntriesRequest { from_sequence: 3, omit_payload: true, ..Default::default() };
    let from_three = auditor.list_entries(from_three).await.expect("from 3").into_inner();
    assert_eq!(sequences(&from_three), [3, 4]);
    assert!(from_three.entries.iter().all(|e| e.payload.is_empty() && e.entry_hash.len() == 32));
    let occurred_at = |event: &Envelope| prost_types::Timestamp {
        seconds: event.occurred_at.timestamp(),
        nanos: event.occurred_at.timestamp_subsec_micros() as i32 * 1000,
    };
    let in_window = pb::ListEntriesRequest {
        occurred: Some(TimeRange { start: Some(occurred_at(&events[1])), end: Some(occurred_at(&events[3])) }),
        ..Default::default()
    };
    assert_eq!(sequences(&auditor.list_entries(in_window).await.expect("in window").into_inner()), [2, 3]);

    let bad_token = auditor.list_entries(page(0, "not-a-token")).await.expect_err("bad token");
    assert_eq!(bad_token.code(), Code::InvalidArgument);
    assert!(bad_token.message().contains("page_token"), "{}", bad_token.message());
    let by_youth = pb::ListEntriesRequest { youth_id: "yth_1".into(), ..Default::default() };
    let by_youth = auditor.list_entries(by_youth).await.expect("by youth").into_inner();
    assert!(by_youth.entries.is_empty(), "no referral names yth_1: {by_youth:?}");

    use pb::get_entry_request::Key;
    let by_sequence =
        auditor.get_entry(pb::GetEntryRequest { key: Some(Key::Sequence(2)) }).await.expect("by sequence").into_inner();
    assert_eq!(by_sequence.entry.as_ref(), Some(access));
    let by_event = auditor
        .get_entry(pb::GetEntryRequest { key: Some(Key::EventId(events[3].event_id.to_string())) })
        .await
        .expect("by event id")
        .into_inner();
    assert_eq!(by_event.entry.map(|e| e.sequence), Some(4));
    let missing = auditor.get_entry(pb::GetEntryRequest { key: Some(Key::Sequence(99)) }).await.expect_err("missing");
    assert_eq!(missing.code(), Code::NotFound);
    let no_key = auditor.get_entry(pb::GetEntryRequest { key: None }).await.expect_err("no key");
    assert_eq!(no_key.code(), Code::InvalidArgument);

    let verified = auditor.verify_chain(pb::VerifyChainRequest::default()).await.expect("verify").into_inner();
    assert_eq!(
        verified,
        pb::VerifyChainResponse {
            ok: true,
            verified_through: 4,
            first_bad_sequence: 0,
            problem: String::new(),
            entries_verified: 4,
            checkpoints_verified: 0,
        }
    );
    let mut service = client(&server, TokenKind::Service, "cases", Role::Service).await;
    let range = pb::VerifyChainRequest { from_sequence: 2, to_sequence: 3 };
    let partial = service.verify_chain(range).await.expect("service verifies").into_inner();
    assert!(partial.ok && partial.entries_verified == 2 && partial.verified_through == 3, "{partial:?}");
    let backwards = pb::VerifyChainRequest { from_sequence: 3, to_sequence: 2 };
    assert_eq!(service.verify_chain(backwards).await.expect_err("backwards").code(), Code::InvalidArgument);

    let none_yet = auditor.get_checkpoint(pb::GetCheckpointRequest::default()).await.expect_err("checkpoint");
    assert_eq!(none_yet.code(), Code::NotFound);
    checkpoints_through_grpc(&server, &mut auditor).await;

    disclosure_report_lists_the_reads(&mut auditor, &first).await;

    // Reading the log is for auditors only; not even services or supervisors. (Last: each refusal
    // becomes an `access.refused` entry of the log, after the counts above.)
    let denied = service.list_entries(pb::ListEntriesRequest::default()).await.expect_err("service reads");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let mut supervisor = client(&server, TokenKind::User, "usr_sup1", Role::Supervisor).await;
    let denied = supervisor.verify_chain(pb::VerifyChainRequest::default()).await.expect_err("supervisor verifies");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let refusals = pb::ListEntriesRequest { types: vec!["access.refused".to_owned()], ..Default::default() };
    let recorded = wf_testkit::eventually(Duration::from_secs(30), || {
        let (mut auditor, request) = (auditor.clone(), refusals.clone());
        async move { auditor.list_entries(request).await.is_ok_and(|found| found.into_inner().entries.len() >= 2) }
    })
    .await;
    assert!(recorded, "the refused calls are not in the log");
    let refused = auditor.list_entries(refusals).await.expect("refusals").into_inner().entries;
    // Each entry names the caller refused (not the service that refused it), in either order.
    let mut actors: Vec<(&str, &str)> = refused.iter().map(|e| (e.actor.as_str(), e.actor_role.as_str())).collect();
    actors.sort();
    assert_eq!(actors, [("cases", "service"), ("usr_sup1", "supervisor")], "{refused:?}");
    assert!(refused.iter().all(|e| e.purpose.is_empty()), "{refused:?}");

    server.stop().await;
}
both_engines!(auditors_query_and_verify_through_grpc, auditors_query_and_verify_through_grpc);

/// Checkpoints made with the service's own key (every 2 entries over the 4 in the log), then
/// read, proved and verified through the API.
async fn checkpoints_through_grpc(server: &TestServer, auditor: &mut Client) {
    use wf_audit::domain::merkle;
    let config = &server.config;
    let signer = std::sync::Arc::new(wf_audit::keys::signer_from_config(config).expect("key"));
    let policy = CheckpointPolicy { every_entries: 2, every: Duration::from_secs(3600), file: None };
    let checkpointer = wf_audit::Checkpointer::new(server.dbs[0].clone(), signer, policy, server.clock.clone());
    let made = checkpointer.tick().await.expect("tick");
    assert_eq!(made.len(), 2);

    let latest = auditor.get_checkpoint(pb::GetCheckpointRequest::default()).await.expect("latest").into_inner();
    let latest = latest.checkpoint.expect("checkpoint");
    assert_eq!(latest.tree_size, 4);
    assert!(latest.signed_text.starts_with("wayfinder.audit.checkpoint.v1\ntree_size 4\n"), "{}", latest.signed_text);
    let listed = auditor.list_checkpoints(pb::ListCheckpointsRequest { page_size: 1, ..Default::default() }).await;
    let listed = listed.expect("list").into_inner();
    assert_eq!(listed.checkpoints.iter().map(|c| c.tree_size).collect::<Vec<_>>(), [2]);
    let next = pb::ListCheckpointsRequest { page_token: listed.next_page_token, ..Default::default() };
    let rest = auditor.list_checkpoints(next).await.expect("next page").into_inner();
    assert_eq!(rest.checkpoints.iter().map(|c| c.tree_size).collect::<Vec<_>>(), [4]);
    assert!(rest.next_page_token.is_empty());

    let root: [u8; 32] = latest.root_hash.clone().try_into().expect("32 bytes");
    let proof = auditor
        .get_inclusion_proof(pb::GetInclusionProofRequest { sequence: 3, tree_size: 0 })
        .await
        .expect("inclusion")
        .into_inner();
    assert_eq!(proof.checkpoint.as_ref().map(|c| c.tree_size), Some(4), "the first checkpoint covering 3");
    let entry_hash: [u8; 32] = proof.entry.expect("entry").entry_hash.try_into().expect("32 bytes");
    let path: Vec<[u8; 32]> = proof.audit_path.into_iter().map(|h| h.try_into().expect("32 bytes")).collect();
    assert!(merkle::verify_inclusion(&merkle::leaf_hash(&entry_hash), proof.leaf_index, 4, &path, &root));

    let consistency = auditor
        .get_consistency_proof(pb::GetConsistencyProofRequest { from_tree_size: 2, to_tree_size: 0 })
        .await
        .expect("consistency")
        .into_inner();
    let old_root: [u8; 32] = consistency.from_checkpoint.expect("from").root_hash.try_into().expect("32 bytes");
    let hashes: Vec<[u8; 32]> = consistency.proof.into_iter().map(|h| h.try_into().expect("32 bytes")).collect();
    assert!(merkle::verify_consistency(2, 4, &hashes, &old_root, &root));
    let unknown = auditor.get_consistency_proof(pb::GetConsistencyProofRequest { from_tree_size: 3, to_tree_size: 0 });
    assert_eq!(unknown.await.expect_err("no checkpoint at 3").code(), Code::InvalidArgument);

    let verified = auditor.verify_chain(pb::VerifyChainRequest::default()).await.expect("verify").into_inner();
    assert!(verified.ok && verified.checkpoints_verified == 2, "{verified:?}");

    exported_range_verifies_offline(auditor, config).await;
}

/// Acceptance 5: a range exported in pages verifies with the public key alone, and a changed
/// entry in the file is located.
async fn exported_range_verifies_offline(auditor: &mut Client, config: &wf_config::Config) {
    use wf_audit::export::{EXPORT_FORMAT, ExportEntry, ExportFile, verify_export};
    let mut entries = Vec::new();
    let mut page_token = String::new();
    let checkpoint = loop {
        let request = pb::ExportRangeRequest { from_sequence: 2, to_sequence: 3, page_size: 2, page_token };
        let page = auditor.export_range(request).await.expect("export").into_inner();
        entries.extend(page.entries.into_iter().map(wf_audit::api::entry_from_proto));
        if page.next_page_token.is_empty() {
            break page.checkpoint.expect("checkpoint");
        }
        page_token = page.next_page_token;
    };
    assert_eq!(entries.iter().map(|e| e.sequence).collect::<Vec<_>>(), [2, 3, 4], "runs to checkpoint 4");
    let checkpoint = wf_audit::api::checkpoint_from_proto(&checkpoint).expect("checkpoint");
    let file = ExportFile {
        format: EXPORT_FORMAT.to_owned(),
        from_sequence: 2,
        to_sequence: 3,
        public_key_pem: None,
        checkpoint: wf_audit::CheckpointJson::from_checkpoint(&checkpoint),
        entries: entries.iter().map(ExportEntry::from_entry).collect(),
    };
    // Offline: only the file (through JSON) and the public key.
    let json = serde_json::to_string(&file).expect("json");
    let public_key = config.keys_dir().join(wf_audit::keys::DEV_PUBLIC_KEY_FILE);
    let key = wf_audit::keys::verifier_from_pem_file(&public_key).expect("public key");
    let read: ExportFile = serde_json::from_str(&json).expect("read back");
    let report = verify_export(&read, &key).expect("verifies offline");
    assert_eq!((report.entries, report.checkpoint_tree_size), (3, 4));

    let mut tampered = read.clone();
    tampered.entries[1].content.purpose = "curiosity".to_owned();
    let problem = verify_export(&tampered, &key).expect_err("tampered");
    assert_eq!((problem.sequence, problem.kind), (3, wf_audit::TamperKind::Modified));

    let past = auditor.export_range(pb::ExportRangeRequest { from_sequence: 9, ..Default::default() }).await;
    assert_eq!(past.expect_err("beyond the checkpoint").code(), Code::InvalidArgument);
}

/// The referral's one read is in the report; the report itself is logged as an export.
async fn disclosure_report_lists_the_reads(auditor: &mut Client, referral: &str) {
    use pb::disclosure_report_request::Subject;
    use wf_proto::common::v1::ReportFormat;
    let request = |format: ReportFormat, purpose: &str| pb::DisclosureReportRequest {
        subject: Some(Subject::ReferralId(referral.to_owned())),
        format: format as i32,
        occurred: None,
        purpose: purpose.to_owned(),
    };
    let csv = auditor.disclosure_report(request(ReportFormat::Csv, "survivor_request")).await.expect("csv");
    let csv = csv.into_inner();
    // The referral's receipt (a change) and its one read.
    assert_eq!((csv.entry_count, csv.content_type.as_str()), (2, "text/csv; charset=utf-8"));
    let text = String::from_utf8(csv.content).expect("utf-8");
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.lines().nth(1).is_some_and(|row| row.contains(",change,intake,service,")), "{text}");
    assert!(
        text.contains(",usr_cm7,case_manager,,case_management,none (program staff),personal.legal_first_name,no"),
        "{text}"
    );

    let html = auditor.disclosure_report(request(ReportFormat::Html, "survivor_request")).await.expect("html");
    let html = String::from_utf8(html.into_inner().content).expect("utf-8");
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<td>usr_cm7</td>"), "{html}");

    let no_purpose = auditor.disclosure_report(request(ReportFormat::Csv, "")).await.expect_err("no purpose");
    assert_eq!(no_purpose.code(), Code::InvalidArgument);
    assert!(no_purpose.message().contains("purpose"), "{}", no_purpose.message());
    let json = auditor.disclosure_report(request(ReportFormat::Json, "survivor_request")).await.expect_err("json");
    assert!(json.message().contains("format"), "{}", json.message());
    // The purpose is logged forever: a code from the closed list, never text (and never echoed).
    let free_text = "Reviewing for Maria Lopez, 555-0100";
    let text = auditor.disclosure_report(request(ReportFormat::Csv, free_text)).await.expect_err("free text");
    assert_eq!(text.code(), Code::InvalidArgument);
    assert!(text.message().contains("purpose: is not a purpose code"), "{}", text.message());
    assert!(!text.message().contains("Maria") && !text.message().contains("555"), "{}", text.message());

    let logged = pb::ListEntriesRequest {
        correlation_id: referral.to_owned(),
        types: vec!["record.exported".to_owned()],
        ..Default::default()
    };
    let logged = auditor.list_entries(logged).await.expect("list").into_inner().entries;
    assert_eq!(logged.len(), 2, "each report produced is itself in the log");
    assert!(logged.iter().all(|e| e.actor == "usr_auditor1" && e.purpose == "survivor_request"), "{logged:?}");
}

/// `ListRecordViews`: staff who work on a record see who read it (metadata only), oldest first and
/// paged; another record's reads and other events are never in it; roles that do not manage cases
/// are refused, and a record id is required.
async fn staff_see_who_read_a_record_and_nothing_else(engine: Engine) {
    let server = start(engine).await;
    let (case, other) = ("case_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d", "case_0192f1c4d5e67a8b9c0d1e2f3a4b5c6e");
    let read = |record: &str, actor: &str, purpose: &str| {
        let access = wf_proto::events::v1::RecordAccessed {
            actor: actor.to_owned(),
            actor_role: "case_manager".to_owned(),
            record_id: record.to_owned(),
            purpose: purpose.to_owned(),
            fields: vec!["case".to_owned()],
            ..Default::default()
        };
        crate::common::event("cases", record, &referral_id(), &access)
    };
    for event in [
        read(case, "usr_cm1", "case_management"),
        read(other, "usr_cm9", "case_management"),
        received(&referral_id()),
        read(case, "usr_sup1", "supervision"),
        read(case, "usr_cm1", "safety_planning"),
    ] {
        server.publish(&event).await;
    }
    let mut staff = client(&server, TokenKind::User, "usr_cm1", Role::CaseManager).await;
    let first = staff
        .list_record_views(pb::ListRecordViewsRequest { record_id: case.into(), page_size: 2, ..Default::default() })
        .await
        .expect("views")
        .into_inner();
    let who: Vec<(&str, &str)> = first.views.iter().map(|v| (v.actor.as_str(), v.purpose.as_str())).collect();
    assert_eq!(who, [("usr_cm1", "case_management"), ("usr_sup1", "supervision")]);
    assert_eq!(first.views[0].fields, ["case"]);
    assert_eq!(first.views[0].actor_role, "case_manager");
    assert!(!first.next_page_token.is_empty(), "a third read is on the next page");
    let rest = staff
        .list_record_views(pb::ListRecordViewsRequest {
            record_id: case.into(),
            page_size: 2,
            page_token: first.next_page_token.clone(),
        })
        .await
        .expect("views")
        .into_inner();
    assert_eq!(rest.views.iter().map(|v| v.purpose.as_str()).collect::<Vec<_>>(), ["safety_planning"]);
    assert!(rest.next_page_token.is_empty());
    let missing =
        staff.list_record_views(pb::ListRecordViewsRequest::default()).await.expect_err("a record id is required");
    assert_eq!(missing.code(), Code::InvalidArgument);
    assert!(missing.message().contains("record_id"), "{}", missing.message());
    let partner = server.tokens.partner("org_0192f1c4d5e67a8b9c0d1e2f3a4b5c6d");
    let mut callers = vec![("partner", AuditServiceClient::new(server.channel(&partner).await))];
    for role in [Role::Auditor, Role::Evaluator, Role::ProgramManager, Role::Admin] {
        callers.push((role.as_str(), client(&server, TokenKind::User, "usr_other", role).await));
    }
    for (role, mut caller) in callers {
        let refused = caller
            .list_record_views(pb::ListRecordViewsRequest { record_id: case.into(), ..Default::default() })
            .await
            .expect_err("refused");
        assert_eq!(refused.code(), Code::PermissionDenied, "{role}");
    }
    server.stop().await;
}
both_engines!(staff_see_who_read_a_record_and_nothing_else, staff_see_who_read_a_record_and_nothing_else);
