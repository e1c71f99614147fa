-- Sign-ins started at an OpenID Connect provider and not yet come back. A row is taken (deleted)
-- by the callback that names its state, so each is used at most once; rows older than ten minutes
-- are refused and swept. The state is kept only as its SHA-256, as is the browser-binding cookie;
-- the nonce and the PKCE verifier are single-use and worthless without the provider's code.
CREATE TABLE IF NOT EXISTS gateway_oidc_pending (
    state_hash    TEXT PRIMARY KEY,
    binding_hash  TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    verifier      TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS gateway_oidc_pending_created_idx ON gateway_oidc_pending (created_at);
