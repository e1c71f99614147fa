-- Routing decisions with their explanation (ranked candidates and each rule's verdict).
CREATE TABLE IF NOT EXISTS routing_decision (
    decision_id         TEXT PRIMARY KEY,
    referral_id         TEXT NOT NULL,
    -- 1 for the first decision, 2+ for re-routes.
    attempt             INTEGER NOT NULL,
    policy_version      TEXT NOT NULL,
    decided_at          BIGINT NOT NULL,
    triage_tier         TEXT NOT NULL,
    site                TEXT NOT NULL,
    -- "offered" or "no_match" (or "exhausted" for re-routes).
    outcome             TEXT NOT NULL,
    partner_id          TEXT,
    partner_service_id  TEXT,
    deadline            BIGINT NOT NULL,
    -- Coded trigger, e.g. "referral_received".
    reason              TEXT NOT NULL,
    -- Coded explanation of the choice, e.g. "covers 2/2 needs; language es; capacity 3 open".
    explanation         TEXT NOT NULL,
    -- JSON array of candidates with per-rule verdicts.
    candidates          TEXT NOT NULL,
    -- 0/1: SQLite BOOLEAN columns cannot be read back through the sqlx Any driver.
    practice            INTEGER NOT NULL CHECK (practice IN (0, 1)),
    source_event_id     TEXT NOT NULL,
    CONSTRAINT routing_decision_referral_attempt UNIQUE (referral_id, attempt)
);
CREATE INDEX IF NOT EXISTS routing_decision_decided_at ON routing_decision (decided_at);

-- Referrals waiting for a person.
CREATE TABLE IF NOT EXISTS routing_escalation (
    escalation_id  TEXT PRIMARY KEY,
    referral_id    TEXT NOT NULL,
    reason         TEXT NOT NULL,
    triage_tier    TEXT NOT NULL,
    site           TEXT NOT NULL,
    escalated_at   BIGINT NOT NULL,
    deadline       BIGINT NOT NULL,
    decision_id    TEXT NOT NULL REFERENCES routing_decision (decision_id),
    practice       INTEGER NOT NULL CHECK (practice IN (0, 1)),
    resolved_at    BIGINT,
    resolved_by    TEXT,
    resolution     TEXT
);
CREATE INDEX IF NOT EXISTS routing_escalation_referral ON routing_escalation (referral_id);
