-- Offers a partner accepted (offer.accepted from routing). A partner acts on a case only while it
-- holds an accepted offer for the case's current referral (the one that opened it, or the latest
-- one a reopened case absorbed); routing never moves an accepted offer to declined, expired or
-- withdrawn, so a pending, declined, expired or withdrawn offer has no row here. Kept apart from
-- the case row: offer.accepted may arrive before referral.routed has opened the case.
CREATE TABLE IF NOT EXISTS accepted_offers (
    offer_id     TEXT PRIMARY KEY,
    referral_id  TEXT NOT NULL,
    partner_id   TEXT NOT NULL,
    accepted_at  BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS accepted_offers_referral_idx ON accepted_offers (referral_id, partner_id);

-- The partner a referral was last *routed* to (an offer, not an acceptance) decided who served the
-- case; nothing reads it any more.
ALTER TABLE cases DROP COLUMN partner_id;
