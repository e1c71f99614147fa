//! A referral from the command line: `submit` one from a JSON file, and follow its `status`
//! through intake, routing, cases and the audit log, told in words ([`story`]).

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use wf_auth::Role;
use wf_client::Target;
use wf_proto::audit::v1 as audit;
use wf_proto::cases::v1 as cases;
use wf_proto::intake::v1 as intake;
use wf_proto::routing::v1 as routing;
use wf_types::ReferralId;

use self::story::{AuditCount, Facts, Names, Story};
use super::{Connect, Globals, status_error};

pub mod story;

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
    /// Print JSON (the same facts, with their ids) instead of text.
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

pub async fn status(args: StatusArgs, globals: &Globals) -> anyhow::Result<()> {
    let target = args.connect.target(&globals.client_data_dir())?;
    let facts = gather(&target, args.referral_id.as_str()).await?;
    let story = Story::tell(&facts);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&story::json(&facts, &story))?);
    } else {
        print!("{}", story.text());
    }
    Ok(())
}

/// The purpose recorded with the case read `status` makes (it is audited like every case read).
const CASE_READ_PURPOSE: &str = "supervision";

/// Asks every service what it holds about the referral. Only intake's answer is required; what
/// another service cannot answer is told as "not readable" with its reason.
async fn gather(target: &Target, referral_id: &str) -> anyhow::Result<Facts> {
    let mut intake_client = target.intake(Role::ProgramManager).await?;
    let referral = intake_client
        .get_referral(intake::GetReferralRequest { referral_id: referral_id.to_owned(), purpose: String::new() })
        .await
        .map_err(|status| match status.code() {
            tonic::Code::NotFound => anyhow::anyhow!("no referral {referral_id} is known to intake"),
            _ => status_error(status),
        })?
        .into_inner();
    let routing = read_routing(target, referral_id).await;
    let case = read_case(target, referral_id).await;
    let mut names = Names { staff: read_roster(target).await.unwrap_or_default(), ..Names::default() };
    let mut organizations: BTreeSet<String> = BTreeSet::new();
    let mut services: BTreeSet<String> = BTreeSet::new();
    if let Some(coded) = &referral.referral
        && !coded.referring_organization_id.is_empty()
    {
        organizations.insert(coded.referring_organization_id.clone());
    }
    for change in &referral.history {
        let ids = story::detail_ids(&change.detail);
        organizations.extend(ids.partner);
        services.extend(ids.service);
    }
    if let Ok(routing) = &routing {
        for (partner, service) in routing
            .decisions
            .iter()
            .map(|d| (&d.partner_id, &d.partner_service_id))
            .chain(routing.offers.iter().map(|o| (&o.partner_id, &o.partner_service_id)))
        {
            organizations.insert(partner.clone());
            services.insert(service.clone());
        }
    }
    if let Ok(mut directory) = target.routing(Role::ProgramManager).await {
        for id in organizations.into_iter().filter(|id| !id.is_empty()) {
            let request = routing::GetOrganizationRequest { organization_id: id.clone() };
            if let Ok(response) = directory.get_organization(request).await
                && let Some(organization) = response.into_inner().organization
            {
                names.organizations.insert(id, organization.name);
            }
        }
        for id in services.into_iter().filter(|id| !id.is_empty()) {
            let request = routing::GetPartnerServiceRequest { partner_service_id: id.clone() };
            if let Ok(response) = directory.get_partner_service(request).await
                && let Some(service) = response.into_inner().partner_service
            {
                names.services.insert(id, service.name);
            }
        }
    }
    let audit = read_audit(target, referral_id).await;
    Ok(Facts { referral, routing, case, names, audit })
}

fn unreadable(err: &anyhow::Error) -> String {
    format!("{err:#}")
}

async fn read_routing(target: &Target, referral_id: &str) -> Result<story::Routing, String> {
    let read = async {
        let mut client = target.routing(Role::ProgramManager).await?;
        let mut found = story::Routing::default();
        let mut page_token = String::new();
        loop {
            let request = routing::ListDecisionsRequest {
                referral_id: referral_id.to_owned(),
                page_size: 100,
                page_token,
                ..Default::default()
            };
            let page = client.list_decisions(request).await.map_err(status_error)?.into_inner();
            found.decisions.extend(page.decisions);
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
        let mut page_token = String::new();
        loop {
            let request = routing::ListOffersRequest {
                referral_id: referral_id.to_owned(),
                include_practice: true,
                page_size: 100,
                page_token,
                ..Default::default()
            };
            let page = client.list_offers(request).await.map_err(status_error)?.into_inner();
            found.offers.extend(page.offers);
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
        Ok::<_, anyhow::Error>(found)
    };
    read.await.map_err(|err| unreadable(&err))
}

async fn read_case(target: &Target, referral_id: &str) -> Result<Option<cases::Case>, String> {
    let read = async {
        let mut client = target.cases(Role::Supervisor).await?;
        let request = cases::ListCasesRequest {
            referral_id: referral_id.to_owned(),
            include_practice: true,
            purpose: CASE_READ_PURPOSE.to_owned(),
            page_size: 10,
            ..Default::default()
        };
        let page = client.list_cases(request).await.map_err(status_error)?.into_inner();
        Ok::<_, anyhow::Error>(page.cases.into_iter().next())
    };
    read.await.map_err(|err| unreadable(&err))
}

/// Every roster entry (case managers and supervisors, retired ones too: a closed case names one).
async fn read_roster(target: &Target) -> anyhow::Result<HashMap<String, story::Staff>> {
    let mut client = target.cases(Role::ProgramManager).await?;
    let mut staff = HashMap::new();
    let mut page_token = String::new();
    loop {
        let request = cases::ListCaseManagersRequest {
            include_inactive: true,
            include_supervisors: true,
            page_size: 500,
            page_token,
            ..Default::default()
        };
        let page = client.list_case_managers(request).await.map_err(status_error)?.into_inner();
        for entry in page.case_managers {
            let sites = entry.sites().collect();
            staff.insert(
                entry.case_manager_id,
                story::Staff {
                    name: entry.display_name,
                    code: entry.display_code,
                    supervisor: entry.supervisor,
                    sites,
                },
            );
        }
        if page.next_page_token.is_empty() {
            return Ok(staff);
        }
        page_token = page.next_page_token;
    }
}

async fn read_audit(target: &Target, referral_id: &str) -> Result<AuditCount, String> {
    let read = async {
        let mut client = target.audit(Role::Auditor).await?;
        let mut count = AuditCount::default();
        let mut page_token = String::new();
        loop {
            let request = audit::ListEntriesRequest {
                correlation_id: referral_id.to_owned(),
                omit_payload: true,
                page_size: 1000,
                page_token,
                ..Default::default()
            };
            let page = client.list_entries(request).await.map_err(status_error)?.into_inner();
            count.entries += page.entries.len();
            let latest = page
                .entries
                .iter()
                .filter_map(|e| e.recorded_at.as_ref())
                .filter_map(|ts| chrono::DateTime::from_timestamp(ts.seconds, u32::try_from(ts.nanos).unwrap_or(0)))
                .max();
            count.latest = count.latest.max(latest);
            if page.next_page_token.is_empty() {
                return Ok::<_, anyhow::Error>(count);
            }
            page_token = page.next_page_token;
        }
    };
    read.await.map_err(|err| unreadable(&err))
}
