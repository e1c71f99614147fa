//! Refusals over gRPC carry the violations twice: readable in the message and
//! structured as `google.rpc.BadRequest` details for programs.

use tonic::Code;
use tonic_types::StatusExt;
use wf_auth::Role;
use wf_testkit::both_engines;

use super::{Harness, example};

both_engines!(violations_arrive_as_bad_request_details, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut client = harness.client(Role::Hotline).await;
    let mut request = example();
    let referral = request.referral.as_mut().expect("referral");
    referral.source = 0;
    referral.income.as_mut().expect("income").total_monthly_income_cents = -1;
    let personal = referral.personal.as_mut().expect("personal");
    personal.phones[0].number = "call me".into();
    personal.guardians[0].relationship = "aunt".into();
    let status = client.submit_referral(request).await.expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    let details = status.get_error_details();
    let bad_request = details.bad_request().expect("google.rpc.BadRequest details");
    let fields: Vec<&str> = bad_request.field_violations.iter().map(|v| v.field.as_str()).collect();
    assert_eq!(
        fields,
        vec![
            "referral.source",
            "referral.income.total_monthly_income_cents",
            "referral.personal.phones[0].number",
            "referral.personal.guardians[0].relationship",
        ]
    );
    for violation in &bad_request.field_violations {
        assert!(status.message().contains(&format!("{}: {}", violation.field, violation.description)));
        assert!(violation.description.contains("allowed"), "{violation:?} says what is allowed");
    }
    let (count,): (i64,) =
        wf_db::sqlx::query_as("SELECT COUNT(*) FROM referral").fetch_one(harness.db.pool()).await.expect("count");
    assert_eq!(count, 0, "nothing stored");
    harness.server.stop().await;
});

both_engines!(a_need_outside_the_service_types_is_refused_and_nothing_is_announced, |engine| async move {
    let harness = Harness::start(engine).await;
    let mut client = harness.client(Role::Hotline).await;
    let mut request = example();
    request.referral.as_mut().expect("referral").needs = vec!["mental_health".into(), "pizza".into()];
    let status = client.submit_referral(request).await.expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    let details = status.get_error_details();
    let violations = &details.bad_request().expect("field violations").field_violations;
    let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
    assert_eq!(fields, ["referral.needs[1]", "referral.needs", "referral.needs"], "the need, then the allowed codes");
    // Every allowed code arrives whole (none cut off at the edge), and the value sent never comes back.
    let listed: String = violations[1..].iter().map(|v| v.description.as_str()).collect::<Vec<_>>().join(", ");
    for code in wf_types::codes::SERVICE_TYPES {
        assert!(listed.contains(code), "{code} missing from {listed}");
    }
    assert!(!status.message().contains("pizza"), "{}", status.message());
    assert_eq!(harness.outbox_count("referral.received").await, 0, "nothing reaches routing");
    harness.server.stop().await;
});
