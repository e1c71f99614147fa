-- Returning youth. Only keyed hashes (HMAC-SHA256 with the identity key) of normalized identity fields
-- are stored here, never plaintext: exact keys (name + date of birth, phone, email) and coarse blocking
-- keys that select candidates for tolerant scoring (see docs/architecture.md, "Returning youth").
CREATE TABLE referral_match_key (
    referral_id TEXT NOT NULL REFERENCES referral (id),
    kind        TEXT NOT NULL,
    hash        TEXT NOT NULL,
    practice    INTEGER NOT NULL,
    PRIMARY KEY (referral_id, kind, hash)
);
CREATE INDEX referral_match_key_hash ON referral_match_key (hash);

-- A referral the matcher has processed (so the background matcher takes each exactly once).
CREATE TABLE referral_match_state (
    referral_id TEXT PRIMARY KEY REFERENCES referral (id),
    matched_at  INTEGER NOT NULL
);

-- Candidates for staff to confirm or reject; never merged automatically.
CREATE TABLE possible_match (
    id                      TEXT PRIMARY KEY,
    referral_id             TEXT NOT NULL REFERENCES referral (id),
    candidate_youth_id      TEXT NOT NULL,
    candidate_referral_id   TEXT NOT NULL,
    matched_on              TEXT NOT NULL,
    score                   REAL NOT NULL,
    status                  INTEGER NOT NULL,
    practice                INTEGER NOT NULL,
    found_at                INTEGER NOT NULL,
    decided_at              INTEGER,
    decided_by              TEXT,
    UNIQUE (referral_id, candidate_youth_id)
);
CREATE INDEX possible_match_status ON possible_match (status, id);
