//! `gateway_accounts`.

use sqlx::{AnyConnection, Row};
use wf_auth::Role;
use wf_db::{DbError, Tx};
use wf_types::{AccountId, PartnerId};

use super::corrupt;
use crate::domain::account::Account;

const COLUMNS: &str = "account_id, username, role, partner_id, user_id, password_hash, password_needs_totp, \
    totp_secret, totp_pending_secret, totp_last_step, disabled_at, acknowledged_version, acknowledged_at, \
    created_at, changed_at";

fn from_row(row: &sqlx::any::AnyRow) -> Result<Account, DbError> {
    let id: String = row.try_get("account_id")?;
    let role: String = row.try_get("role")?;
    let partner: Option<String> = row.try_get("partner_id")?;
    Ok(Account {
        id: id.parse().map_err(|_| corrupt("gateway_accounts.account_id", &id))?,
        username: row.try_get("username")?,
        role: role.parse::<Role>().map_err(|_| corrupt("gateway_accounts.role", &role))?,
        partner_id: partner
            .map(|p| p.parse::<PartnerId>().map_err(|_| corrupt("gateway_accounts.partner_id", &p)))
            .transpose()?,
        user_id: row.try_get("user_id")?,
        password_hash: row.try_get("password_hash")?,
        password_needs_totp: row.try_get::<i64, _>("password_needs_totp")? != 0,
        totp_sealed: row.try_get("totp_secret")?,
        totp_pending_sealed: row.try_get("totp_pending_secret")?,
        totp_last_step: row.try_get("totp_last_step")?,
        disabled_at: row.try_get("disabled_at")?,
        acknowledged_version: row.try_get("acknowledged_version")?,
        acknowledged_at: row.try_get("acknowledged_at")?,
        created_at: row.try_get("created_at")?,
        changed_at: row.try_get("changed_at")?,
    })
}

