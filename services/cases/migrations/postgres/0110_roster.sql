-- The roster in the database, so UpsertCaseManager and SetOnCall persist and every replica
-- assigns from the same roster. The roster file seeds it at start-up: file entries are
-- refreshed from the file until someone edits them through the API (source = 'api').
-- Lists (sites, languages, approaches) are comma-separated codes; staff names never leave here.
CREATE TABLE IF NOT EXISTS roster_members (
    case_manager_id        TEXT PRIMARY KEY,
    display_code           TEXT NOT NULL,
    display_name           TEXT NOT NULL,
    user_id                TEXT,
    is_supervisor          INTEGER NOT NULL,
    sites                  TEXT NOT NULL,
    languages              TEXT NOT NULL,
    -- 0 for supervisors, who take no cases.
    max_caseload           INTEGER NOT NULL,
    active                 INTEGER NOT NULL,
    -- Standing on-call flag (SetOnCall); shifts are in roster_periods.
    on_call                INTEGER NOT NULL DEFAULT 0,
    engagement_approaches  TEXT NOT NULL,
    supervisor_id          TEXT,
    source                 TEXT NOT NULL,
    updated_at             BIGINT NOT NULL,
    updated_by             TEXT NOT NULL,
    CONSTRAINT roster_members_display_code_key UNIQUE (display_code),
    CONSTRAINT roster_members_source_check CHECK (source IN ('file', 'api')),
    CONSTRAINT roster_members_flags_check CHECK (is_supervisor IN (0, 1) AND active IN (0, 1) AND on_call IN (0, 1))
);

-- Leave periods and on-call shifts: [starts_at, ends_at), ends_at NULL = open-ended.
CREATE TABLE IF NOT EXISTS roster_periods (
    id               BIGSERIAL PRIMARY KEY,
    case_manager_id  TEXT NOT NULL REFERENCES roster_members (case_manager_id),
    kind             TEXT NOT NULL,
    starts_at        BIGINT NOT NULL,
    ends_at          BIGINT,
    CONSTRAINT roster_periods_kind_check CHECK (kind IN ('leave', 'on_call'))
);
CREATE INDEX IF NOT EXISTS roster_periods_member_idx ON roster_periods (case_manager_id, kind, starts_at);
