-- Every routing policy loaded, in load order: the audit trail of what rules routed whom.
CREATE TABLE IF NOT EXISTS routing_policy (
    policy_id    TEXT PRIMARY KEY,
    version      TEXT NOT NULL,
    -- Hex SHA-256 of the document: a changed text is a new load even under the same version.
    sha256       TEXT NOT NULL,
    document     TEXT NOT NULL,
    loaded_at    BIGINT NOT NULL,
    -- "config" when loaded at start-up from the configuration.
    loaded_by    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS routing_policy_loaded_at ON routing_policy (loaded_at);
