-- Referrals. Coded fields live in columns and in `coded` (the protobuf Referral
-- without its personal part); personal details only ever exist sealed
-- (AES-256-GCM with a versioned key, bound to the referral id).
CREATE TABLE referral (
    id                  TEXT PRIMARY KEY,
    youth_id            TEXT NOT NULL,
    -- (submitter, external reference): the idempotency key.
    dedupe_key          TEXT NOT NULL UNIQUE,
    submitted_by        TEXT NOT NULL,
    submitted_by_partner TEXT,
    source              INTEGER NOT NULL,
    triage_tier         INTEGER NOT NULL,
    site                INTEGER NOT NULL,
    practice            INTEGER NOT NULL,
    is_minor            INTEGER NOT NULL,
    outside_program     INTEGER NOT NULL,
    status              INTEGER NOT NULL,
    coded               BYTEA NOT NULL,
    personal_sealed     BYTEA,
    personal_key_version INTEGER,
    case_id             TEXT,
    received_at         BIGINT NOT NULL,
    created_at          BIGINT NOT NULL
);
CREATE INDEX referral_received ON referral (received_at);

CREATE TABLE referral_status_change (
    referral_id  TEXT NOT NULL REFERENCES referral (id),
    event_id     TEXT NOT NULL,
    status       INTEGER NOT NULL,
    at           BIGINT NOT NULL,
    detail       TEXT NOT NULL,
    PRIMARY KEY (referral_id, event_id)
);
