-- The evaluation's own store. Events arrive coded (no direct identifiers); the youth id to study id
-- map lives only here and never leaves the service. Study ids are random (UUIDv4), never derived
-- from identity. Instants are microseconds since the epoch.

-- Every consumed event that feeds the analytic data set, kept so RebuildDataset can refold it.
CREATE TABLE evaluation_event (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id     TEXT NOT NULL UNIQUE,
    event_type   TEXT NOT NULL,
    occurred_at  INTEGER NOT NULL,
    recorded_at  INTEGER NOT NULL,
    payload      BLOB NOT NULL
);
CREATE INDEX evaluation_event_by_occurred ON evaluation_event (occurred_at, seq);

CREATE TABLE evaluation_study_id (
    youth_id     TEXT PRIMARY KEY,
    study_id     TEXT NOT NULL UNIQUE,
    assigned_at  INTEGER NOT NULL
);

-- The analytic data set, one row per youth ('program') or per synthetic youth ('synthetic').
CREATE TABLE evaluation_youth (
    dataset      TEXT NOT NULL CHECK (dataset IN ('program', 'synthetic')),
    study_id     TEXT NOT NULL,
    row_json     TEXT NOT NULL,
    PRIMARY KEY (dataset, study_id)
);

-- The latest build of each data set.
CREATE TABLE evaluation_dataset (
    dataset          TEXT PRIMARY KEY CHECK (dataset IN ('program', 'synthetic')),
    dataset_version  TEXT NOT NULL,
    youth_count      INTEGER NOT NULL,
    event_count      INTEGER NOT NULL,
    last_event_seq   INTEGER NOT NULL,
    built_at         INTEGER NOT NULL
);

CREATE TABLE evaluation_report (
    report_id         TEXT PRIMARY KEY,
    kind              INTEGER NOT NULL,
    format            INTEGER NOT NULL,
    scope             BLOB NOT NULL,
    generated_at      INTEGER NOT NULL,
    generated_by      TEXT NOT NULL,
    content_type      TEXT NOT NULL,
    content           BLOB NOT NULL,
    suppressed_cells  INTEGER NOT NULL,
    dataset_version   TEXT NOT NULL,
    synthetic         INTEGER NOT NULL CHECK (synthetic IN (0, 1))
);
CREATE INDEX evaluation_report_by_kind ON evaluation_report (kind, generated_at);
