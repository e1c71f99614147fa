//! `wayfinder audit …`: the audit log from the command line. `verify` reads the audit database
//! directly (embedded data folder, `--database-url` or `DATABASE_URL`), or asks a running system with `--server`;
//! `export` and `disclosure` ask a running system; `verify-export` needs only a file and a key.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use wf_audit::domain::checkpoint::CheckpointVerifier;
use wf_audit::export::{EXPORT_FORMAT, ExportEntry, ExportFile, verify_export};
use wf_audit::{CheckpointJson, CheckpointPolicy, VerifyOptions, keys, read_checkpoint_file};
use wf_auth::Role;
use wf_client::Target;
use wf_config::Config;
use wf_proto::audit::v1 as pb;
use wf_proto::common::v1::ReportFormat;
use wf_types::{ReferralId, YouthId};

use super::{Connect, DbArgs, Globals, status_error};
use crate::system;

#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Check the hash chain and every signed checkpoint (signature, head hash, Merkle root);
    /// names the first entry modified, deleted, inserted or reordered. Exits non-zero on a problem.
    /// Reads the audit database directly, or with --server asks that running system to verify
    /// (with its own key and copies; only --from applies).
    Verify {
        /// First sequence to check (default: from the start).
        #[arg(long, default_value_t = 1)]
        from: u64,
        /// Checkpoint public key (PEM). Default: the configured or development signing key.
        #[arg(long)]
        public_key: Option<PathBuf>,
        /// Checkpoint copies kept outside the database (default: <data-dir>/audit-checkpoints.jsonl
        /// when present).
        #[arg(long)]
        checkpoints: Option<PathBuf>,
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        connect: Connect,
    },
    /// Export entries FROM..=TO (extended to the first signed checkpoint covering TO) as a
    /// self-contained JSON file that `verify-export` checks offline.
    Export {
        /// First entry.
        #[arg(long, default_value_t = 1)]
        from: u64,
        /// Last entry (default: the latest checkpoint).
        #[arg(long, default_value_t = 0)]
        to: u64,
        /// The export file to write (JSON).
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        connect: Connect,
    },
    /// Verify an export file offline with the audit public key alone.
    VerifyExport {
        /// The export file (written by `audit export`).
        file: PathBuf,
        /// The audit checkpoint public key (PEM), obtained independently of the file.
        #[arg(long)]
        public_key: PathBuf,
    },
    /// Who read or received a youth's or referral's data: a disclosure report (CSV or HTML).
    Disclosure {
        /// Youth id ("yth_…").
        #[arg(long, conflicts_with = "referral", required_unless_present = "referral")]
        youth: Option<YouthId>,
        /// Referral id ("ref_…").
        #[arg(long)]
        referral: Option<ReferralId>,
        /// The report's format.
        #[arg(long, value_enum, default_value_t = DisclosureFormat::Html)]
        format: DisclosureFormat,
        /// Purpose code of this report (it is logged).
        #[arg(long)]
        purpose: String,
        /// The report file to write.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        connect: Connect,
    },
}

/// What a disclosure report is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DisclosureFormat {
    /// One row per disclosure, for a spreadsheet.
    Csv,
    /// A page to read or print.
    Html,
}

impl DisclosureFormat {
    fn report_format(self) -> ReportFormat {
        match self {
            Self::Csv => ReportFormat::Csv,
            Self::Html => ReportFormat::Html,
        }
    }
}

pub async fn run(action: AuditAction, globals: &Globals) -> anyhow::Result<()> {
    match action {
        AuditAction::Verify { from, public_key, checkpoints, db, connect } => {
            let config = globals.config_with(&db)?;
            if connect.server.is_some() {
                return verify_remote(&connect.target(&config.data_dir)?, from).await;
            }
            verify_local(&config, from, public_key.as_deref(), checkpoints).await
        }
        AuditAction::Export { from, to, out, connect } => {
            let config = globals.config()?;
            export(&connect.target(&config.data_dir)?, &config, from, to, &out).await
        }
        AuditAction::VerifyExport { file, public_key } => verify_export_file(&file, &public_key),
        AuditAction::Disclosure { youth, referral, format, purpose, out, connect } => {
            use pb::disclosure_report_request::Subject;
            let subject = match (youth, referral) {
                (Some(youth), _) => Subject::YouthId(youth.to_string()),
                (None, Some(referral)) => Subject::ReferralId(referral.to_string()),
                (None, None) => anyhow::bail!("give --youth or --referral"),
            };
            let target = connect.target(&globals.config()?.data_dir)?;
            let mut client = target.audit(Role::Auditor).await?;
            // A subject the log has never heard of gets no report (and no logged export of nothing).
            let (named, probe) = match &subject {
                Subject::YouthId(id) => {
                    (format!("youth {id}"), pb::ListEntriesRequest { youth_id: id.clone(), ..probe() })
                }
                Subject::ReferralId(id) => {
                    (format!("referral {id}"), pb::ListEntriesRequest { correlation_id: id.clone(), ..probe() })
                }
            };
            let known = client.list_entries(probe).await.map_err(status_error)?.into_inner();
            if known.entries.is_empty() {
                anyhow::bail!(
                    "no {named} is known: the audit log holds nothing about it (check the id); no report written"
                );
            }
            let format = format.report_format() as i32;
            let request = pb::DisclosureReportRequest { subject: Some(subject), format, occurred: None, purpose };
            let report = client.disclosure_report(request).await.map_err(status_error)?.into_inner();
            std::fs::write(&out, &report.content).with_context(|| format!("writing {}", out.display()))?;
            if report.entry_count == 0 {
                println!(
                    "no reads or exports of the {named}'s data are recorded; the report saying so is written to {} ({})",
                    out.display(),
                    report.content_type
                );
            } else {
                println!("{} disclosures written to {} ({})", report.entry_count, out.display(), report.content_type);
            }
            Ok(())
        }
    }
}

