-- Case notes. The text is free text about the youth: it is stored here only, never in an event or
-- a log line. Privileged notes (California Evidence Code 1038) are read only by the assigned case
-- manager and supervisors, and are left out of every export.
CREATE TABLE IF NOT EXISTS case_notes (
    note_id     TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases (case_id),
    author_id   TEXT NOT NULL,
    written_at  BIGINT NOT NULL,
    text        TEXT NOT NULL,
    privileged  INTEGER NOT NULL,
    category    TEXT NOT NULL,
    CONSTRAINT case_notes_privileged_check CHECK (privileged IN (0, 1))
);
CREATE INDEX IF NOT EXISTS case_notes_case_idx ON case_notes (case_id, note_id);
