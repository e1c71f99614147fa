//! `wayfinder keys …`: the field-encryption keys that seal intake's personal details, cases' note
//! text and the web application's authentication-app (TOTP) secrets. `rotate` adds a key version
//! and re-encrypts every sealed value, note and secret to it; `retire` removes an old version once
//! nothing in any of the three databases uses it. They work on the intake, cases and gateway
//! databases directly (embedded data folder, `--database-url` or `DATABASE_URL`) and on the
//! key-ring file (development ring or `field_key_file`). The services may keep running: they
//! re-read the key file whenever the file changes. A system whose web application never ran has no
//! gateway database; then there are no secrets of its to re-encrypt, and the commands say so.

use clap::Subcommand;
use wf_cases::app::sealing;
use wf_config::Config;
use wf_db::Db;
use wf_intake::vault;

use super::{DbArgs, Globals};

#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// Add a new field key version, make it current, and re-encrypt every sealed value, case note and
    /// sign-in's authentication-app secret to it (in transactional batches, with progress; safe to
    /// interrupt and run again). The services may keep running: they notice the changed key file and
    /// seal new values with the new version.
    Rotate {
        /// Values re-encrypted per transaction (1 to 10000).
        #[arg(long, default_value_t = 500)]
        batch: i64,
        /// The web application's own key ring only (see `--gateway` of `status`).
        #[arg(long)]
        gateway: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Remove key version N from the key file; refused while any stored value is still sealed with it,
    /// and for the current version.
    Retire {
        /// The key version to remove.
        #[arg(long)]
        version: u32,
        /// The web application's own key ring only (see `--gateway` of `status`).
        #[arg(long)]
        gateway: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Show each key version and how many stored values it seals.
    Status {
        /// The web application's own key ring only: its database and the key file of this
        /// configuration. Where the web application has a key of its own (the distributed shape:
        /// `deploy/` gives it `gateway_field_key`), run the key commands with `--gateway` and the
        /// gateway's configuration; without it they cover intake and cases, and the web application
        /// too only on an embedded data folder (one key ring for all).
        #[arg(long)]
        gateway: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

impl KeysAction {
    /// Where the databases are.
    pub(super) fn db(&self) -> &DbArgs {
        match self {
            Self::Rotate { db, .. } | Self::Retire { db, .. } | Self::Status { db, .. } => db,
        }
    }
}

pub async fn run(action: KeysAction, globals: &Globals) -> anyhow::Result<()> {
    let config = globals.config_with(action.db())?;
    let gateway_only = matches!(
        action,
        KeysAction::Rotate { gateway: true, .. }
            | KeysAction::Retire { gateway: true, .. }
            | KeysAction::Status { gateway: true, .. }
    );
    if gateway_only {
        crate::system::require_service_db(&config, wf_gateway::SERVICE)?;
        let gateway = Db::connect(&config.database_url_for(wf_gateway::SERVICE)).await?;
        let result = gateway_keys(action, &config, &gateway).await;
        gateway.close().await;
        return result;
    }
    crate::system::require_service_db(&config, wf_intake::SERVICE)?;
    crate::system::require_service_db(&config, wf_cases::SERVICE)?;
    let db = Db::connect(&config.database_url_for(wf_intake::SERVICE)).await?;
    // Case notes are sealed under the same key ring: every action covers both databases. So are
    // the web application's secrets on an embedded data folder (one configuration, one ring).
    let cases = Db::connect(&config.database_url_for(wf_cases::SERVICE)).await?;
    let gateway = if config.database_url.is_some() {
        println!(
            "the web application's sign-in secrets are not covered here: run `wayfinder keys … --gateway` with the \
             gateway's configuration (its own key file)"
        );
        None
    } else if crate::system::require_service_db(&config, wf_gateway::SERVICE).is_ok() {
        Some(Db::connect(&config.database_url_for(wf_gateway::SERVICE)).await?)
    } else {
        println!("no gateway database here: the web application holds no secrets to cover");
        None
    };
    let result = match action {
        KeysAction::Rotate { batch, .. } => rotate(&config, &db, &cases, gateway.as_ref(), batch).await,
        KeysAction::Retire { version, .. } => retire(&config, &db, &cases, gateway.as_ref(), version).await,
        KeysAction::Status { .. } => status(&config, &db, &cases, gateway.as_ref()).await,
    };
    db.close().await;
    cases.close().await;
    if let Some(gateway) = gateway {
        gateway.close().await;
    }
    result
}

/// `--gateway`: the web application's key ring and its sign-ins' authentication-app secrets alone.
async fn gateway_keys(action: KeysAction, config: &Config, gateway: &Db) -> anyhow::Result<()> {
    let path = vault::key_file(config);
    match action {
        KeysAction::Rotate { .. } => {
            if config.field_key_file.is_none() {
                wf_crypto::KeyRing::load_or_create_dev(&config.keys_dir())?;
            }
            let ring = wf_crypto::KeyRing::rotate_file(&path)
                .map_err(|err| anyhow::anyhow!("rotating {}: {err}", path.display()))?;
            let secrets = accounts(config, gateway)?.reseal_totp_secrets().await?;
            println!(
                "key version {} is current; {secrets} sign-in(s)' authentication-app secrets re-encrypted to it",
                ring.current_version()
            );
        }
        KeysAction::Retire { version, .. } => {
            let count = accounts(config, gateway)?.sealed_with_version(version).await?;
            if count > 0 {
                anyhow::bail!(
                    "key version {version} still seals {count} sign-in authentication-app secret(s); run `wayfinder \
                     keys rotate --gateway` (or let it finish), then retire again"
                );
            }
            let ring = wf_crypto::KeyRing::retire_from_file(&path, version)
                .map_err(|err| anyhow::anyhow!("retiring key version {version}: {err}"))?;
            let left: Vec<String> = ring.versions().map(|v| v.to_string()).collect();
            println!("retired key version {version}; versions left: {}", left.join(", "));
        }
        KeysAction::Status { .. } => {
            let ring = vault::load_keys(config)?;
            let accounts = accounts(config, gateway)?;
            println!("key file: {}", path.display());
            for version in ring.versions() {
                let count = accounts.sealed_with_version(version).await?;
                let current = if version == ring.current_version() { " (current)" } else { "" };
                println!("version {version}{current}: {count} sign-in authentication-app secret(s)");
            }
        }
    }
    Ok(())
}

/// The gateway's sign-ins, opened with the key file as it is now.
fn accounts(config: &Config, gateway: &Db) -> anyhow::Result<wf_gateway::Accounts> {
    wf_gateway::Accounts::from_config(gateway.clone(), wf_types::SystemClock::shared(), config)
}

async fn rotate(config: &Config, db: &Db, cases: &Db, gateway: Option<&Db>, batch: i64) -> anyhow::Result<()> {
    if !(1..=10_000).contains(&batch) {
        anyhow::bail!("--batch {batch} is out of range; allowed 1 to 10000");
    }
    let (version, resealed) = vault::rotate(config, db, batch, |progress| {
        println!("re-encrypted {} value(s), {} to go", progress.resealed, progress.remaining);
    })
    .await?;
    println!("key version {version} is current; {resealed} value(s) re-encrypted to it");
    let ring = vault::load_keys(config)?;
    let notes = sealing::reseal_all(cases, &ring, batch, |done, remaining| {
        println!("re-encrypted {done} case note(s), {remaining} to go");
    })
    .await?;
    println!("{notes} case note(s) re-encrypted to key version {version}");
    if let Some(gateway) = gateway {
        let secrets = accounts(config, gateway)?.reseal_totp_secrets().await?;
        println!("{secrets} sign-in(s)' authentication-app secrets re-encrypted to key version {version}");
    }
    println!(
        "running intake, cases and gateway services pick up key version {version} from the key file; then retire \
         old versions"
    );
    Ok(())
}

async fn retire(config: &Config, db: &Db, cases: &Db, gateway: Option<&Db>, version: u32) -> anyhow::Result<()> {
    if let Some((_, count)) = sealing::key_usage(cases).await?.into_iter().find(|(v, n)| *v == version as i32 && *n > 0)
    {
        anyhow::bail!(
            "key version {version} still seals {count} case note(s); run `wayfinder keys rotate` \
             (or let it finish) to re-encrypt them to the current key, then retire again"
        );
    }
    if let Some(gateway) = gateway {
        let count = accounts(config, gateway)?.sealed_with_version(version).await?;
        if count > 0 {
            anyhow::bail!(
                "key version {version} still seals {count} sign-in authentication-app secret(s); run `wayfinder \
                 keys rotate` (or let it finish) to re-encrypt them to the current key, then retire again"
            );
        }
    }
    let ring = vault::retire(config, db, version).await?;
    let left: Vec<String> = ring.versions().map(|v| v.to_string()).collect();
    println!("retired key version {version}; versions left: {}", left.join(", "));
    Ok(())
}

async fn status(config: &Config, db: &Db, cases: &Db, gateway: Option<&Db>) -> anyhow::Result<()> {
    let ring = vault::load_keys(config)?;
    println!("key file: {}", vault::key_file(config).display());
    let mut usages =
        vec![("intake value(s)", vault::key_usage(db).await?), ("case note(s)", sealing::key_usage(cases).await?)];
    if let Some(gateway) = gateway {
        let accounts = accounts(config, gateway)?;
        let mut secrets = Vec::new();
        for version in ring.versions() {
            secrets.push((version as i32, accounts.sealed_with_version(version).await? as i64));
        }
        usages.push(("sign-in authentication-app secret(s)", secrets));
    }
    for (what, usage) in usages {
        for version in ring.versions() {
            let count = usage.iter().find(|(v, _)| *v == version as i32).map_or(0, |(_, count)| *count);
            let current = if version == ring.current_version() { " (current)" } else { "" };
            println!("version {version}{current}: {count} {what}");
        }
        for (version, count) in usage.iter().filter(|(v, _)| !ring.versions().any(|known| known as i32 == *v)) {
            println!("version {version} (NOT IN THE KEY FILE): {count} {what} cannot be opened");
        }
    }
    Ok(())
}
