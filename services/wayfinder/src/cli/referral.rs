//! A referral from the command line: `submit` one from a JSON file, and follow its `status`
//! through intake, routing, cases and the audit log.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use wf_auth::Role;
use wf_client::Target;
use wf_proto::audit::v1 as audit;
use wf_proto::intake::v1 as intake;
use wf_types::ReferralId;

use super::{Connect, Globals, rfc3339, status_error};

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The referral: the protobuf JSON mapping of SubmitReferralRequest (see examples/referral.json).
    #[arg(long)]
    pub file: PathBuf,
    #[command(flatten)]
    pub connect: Connect,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The referral's id, "ref_…" (as `submit` printed it).
    pub referral_id: ReferralId,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub connect: Connect,
}

pub async fn submit(args: SubmitArgs, globals: &Globals) -> anyhow::Result<()> {
    let target = args.connect.target(&globals.client_data_dir())?;
    let file = &args.file;
    let json = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let request: intake::SubmitReferralRequest = wf_proto::json::from_json(&json)
        .with_context(|| format!("{} is not a valid SubmitReferralRequest", file.display()))?;
    let mut client = target.intake(Role::Hotline).await?;
    let response = client.submit_referral(request).await.map_err(status_error)?.into_inner();
    if response.duplicate {
        eprintln!("already submitted: answering with the existing referral");
    }
    println!("{}", response.referral_id);
    Ok(())
}

#[derive(Debug, serde::Serialize)]
struct Stage {
    stage: &'static str,
    at: Option<String>,
    detail: String,
}

pub async fn status(args: StatusArgs, globals: &Globals) -> anyhow::Result<()> {
    let target = args.connect.target(&globals.client_data_dir())?;
    show_status(&target, args.referral_id.as_str(), args.json).await
}

async fn show_status(target: &Target, referral_id: &str, json: bool) -> anyhow::Result<()> {
    let mut intake_client =
        intake::intake_service_client::IntakeServiceClient::new(target.authed(Role::ProgramManager).await?);
    let referral = intake_client
        .get_referral(intake::GetReferralRequest { referral_id: referral_id.to_owned(), purpose: String::new() })
        .await
        .map_err(status_error)?
        .into_inner();
    let change_at = |status: intake::ReferralStatus| {
        referral.history.iter().find(|c| c.status == status as i32).map(|c| (rfc3339(c.at.as_ref()), c.detail.clone()))
    };
    let mut stages = Vec::new();
    for (stage, status) in [
        ("received", intake::ReferralStatus::Received),
        ("routed", intake::ReferralStatus::Routed),
        ("assigned", intake::ReferralStatus::Assigned),
    ] {
        let (at, detail) = change_at(status).unwrap_or((None, String::new()));
        stages.push(Stage { stage, at, detail });
    }

    let mut audit_client = target.audit(Role::Auditor).await?;
    let audited = audit_client
        .list_entries(audit::ListEntriesRequest {
            correlation_id: referral_id.to_owned(),
            omit_payload: true,
            page_size: 1000,
            ..Default::default()
        })
        .await;
    let audited_stage = match audited {
        Ok(response) => {
            let entries = response.into_inner().entries;
            let types: Vec<&str> = entries.iter().map(|e| e.r#type.as_str()).collect();
            let complete = ["referral.received", "referral.routed", "case.assigned"].iter().all(|t| types.contains(t));
            let latest = entries.iter().filter_map(|e| e.recorded_at.as_ref()).max_by_key(|ts| (ts.seconds, ts.nanos));
            Stage {
                stage: "audited",
                at: if complete { rfc3339(latest) } else { None },
                detail: format!("{} events in the audit log", entries.len()),
            }
        }
        Err(err) => Stage { stage: "audited", at: None, detail: format!("audit log not readable: {}", err.message()) },
    };
    stages.push(audited_stage);

    let status_name = intake::ReferralStatus::try_from(referral.status)
        .map(|s| s.as_str_name().trim_start_matches("REFERRAL_STATUS_").to_lowercase())
        .unwrap_or_else(|_| "unknown".into());
    if json {
        let value = serde_json::json!({
            "referral_id": referral.referral_id,
            "status": status_name,
            "case_id": referral.case_id,
            "stages": stages,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("referral {}  status: {status_name}", referral.referral_id);
        for stage in &stages {
            println!("  {:<9} {:<26} {}", stage.stage, stage.at.as_deref().unwrap_or("pending"), stage.detail);
        }
    }
    Ok(())
}
