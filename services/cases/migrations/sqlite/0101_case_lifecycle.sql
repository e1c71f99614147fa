-- The case lifecycle: the facts each stage records, every move made, and missing episodes.
ALTER TABLE cases ADD COLUMN enrolled_at INTEGER;
ALTER TABLE cases ADD COLUMN assessment_due INTEGER;
ALTER TABLE cases ADD COLUMN assessed_at INTEGER;
ALTER TABLE cases ADD COLUMN exited_at INTEGER;
ALTER TABLE cases ADD COLUMN closed_at INTEGER;
-- Proto enum numbers (CaseClosureReason, LivingSituation); 0 = not closed / not recorded.
ALTER TABLE cases ADD COLUMN closure_reason INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN exit_living_situation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN reopen_count INTEGER NOT NULL DEFAULT 0;

-- Every move of a case between stages, in order: who made it, when it took effect, why (a code).
CREATE TABLE IF NOT EXISTS case_stage_history (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id       TEXT NOT NULL REFERENCES cases (case_id),
    from_stage    TEXT NOT NULL,
    to_stage      TEXT NOT NULL,
    effective_at  INTEGER NOT NULL,
    reason        TEXT NOT NULL,
    recorded_by   TEXT NOT NULL,
    recorded_at   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS case_stage_history_case_idx ON case_stage_history (case_id, id);

-- Missing episodes: opened when a case moves to missing, ended when it leaves missing.
CREATE TABLE IF NOT EXISTS case_missing_episodes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id     TEXT NOT NULL REFERENCES cases (case_id),
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER
);
CREATE INDEX IF NOT EXISTS case_missing_episodes_case_idx ON case_missing_episodes (case_id, id);
