-- The coded facts an offer shows the partner (copied from its decision's facts): needs as a JSON
-- array of service type codes ('' = none recorded), preferred language, minor flag, age in years
-- (NULL = unknown).
ALTER TABLE routing_offer ADD COLUMN needs TEXT NOT NULL DEFAULT '';
ALTER TABLE routing_offer ADD COLUMN preferred_language TEXT NOT NULL DEFAULT '';
ALTER TABLE routing_offer ADD COLUMN is_minor INTEGER NOT NULL DEFAULT 0 CHECK (is_minor IN (0, 1));
ALTER TABLE routing_offer ADD COLUMN age_years INTEGER;
