//! The directory's tables: `routing_organization` and `routing_service`, each row the
//! API record as proto3 JSON plus the columns queries need. Writers take the caller's
//! transaction; readers take the pool. `updated_at` (microseconds) is the version an
//! update names for optimistic concurrency.

use std::collections::BTreeMap;

use sqlx::Row;
use wf_db::{Db, DbError, Tx};
use wf_proto::routing::v1 as pb;

use crate::domain::directory::{DirectoryEntries, OrganizationEntry};

/// `updated_by` of rows seeded from the directory file.
pub const SEEDED_BY: &str = "directory_file";

fn corrupt(table: &str, id: &str, err: impl std::fmt::Display) -> DbError {
    DbError::Other(sqlx::Error::Decode(format!("{table} row {id} holds an unreadable record: {err}").into()))
}

fn encode<T: prost::Message + prost::Name>(record: &T) -> Result<String, DbError> {
    wf_proto::json::to_json(record).map_err(|err| DbError::Other(sqlx::Error::Encode(Box::new(err))))
}

/// The organization record as stored: derived and versioning fields cleared.
fn stored_organization(record: &pb::Organization) -> pb::Organization {
    pb::Organization { sites: Vec::new(), updated_at: None, ..record.clone() }
}

fn stored_service(record: &pb::PartnerService) -> pb::PartnerService {
    pb::PartnerService { updated_at: None, ..record.clone() }
}

/// Inserts the organizations and services of `entries` that are not stored yet (the
/// directory file seeds a new database; rows already there win).
pub async fn seed(db: &Db, entries: &DirectoryEntries, now: i64) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    for entry in entries.organizations.values() {
        let keep_stored = " ON CONFLICT (organization_id) DO NOTHING";
        insert_organization_row(&mut tx, &entry.record, entry.program_team, now, SEEDED_BY, keep_stored).await?;
        for service in entry.services.values() {
            insert_service_row(&mut tx, service, now, SEEDED_BY, " ON CONFLICT (partner_service_id) DO NOTHING")
                .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// The whole stored directory.
pub async fn load(db: &Db) -> Result<DirectoryEntries, DbError> {
    let organizations =
        sqlx::query("SELECT organization_id, record, program_team, updated_at FROM routing_organization")
            .fetch_all(db.pool())
            .await?;
    let mut entries = DirectoryEntries { organizations: BTreeMap::new() };
    for row in &organizations {
        let id: String = row.try_get("organization_id")?;
        let text: String = row.try_get("record")?;
        let mut record: pb::Organization =
            wf_proto::json::from_json(&text).map_err(|err| corrupt("routing_organization", &id, err))?;
        record.updated_at = Some(wf_proto::time::timestamp_from_micros(row.try_get("updated_at")?));
        let program_team = row.try_get::<i64, _>("program_team")? != 0;
        entries.organizations.insert(id, OrganizationEntry { record, program_team, services: BTreeMap::new() });
    }
    let services = sqlx::query("SELECT partner_service_id, organization_id, record, updated_at FROM routing_service")
        .fetch_all(db.pool())
        .await?;
    for row in &services {
        let id: String = row.try_get("partner_service_id")?;
        let organization_id: String = row.try_get("organization_id")?;
        let text: String = row.try_get("record")?;
        let mut record: pb::PartnerService =
            wf_proto::json::from_json(&text).map_err(|err| corrupt("routing_service", &id, err))?;
        record.updated_at = Some(wf_proto::time::timestamp_from_micros(row.try_get("updated_at")?));
        let organization = entries
            .organizations
            .get_mut(&organization_id)
            .ok_or_else(|| corrupt("routing_service", &id, format!("names missing organization {organization_id}")))?;
        organization.services.insert(id, record);
    }
    Ok(entries)
}

/// Stores a new organization; a unique violation means the id is taken.
pub async fn insert_organization(
    tx: &mut Tx,
    record: &pb::Organization,
    program_team: bool,
    now: i64,
    by: &str,
) -> Result<(), DbError> {
    insert_organization_row(tx, record, program_team, now, by, "").await
}

/// `on_conflict` is empty or an `ON CONFLICT` clause.
async fn insert_organization_row(
    tx: &mut Tx,
    record: &pb::Organization,
    program_team: bool,
    now: i64,
    by: &str,
    on_conflict: &str,
) -> Result<(), DbError> {
    sqlx::query(&format!(
        "INSERT INTO routing_organization (organization_id, record, program_team, hsds_id, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6){on_conflict}"
    ))
    .bind(&record.organization_id)
    .bind(encode(&stored_organization(record))?)
    .bind(i32::from(program_team))
    .bind(&record.hsds_id)
    .bind(now)
    .bind(by)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Replaces an organization whose version is still `expected`; `false` when it changed
/// (or vanished) meanwhile, in which case nothing was written.
pub async fn update_organization(
    tx: &mut Tx,
    record: &pb::Organization,
    expected: i64,
    now: i64,
    by: &str,
) -> Result<bool, DbError> {
    let row = Versioned { table: "routing_organization", id_column: "organization_id", id: &record.organization_id };
    row.replace(tx, encode(&stored_organization(record))?, &record.hsds_id, expected, now, by).await
}

/// Stores a new service; a unique violation means the id is taken.
pub async fn insert_service(tx: &mut Tx, record: &pb::PartnerService, now: i64, by: &str) -> Result<(), DbError> {
    insert_service_row(tx, record, now, by, "").await
}

async fn insert_service_row(
    tx: &mut Tx,
    record: &pb::PartnerService,
    now: i64,
    by: &str,
    on_conflict: &str,
) -> Result<(), DbError> {
    sqlx::query(&format!(
        "INSERT INTO routing_service (partner_service_id, organization_id, record, hsds_id, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6){on_conflict}"
    ))
    .bind(&record.partner_service_id)
    .bind(&record.organization_id)
    .bind(encode(&stored_service(record))?)
    .bind(&record.hsds_id)
    .bind(now)
    .bind(by)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Replaces a service whose version is still `expected`; `false` when it changed meanwhile.
pub async fn update_service(
    tx: &mut Tx,
    record: &pb::PartnerService,
    expected: i64,
    now: i64,
    by: &str,
) -> Result<bool, DbError> {
    let row = Versioned { table: "routing_service", id_column: "partner_service_id", id: &record.partner_service_id };
    row.replace(tx, encode(&stored_service(record))?, &record.hsds_id, expected, now, by).await
}

/// A directory row whose `updated_at` is its version.
struct Versioned<'a> {
    table: &'static str,
    id_column: &'static str,
    id: &'a str,
}

impl Versioned<'_> {
    /// Replaces the record when the stored version is still `expected`; `false` when it is not.
    async fn replace(
        &self,
        tx: &mut Tx,
        record: String,
        hsds_id: &str,
        expected: i64,
        now: i64,
        by: &str,
    ) -> Result<bool, DbError> {
        let (table, id_column) = (self.table, self.id_column);
        let result = sqlx::query(&format!(
            "UPDATE {table} SET record = $1, hsds_id = $2, updated_at = $3, updated_by = $4 \
             WHERE {id_column} = $5 AND updated_at = $6"
        ))
        .bind(record)
        .bind(hsds_id)
        .bind(now)
        .bind(by)
        .bind(self.id)
        .bind(expected)
        .execute(&mut **tx)
        .await?;
        Ok(result.rows_affected() == 1)
    }
}
