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

/// The complete example referral (`examples/referral.json`, every field filled), received now: the
/// file says 2 March 2026, by which every deadline of a referral submitted today has long passed
/// (routing and intake would escalate it and announce its mandated report overdue at once).
pub fn example_referral() -> intake::SubmitReferralRequest {
    let json = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/referral.json"))
        .expect("examples/referral.json");
    let mut request: intake::SubmitReferralRequest = wf_proto::json::from_json(&json).expect("example parses");
    request.referral.as_mut().expect("referral").received_at = None;
    request
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

/// Waits until a case manager owns the referral's case (intake names the case) and all flow events
/// are in the audit log. The status then is OFFERED or later: cases assigns a case manager as soon as
/// routing decides, while the partner's answer is still to come.
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
        let escalated = referral.status == intake::ReferralStatus::Escalated as i32;
        assert!(!escalated, "the referral was escalated instead of placed: audited {audited:?}");
        if !referral.case_id.is_empty() && FLOW_EVENTS.iter().all(|t| audited.contains(t)) {
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

/// The repository root: the README's commands run from there.
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `wayfinder up` as its own process on an embedded data folder (SQLite only: DATABASE_URL and
/// AMQP_URL are removed), its log (stderr) kept in a file beside the folder. Killed if dropped.
pub struct Up {
    pub child: std::process::Child,
    pub data_dir: std::path::PathBuf,
    pub log: std::path::PathBuf,
}

impl Up {
    /// Starts `wayfinder up --data-dir DATA_DIR --grpc-addr 127.0.0.1:0 EXTRA…`.
    pub fn start(data_dir: &Path, extra: &[&str]) -> Self {
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let log = data_dir.with_extension(format!("up-{n}.log"));
        let file = std::fs::File::create(&log).expect("log file");
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_wayfinder"))
            .args(["up", "--grpc-addr", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .current_dir(repo_root())
            .env_remove("DATABASE_URL")
            .env_remove("AMQP_URL")
            .env_remove("RUST_LOG")
            .env_remove("WAYFINDER_DATA_DIR")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::from(file))
            .spawn()
            .expect("wayfinder up runs");
        Up { child, data_dir: data_dir.to_owned(), log }
    }

    /// What the process has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits (bounded) until the log contains `line`; panics, showing the log, if the process exits first.
    pub fn wait_for_log(&mut self, line: &str) {
        let started = Instant::now();
        while !self.log().contains(line) {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("wayfinder up exited with {status} before logging {line:?}:\n{}", self.log());
            }
            assert!(started.elapsed() < PATIENCE, "no {line:?} in the log of wayfinder up:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The endpoints file the running system wrote.
    pub fn endpoints(&self) -> wayfinder::system::Endpoints {
        let bytes = std::fs::read(self.data_dir.join("endpoints.json")).expect("endpoints.json");
        serde_json::from_slice(&bytes).expect("endpoints.json parses")
    }

    /// Runs `wayfinder ARGS… --data-dir DATA_DIR` from the repository root.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        cli_in(&self.data_dir, args)
    }

    /// Waits (bounded) for the process to end by itself; `None` if it still runs after [`PATIENCE`].
    pub fn wait_for_exit(&mut self) -> Option<std::process::ExitStatus> {
        let started = Instant::now();
        while started.elapsed() < PATIENCE {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// SIGTERM, then waits for the process to finish (it stops cleanly).
    pub fn stop(mut self) -> std::process::ExitStatus {
        let pid = rustix::process::Pid::from_child(&self.child);
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("SIGTERM");
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(started.elapsed() < PATIENCE, "wayfinder up did not stop:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `wayfinder ARGS… --data-dir DATA_DIR` from the repository root, as a newcomer would.
pub fn cli_in(data_dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_wayfinder"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .current_dir(repo_root())
        .env_remove("DATABASE_URL")
        .env_remove("AMQP_URL")
        .env_remove("WAYFINDER_TOKEN")
        .env_remove("WAYFINDER_DATA_DIR")
        .output()
        .expect("wayfinder runs")
}

/// stdout and stderr of a command, for assertion messages.
pub fn shown(output: &std::process::Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
