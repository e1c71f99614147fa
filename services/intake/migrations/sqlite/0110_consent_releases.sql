-- Consent releases: a written, time-limited release of a youth's information to one partner.
-- `coded` is the ConsentRelease protobuf as recorded (roles only, no names); the columns carry
-- what lookups need. Revocation sets revoked_at and takes effect at that instant.
CREATE TABLE consent_release (
    id                          TEXT PRIMARY KEY,
    referral_id                 TEXT NOT NULL REFERENCES referral (id),
    youth_id                    TEXT NOT NULL,
    recipient_organization_id   TEXT NOT NULL,
    purpose                     TEXT NOT NULL,
    signed_at                   INTEGER NOT NULL,
    expires_at                  INTEGER NOT NULL,
    revoked_at                  INTEGER,
    revoke_reason               TEXT,
    practice                    INTEGER NOT NULL,
    coded                       BLOB NOT NULL,
    created_at                  INTEGER NOT NULL
);
CREATE INDEX consent_release_referral ON consent_release (referral_id, recipient_organization_id);
CREATE INDEX consent_release_youth ON consent_release (youth_id);