/// One entry of any kind, without its payload: enough to tell whether a subject is in the log.
fn probe() -> pb::ListEntriesRequest {
    pb::ListEntriesRequest { page_size: 1, omit_payload: true, ..Default::default() }
}

async fn export(target: &Target, config: &Config, from: u64, to: u64, out: &Path) -> anyhow::Result<()> {
    let mut client = target.audit(Role::Auditor).await?;
    let mut entries = Vec::new();
    let mut page_token = String::new();
    let checkpoint = loop {
        let request = pb::ExportRangeRequest { from_sequence: from, to_sequence: to, page_size: 0, page_token };
        let page = client.export_range(request).await.map_err(status_error)?.into_inner();
        entries.extend(page.entries.into_iter().map(wf_audit::api::entry_from_proto));
        if page.next_page_token.is_empty() {
            break page.checkpoint.context("the server sent no checkpoint")?;
        }
        page_token = page.next_page_token;
    };
    let checkpoint =
        wf_audit::api::checkpoint_from_proto(&checkpoint).context("the server sent a damaged checkpoint")?;
    let public_key_pem = match verifying_key(config, None)? {
        Some(key) if key.key_id() == checkpoint.key_id => Some(keys::public_key_pem(&key)?),
        _ => None,
    };
    let file = ExportFile {
        format: EXPORT_FORMAT.to_owned(),
        from_sequence: from.max(1),
        to_sequence: if to == 0 { checkpoint.tree_size } else { to },
        public_key_pem,
        checkpoint: CheckpointJson::from_checkpoint(&checkpoint),
        entries: entries.iter().map(ExportEntry::from_entry).collect(),
    };
    let json = serde_json::to_string_pretty(&file)?;
    std::fs::write(out, json).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "exported entries {}..={} (signed checkpoint {}) to {}",
        file.from_sequence,
        checkpoint.tree_size,
        checkpoint.tree_size,
        out.display()
    );
    Ok(())
}

fn verify_export_file(file: &Path, public_key: &Path) -> anyhow::Result<()> {
    let key = keys::verifier_from_pem_file(public_key)?;
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let export: ExportFile =
        serde_json::from_str(&text).with_context(|| format!("{} is not an audit export", file.display()))?;
    match verify_export(&export, &key) {
        Ok(report) => {
            println!(
                "export verified: {} entries {}..={} under checkpoint {} signed by {}",
                report.entries,
                report.from_sequence,
                report.checkpoint_tree_size,
                report.checkpoint_tree_size,
                key.key_id()
            );
            Ok(())
        }
        Err(problem) => anyhow::bail!("export does NOT verify: {problem}"),
    }
}

async fn verify_remote(target: &Target, from: u64) -> anyhow::Result<()> {
    let mut client = target.audit(Role::Auditor).await?;
    let report = client
        .verify_chain(pb::VerifyChainRequest { from_sequence: from, to_sequence: 0 })
        .await
        .map_err(status_error)?
        .into_inner();
    if report.ok && report.entries_verified == 0 && from > 1 {
        anyhow::bail!("{}", beyond_the_log(from, None));
    }
    if report.ok {
        println!(
            "audit log verified: {} entries through {}, {} checkpoints",
            report.entries_verified, report.verified_through, report.checkpoints_verified
        );
        Ok(())
    } else {
        anyhow::bail!(
            "audit log does NOT verify: {} at sequence {} (verified through {})",
            report.problem,
            report.first_bad_sequence,
            report.verified_through
        )
    }
}

/// Why `--from` cannot be verified: the log ends before it (`end`: its last sequence, when known).
fn beyond_the_log(from: u64, end: Option<u64>) -> String {
    match end {
        Some(0) => format!("--from {from} is beyond the end of the audit log: the log is empty"),
        Some(end) => format!(
            "--from {from} is beyond the end of the audit log, which holds entries 1 to {end}; allowed --from 1 to {end}"
        ),
        None => format!(
            "--from {from} is beyond the end of the audit log: no entry at or after it; allowed from 1 to the last entry"
        ),
    }
}

