-- Signed checkpoints (see src/domain/checkpoint.rs). Append-only like the entries; `frontier`
-- (the Merkle tree's right edge, concatenated 32-byte hashes) lets the next checkpoint extend the
-- tree without re-reading the log. It is not signed: a verifier recomputes the root.
CREATE TABLE audit_checkpoint (
    tree_size        BIGINT PRIMARY KEY CHECK (tree_size >= 1),
    root_hash        BYTEA NOT NULL,
    last_entry_hash  BYTEA NOT NULL,
    signed_at        BIGINT NOT NULL,
    key_id           TEXT NOT NULL,
    signature        BYTEA NOT NULL,
    frontier         BYTEA NOT NULL
);
CREATE INDEX audit_checkpoint_by_signed_at ON audit_checkpoint (signed_at);

CREATE TRIGGER audit_checkpoint_append_only
    BEFORE UPDATE OR DELETE ON audit_checkpoint
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoint_no_truncate
    BEFORE TRUNCATE ON audit_checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
