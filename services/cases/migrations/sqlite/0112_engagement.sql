-- Engagement: readiness (with the instant it began) and the first successful contact on the
-- case, and every contact attempt. Attempts hold codes only: no notes, no contact details.
ALTER TABLE cases ADD COLUMN readiness TEXT;
ALTER TABLE cases ADD COLUMN readiness_since INTEGER;
ALTER TABLE cases ADD COLUMN first_contact_at INTEGER;

CREATE TABLE IF NOT EXISTS case_readiness_history (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id       TEXT NOT NULL REFERENCES cases (case_id),
    readiness     TEXT NOT NULL,
    effective_at  INTEGER NOT NULL,
    recorded_by   TEXT NOT NULL,
    recorded_at   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS case_readiness_history_case_idx ON case_readiness_history (case_id, id);

CREATE TABLE IF NOT EXISTS contact_attempts (
    contact_attempt_id   TEXT PRIMARY KEY,
    case_id              TEXT NOT NULL REFERENCES cases (case_id),
    referral_id          TEXT NOT NULL,
    attempted_at         INTEGER NOT NULL,
    channel              INTEGER NOT NULL,
    engagement_approach  TEXT NOT NULL,
    outcome              INTEGER NOT NULL,
    attempted_by         TEXT NOT NULL,
    organization_id      TEXT NOT NULL,
    first_contact        INTEGER NOT NULL,
    recorded_at          INTEGER NOT NULL,
    practice             INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS contact_attempts_case_idx ON contact_attempts (case_id, contact_attempt_id);

-- Cases linked after staff confirmed that a new referral's youth is an earlier youth
-- (possible_match.confirmed). One row per confirmed match makes redelivery a no-op.
CREATE TABLE IF NOT EXISTS case_links (
    possible_match_id  TEXT PRIMARY KEY,
    case_id            TEXT NOT NULL REFERENCES cases (case_id),
    earlier_case_id    TEXT NOT NULL REFERENCES cases (case_id),
    relation           TEXT NOT NULL,
    linked_at          INTEGER NOT NULL,
    CONSTRAINT case_links_relation_check CHECK (relation IN ('return', 'transfer', 'concurrent'))
);
CREATE INDEX IF NOT EXISTS case_links_case_idx ON case_links (case_id);
