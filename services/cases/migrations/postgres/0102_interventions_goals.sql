-- The partner the referral was last routed to: the partner that serves the case, and the only
-- partner that may record or read its interventions.
ALTER TABLE cases ADD COLUMN partner_id TEXT;

-- Services delivered. Dates are ISO 'YYYY-MM-DD' text; unit_type is the UnitType number.
CREATE TABLE IF NOT EXISTS interventions (
    intervention_id      TEXT PRIMARY KEY,
    case_id              TEXT NOT NULL REFERENCES cases (case_id),
    referral_id          TEXT NOT NULL,
    service_type         TEXT NOT NULL,
    delivered_on         TEXT NOT NULL,
    units                DOUBLE PRECISION NOT NULL,
    unit_type            INTEGER NOT NULL,
    provider_id          TEXT NOT NULL,
    partner_service_id   TEXT NOT NULL,
    engagement_approach  TEXT NOT NULL,
    recorded_by          TEXT NOT NULL,
    recorded_at          BIGINT NOT NULL,
    goal_id              TEXT NOT NULL,
    practice             INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS interventions_case_idx ON interventions (case_id, intervention_id);

-- Service plan goals. The description is the youth's own wording: it stays in this database and
-- never travels in an event or a log line.
CREATE TABLE IF NOT EXISTS service_plan_goals (
    goal_id                TEXT PRIMARY KEY,
    case_id                TEXT NOT NULL REFERENCES cases (case_id),
    domain                 TEXT NOT NULL,
    -- Service type codes joined by ','.
    planned_service_types  TEXT NOT NULL,
    status                 INTEGER NOT NULL,
    target_date            TEXT,
    description            TEXT NOT NULL,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS service_plan_goals_case_idx ON service_plan_goals (case_id, goal_id);
