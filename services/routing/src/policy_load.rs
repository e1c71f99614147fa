//! Loading the routing policy: read and validate the document, and record the load
//! as an audited event. A load whose text differs from the last one recorded adds a
//! `routing_policy` row and a `routing_policy.loaded` event in one transaction;
//! restarting with the same document records nothing.

use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::Row;
use wf_db::{Db, DbError};
use wf_events::Envelope;
use wf_proto::events::v1::RoutingPolicyLoaded;

use crate::domain::{DEMO_POLICY_DOCUMENT, Policy};
use crate::events::{SERVICE, timestamp};

/// Who loaded a policy read from the configuration at start-up.
pub const LOADED_BY_CONFIG: &str = "config";

/// A policy with the text it came from.
#[derive(Debug, Clone)]
pub struct LoadedPolicy {
    pub policy: Policy,
    pub document: String,
}

impl LoadedPolicy {
    pub fn demo() -> Self {
        Self { policy: Policy::demo(), document: DEMO_POLICY_DOCUMENT.to_owned() }
    }

    pub fn sha256_hex(&self) -> String {
        hex::encode(Sha256::digest(self.document.as_bytes()))
    }
}

/// Reads and validates a policy file; errors name the file, then each line and rule.
pub fn read_policy_file(path: &Path) -> anyhow::Result<LoadedPolicy> {
    let document =
        std::fs::read_to_string(path).with_context(|| format!("cannot read routing policy file {}", path.display()))?;
    let policy = Policy::from_toml(&document).with_context(|| format!("routing policy file {}", path.display()))?;
    Ok(LoadedPolicy { policy, document })
}

/// One recorded load.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyRecord {
    pub policy_id: String,
    pub version: String,
    pub sha256: String,
    pub loaded_at: i64,
    pub loaded_by: String,
}

/// The most recent recorded load.
pub async fn latest(db: &Db) -> Result<Option<PolicyRecord>, DbError> {
    let row = sqlx::query(
        "SELECT policy_id, version, sha256, loaded_at, loaded_by FROM routing_policy \
         ORDER BY loaded_at DESC, policy_id DESC LIMIT 1",
    )
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| {
        Ok(PolicyRecord {
            policy_id: row.try_get("policy_id")?,
            version: row.try_get("version")?,
            sha256: row.try_get("sha256")?,
            loaded_at: row.try_get("loaded_at")?,
            loaded_by: row.try_get("loaded_by")?,
        })
    })
    .transpose()
}

/// Records `loaded` unless it is the policy last recorded; returns whether it recorded a load.
pub async fn record_load(db: &Db, loaded: &LoadedPolicy, loaded_by: &str, now: DateTime<Utc>) -> Result<bool, DbError> {
    let sha256 = loaded.sha256_hex();
    let previous = latest(db).await?;
    if previous.as_ref().is_some_and(|p| p.sha256 == sha256) {
        return Ok(false);
    }
    let policy_id = format!("pol_{}", uuid::Uuid::now_v7().simple());
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO routing_policy (policy_id, version, sha256, document, loaded_at, loaded_by) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&policy_id)
    .bind(&loaded.policy.version)
    .bind(&sha256)
    .bind(&loaded.document)
    .bind(wf_db::to_micros(now))
    .bind(loaded_by)
    .execute(&mut *tx)
    .await?;
    let event = RoutingPolicyLoaded {
        version: loaded.policy.version.clone(),
        sha256: Sha256::digest(loaded.document.as_bytes()).to_vec(),
        loaded_by: loaded_by.to_owned(),
        loaded_at: Some(timestamp(now)),
        previous_version: previous.map(|p| p.version).unwrap_or_default(),
    };
    let envelope = Envelope::new(SERVICE, &policy_id, &policy_id, &event);
    wf_events::outbox::enqueue(&mut tx, db.backend(), &envelope).await?;
    tx.commit().await?;
    tracing::info!(policy.version = %loaded.policy.version, policy.sha256 = %sha256, loaded_by, "routing policy loaded");
    Ok(true)
}
