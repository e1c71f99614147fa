-- Signed checkpoints (see src/domain/checkpoint.rs). Append-only like the entries; `frontier`
-- (the Merkle tree's right edge, concatenated 32-byte hashes) lets the next checkpoint extend the
-- tree without re-reading the log. It is not signed: a verifier recomputes the root.
CREATE TABLE audit_checkpoint (
    tree_size        INTEGER PRIMARY KEY CHECK (tree_size >= 1),
    root_hash        BLOB NOT NULL,
    last_entry_hash  BLOB NOT NULL,
    signed_at        INTEGER NOT NULL,
    key_id           TEXT NOT NULL,
    signature        BLOB NOT NULL,
    frontier         BLOB NOT NULL
);
CREATE INDEX audit_checkpoint_by_signed_at ON audit_checkpoint (signed_at);

CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint
BEGIN
    SELECT RAISE(ABORT, 'audit checkpoints are append-only');
END;
CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint
BEGIN
    SELECT RAISE(ABORT, 'audit checkpoints are append-only');
END;
