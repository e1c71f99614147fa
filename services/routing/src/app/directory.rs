//! The directory's write side: validate, store and announce each change in one
//! transaction (`directory.changed`, `capacity.updated`), then refresh the in-memory
//! directory the API and the decisions read. Writes and refreshes in one instance are
//! serialized (one lock shared by every writer), so the memory always matches what was
//! committed last; other instances pick the change
//! up on their next refresh ([`DirectoryWriter::refresh`]).

use std::sync::Arc;

use tokio::sync::Mutex;
use wf_db::{Db, DbError, Tx};
use wf_events::RelayHandle;
use wf_proto::events::v1::{CapacityUpdated, DirectoryChanged};
use wf_proto::routing::v1 as pb;
use wf_server::ApiError;
use wf_types::{FieldViolation, PartnerId, PartnerServiceId, SharedClock};

use super::enqueue;
use super::live::Live;
use crate::domain::Directory;
use crate::domain::directory::entry::{DirectoryEntries, capacity_totals};
use crate::domain::directory::validate::{EntryIssue, validate_capacity, validate_organization, validate_service};
use crate::domain::hsds::import::{self as hsds_import, ImportPlan};
use crate::store::{self, capacity};

/// Why a directory write was refused.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("invalid record")]
    Invalid(Vec<EntryIssue>),
    /// Unknown, or not the caller's (no existence leaks).
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// The `updated_at` the caller named is not the stored version.
    #[error("{what} was changed since the version given (its updated_at); read it again and retry")]
    Changed { what: String },
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for WriteError {
    fn from(err: sqlx::Error) -> Self {
        Self::Db(err.into())
    }
}

impl From<WriteError> for ApiError {
    fn from(err: WriteError) -> Self {
        match err {
            WriteError::Invalid(issues) => {
                ApiError::InvalidArgument(issues.into_iter().map(FieldViolation::from).collect())
            }
            WriteError::NotFound(what) => ApiError::NotFound(what.into()),
            WriteError::AlreadyExists(_) => ApiError::AlreadyExists(err.to_string()),
            WriteError::Changed { .. } => ApiError::Aborted(err.to_string()),
            WriteError::Db(err) => err.into(),
        }
    }
}

/// `DirectoryChanged.change` codes.
pub const CHANGE_CREATED: &str = "created";
pub const CHANGE_UPDATED: &str = "updated";
pub const CHANGE_RETIRED: &str = "retired";
pub const CHANGE_IMPORTED: &str = "imported";

/// Who may change a service's capacity.
#[derive(Debug, Clone, PartialEq)]
pub enum CapacityScope {
    /// Program managers and admins: any service.
    Any,
    /// A partner: only its own organization's services.
    Partner(String),
}

#[derive(Clone)]
pub struct DirectoryWriter {
    db: Db,
    entries: Live<DirectoryEntries>,
    directory: Live<Directory>,
    clock: SharedClock,
    /// `None` for a writer outside the running service (the CLI): its events wait in the
    /// outbox for the service's relay.
    relay: Option<RelayHandle>,
    lock: Arc<Mutex<()>>,
}

fn micros_of(ts: &Option<prost_types::Timestamp>) -> Option<i64> {
    ts.as_ref().and_then(wf_proto::time::datetime).map(wf_db::to_micros)
}

/// Gives each location without an id a stable one, so exports and re-imports match it.
fn name_locations(record: &mut pb::PartnerService) {
    for location in &mut record.locations {
        if location.location_id.is_empty() {
            location.location_id = uuid::Uuid::now_v7().hyphenated().to_string();
        }
    }
}

fn issue(field: &str, message: impl Into<String>) -> WriteError {
    WriteError::Invalid(vec![EntryIssue { field: field.to_owned(), message: message.into() }])
}

impl DirectoryWriter {
    /// `lock` serializes the writes and refreshes of every writer over the same `entries`.
    pub fn new(
        db: Db,
        entries: Live<DirectoryEntries>,
        directory: Live<Directory>,
        clock: SharedClock,
        relay: RelayHandle,
        lock: Arc<Mutex<()>>,
    ) -> Self {
        Self { db, entries, directory, clock, relay: Some(relay), lock }
    }

