-- The partner directory as managed through the API and HSDS import: one row per
-- organization and per service, each holding the API record as proto3 JSON
-- (wayfinder.routing.v1.Organization / PartnerService). Seeded from the directory file
-- for ids not yet here; after that the rows win. `updated_at` (microseconds) is the
-- version an update may name for optimistic concurrency.
CREATE TABLE IF NOT EXISTS routing_organization (
    organization_id  TEXT PRIMARY KEY,
    record           TEXT NOT NULL,
    -- 0/1: the program's own case-management team (set by the directory file only).
    program_team     INTEGER NOT NULL CHECK (program_team IN (0, 1)),
    hsds_id          TEXT NOT NULL DEFAULT '',
    updated_at       BIGINT NOT NULL,
    -- User or service id of the last writer ("directory_file" for the seed).
    updated_by       TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS routing_service (
    partner_service_id  TEXT PRIMARY KEY,
    organization_id     TEXT NOT NULL REFERENCES routing_organization (organization_id),
    record              TEXT NOT NULL,
    hsds_id             TEXT NOT NULL DEFAULT '',
    updated_at          BIGINT NOT NULL,
    updated_by          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS routing_service_organization ON routing_service (organization_id);
