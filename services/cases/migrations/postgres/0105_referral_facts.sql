-- Coded facts of each received referral (from referral.received), read when the referral is
-- routed: who the youth is (a random id, never a name), where, which language, how urgent.
CREATE TABLE IF NOT EXISTS referral_facts (
    referral_id   TEXT PRIMARY KEY,
    youth_id      TEXT NOT NULL,
    site          TEXT NOT NULL,
    language      TEXT NOT NULL,
    triage_tier   TEXT NOT NULL,
    practice      INTEGER NOT NULL,
    received_at   BIGINT NOT NULL
);

-- Referrals a case absorbed after the one that opened it (a returning youth's new referral).
CREATE TABLE IF NOT EXISTS case_referrals (
    referral_id  TEXT PRIMARY KEY,
    case_id      TEXT NOT NULL REFERENCES cases (case_id),
    linked_at    BIGINT NOT NULL,
    -- 'return' or 'transfer' (DOMAIN.md: within 14 days of closure is a transfer).
    relation     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS case_referrals_case_idx ON case_referrals (case_id, linked_at);
CREATE INDEX IF NOT EXISTS cases_youth_idx ON cases (youth_id, opened_at);
