//! Signing in with a local account: throttle, password (and code), then a new session that
//! replaces the visitor's. Every failure looks the same to the person — wrong password, unknown
//! username, disabled account, wrong or replayed code — and takes as long: an unknown username is
//! verified against a dummy hash of the same cost.

use std::net::IpAddr;

use wf_db::{DbError, Tx};
use wf_types::{FieldViolation, SessionId};
use zeroize::Zeroizing;

use super::App;
use super::blocking;
use super::sessions::NewSession;
use crate::domain::account::{self, Account};
use crate::domain::throttle::{self, Attempts, Scope, Verdict};
use crate::domain::{password, totp};
use crate::store;

/// One sign-in as the form sent it.
pub struct SignInAttempt<'a> {
    pub username: &'a str,
    pub password: &'a str,
    /// The authentication code, when the person typed one.
    pub code: Option<&'a str>,
    /// The client's address (`None` when unknown: then only the account is throttled).
    pub client: Option<IpAddr>,
    /// The session the form came from, replaced on success.
    pub replacing: Option<&'a SessionId>,
}

/// Why a sign-in was refused.
#[derive(Debug)]
pub enum SignInRefusal {
    /// A field left empty (nothing was checked and nothing counted).
    Invalid(Vec<FieldViolation>),
    /// The one message for every wrong credential.
    Failed,
    /// Too many attempts: try again at `until` (microseconds on the service clock).
    Wait {
        until: i64,
    },
    /// 100 consecutive failures: only an administrator's password reset lifts it.
    Locked,
    Storage(DbError),
    Internal(anyhow::Error),
}

impl From<DbError> for SignInRefusal {
    fn from(err: DbError) -> Self {
        SignInRefusal::Storage(err)
    }
}

impl From<sqlx::Error> for SignInRefusal {
    fn from(err: sqlx::Error) -> Self {
        SignInRefusal::Storage(err.into())
    }
}

/// The counters one attempt is held to: the username as typed, and the client's address.
fn counters(username: &str, client: Option<IpAddr>) -> Vec<(Scope, String)> {
    let mut keys = vec![(Scope::Account, throttle::key_hash(Scope::Account, username))];
    if let Some(ip) = client {
        keys.push((Scope::Address, throttle::key_hash(Scope::Address, &throttle::address_key(ip))));
    }
    keys
}

impl App {
    /// Signs in. On success the new session's token is for the cookie; the visitor's session is gone.
    pub async fn sign_in(&self, attempt: SignInAttempt<'_>) -> Result<(NewSession, Account), SignInRefusal> {
        let mut empty = Vec::new();
        if attempt.username.trim().is_empty() {
            empty.push(FieldViolation::new("username", "Enter your username"));
        }
        if attempt.password.is_empty() {
            empty.push(FieldViolation::new("password", "Enter your password"));
        }
        if !empty.is_empty() {
            return Err(SignInRefusal::Invalid(empty));
        }
        // The key is the name as typed (normalised when it can be), so an unknown name is counted
        // exactly like a known one.
        let typed = attempt.username.trim().to_lowercase();
        let username = account::normalize_username(attempt.username).ok();
        let keys = counters(username.as_deref().unwrap_or(&typed), attempt.client);
        self.reserve(&keys).await?;

        let account = match &username {
            Some(name) => {
                let mut conn = self.db.pool().acquire().await.map_err(DbError::from)?;
                store::accounts::by_username(&mut conn, name).await?
            }
            None => None,
        };
        let hash = account.as_ref().and_then(|a| a.password_hash.clone());
        let verify_against = hash.clone().unwrap_or_else(|| password::dummy_hash().to_owned());
        let secret = Zeroizing::new(attempt.password.to_owned());
        let password_ok =
            blocking(move || password::verify(&secret, &verify_against)).await.map_err(SignInRefusal::Internal)?
                && hash.is_some();
        let account = match account {
            Some(account) if password_ok && !account.is_disabled() => account,
            _ => return Err(SignInRefusal::Failed),
        };
        let method = if account.has_totp() {
            self.check_code(&account, attempt.code).await?;
            "password_totp"
        } else {
            "password"
        };

        self.release(&keys).await?;
        let session = self.sessions.start_for(&account.id, method, attempt.replacing).await?;
        tracing::info!(account_id = %account.id, session_id = %session.row.id, method, "signed in");
        Ok((session, account))
    }

    /// The authentication code of an account with TOTP: right, fresh, and recorded as used (once,
    /// even when two requests race with it).
    async fn check_code(&self, account: &Account, code: Option<&str>) -> Result<(), SignInRefusal> {
        let code = code.and_then(totp::parse_code).ok_or(SignInRefusal::Failed)?;
        let secret = self
            .accounts
            .totp_secret(account)
            .map_err(|err| SignInRefusal::Internal(anyhow::anyhow!("{err}")))?
            .ok_or(SignInRefusal::Failed)?;
        let now = self.clock.now().timestamp();
        let step = totp::accepted_step(&secret, code, now, account.totp_last_step).ok_or(SignInRefusal::Failed)?;
        let mut conn = self.db.pool().acquire().await.map_err(DbError::from)?;
        if !store::accounts::use_totp_step(&mut conn, &account.id, step).await? {
            return Err(SignInRefusal::Failed);
        }
        Ok(())
    }

    /// Reserves one attempt in each counter, or refuses (reserving nothing) when one is over its
    /// limit.
    async fn reserve(&self, keys: &[(Scope, String)]) -> Result<(), SignInRefusal> {
        let now = self.clock.now_micros();
        let mut tx = self.db.begin().await?;
        let mut refusal = None;
        let mut reserved = Vec::with_capacity(keys.len());
        for (scope, key) in keys {
            let before = locked(&mut tx, self, *scope, key, now).await?;
            let after = scope.limits().reserve(Some(before), now);
            match scope.limits().verdict(&after) {
                Verdict::Proceed => reserved.push((*scope, key, after)),
                Verdict::Locked => refusal = Some(SignInRefusal::Locked),
                Verdict::Wait { until } => {
                    refusal = Some(match refusal {
                        Some(SignInRefusal::Locked) => SignInRefusal::Locked,
                        Some(SignInRefusal::Wait { until: other }) => SignInRefusal::Wait { until: until.max(other) },
                        _ => SignInRefusal::Wait { until },
                    });
                }
            }
        }
        if let Some(refusal) = refusal {
            // Dropping the transaction releases the locks and reserves nothing.
            return Err(refusal);
        }
        for (scope, key, after) in reserved {
            store::attempts::put(&mut tx, scope, key, &after).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// After a success: the account's counter is cleared, the address gives back its place.
    async fn release(&self, keys: &[(Scope, String)]) -> Result<(), SignInRefusal> {
        let now = self.clock.now_micros();
        let mut tx = self.db.begin().await?;
        for (scope, key) in keys {
            match scope {
                Scope::Account => store::attempts::delete(&mut tx, *scope, key).await?,
                Scope::Address => {
                    let current = locked(&mut tx, self, *scope, key, now).await?;
                    store::attempts::put(&mut tx, *scope, key, &throttle::release(current)).await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

async fn locked(tx: &mut Tx, app: &App, scope: Scope, key: &str, now: i64) -> Result<Attempts, DbError> {
    store::attempts::lock(tx, app.db.backend(), scope, key, now).await
}
