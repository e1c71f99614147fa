//! Local accounts: what `wayfinder accounts …` and the account page do. Every change is one
//! transaction; disabling an account or resetting its password ends all its sessions in the same
//! transaction, so no request after it is served on them.
//!
//! TOTP secrets are sealed with the field key ring (AES-256-GCM, `wf_crypto`), with an AAD naming the
//! account and the column, so a database copy shows no secret and a sealed secret moved to another
//! account does not open. [`Accounts::reseal_totp_secrets`] re-seals them under the current key
//! version (for `wayfinder keys rotate`); [`Accounts::sealed_with_version`] counts those still on a
//! version (for `wayfinder keys retire`).

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use rand::RngCore as _;
use wf_auth::Role;
use wf_crypto::{KeyRing, LiveKeys};
use wf_db::{Db, DbError};
use wf_types::{AccountId, FieldViolation, PartnerId, SharedClock};
use zeroize::Zeroizing;

use super::blocking;
use crate::domain::account::{self, Account};
use crate::domain::throttle::{self, Scope};
use crate::domain::{password, totp};
use crate::store;

/// What the command line gives to create an account.
#[derive(Clone)]
pub struct NewAccount {
    pub username: String,
    pub role: Role,
    /// Required for role partner, refused otherwise.
    pub partner_id: Option<PartnerId>,
    /// The subject the services see (the roster's `user_id`). Absent: the account id.
    pub user_id: Option<String>,
    pub password: Zeroizing<String>,
}

impl std::fmt::Debug for NewAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccount")
            .field("role", &self.role)
            .field("partner_id", &self.partner_id)
            .finish_non_exhaustive()
    }
}

/// An account as the command line lists it (no hash, no secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountInfo {
    pub id: AccountId,
    pub username: String,
    pub role: Role,
    pub partner_id: Option<PartnerId>,
    pub user_id: String,
    pub totp: bool,
    pub disabled: bool,
    pub acknowledged: bool,
    pub created_at: DateTime<Utc>,
}

impl From<&Account> for AccountInfo {
    fn from(account: &Account) -> Self {
        AccountInfo {
            id: account.id.clone(),
            username: account.username.clone(),
            role: account.role,
            partner_id: account.partner_id.clone(),
            user_id: account.user_id.clone(),
            totp: account.has_totp(),
            disabled: account.is_disabled(),
            acknowledged: account.has_acknowledged(),
            created_at: wf_db::from_micros(account.created_at),
        }
    }
}

