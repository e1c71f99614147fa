-- The audit log: an append-only, hash-chained record of every event (see src/domain/chain.rs for
-- the canonical encoding and hash). Entries are never updated or deleted; the triggers below refuse
-- it. (SQLite has no roles; on PostgreSQL a later step also restricts the service's grants.)

CREATE TABLE audit_entry (
    -- 1, 2, 3 … with no gaps: assigned from audit_head inside the appending transaction.
    sequence        INTEGER PRIMARY KEY CHECK (sequence >= 1),
    -- The event id doubles as this consumer's inbox: a redelivery finds its entry and appends nothing.
    event_id        TEXT NOT NULL UNIQUE,
    event_type      TEXT NOT NULL,
    schema_version  INTEGER NOT NULL,
    aggregate_id    TEXT NOT NULL,
    correlation_id  TEXT NOT NULL,
    producer        TEXT NOT NULL,
    actor           TEXT NOT NULL,
    actor_role      TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    release_id      TEXT NOT NULL,
    -- JSON array of field paths read (access events); "[]" otherwise.
    fields          TEXT NOT NULL,
    occurred_at     INTEGER NOT NULL,
    recorded_at     INTEGER NOT NULL,
    payload         BLOB NOT NULL,
    previous_hash   BLOB NOT NULL,
    entry_hash      BLOB NOT NULL
);

CREATE INDEX audit_entry_by_correlation ON audit_entry (correlation_id, sequence);
CREATE INDEX audit_entry_by_aggregate ON audit_entry (aggregate_id, sequence);
CREATE INDEX audit_entry_by_actor ON audit_entry (actor, sequence);
CREATE INDEX audit_entry_by_type ON audit_entry (event_type, sequence);
CREATE INDEX audit_entry_by_occurred ON audit_entry (occurred_at);

-- The end of the chain, one row. The single-connection pool serialises appends.
CREATE TABLE audit_head (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    last_sequence  INTEGER NOT NULL,
    last_hash      BLOB NOT NULL
);
INSERT INTO audit_head (id, last_sequence, last_hash)
VALUES (1, 0, X'0000000000000000000000000000000000000000000000000000000000000000');

CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;
CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;

-- A new entry must extend the head exactly; the head may only move forward onto the entry just
-- appended. Together they keep even a buggy writer from leaving a gap or a broken link.
CREATE TRIGGER audit_entry_extends_head BEFORE INSERT ON audit_entry
WHEN NOT EXISTS (
    SELECT 1 FROM audit_head
    WHERE id = 1 AND last_sequence + 1 = NEW.sequence AND last_hash = NEW.previous_hash
)
BEGIN
    SELECT RAISE(ABORT, 'audit entry does not extend the chain head');
END;
CREATE TRIGGER audit_head_advances BEFORE UPDATE ON audit_head
WHEN NEW.id <> OLD.id
  OR NEW.last_sequence <> OLD.last_sequence + 1
  OR NOT EXISTS (SELECT 1 FROM audit_entry WHERE sequence = NEW.last_sequence AND entry_hash = NEW.last_hash)
BEGIN
    SELECT RAISE(ABORT, 'audit head may only advance to the entry just appended');
END;
