//! Loading the routing policy: read and validate the document, and record the load
//! as an audited event. A load whose text differs from the last one recorded adds a
//! `routing_policy` row and a `routing_policy.loaded` event in one transaction;
//! restarting with the same document records nothing.
//!
//! The policy in force is the one recorded last, whoever loaded it: a policy loaded
//! through `LoadPolicy` stays in force across restarts until the configured file changes
//! (a start-up records the file only when it differs from the last file recorded) or
//! another policy is loaded.

use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use wf_db::{Db, DbError};
use wf_events::Envelope;
use wf_proto::events::v1::RoutingPolicyLoaded;
use wf_proto::time::timestamp;
use wf_types::PolicyId;

use super::live::Live;
use super::route::Router;
use crate::SERVICE;
use crate::domain::{DEMO_POLICY_DOCUMENT, Policy};
use crate::store::policies::{self, PolicyRecord};

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

/// Records the configured policy when it differs from the last one recorded from the
/// configuration, then returns the policy in force (the last recorded load). A stored
/// document that no longer validates (the policy rules changed) gives way to the
/// configured one, with a warning.
pub async fn activate_at_start(
    db: &Db,
    configured: &LoadedPolicy,
    now: DateTime<Utc>,
) -> Result<LoadedPolicy, DbError> {
    let last_from_config = policies::latest_by(db, LOADED_BY_CONFIG).await?;
    if last_from_config.is_none_or(|p| p.sha256 != configured.sha256_hex()) {
        record_load(db, configured, LOADED_BY_CONFIG, now).await?;
    }
    let Some(active) = policies::latest(db).await? else { return Ok(configured.clone()) };
    if active.sha256 == configured.sha256_hex() {
        return Ok(configured.clone());
    }
    let document = policies::document_of(db, &active.policy_id).await?.unwrap_or_default();
    match Policy::from_toml(&document) {
        Ok(policy) => Ok(LoadedPolicy { policy, document }),
        Err(err) => {
            tracing::warn!(policy.id = %active.policy_id, policy.version = %active.version, error = %err,
                "the policy in force no longer validates; using the configured policy");
            record_load(db, configured, LOADED_BY_CONFIG, now).await?;
            Ok(configured.clone())
        }
    }
}

/// The policy in force as recorded (the last load), when one is and it still validates.
pub async fn in_force(db: &Db) -> Result<Option<LoadedPolicy>, DbError> {
    let Some(active) = policies::latest(db).await? else { return Ok(None) };
    let document = policies::document_of(db, &active.policy_id).await?.unwrap_or_default();
    Ok(Policy::from_toml(&document).ok().map(|policy| LoadedPolicy { policy, document }))
}

/// The policy in force, shared by the decisions and the policy API.
#[derive(Clone)]
pub struct ActivePolicy {
    policy: Live<Policy>,
    loaded: Live<LoadedPolicy>,
}

impl ActivePolicy {
    pub fn new(loaded: LoadedPolicy) -> Self {
        Self { policy: Live::new(loaded.policy.clone()), loaded: Live::new(loaded) }
    }

    /// The handle the decisions read.
    pub fn policy(&self) -> Live<Policy> {
        self.policy.clone()
    }

    pub fn current(&self) -> std::sync::Arc<LoadedPolicy> {
        self.loaded.current()
    }

    /// Puts `loaded` in force for every later decision.
    pub fn put(&self, loaded: LoadedPolicy) {
        self.policy.replace(loaded.policy.clone());
        self.loaded.replace(loaded);
    }

    /// Adopts the last recorded load when it is not the one in force (another instance
    /// loaded a policy). A document that does not validate is left out, with a warning.
    pub async fn refresh(&self, db: &Db) -> Result<(), DbError> {
        let Some(active) = policies::latest(db).await? else { return Ok(()) };
        if active.sha256 == self.current().sha256_hex() {
            return Ok(());
        }
        let document = policies::document_of(db, &active.policy_id).await?.unwrap_or_default();
        match Policy::from_toml(&document) {
            Ok(policy) => {
                tracing::info!(policy.version = %policy.version, "routing policy loaded elsewhere now in force");
                self.put(LoadedPolicy { policy, document });
            }
            Err(err) => {
                tracing::warn!(policy.id = %active.policy_id, error = %err, "recorded policy does not validate; not adopted")
            }
        }
        Ok(())
    }
}

/// A `LoadPolicy`: records `loaded` (nothing when it is already the policy in force), wakes the
/// relay for its `routing_policy.loaded`, and puts it in force for every later decision;
/// returns the load in force as recorded.
pub async fn put_in_force(
    router: &Router,
    active: &ActivePolicy,
    loaded: LoadedPolicy,
    by: &str,
) -> Result<Option<PolicyRecord>, DbError> {
    record_load(router.db(), &loaded, by, router.clock().now()).await?;
    router.wake_relay();
    active.put(loaded);
    policies::latest(router.db()).await
}

/// Records `loaded` unless it is the policy last recorded; returns whether it recorded a load.
pub async fn record_load(db: &Db, loaded: &LoadedPolicy, loaded_by: &str, now: DateTime<Utc>) -> Result<bool, DbError> {
    let sha256 = loaded.sha256_hex();
    let previous = policies::latest(db).await?;
    if previous.as_ref().is_some_and(|p| p.sha256 == sha256) {
        return Ok(false);
    }
    let policy_id = PolicyId::generate();
    let mut tx = db.begin().await?;
    let loaded_at = wf_db::to_micros(now);
    policies::insert(&mut tx, &policy_id, &loaded.policy.version, &sha256, &loaded.document, loaded_at, loaded_by)
        .await?;
    let event = RoutingPolicyLoaded {
        version: loaded.policy.version.clone(),
        sha256: Sha256::digest(loaded.document.as_bytes()).to_vec(),
        loaded_by: loaded_by.to_owned(),
        loaded_at: Some(timestamp(now)),
        previous_version: previous.map(|p| p.version).unwrap_or_default(),
    };
    let envelope = Envelope::new(SERVICE, policy_id.as_str(), policy_id.as_str(), &event);
    wf_events::outbox::enqueue(&mut tx, db.backend(), &envelope).await?;
    tx.commit().await?;
    tracing::info!(policy.version = %loaded.policy.version, policy.sha256 = %sha256, loaded_by, "routing policy loaded");
    Ok(true)
}
