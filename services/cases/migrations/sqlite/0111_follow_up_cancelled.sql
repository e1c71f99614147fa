-- A reopened case cancels the follow-ups of the exit it undid (status 'cancelled'). SQLite cannot
-- change a CHECK constraint in place: the table is rebuilt (nothing references follow_ups).
CREATE TABLE follow_ups_new (
    follow_up_id       TEXT PRIMARY KEY,
    case_id            TEXT NOT NULL REFERENCES cases (case_id),
    kind               INTEGER NOT NULL,
    due_on             TEXT NOT NULL,
    due_at             INTEGER NOT NULL,
    overdue_at         INTEGER NOT NULL,
    status             TEXT NOT NULL,
    due_announced      INTEGER NOT NULL DEFAULT 0,
    overdue_announced  INTEGER NOT NULL DEFAULT 0,
    completed_at       INTEGER,
    recorded_by        TEXT,
    outcomes           BLOB,
    CONSTRAINT follow_ups_status_check CHECK (status IN ('scheduled', 'due', 'overdue', 'completed', 'lost_to_follow_up', 'refused', 'cancelled'))
);
INSERT INTO follow_ups_new (follow_up_id, case_id, kind, due_on, due_at, overdue_at, status, due_announced,
    overdue_announced, completed_at, recorded_by, outcomes)
    SELECT follow_up_id, case_id, kind, due_on, due_at, overdue_at, status, due_announced, overdue_announced,
        completed_at, recorded_by, outcomes FROM follow_ups;
DROP TABLE follow_ups;
ALTER TABLE follow_ups_new RENAME TO follow_ups;
CREATE INDEX IF NOT EXISTS follow_ups_case_idx ON follow_ups (case_id, follow_up_id);
CREATE INDEX IF NOT EXISTS follow_ups_due_idx ON follow_ups (status, due_at);