/// A TOTP enrolment waiting for its first code: what the person types or scans into their app.
#[derive(Clone)]
pub struct TotpEnrolment {
    /// Base32, no padding.
    pub secret_base32: Zeroizing<String>,
    pub otpauth_uri: Zeroizing<String>,
}

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnrolment([redacted])")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Each field that is wrong, with what is allowed.
    #[error("{}", describe(.0))]
    Invalid(Vec<FieldViolation>),
    #[error("no account has the username {0:?}")]
    UnknownAccount(String),
    #[error("username {0:?} is already taken")]
    UsernameTaken(String),
    #[error("user_id {0:?} already belongs to another account (one person, one account)")]
    UserIdTaken(String),
    #[error("code: does not match the authentication app's current code (check the app's clock), or was already used")]
    WrongCode,
    #[error("no authentication app enrolment is waiting: start one first")]
    NoPendingTotp,
    #[error(
        "the password is shorter than 15 characters and is allowed only with an authentication app: reset it to \
         at least 15 characters first"
    )]
    PasswordNeedsTotp,
    #[error("current_password: is not right")]
    WrongCurrentPassword,
    #[error("this account signs in elsewhere and has no password here")]
    NoLocalPassword,
    #[error("subject: that OpenID Connect subject is already linked to account {0:?} (one person, one account)")]
    SubjectTaken(String),
    #[error(transparent)]
    Storage(#[from] DbError),
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

impl From<sqlx::Error> for AccountError {
    fn from(err: sqlx::Error) -> Self {
        AccountError::Storage(err.into())
    }
}

fn describe(violations: &[FieldViolation]) -> String {
    violations.iter().map(|v| format!("{}: {}", v.field, v.description)).collect::<Vec<_>>().join("; ")
}

impl AccountError {
    fn internal(err: impl Into<anyhow::Error>) -> Self {
        AccountError::Internal(err.into())
    }

    /// The violations to show beside form fields, when this error is about fields.
    pub fn violations(&self) -> Vec<FieldViolation> {
        match self {
            AccountError::Invalid(violations) => violations.clone(),
            AccountError::WrongCode => vec![FieldViolation::new(
                "code",
                "does not match the authentication app's current code, or was already used",
            )],
            AccountError::WrongCurrentPassword => vec![FieldViolation::new("current_password", "is not right")],
            _ => Vec::new(),
        }
    }
}

/// The AAD binding a sealed TOTP value to its account and column.
fn aad(id: &AccountId, column: &str) -> Vec<u8> {
    format!("{id}/{column}").into_bytes()
}

const SECRET: &str = "totp_secret";
const PENDING: &str = "totp_pending_secret";

/// Local accounts over the gateway's database.
#[derive(Clone)]
pub struct Accounts {
    db: Db,
    clock: SharedClock,
    keys: Arc<LiveKeys>,
}

impl Accounts {
    /// `keys`: the field key ring the TOTP secrets are sealed with
    /// (`wf_crypto::LiveKeys::open(config.field_key_file, &config.keys_dir())`).
    pub fn new(db: Db, clock: SharedClock, keys: Arc<LiveKeys>) -> Self {
        Self { db, clock, keys }
    }

    /// Over the database and key ring the configuration names (for the command line).
    pub fn from_config(db: Db, clock: SharedClock, config: &wf_config::Config) -> anyhow::Result<Self> {
        let keys = LiveKeys::open(config.field_key_file.as_deref(), &config.keys_dir())?;
        Ok(Self::new(db, clock, Arc::new(keys)))
    }

    fn seal(&self, id: &AccountId, column: &str, secret: &[u8]) -> Result<String, AccountError> {
        let sealed = self.keys.current().encrypt(secret, &aad(id, column)).map_err(AccountError::internal)?;
        Ok(BASE64.encode(sealed))
    }

    fn open(&self, id: &AccountId, column: &str, sealed: &str) -> Result<Zeroizing<Vec<u8>>, AccountError> {
        let bytes = BASE64.decode(sealed).map_err(AccountError::internal)?;
        let secret = self.keys.current().decrypt(&bytes, &aad(id, column)).map_err(AccountError::internal)?;
        Ok(Zeroizing::new(secret))
    }

    /// The TOTP secret of `account`, opened (`None` without TOTP).
    pub(crate) fn totp_secret(&self, account: &Account) -> Result<Option<Zeroizing<Vec<u8>>>, AccountError> {
        account.totp_sealed.as_deref().map(|sealed| self.open(&account.id, SECRET, sealed)).transpose()
    }

    /// Creates a local account. The password must meet the policy without a second factor.
    pub async fn add(&self, new: NewAccount) -> Result<AccountInfo, AccountError> {
        let id = AccountId::generate();
        let mut violations = Vec::new();
        let username = account::normalize_username(&new.username).map_err(|v| violations.push(v)).ok();
        let user_id = new.user_id.clone().unwrap_or_else(|| id.to_string());
        violations.extend(account::check_identity(new.role, new.partner_id.as_ref(), &user_id));
        if let Err(violation) = password::check(&new.password, username.as_deref().unwrap_or_default(), false) {
            violations.push(violation);
        }
        let Some(username) = username.filter(|_| violations.is_empty()) else {
            return Err(AccountError::Invalid(violations));
        };
        let secret = new.password.clone();
        let hash = blocking(move || password::hash(&secret))
            .await
            .map_err(AccountError::internal)?
            .map_err(AccountError::internal)?;
        let now = self.clock.now_micros();
        let account = Account {
            id,
            username: username.clone(),
            role: new.role,
            partner_id: new.partner_id,
            user_id: user_id.clone(),
            password_hash: Some(hash),
            password_needs_totp: false,
            totp_sealed: None,
            totp_pending_sealed: None,
            totp_last_step: None,
            disabled_at: None,
            acknowledged_version: None,
            acknowledged_at: None,
            created_at: now,
            changed_at: now,
        };
        let mut tx = self.db.begin().await?;
        if store::accounts::by_username(&mut tx, &username).await?.is_some() {
            return Err(AccountError::UsernameTaken(username));
        }
        if store::accounts::user_id_taken(&mut tx, &user_id).await? {
            return Err(AccountError::UserIdTaken(user_id));
        }
        match store::accounts::insert(&mut tx, &account).await {
            // a concurrent add of the same name
            Err(DbError::UniqueViolation { .. }) => return Err(AccountError::UsernameTaken(username)),
            other => other?,
        }
        tx.commit().await?;
        tracing::info!(account_id = %account.id, role = %account.role, "account added");
        Ok(AccountInfo::from(&account))
    }

    /// Every account, by username.
    pub async fn list(&self) -> Result<Vec<AccountInfo>, AccountError> {
        let mut conn = self.db.pool().acquire().await.map_err(DbError::from)?;
        Ok(store::accounts::list(&mut conn).await?.iter().map(AccountInfo::from).collect())
    }

    /// The account named `username` (normalised first).
    pub async fn find(&self, username: &str) -> Result<AccountInfo, AccountError> {
        self.load_by_username(username).await.map(|account| AccountInfo::from(&account))
    }

    async fn load_by_username(&self, username: &str) -> Result<Account, AccountError> {
        let normalized =
            account::normalize_username(username).map_err(|_| AccountError::UnknownAccount(username.to_owned()))?;
        let mut conn = self.db.pool().acquire().await.map_err(DbError::from)?;
        store::accounts::by_username(&mut conn, &normalized)
            .await?
            .ok_or_else(|| AccountError::UnknownAccount(username.to_owned()))
    }

    pub(crate) async fn load(&self, id: &AccountId) -> Result<Account, AccountError> {
        let mut conn = self.db.pool().acquire().await.map_err(DbError::from)?;
        store::accounts::by_id(&mut conn, id).await?.ok_or_else(|| AccountError::UnknownAccount(id.to_string()))
    }

    /// Disables the account and ends every session of it at once; returns how many sessions ended.
    pub async fn disable(&self, username: &str) -> Result<u64, AccountError> {
        let account = self.load_by_username(username).await?;
        let now = self.clock.now_micros();
        let mut tx = self.db.begin().await?;
        store::accounts::set_disabled(&mut tx, &account.id, Some(account.disabled_at.unwrap_or(now)), now).await?;
        let ended = store::sessions::delete_for_account(&mut tx, &account.id, None).await?;
        tx.commit().await?;
        tracing::info!(account_id = %account.id, sessions_ended = ended, "account disabled");
        Ok(ended)
    }

    /// Links the account to the OpenID Connect subject `subject` of `issuer` (the provider's `sub`
    /// for this person): signing in through the provider then opens this account. Replaces an
    /// earlier link of the account; a subject links to one account only.
    pub async fn link_oidc(&self, username: &str, issuer: &str, subject: &str) -> Result<(), AccountError> {
        let subject = subject.trim();
        if subject.is_empty() || subject.len() > 255 {
            return Err(AccountError::Invalid(vec![FieldViolation::new(
                "subject",
                "must be the provider's subject identifier for this person: 1 to 255 characters",
            )]));
        }
        let account = self.load_by_username(username).await?;
        let mut tx = self.db.begin().await?;
        if let Some(other) = store::accounts::by_oidc_subject(&mut tx, issuer, subject).await?
            && other.id != account.id
        {
            return Err(AccountError::SubjectTaken(other.username));
        }
        match store::accounts::set_oidc_subject(&mut tx, &account.id, Some((issuer, subject)), self.clock.now_micros())
            .await
        {
            Err(DbError::UniqueViolation { .. }) => return Err(AccountError::SubjectTaken(String::new())),
            other => other?,
        }
        tx.commit().await?;
        tracing::info!(account_id = %account.id, "account linked to an OpenID Connect subject");
        Ok(())
    }

    /// Removes the account's OpenID Connect link (signing in through the provider no longer opens it).
    pub async fn unlink_oidc(&self, username: &str) -> Result<u64, AccountError> {
        let account = self.load_by_username(username).await?;
        let mut tx = self.db.begin().await?;
        store::accounts::set_oidc_subject(&mut tx, &account.id, None, self.clock.now_micros()).await?;
        // A session the provider's identity opened must not outlive the link (the identity may be
        // why it is unlinked).
        let ended = store::sessions::delete_for_account(&mut tx, &account.id, None).await?;
        tx.commit().await?;
        tracing::info!(account_id = %account.id, sessions_ended = ended, "account unlinked from its OpenID Connect subject");
        Ok(ended)
    }

    /// The OpenID Connect (issuer, subject) the account is linked to.
    pub async fn oidc_link(&self, username: &str) -> Result<Option<(String, String)>, AccountError> {
        let account = self.load_by_username(username).await?;
        let mut conn = self.db.pool().acquire().await.map_err(DbError::from)?;
        Ok(store::accounts::oidc_subject(&mut conn, &account.id).await?)
    }

    /// Allows a disabled account to sign in again.
    pub async fn enable(&self, username: &str) -> Result<(), AccountError> {
        let account = self.load_by_username(username).await?;
        let mut tx = self.db.begin().await?;
        store::accounts::set_disabled(&mut tx, &account.id, None, self.clock.now_micros()).await?;
        tx.commit().await?;
        tracing::info!(account_id = %account.id, "account enabled");
        Ok(())
    }

    /// Sets a new password (an administrator's reset): ends every session of the account and lifts
    /// its sign-in throttle. Returns how many sessions ended.
    pub async fn reset_password(&self, username: &str, new_password: &str) -> Result<u64, AccountError> {
        let account = self.load_by_username(username).await?;
        let ended = self.set_password(&account, new_password, None).await?;
        let mut conn = self.db.pool().acquire().await.map_err(DbError::from)?;
        store::attempts::delete(&mut conn, Scope::Account, &throttle::key_hash(Scope::Account, &account.username))
            .await?;
        tracing::info!(account_id = %account.id, sessions_ended = ended, "password reset");
        Ok(ended)
    }

    /// The signed-in person changes their own password: the current one must be right; every other
    /// session of the account ends.
    pub(crate) async fn change_password(
        &self,
        id: &AccountId,
        current: &str,
        new_password: &str,
        keep: &wf_types::SessionId,
    ) -> Result<u64, AccountError> {
        let account = self.load(id).await?;
        let hash = account.password_hash.clone().ok_or(AccountError::NoLocalPassword)?;
        let current = Zeroizing::new(current.to_owned());
        let matches = blocking(move || password::verify(&current, &hash)).await.map_err(AccountError::internal)?;
        if !matches {
            return Err(AccountError::WrongCurrentPassword);
        }
        self.set_password(&account, new_password, Some(keep)).await
    }

    async fn set_password(
        &self,
        account: &Account,
        new_password: &str,
        keep: Option<&wf_types::SessionId>,
    ) -> Result<u64, AccountError> {
        password::check(new_password, &account.username, account.has_totp())
            .map_err(|violation| AccountError::Invalid(vec![violation]))?;
        let needs_totp = !password::long_enough_alone(new_password);
        let secret = Zeroizing::new(new_password.to_owned());
        let hash = blocking(move || password::hash(&secret))
            .await
            .map_err(AccountError::internal)?
            .map_err(AccountError::internal)?;
        let mut tx = self.db.begin().await?;
        store::accounts::set_password(&mut tx, &account.id, &hash, needs_totp, self.clock.now_micros()).await?;
        let ended = store::sessions::delete_for_account(&mut tx, &account.id, keep).await?;
        tx.commit().await?;
        Ok(ended)
    }

    /// Starts (or restarts) a TOTP enrolment for `username`; it takes effect once
    /// [`Accounts::confirm_totp`] gets a code from the app.
    pub async fn begin_totp(&self, username: &str) -> Result<TotpEnrolment, AccountError> {
        let account = self.load_by_username(username).await?;
        self.begin_totp_for(&account).await
    }

    pub(crate) async fn begin_totp_for(&self, account: &Account) -> Result<TotpEnrolment, AccountError> {
        let mut secret = Zeroizing::new([0u8; totp::SECRET_BYTES]);
        rand::rngs::OsRng.fill_bytes(secret.as_mut());
        let sealed = self.seal(&account.id, PENDING, secret.as_ref())?;
        let mut tx = self.db.begin().await?;
        store::accounts::set_totp_pending(&mut tx, &account.id, Some(&sealed), self.clock.now_micros()).await?;
        tx.commit().await?;
        Ok(enrolment(&account.username, secret.as_ref()))
    }

    /// The enrolment waiting for its first code, if any (the account page shows it again).
    pub(crate) fn pending_totp(&self, account: &Account) -> Result<Option<TotpEnrolment>, AccountError> {
        let Some(sealed) = account.totp_pending_sealed.as_deref() else { return Ok(None) };
        let secret = self.open(&account.id, PENDING, sealed)?;
        Ok(Some(enrolment(&account.username, &secret)))
    }

    /// Confirms the waiting enrolment with a code from the app: TOTP is on from now on, and the
    /// code's step counts as used.
    pub async fn confirm_totp(&self, username: &str, code: &str) -> Result<(), AccountError> {
        let account = self.load_by_username(username).await?;
        self.confirm_totp_for(&account, code).await
    }

    pub(crate) async fn confirm_totp_for(&self, account: &Account, code: &str) -> Result<(), AccountError> {
        let sealed = account.totp_pending_sealed.as_deref().ok_or(AccountError::NoPendingTotp)?;
        let secret = self.open(&account.id, PENDING, sealed)?;
        let code = totp::parse_code(code).ok_or(AccountError::WrongCode)?;
        let now = self.clock.now();
        let step = totp::accepted_step(&secret, code, now.timestamp(), None).ok_or(AccountError::WrongCode)?;
        let sealed = self.seal(&account.id, SECRET, &secret)?;
        let mut tx = self.db.begin().await?;
        store::accounts::confirm_totp(&mut tx, &account.id, &sealed, step, now.timestamp_micros()).await?;
        tx.commit().await?;
        tracing::info!(account_id = %account.id, "authentication app enrolled");
        Ok(())
    }

    /// Turns TOTP off (a lost phone). Refused while the password is one allowed only with TOTP.
    pub async fn remove_totp(&self, username: &str) -> Result<(), AccountError> {
        let account = self.load_by_username(username).await?;
        if account.password_needs_totp {
            return Err(AccountError::PasswordNeedsTotp);
        }
        let mut tx = self.db.begin().await?;
        store::accounts::remove_totp(&mut tx, &account.id, self.clock.now_micros()).await?;
        tx.commit().await?;
        tracing::info!(account_id = %account.id, "authentication app removed");
        Ok(())
    }

    /// Records acceptance of the current confidentiality acknowledgment.
    pub(crate) async fn acknowledge(&self, id: &AccountId) -> Result<(), AccountError> {
        let mut tx = self.db.begin().await?;
        store::accounts::acknowledge(&mut tx, id, account::ACKNOWLEDGMENT_VERSION, self.clock.now_micros()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// How many sealed TOTP values use field key `version` (none must, before it is retired).
    pub async fn sealed_with_version(&self, version: u32) -> Result<usize, AccountError> {
        let mut conn = self.db.pool().acquire().await.map_err(DbError::from)?;
        let accounts = store::accounts::list(&mut conn).await?;
        let mut count = 0;
        for sealed in accounts.iter().flat_map(|a| [a.totp_sealed.as_deref(), a.totp_pending_sealed.as_deref()]) {
            let Some(sealed) = sealed else { continue };
            let bytes = BASE64.decode(sealed).map_err(AccountError::internal)?;
            if KeyRing::key_version_of(&bytes).map_err(AccountError::internal)? == version {
                count += 1;
            }
        }
        Ok(count)
    }

    /// Re-seals every TOTP value not on the current field key version; returns how many accounts
    /// changed.
    pub async fn reseal_totp_secrets(&self) -> Result<usize, AccountError> {
        let ring = self.keys.current();
        let mut conn = self.db.pool().acquire().await.map_err(DbError::from)?;
        let accounts = store::accounts::list(&mut conn).await?;
        drop(conn);
        let mut changed = 0;
        for account in accounts {
            let reseal = |column: &str, sealed: Option<&str>| -> Result<(Option<String>, bool), AccountError> {
                let Some(sealed) = sealed else { return Ok((None, false)) };
                let bytes = BASE64.decode(sealed).map_err(AccountError::internal)?;
                if !ring.needs_rotation(&bytes) {
                    return Ok((Some(sealed.to_owned()), false));
                }
                let resealed = ring.reseal(&bytes, &aad(&account.id, column)).map_err(AccountError::internal)?;
                Ok((Some(BASE64.encode(resealed)), true))
            };
            let (secret, secret_changed) = reseal(SECRET, account.totp_sealed.as_deref())?;
            let (pending, pending_changed) = reseal(PENDING, account.totp_pending_sealed.as_deref())?;
            if secret_changed || pending_changed {
                let was = (account.totp_sealed.as_deref(), account.totp_pending_sealed.as_deref());
                let mut tx = self.db.begin().await?;
                let swapped =
                    store::accounts::reseal_totp(&mut tx, &account.id, was, secret.as_deref(), pending.as_deref())
                        .await?;
                tx.commit().await?;
                if swapped {
                    changed += 1;
                } else {
                    // Reset or enrolled again meanwhile, by the running gateway: its value stands;
                    // `keys status` shows whether it is on the current version yet.
                    tracing::info!(account_id = %account.id, "second factor changed during the re-encryption; left as it is");
                }
            }
        }
        Ok(changed)
    }
}

fn enrolment(username: &str, secret: &[u8]) -> TotpEnrolment {
    TotpEnrolment {
        secret_base32: Zeroizing::new(totp::base32_encode(secret)),
        otpauth_uri: Zeroizing::new(totp::otpauth_uri(username, secret)),
    }
}
