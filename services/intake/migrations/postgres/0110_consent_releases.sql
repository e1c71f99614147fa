-- Consent releases: a written, time-limited release of a youth's information to one partner.
-- `coded` is the ConsentRelease protobuf as recorded (roles only, no names); the columns carry
-- what lookups need. Revocation sets revoked_at and takes effect at that instant.
CREATE TABLE consent_release (
    id                          TEXT PRIMARY KEY,
    referral_id                 TEXT NOT NULL REFERENCES referral (id),
    youth_id                    TEXT NOT NULL,
    recipient_organization_id   TEXT NOT NULL,
    purpose                     TEXT NOT NULL,
    signed_at                   BIGINT NOT NULL,
    expires_at                  BIGINT NOT NULL,
    revoked_at                  BIGINT,
    revoke_reason               TEXT,
    practice                    INTEGER NOT NULL,
    coded                       BYTEA NOT NULL,
    created_at                  BIGINT NOT NULL
);
CREATE INDEX consent_release_referral ON consent_release (referral_id, recipient_organization_id);
CREATE INDEX consent_release_youth ON consent_release (youth_id);
