-- Post-exit follow-ups (6, 12, 24 months after exit). due_at/overdue_at are the instants the
-- worker announces follow_up.due / follow_up.overdue; the announced flags make it idempotent
-- across restarts. Outcomes are the coded FollowUpOutcomes message (no free text).
CREATE TABLE IF NOT EXISTS follow_ups (
    follow_up_id       TEXT PRIMARY KEY,
    case_id            TEXT NOT NULL REFERENCES cases (case_id),
    kind               INTEGER NOT NULL,
    due_on             TEXT NOT NULL,
    due_at             BIGINT NOT NULL,
    overdue_at         BIGINT NOT NULL,
    status             TEXT NOT NULL,
    due_announced      INTEGER NOT NULL DEFAULT 0,
    overdue_announced  INTEGER NOT NULL DEFAULT 0,
    completed_at       BIGINT,
    recorded_by        TEXT,
    outcomes           BYTEA,
    CONSTRAINT follow_ups_status_check CHECK (status IN ('scheduled', 'due', 'overdue', 'completed', 'lost_to_follow_up', 'refused'))
);
CREATE INDEX IF NOT EXISTS follow_ups_case_idx ON follow_ups (case_id, follow_up_id);
CREATE INDEX IF NOT EXISTS follow_ups_due_idx ON follow_ups (status, due_at);
