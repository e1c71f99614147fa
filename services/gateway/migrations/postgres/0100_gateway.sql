-- The gateway's own state: local accounts, sessions and sign-in attempt counters.
-- Instants are microseconds since the Unix epoch on the service clock.

-- One row per person. A local account has a password hash; an account signed in through OpenID
-- Connect (a later step) has its issuer and subject instead, and the same sessions.
CREATE TABLE IF NOT EXISTS gateway_accounts (
    account_id            TEXT PRIMARY KEY,
    -- Normalised: trimmed, lowercased.
    username              TEXT NOT NULL,
    role                  TEXT NOT NULL,
    -- Set exactly for role partner: the organization the person acts for.
    partner_id            TEXT,
    -- The subject of the tokens minted for this person (the roster's user_id links to it).
    user_id               TEXT NOT NULL,
    -- argon2id PHC string.
    password_hash         TEXT,
    -- 1: the password is 8 to 14 characters, accepted only because TOTP is on.
    password_needs_totp   BIGINT NOT NULL DEFAULT 0,
    -- TOTP secrets sealed with the field key ring (base64), AAD naming the account.
    totp_secret           TEXT,
    totp_pending_secret   TEXT,
    totp_last_step        BIGINT,
    oidc_issuer           TEXT,
    oidc_subject          TEXT,
    disabled_at           BIGINT,
    acknowledged_version  BIGINT,
    acknowledged_at       BIGINT,
    created_at            BIGINT NOT NULL,
    changed_at            BIGINT NOT NULL,
    CONSTRAINT gateway_accounts_username_key UNIQUE (username),
    CONSTRAINT gateway_accounts_user_id_key UNIQUE (user_id),
    CONSTRAINT gateway_accounts_external_key UNIQUE (oidc_issuer, oidc_subject),
    CONSTRAINT gateway_accounts_role_check CHECK (role IN ('hotline', 'partner', 'case_manager', 'supervisor',
        'program_manager', 'evaluator', 'auditor', 'admin')),
    CONSTRAINT gateway_accounts_partner_check CHECK ((role = 'partner') = (partner_id IS NOT NULL)),
    CONSTRAINT gateway_accounts_flags_check CHECK (password_needs_totp IN (0, 1))
);

-- A session before sign-in has no account: it holds the sign-in form's CSRF token and is replaced
-- (new token, new CSRF token) when its visitor signs in. Only the SHA-256 of the cookie's token is kept.
CREATE TABLE IF NOT EXISTS gateway_sessions (
    session_id      TEXT PRIMARY KEY,
    token_hash      TEXT NOT NULL,
    account_id      TEXT REFERENCES gateway_accounts (account_id),
    csrf_token      TEXT NOT NULL,
    -- 'password' or 'password_totp' (later 'oidc'); NULL before sign-in.
    sign_in_method  TEXT,
    created_at      BIGINT NOT NULL,
    last_seen_at    BIGINT NOT NULL,
    CONSTRAINT gateway_sessions_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX IF NOT EXISTS gateway_sessions_account_idx ON gateway_sessions (account_id);
CREATE INDEX IF NOT EXISTS gateway_sessions_last_seen_idx ON gateway_sessions (last_seen_at);
CREATE INDEX IF NOT EXISTS gateway_sessions_created_idx ON gateway_sessions (created_at);

-- Sign-in attempt counters per account (the username as typed) and per client address, keyed by
-- the SHA-256 of scope and key.
CREATE TABLE IF NOT EXISTS gateway_sign_in_attempts (
    scope             TEXT NOT NULL,
    key_hash          TEXT NOT NULL,
    in_window         BIGINT NOT NULL,
    window_started_at BIGINT NOT NULL,
    consecutive       BIGINT NOT NULL,
    PRIMARY KEY (scope, key_hash),
    CONSTRAINT gateway_sign_in_attempts_scope_check CHECK (scope IN ('account', 'address'))
);
