-- Recidivism events with their date (parts may be unknown: 0) and source of the information.
CREATE TABLE IF NOT EXISTS recidivism_events (
    recidivism_event_id   TEXT PRIMARY KEY,
    case_id               TEXT NOT NULL REFERENCES cases (case_id),
    youth_id              TEXT NOT NULL,
    kind                  INTEGER NOT NULL,
    evidence              INTEGER NOT NULL,
    occurred_year         INTEGER NOT NULL,
    occurred_month        INTEGER NOT NULL,
    occurred_day          INTEGER NOT NULL,
    recorded_at           BIGINT NOT NULL,
    recorded_by           TEXT NOT NULL,
    evidence_id           TEXT NOT NULL,
    charge_category       TEXT NOT NULL,
    prostitution_related  INTEGER NOT NULL,
    practice              INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS recidivism_events_case_idx ON recidivism_events (case_id, recidivism_event_id);
CREATE INDEX IF NOT EXISTS recidivism_events_youth_idx ON recidivism_events (youth_id, recidivism_event_id);
