-- The staff-driven part of a referral's lifecycle: hold (and the status to resume to), closure.
-- While a referral is on hold, status events from routing and cases advance `status_before_hold`
-- instead of `status`, so resuming returns to where the referral would be.
ALTER TABLE referral ADD COLUMN status_before_hold INTEGER;
ALTER TABLE referral ADD COLUMN closure_reason INTEGER;
ALTER TABLE referral ADD COLUMN closed_at BIGINT;
ALTER TABLE referral ADD COLUMN duplicate_of_referral_id TEXT;
CREATE INDEX referral_practice_received ON referral (practice, received_at);
CREATE INDEX referral_youth ON referral (youth_id);

-- Screenings of a referral, coded only (tool, version, result, score, screener ids); the same
-- Screening protobuf is also kept in the referral's `coded` record.
CREATE TABLE screening (
    id                          TEXT PRIMARY KEY,
    referral_id                 TEXT NOT NULL REFERENCES referral (id),
    tool                        INTEGER NOT NULL,
    result                      INTEGER NOT NULL,
    screened_at                 BIGINT,
    screener_organization_id    TEXT NOT NULL,
    recorded_by                 TEXT NOT NULL,
    practice                    INTEGER NOT NULL,
    coded                       BYTEA NOT NULL,
    created_at                  BIGINT NOT NULL
);
CREATE INDEX screening_referral ON screening (referral_id, id);
