//! `wayfinder accounts …`: the web application's local sign-ins (embedded mode and small sites;
//! production signs in through OpenID Connect). Works on the gateway's database directly (embedded
//! data folder, `--database-url` or `DATABASE_URL`); the system may keep running: a disabled
//! account's sessions end at once.

use std::io::Read;

use clap::Subcommand;
use wf_auth::Role;
use wf_db::Db;
use wf_types::PartnerId;
use zeroize::Zeroizing;

use super::{DbArgs, Globals};

#[derive(Debug, Subcommand)]
pub enum AccountsAction {
    /// Create a local sign-in. The passphrase is read from standard input with --password-stdin,
    /// else generated and printed once.
    Add {
        /// Sign-in name (letters, digits, `.`, `-`, `_`).
        #[arg(long)]
        username: String,
        /// The person's role: hotline, partner, case_manager, supervisor, program_manager, evaluator,
        /// auditor or admin.
        #[arg(long, value_parser = super::serve::person_role())]
        role: Role,
        /// The partner organization ("org_…"); required for role partner.
        #[arg(long)]
        partner: Option<PartnerId>,
        /// The id the services know the person by (the roster's `user_id` for staff in the roster);
        /// default: the new account's id.
        #[arg(long)]
        user_id: Option<String>,
        /// Read the passphrase from standard input (at least 15 characters, not a common one).
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Disable a sign-in: every session it holds ends at once.
    Disable {
        /// The sign-in name.
        #[arg(long)]
        username: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Enable a disabled sign-in again.
    Enable {
        /// The sign-in name.
        #[arg(long)]
        username: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Set a new passphrase (standard input with --password-stdin, else generated and printed);
    /// the account's sessions end.
    Reset {
        /// The sign-in name.
        #[arg(long)]
        username: String,
        /// Read the new passphrase from standard input (at least 15 characters, not a common one).
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Link a sign-in to the person's identity at the OpenID Connect provider: they then sign in
    /// there (the "Sign in with …" button) as this account. One provider subject per account, one
    /// account per subject.
    Link {
        /// The sign-in name.
        #[arg(long)]
        username: String,
        /// The provider's subject identifier for the person (the ID token's `sub`).
        #[arg(long)]
        subject: String,
        /// The provider's issuer; default: `[gateway.oidc] issuer` of the configuration.
        #[arg(long)]
        issuer: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Remove a sign-in's OpenID Connect link: it can no longer sign in through the provider, and
    /// every session it holds ends at once.
    Unlink {
        /// The sign-in name.
        #[arg(long)]
        username: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List the sign-ins: name, role, organization, second factor, provider link, state.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
}

impl AccountsAction {
    fn db(&self) -> &DbArgs {
        match self {
            Self::Add { db, .. }
            | Self::Disable { db, .. }
            | Self::Enable { db, .. }
            | Self::Reset { db, .. }
            | Self::Link { db, .. }
            | Self::Unlink { db, .. }
            | Self::List { db } => db,
        }
    }
}

/// The passphrase from standard input (one line, its line ending removed), or a generated one.
fn passphrase(from_stdin: bool) -> anyhow::Result<(Zeroizing<String>, bool)> {
    if !from_stdin {
        return Ok((Zeroizing::new(crate::demo::passphrase()), true));
    }
    let mut text = Zeroizing::new(String::new());
    std::io::stdin().read_to_string(&mut text)?;
    let line = Zeroizing::new(text.trim_end_matches(['\r', '\n']).to_owned());
    if line.is_empty() {
        anyhow::bail!("--password-stdin: standard input held no passphrase");
    }
    Ok((line, false))
}

pub async fn run(action: AccountsAction, globals: &Globals) -> anyhow::Result<()> {
    let config = globals.config_with(action.db())?;
    crate::system::require_service_db(&config, wf_gateway::SERVICE)?;
    let db = Db::connect(&config.database_url_for(wf_gateway::SERVICE)).await?;
    let accounts = wf_gateway::Accounts::from_config(db.clone(), wf_types::SystemClock::shared(), &config)?;
    let result = match action {
        AccountsAction::Add { username, role, partner, user_id, password_stdin, .. } => {
            let (password, generated) = passphrase(password_stdin)?;
            let new =
                wf_gateway::NewAccount { username, role, partner_id: partner, user_id, password: password.clone() };
            let added = accounts.add(new).await?;
            println!("added {} ({}), user id {}", added.username, added.role.as_str(), added.user_id);
            if generated {
                println!("passphrase (shown once): {}", password.as_str());
            }
            Ok(())
        }
        AccountsAction::Disable { username, .. } => {
            let ended = accounts.disable(&username).await?;
            println!("disabled {username}; {ended} session(s) ended");
            Ok(())
        }
        AccountsAction::Enable { username, .. } => {
            accounts.enable(&username).await?;
            println!("enabled {username}");
            Ok(())
        }
        AccountsAction::Reset { username, password_stdin, .. } => {
            let (password, generated) = passphrase(password_stdin)?;
            let ended = accounts.reset_password(&username, &password).await?;
            println!("passphrase of {username} reset; {ended} session(s) ended");
            if generated {
                println!("passphrase (shown once): {}", password.as_str());
            }
            Ok(())
        }
        AccountsAction::Link { username, subject, issuer, .. } => {
            let configured = config.gateway.oidc.as_ref().map(|oidc| oidc.issuer.clone());
            let Some(issuer) = issuer.or(configured).filter(|issuer| !issuer.trim().is_empty()) else {
                anyhow::bail!(
                    "--issuer: no OpenID Connect provider is configured ([gateway.oidc] issuer); name the \
                     provider's issuer with --issuer"
                );
            };
            accounts.link_oidc(&username, issuer.trim(), &subject).await?;
            println!("linked {username} to its identity at {}", issuer.trim());
            Ok(())
        }
        AccountsAction::Unlink { username, .. } => {
            let ended = accounts.unlink_oidc(&username).await?;
            println!("unlinked {username} from its OpenID Connect identity; {ended} session(s) ended");
            Ok(())
        }
        AccountsAction::List { .. } => {
            for account in accounts.list().await? {
                let organization = account.partner_id.as_ref().map(PartnerId::as_str).unwrap_or("-");
                let state = if account.disabled { "disabled" } else { "active" };
                let factor = if account.totp { "app" } else { "-" };
                let linked = if accounts.oidc_link(&account.username).await?.is_some() { "linked" } else { "-" };
                println!(
                    "{:<24} {:<16} {organization:<38} 2fa {factor:<3} oidc {linked:<6} {state}",
                    account.username,
                    account.role.as_str()
                );
            }
            Ok(())
        }
    };
    db.close().await;
    result
}