pub async fn insert(tx: &mut Tx, account: &Account) -> Result<(), DbError> {
    sqlx::query(&format!(
        "INSERT INTO gateway_accounts ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
         $14, $15)"
    ))
    .bind(account.id.to_string())
    .bind(account.username.clone())
    .bind(account.role.as_str())
    .bind(account.partner_id.as_ref().map(ToString::to_string))
    .bind(account.user_id.clone())
    .bind(account.password_hash.clone())
    .bind(i64::from(account.password_needs_totp))
    .bind(account.totp_sealed.clone())
    .bind(account.totp_pending_sealed.clone())
    .bind(account.totp_last_step)
    .bind(account.disabled_at)
    .bind(account.acknowledged_version)
    .bind(account.acknowledged_at)
    .bind(account.created_at)
    .bind(account.changed_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn by_username(conn: &mut AnyConnection, username: &str) -> Result<Option<Account>, DbError> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM gateway_accounts WHERE username = $1"))
        .bind(username.to_owned())
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn by_id(conn: &mut AnyConnection, id: &AccountId) -> Result<Option<Account>, DbError> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM gateway_accounts WHERE account_id = $1"))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Whether another account already has `user_id`.
pub async fn user_id_taken(conn: &mut AnyConnection, user_id: &str) -> Result<bool, DbError> {
    Ok(sqlx::query("SELECT account_id FROM gateway_accounts WHERE user_id = $1")
        .bind(user_id.to_owned())
        .fetch_optional(&mut *conn)
        .await?
        .is_some())
}

/// Every account, by username.
pub async fn list(conn: &mut AnyConnection) -> Result<Vec<Account>, DbError> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM gateway_accounts ORDER BY username"))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

pub async fn set_disabled(tx: &mut Tx, id: &AccountId, disabled_at: Option<i64>, now: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE gateway_accounts SET disabled_at = $1, changed_at = $2 WHERE account_id = $3")
        .bind(disabled_at)
        .bind(now)
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn set_password(tx: &mut Tx, id: &AccountId, hash: &str, needs_totp: bool, now: i64) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE gateway_accounts SET password_hash = $1, password_needs_totp = $2, changed_at = $3 \
         WHERE account_id = $4",
    )
    .bind(hash.to_owned())
    .bind(i64::from(needs_totp))
    .bind(now)
    .bind(id.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn set_totp_pending(tx: &mut Tx, id: &AccountId, sealed: Option<&str>, now: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE gateway_accounts SET totp_pending_secret = $1, changed_at = $2 WHERE account_id = $3")
        .bind(sealed.map(str::to_owned))
        .bind(now)
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Makes the pending secret the account's, with `step` used by the confirming code.
pub async fn confirm_totp(tx: &mut Tx, id: &AccountId, sealed: &str, step: i64, now: i64) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE gateway_accounts SET totp_secret = $1, totp_pending_secret = NULL, totp_last_step = $2, \
         changed_at = $3 WHERE account_id = $4",
    )
    .bind(sealed.to_owned())
    .bind(step)
    .bind(now)
    .bind(id.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn remove_totp(tx: &mut Tx, id: &AccountId, now: i64) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE gateway_accounts SET totp_secret = NULL, totp_pending_secret = NULL, totp_last_step = NULL, \
         changed_at = $1 WHERE account_id = $2",
    )
    .bind(now)
    .bind(id.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records that a code of `step` was used, unless that step or a later one already was: `false`
/// then (a replay, or a code used twice at once on two replicas). One statement, so it is atomic.
pub async fn use_totp_step(conn: &mut AnyConnection, id: &AccountId, step: i64) -> Result<bool, DbError> {
    let updated = sqlx::query(
        "UPDATE gateway_accounts SET totp_last_step = $1 \
         WHERE account_id = $2 AND totp_secret IS NOT NULL AND (totp_last_step IS NULL OR totp_last_step < $1)",
    )
    .bind(step)
    .bind(id.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(updated.rows_affected() == 1)
}

pub async fn acknowledge(tx: &mut Tx, id: &AccountId, version: i64, now: i64) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE gateway_accounts SET acknowledged_version = $1, acknowledged_at = $2, changed_at = $2 \
         WHERE account_id = $3",
    )
    .bind(version)
    .bind(now)
    .bind(id.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Replaces the sealed TOTP values of one account (re-sealing under a new field key).
pub async fn reseal_totp(
    tx: &mut Tx,
    id: &AccountId,
    was: (Option<&str>, Option<&str>),
    secret: Option<&str>,
    pending: Option<&str>,
) -> Result<bool, DbError> {
    // Only over the values read (a compare-and-swap): a second factor reset or enrolled meanwhile
    // is never overwritten with the older secret. Sealed values are never empty.
    let result = sqlx::query(
        "UPDATE gateway_accounts SET totp_secret = $1, totp_pending_secret = $2 WHERE account_id = $3 \
         AND COALESCE(totp_secret, '') = $4 AND COALESCE(totp_pending_secret, '') = $5",
    )
    .bind(secret.map(str::to_owned))
    .bind(pending.map(str::to_owned))
    .bind(id.to_string())
    .bind(was.0.unwrap_or_default().to_owned())
    .bind(was.1.unwrap_or_default().to_owned())
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// The account linked to the OpenID Connect subject `subject` of `issuer`.
pub async fn by_oidc_subject(
    conn: &mut AnyConnection,
    issuer: &str,
    subject: &str,
) -> Result<Option<Account>, DbError> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM gateway_accounts WHERE oidc_issuer = $1 AND oidc_subject = $2"))
        .bind(issuer.to_owned())
        .bind(subject.to_owned())
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Links (or, with `None`, unlinks) an account to an OpenID Connect subject.
pub async fn set_oidc_subject(
    tx: &mut Tx,
    id: &AccountId,
    link: Option<(&str, &str)>,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE gateway_accounts SET oidc_issuer = $1, oidc_subject = $2, changed_at = $3 WHERE account_id = $4",
    )
    .bind(link.map(|(issuer, _)| issuer.to_owned()))
    .bind(link.map(|(_, subject)| subject.to_owned()))
    .bind(now)
    .bind(id.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The OpenID Connect (issuer, subject) an account is linked to.
pub async fn oidc_subject(conn: &mut AnyConnection, id: &AccountId) -> Result<Option<(String, String)>, DbError> {
    let row: Option<(Option<String>, Option<String>)> =
        sqlx::query_as("SELECT oidc_issuer, oidc_subject FROM gateway_accounts WHERE account_id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.and_then(|(issuer, subject)| issuer.zip(subject)))
}