/// The key that verifies checkpoint signatures, never creating one.
fn verifying_key(config: &Config, public_key: Option<&Path>) -> anyhow::Result<Option<CheckpointVerifier>> {
    if let Some(path) = public_key {
        return keys::verifier_from_pem_file(path).map(Some);
    }
    if let Some(path) = &config.audit_signing_key_file {
        return keys::verifier_from_pem_file(path).map(Some);
    }
    let dev = config.keys_dir().join(keys::DEV_PUBLIC_KEY_FILE);
    if dev.exists() { keys::verifier_from_pem_file(&dev).map(Some) } else { Ok(None) }
}

async fn verify_local(
    config: &Config,
    from: u64,
    public_key: Option<&Path>,
    checkpoints: Option<PathBuf>,
) -> anyhow::Result<()> {
    system::require_service_db(config, wf_audit::SERVICE)?;
    let key = verifying_key(config, public_key)?;
    if key.is_none() {
        eprintln!("warning: no checkpoint key found (--public-key): checkpoint signatures are not checked");
    }
    let file = checkpoints.or_else(|| {
        let default = config.data_dir.join(CheckpointPolicy::DEFAULT_FILE_NAME);
        default.exists().then_some(default)
    });
    let external = match &file {
        Some(path) => read_checkpoint_file(path)?,
        None => Vec::new(),
    };
    let db = system::open_existing_service_db(config, wf_audit::SERVICE).await.context("opening the audit database")?;
    let end = wf_audit::store::entries::tail(&db).await.map(|(head, stored)| head.last_sequence.max(stored));
    match end {
        Ok(end) if from > end.max(1) => {
            db.close().await;
            anyhow::bail!("{}", beyond_the_log(from, Some(end)));
        }
        _ => {}
    }
    let options = VerifyOptions { from, to: None, key, external };
    let report = wf_audit::verify_with(&db, &options).await.with_context(|| {
        format!(
            "reading the audit log in {} (is this the right --data-dir or DATABASE_URL, and is it migrated?)",
            config.data_dir.display()
        )
    })?;
    db.close().await;
    match &report.problem {
        None => {
            println!(
                "audit log verified: {} entries ({}..={}), {} checkpoints{}",
                report.entries_verified,
                report.from_sequence,
                report.verified_through,
                report.checkpoints_verified,
                file.map(|path| format!(", outside copies from {}", path.display())).unwrap_or_default()
            );
            Ok(())
        }
        Some(problem) => anyhow::bail!(
            "audit log does NOT verify: {problem} (entries {}..={} checked out)",
            report.from_sequence,
            report.verified_through
        ),
    }
}

#[cfg(test)]
mod tests {
    use wf_audit::domain::chain::EntryContent;

    use super::*;

    fn content(index: u32) -> EntryContent {
        EntryContent {
            event_id: format!("0190f5a2-7c1e-7000-8000-{index:012x}"),
            event_type: "record.accessed".to_owned(),
            schema_version: 1,
            aggregate_id: "ref_1".to_owned(),
            correlation_id: "ref_1".to_owned(),
            producer: "intake".to_owned(),
            actor: "usr_cm1".to_owned(),
            actor_role: "case_manager".to_owned(),
            purpose: "case_management".to_owned(),
            payload: vec![1, 2, 3],
            ..Default::default()
        }
    }

    /// `wayfinder audit verify` on an embedded data folder: a clean log passes with its
    /// checkpoint and file copy; a modified entry fails naming its sequence.
    #[tokio::test]
    async fn verify_names_the_modified_entry() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = Config::from_figment(Config::defaults_only(dir.path())).expect("config");
        let db = system::open_service_db(&config, wf_audit::SERVICE).await.expect("db");
        db.migrate(&wf_audit::migrations()).await.expect("migrate");
        for index in 1..=4 {
            wf_audit::append(&db, &wf_types::SystemClock, content(index)).await.expect("append");
        }
        let signer = std::sync::Arc::new(keys::signer_from_config(&config).expect("dev key"));
        let policy = CheckpointPolicy { every_entries: 2, ..CheckpointPolicy::for_data_dir(&config.data_dir) };
        let clock = wf_types::SystemClock::shared();
        wf_audit::Checkpointer::new(db.clone(), signer, policy, clock).tick().await.expect("checkpoints");
        verify_local(&config, 1, None, None).await.expect("a clean log verifies");

        wf_db::sqlx::query("DROP TRIGGER audit_entry_no_update").execute(db.pool()).await.expect("drop trigger");
        wf_db::sqlx::query("UPDATE audit_entry SET purpose = 'curiosity' WHERE sequence = 3")
            .execute(db.pool())
            .await
            .expect("tamper");
        db.close().await;
        let err = verify_local(&config, 1, None, None).await.expect_err("tampering is found");
        assert!(err.to_string().contains("modified at sequence 3"), "{err}");
    }
}