    /// A writer over a routing database outside the running service (the CLI). A running
    /// routing service picks its changes up at its next refresh.
    pub async fn offline(db: Db, clock: SharedClock) -> Result<Self, DbError> {
        let entries = store::directory::load(&db).await?;
        let directory = Live::new(entries.routing_view());
        Ok(Self { db, entries: Live::new(entries), directory, clock, relay: None, lock: Arc::new(Mutex::new(())) })
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    pub fn entries(&self) -> Arc<DirectoryEntries> {
        self.entries.current()
    }

    /// Reloads the directory from the database, so another instance's writes arrive (the
    /// service calls it periodically). Waits for a write in progress.
    pub async fn refresh(&self) -> Result<(), DbError> {
        let _guard = self.lock.lock().await;
        self.reload().await
    }

    /// Reloads while holding the write lock, so an older read never replaces a newer one.
    async fn reload(&self) -> Result<(), DbError> {
        let entries = store::directory::load(&self.db).await?;
        self.directory.replace(entries.routing_view());
        self.entries.replace(entries);
        Ok(())
    }

    /// A version strictly after `previous`, so two writes in one microsecond stay distinct.
    fn version_after(&self, previous: Option<i64>) -> i64 {
        let now = wf_db::to_micros(self.clock.now());
        previous.map_or(now, |p| now.max(p + 1))
    }

    async fn announce(&self, tx: &mut Tx, ids: Vec<String>, change: &str, by: &str) -> Result<(), DbError> {
        let key = ids.first().cloned().unwrap_or_default();
        let event = DirectoryChanged {
            ids,
            change: change.to_owned(),
            actor: by.to_owned(),
            at: Some(wf_proto::time::timestamp(self.clock.now())),
        };
        enqueue(tx, self.db.backend(), &key, &event).await
    }

    async fn committed(&self, tx: Tx) -> Result<(), WriteError> {
        tx.commit().await?;
        if let Some(relay) = &self.relay {
            relay.wake();
        }
        self.reload().await?;
        Ok(())
    }

    /// Creates an organization; an empty id gets a new one.
    pub async fn create_organization(
        &self,
        mut record: pb::Organization,
        by: &str,
    ) -> Result<pb::Organization, WriteError> {
        let issues = validate_organization(&record, "organization", false);
        if !issues.is_empty() {
            return Err(WriteError::Invalid(issues));
        }
        if record.organization_id.is_empty() {
            record.organization_id = PartnerId::generate().to_string();
        }
        let _guard = self.lock.lock().await;
        let now = self.version_after(None);
        let mut tx = self.db.begin().await?;
        match store::directory::insert_organization(&mut tx, &record, false, now, by).await {
            Err(DbError::UniqueViolation { .. }) => {
                return Err(WriteError::AlreadyExists(format!("organization {}", record.organization_id)));
            }
            other => other?,
        }
        self.announce(&mut tx, vec![record.organization_id.clone()], CHANGE_CREATED, by).await?;
        self.committed(tx).await?;
        tracing::info!(organization.id = %record.organization_id, actor = by, "organization created");
        self.organization(&record.organization_id)
    }

    /// Replaces an organization's fields (its services are kept). When `updated_at` is given
    /// it must be the stored version.
    pub async fn update_organization(
        &self,
        record: pb::Organization,
        by: &str,
    ) -> Result<pb::Organization, WriteError> {
        let issues = validate_organization(&record, "organization", true);
        if !issues.is_empty() {
            return Err(WriteError::Invalid(issues));
        }
        let _guard = self.lock.lock().await;
        let entries = self.entries.current();
        let current = entries.organization(&record.organization_id).ok_or(WriteError::NotFound("organization"))?;
        let stored_version = micros_of(&current.record.updated_at).unwrap_or_default();
        if let Some(expected) = micros_of(&record.updated_at)
            && expected != stored_version
        {
            return Err(WriteError::Changed { what: format!("organization {}", record.organization_id) });
        }
        let retired = current.record.active && !record.active;
        let now = self.version_after(Some(stored_version));
        let mut tx = self.db.begin().await?;
        if !store::directory::update_organization(&mut tx, &record, stored_version, now, by).await? {
            // Another instance wrote it since this one last refreshed.
            tx.rollback().await?;
            self.reload().await?;
            return Err(WriteError::Changed { what: format!("organization {}", record.organization_id) });
        }
        let change = if retired { CHANGE_RETIRED } else { CHANGE_UPDATED };
        self.announce(&mut tx, vec![record.organization_id.clone()], change, by).await?;
        self.committed(tx).await?;
        tracing::info!(organization.id = %record.organization_id, actor = by, change, "organization updated");
        self.organization(&record.organization_id)
    }

    fn organization(&self, id: &str) -> Result<pb::Organization, WriteError> {
        self.entries.current().organization(id).map(|o| o.with_sites()).ok_or(WriteError::NotFound("organization"))
    }

    fn service(&self, id: &str) -> Result<pb::PartnerService, WriteError> {
        self.entries.current().service(id).map(|(_, s)| s.clone()).ok_or(WriteError::NotFound("partner service"))
    }

    /// Stamps each capacity unit that differs from `previous` with `now`.
    fn stamp_capacity(capacity: &mut [pb::Capacity], previous: &[pb::Capacity], now: i64) {
        for unit in capacity {
            let unchanged = previous
                .iter()
                .find(|p| p.unit == unit.unit && p.available == unit.available && p.maximum == unit.maximum);
            unit.updated = match unchanged {
                Some(p) if p.updated.is_some() => p.updated,
                _ => Some(wf_proto::time::timestamp_from_micros(now)),
            };
        }
    }

    /// Creates a service of an existing organization; an empty id gets a new one.
    pub async fn create_service(
        &self,
        mut record: pb::PartnerService,
        by: &str,
    ) -> Result<pb::PartnerService, WriteError> {
        let issues = validate_service(&record, "partner_service", false);
        if !issues.is_empty() {
            return Err(WriteError::Invalid(issues));
        }
        if record.partner_service_id.is_empty() {
            record.partner_service_id = PartnerServiceId::generate().to_string();
        }
        name_locations(&mut record);
        let _guard = self.lock.lock().await;
        if self.entries.current().organization(&record.organization_id).is_none() {
            return Err(issue(
                "partner_service.organization_id",
                format!(
                    "{} names no organization in the directory; create the organization first",
                    record.organization_id
                ),
            ));
        }
        let now = self.version_after(None);
        Self::stamp_capacity(&mut record.capacity, &[], now);
        let mut tx = self.db.begin().await?;
        match store::directory::insert_service(&mut tx, &record, now, by).await {
            Err(DbError::UniqueViolation { .. }) => {
                return Err(WriteError::AlreadyExists(format!("partner service {}", record.partner_service_id)));
            }
            other => other?,
        }
        let (open, maximum) = capacity_totals(&record.capacity);
        capacity::set_capacity(&mut *tx, &record.partner_service_id, open, maximum, now).await?;
        self.announce(&mut tx, vec![record.partner_service_id.clone()], CHANGE_CREATED, by).await?;
        self.committed(tx).await?;
        tracing::info!(partner_service.id = %record.partner_service_id, organization.id = %record.organization_id, actor = by, "partner service created");
        self.service(&record.partner_service_id)
    }

    /// Replaces a service (capacity included: its totals become the open places). When
    /// `updated_at` is given it must be the stored version.
    pub async fn update_service(
        &self,
        mut record: pb::PartnerService,
        by: &str,
    ) -> Result<pb::PartnerService, WriteError> {
        let issues = validate_service(&record, "partner_service", true);
        if !issues.is_empty() {
            return Err(WriteError::Invalid(issues));
        }
        let _guard = self.lock.lock().await;
        let entries = self.entries.current();
        let (_, current) =
            entries.service(&record.partner_service_id).ok_or(WriteError::NotFound("partner service"))?;
        if current.organization_id != record.organization_id {
            return Err(issue(
                "partner_service.organization_id",
                format!(
                    "is {} but the service belongs to {}; a service cannot move to another organization (create a new one)",
                    record.organization_id, current.organization_id
                ),
            ));
        }
        let stored_version = micros_of(&current.updated_at).unwrap_or_default();
        if let Some(expected) = micros_of(&record.updated_at)
            && expected != stored_version
        {
            return Err(WriteError::Changed { what: format!("partner service {}", record.partner_service_id) });
        }
        let now = self.version_after(Some(stored_version));
        Self::stamp_capacity(&mut record.capacity, &current.capacity, now);
        name_locations(&mut record);
        let retired =
            current.status == pb::ServiceStatus::Active as i32 && record.status != pb::ServiceStatus::Active as i32;
        let mut tx = self.db.begin().await?;
        if !store::directory::update_service(&mut tx, &record, stored_version, now, by).await? {
            tx.rollback().await?;
            self.reload().await?;
            return Err(WriteError::Changed { what: format!("partner service {}", record.partner_service_id) });
        }
        let (open, maximum) = capacity_totals(&record.capacity);
        capacity::set_capacity(&mut *tx, &record.partner_service_id, open, maximum, now).await?;
        let change = if retired { CHANGE_RETIRED } else { CHANGE_UPDATED };
        self.announce(&mut tx, vec![record.partner_service_id.clone()], change, by).await?;
        self.committed(tx).await?;
        tracing::info!(partner_service.id = %record.partner_service_id, actor = by, change, "partner service updated");
        self.service(&record.partner_service_id)
    }

    /// Replaces (or adds) the capacity entry with the unit of `capacity`; the service's open
    /// places become the new totals.
    pub async fn update_capacity(
        &self,
        partner_service_id: &str,
        mut capacity: pb::Capacity,
        scope: &CapacityScope,
        by: &str,
    ) -> Result<pb::PartnerService, WriteError> {
        let issues = validate_capacity(&capacity, "capacity");
        if !issues.is_empty() {
            return Err(WriteError::Invalid(issues));
        }
        let _guard = self.lock.lock().await;
        let entries = self.entries.current();
        let (organization, current) = entries
            .service(partner_service_id)
            .filter(|(org, _)| match scope {
                CapacityScope::Any => true,
                CapacityScope::Partner(partner) => org.record.organization_id == *partner,
            })
            .ok_or(WriteError::NotFound("partner service"))?;
        let stored_version = micros_of(&current.updated_at).unwrap_or_default();
        let now = self.version_after(Some(stored_version));
        capacity.updated = Some(wf_proto::time::timestamp_from_micros(now));
        let mut record = current.clone();
        match record.capacity.iter_mut().find(|c| c.unit == capacity.unit) {
            Some(unit) => *unit = capacity.clone(),
            None => record.capacity.push(capacity.clone()),
        }
        let mut tx = self.db.begin().await?;
        if !store::directory::update_service(&mut tx, &record, stored_version, now, by).await? {
            tx.rollback().await?;
            self.reload().await?;
            return Err(WriteError::Changed { what: format!("partner service {partner_service_id}") });
        }
        let (open, maximum) = capacity_totals(&record.capacity);
        capacity::set_capacity(&mut *tx, partner_service_id, open, maximum, now).await?;
        let event = CapacityUpdated {
            partner_id: organization.record.organization_id.clone(),
            partner_service_id: partner_service_id.to_owned(),
            unit: capacity.unit.clone(),
            available: capacity.available,
            maximum: capacity.maximum,
            updated: capacity.updated,
        };
        enqueue(&mut tx, self.db.backend(), partner_service_id, &event).await?;
        self.committed(tx).await?;
        tracing::info!(
            partner_service.id = %partner_service_id,
            unit = %capacity.unit,
            available = capacity.available,
            maximum = capacity.maximum,
            actor = by,
            "capacity updated"
        );
        self.service(partner_service_id)
    }

    /// Applies an HSDS document: the valid records are created or updated (matched by id),
    /// the problems reported; `dry_run` changes nothing. One `directory.changed`
    /// ("imported") names every record changed.
    pub async fn import_hsds(&self, document: &str, dry_run: bool, by: &str) -> Result<ImportPlan, WriteError> {
        let _guard = self.lock.lock().await;
        let entries = self.entries.current();
        let plan = hsds_import::plan(document, &entries);
        if dry_run || (plan.organizations.is_empty() && plan.services.is_empty()) {
            return Ok(plan);
        }
        let now = self.version_after(None);
        let mut tx = self.db.begin().await?;
        let mut changed = Vec::new();
        for (record, exists) in &plan.organizations {
            if *exists {
                let expected = micros_of(&record.updated_at).unwrap_or_default();
                let version = now.max(expected + 1);
                if !store::directory::update_organization(&mut tx, record, expected, version, by).await? {
                    tx.rollback().await?;
                    self.reload().await?;
                    return Err(WriteError::Changed { what: format!("organization {}", record.organization_id) });
                }
            } else {
                store::directory::insert_organization(&mut tx, record, false, now, by).await?;
            }
            changed.push(record.organization_id.clone());
        }
        for (record, exists, capacity_changed) in &plan.services {
            let mut record = record.clone();
            let previous =
                entries.service(&record.partner_service_id).map(|(_, s)| s.capacity.clone()).unwrap_or_default();
            Self::stamp_capacity(&mut record.capacity, &previous, now);
            if *exists {
                let expected = micros_of(&record.updated_at).unwrap_or_default();
                let version = now.max(expected + 1);
                if !store::directory::update_service(&mut tx, &record, expected, version, by).await? {
                    tx.rollback().await?;
                    self.reload().await?;
                    return Err(WriteError::Changed { what: format!("partner service {}", record.partner_service_id) });
                }
            } else {
                name_locations(&mut record);
                store::directory::insert_service(&mut tx, &record, now, by).await?;
            }
            if *capacity_changed {
                let (open, maximum) = capacity_totals(&record.capacity);
                capacity::set_capacity(&mut *tx, &record.partner_service_id, open, maximum, now).await?;
            }
            changed.push(record.partner_service_id.clone());
        }
        self.announce(&mut tx, changed, CHANGE_IMPORTED, by).await?;
        self.committed(tx).await?;
        let (orgs_created, orgs_updated, services_created, services_updated) = plan.counts();
        tracing::info!(
            orgs_created,
            orgs_updated,
            services_created,
            services_updated,
            issues = plan.issues.len(),
            actor = by,
            "hsds document imported"
        );
        Ok(plan)
    }
}
