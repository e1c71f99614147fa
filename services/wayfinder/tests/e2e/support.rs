//! Shared helpers: the example referral, clients, waiting for the flow to finish.

use std::path::Path;
use std::time::{Duration, Instant};

use tonic::transport::Channel;
use wf_auth::{BearerToken, Role, TokenIssuer, TokenKind};
use wf_proto::audit::v1 as audit;
use wf_proto::intake::v1 as intake;

pub const FLOW_EVENTS: [&str; 3] = ["referral.received", "referral.routed", "case.assigned"];
/// Bounded wait for asynchronous work; generous because CI machines are shared.
pub const PATIENCE: Duration = Duration::from_secs(60);

pub fn example_referral() -> intake::SubmitReferralRequest {
    let json = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/referral.json"))
        .expect("examples/referral.json");
    wf_proto::json::from_json(&json).expect("example parses")
}

/// Personal values of the example that must never leave intake in plain form.
pub fn personal_strings(request: &intake::SubmitReferralRequest) -> Vec<String> {
    let personal = request.referral.as_ref().and_then(|r| r.personal.clone()).expect("example has personal details");
    let mut values = vec![personal.legal_first_name.clone(), personal.legal_last_name.clone()];
    values.extend(personal.aliases.iter().cloned());
    values.extend(personal.phones.iter().map(|p| p.number.clone()));
    values.extend(personal.phones.iter().map(|p| p.number.chars().filter(char::is_ascii_digit).collect()));
    values.extend(personal.emails.iter().cloned());
    if let Some(address) = &personal.address {
        values.push(address.address_1.clone());
    }
    if let Some(dob) = &personal.date_of_birth {
        values.push(format!("{:04}-{:02}-{:02}", dob.year, dob.month, dob.day));
        values.push(format!("{:02}/{:02}/{:04}", dob.month, dob.day, dob.year));
    }
    values.retain(|v| v.len() >= 4);
    values
}

pub fn with_reference(mut request: intake::SubmitReferralRequest, reference: &str) -> intake::SubmitReferralRequest {
    request.referral.as_mut().expect("referral").external_reference = reference.to_owned();
    request
}

pub fn token(issuer: &TokenIssuer, role: Role) -> String {
    issuer.issue(TokenKind::User, &format!("e2e-{role}"), role, None, Duration::from_secs(600)).expect("token")
}

pub fn issuer(keys_dir: &Path) -> TokenIssuer {
    let keys = wf_auth::load_or_create_dev_keypair(keys_dir).expect("dev keys");
    TokenIssuer::from_pem(&keys.private_pem, &keys.kid, "wayfinder", "wayfinder").expect("issuer")
}

pub async fn authed(
    url: &str,
    issuer: &TokenIssuer,
    role: Role,
) -> tonic::service::interceptor::InterceptedService<Channel, BearerToken> {
    authed_as(url, issuer, &format!("e2e-{role}"), role).await
}

/// As [`authed`], for a named subject (a hotline's duplicate answer goes only to the same caller).
pub async fn authed_as(
    url: &str,
    issuer: &TokenIssuer,
    subject: &str,
    role: Role,
) -> tonic::service::interceptor::InterceptedService<Channel, BearerToken> {
    let token = issuer.issue(TokenKind::User, subject, role, None, Duration::from_secs(600)).expect("token");
    let channel = Channel::from_shared(url.to_owned()).expect("url").connect().await.expect("connect");
    tonic::service::interceptor::InterceptedService::new(channel, BearerToken::new(&token).expect("bearer"))
}

/// Waits until the referral is assigned and all flow events are in the audit log.
pub async fn wait_for_flow(
    intake_url: &str,
    audit_url: &str,
    issuer: &TokenIssuer,
    referral_id: &str,
) -> Vec<audit::AuditEntry> {
    let mut intake_client =
        intake::intake_service_client::IntakeServiceClient::new(authed(intake_url, issuer, Role::ProgramManager).await);
    let mut audit_client =
        audit::audit_service_client::AuditServiceClient::new(authed(audit_url, issuer, Role::Auditor).await);
    let started = Instant::now();
    loop {
        let referral = intake_client
            .get_referral(intake::GetReferralRequest { referral_id: referral_id.to_owned(), purpose: String::new() })
            .await
            .expect("get referral")
            .into_inner();
        let entries = audit_client
            .list_entries(audit::ListEntriesRequest {
                correlation_id: referral_id.to_owned(),
                page_size: 1000,
                ..Default::default()
            })
            .await
            .expect("list audit entries")
            .into_inner()
            .entries;
        let audited: Vec<&str> = entries.iter().map(|e| e.r#type.as_str()).collect();
        let assigned = referral.status == intake::ReferralStatus::Assigned as i32;
        if assigned && FLOW_EVENTS.iter().all(|t| audited.contains(t)) {
            assert!(!referral.case_id.is_empty(), "an assigned referral names its case");
            return entries;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "flow did not finish: status {:?}, audited {audited:?}",
            intake::ReferralStatus::try_from(referral.status)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
