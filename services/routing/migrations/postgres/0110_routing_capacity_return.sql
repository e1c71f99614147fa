-- When the place an accepted offer took was given back (the referral's case closed).
-- Set once, by a guarded UPDATE, so a case closure delivered twice returns one place.
ALTER TABLE routing_offer ADD COLUMN capacity_returned_at BIGINT;
