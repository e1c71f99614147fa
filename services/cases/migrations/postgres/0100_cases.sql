-- One case per referral (the unique referral_id makes a redelivered or re-routed referral a no-op).
-- Ids are prefixed text, instants are BIGINT microseconds, codes are text.
CREATE TABLE IF NOT EXISTS cases (
    case_id          TEXT PRIMARY KEY,
    referral_id      TEXT NOT NULL,
    youth_id         TEXT,
    site             TEXT NOT NULL,
    triage_tier      TEXT NOT NULL,
    stage            TEXT NOT NULL,
    status           TEXT NOT NULL,
    case_manager_id  TEXT,
    assigned_at      BIGINT,
    -- 0/1 rather than BOOLEAN: one integer type decodes the same on both backends.
    practice         INTEGER NOT NULL,
    opened_at        BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    CONSTRAINT cases_referral_id_key UNIQUE (referral_id),
    CONSTRAINT cases_status_check CHECK (status IN ('assigned', 'awaiting_assignment')),
    CONSTRAINT cases_owner_check CHECK ((status = 'assigned') = (case_manager_id IS NOT NULL)),
    CONSTRAINT cases_practice_check CHECK (practice IN (0, 1))
);
CREATE INDEX IF NOT EXISTS cases_case_manager_idx ON cases (case_manager_id, case_id);
CREATE INDEX IF NOT EXISTS cases_status_idx ON cases (status, case_id);

-- Every assignment a case has had, with the caseload it was decided on.
CREATE TABLE IF NOT EXISTS case_assignments (
    id                 BIGSERIAL PRIMARY KEY,
    case_id            TEXT NOT NULL REFERENCES cases (case_id),
    case_manager_id    TEXT NOT NULL,
    assigned_at        BIGINT NOT NULL,
    reason             TEXT NOT NULL,
    open_cases_before  INTEGER NOT NULL,
    max_caseload       INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS case_assignments_case_idx ON case_assignments (case_id, id);
