-- The audit log: an append-only, hash-chained record of every event (see src/domain/chain.rs for
-- the canonical encoding and hash). Entries are never updated or deleted; the triggers below refuse
-- it for every role that can write here. A later step runs the service as a role granted only
-- SELECT and INSERT on audit_entry and SELECT and UPDATE on audit_head, with the tables owned by a
-- separate migration role, so that dropping these triggers needs credentials the service never holds.

CREATE TABLE audit_entry (
    -- 1, 2, 3 … with no gaps: assigned from audit_head under its row lock, never from a sequence
    -- object (a sequence hands out numbers before commit, and a rollback leaves a gap).
    sequence        BIGINT PRIMARY KEY CHECK (sequence >= 1),
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
    occurred_at     BIGINT NOT NULL,
    recorded_at     BIGINT NOT NULL,
    payload         BYTEA NOT NULL,
    previous_hash   BYTEA NOT NULL,
    entry_hash      BYTEA NOT NULL
);

CREATE INDEX audit_entry_by_correlation ON audit_entry (correlation_id, sequence);
CREATE INDEX audit_entry_by_aggregate ON audit_entry (aggregate_id, sequence);
CREATE INDEX audit_entry_by_actor ON audit_entry (actor, sequence);
CREATE INDEX audit_entry_by_type ON audit_entry (event_type, sequence);
CREATE INDEX audit_entry_by_occurred ON audit_entry (occurred_at);

-- The end of the chain, one row. Appenders lock it (SELECT … FOR UPDATE), which serialises appends
-- across every process sharing the database. Checkpoints (a later step) get their own table.
CREATE TABLE audit_head (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    last_sequence  BIGINT NOT NULL,
    last_hash      BYTEA NOT NULL
);
INSERT INTO audit_head (id, last_sequence, last_hash)
VALUES (1, 0, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);

CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END;
$$;

CREATE TRIGGER audit_entry_append_only
    BEFORE UPDATE OR DELETE ON audit_entry
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_entry_no_truncate
    BEFORE TRUNCATE ON audit_entry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_head_no_delete
    BEFORE DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_head_no_truncate
    BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- A new entry must extend the head exactly; the head may only move forward onto the entry just
-- appended. Together they keep even a buggy writer from leaving a gap or a broken link.
CREATE FUNCTION audit_check_append() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head audit_head%ROWTYPE;
BEGIN
    SELECT * INTO head FROM audit_head WHERE id = 1;
    IF NEW.sequence <> head.last_sequence + 1 OR NEW.previous_hash <> head.last_hash THEN
        RAISE EXCEPTION 'audit entry % does not extend the chain head %', NEW.sequence, head.last_sequence;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_entry_extends_head
    BEFORE INSERT ON audit_entry
    FOR EACH ROW EXECUTE FUNCTION audit_check_append();

CREATE FUNCTION audit_check_head_advance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id <> OLD.id
       OR NEW.last_sequence <> OLD.last_sequence + 1
       OR NOT EXISTS (
           SELECT 1 FROM audit_entry WHERE sequence = NEW.last_sequence AND entry_hash = NEW.last_hash
       ) THEN
        RAISE EXCEPTION 'audit head may only advance to the entry just appended';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_head_advances
    BEFORE UPDATE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_check_head_advance();
