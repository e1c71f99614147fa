-- The coded facts each decision was made on (JSON), so decisions can be re-made on a
-- re-route and replayed under a candidate policy. Empty for decisions made before this column.
ALTER TABLE routing_decision ADD COLUMN facts TEXT NOT NULL DEFAULT '';

-- Open places per partner service: seeded from the directory file, then changed only
-- by accepts (a guarded decrement) and capacity updates. Lives in the database so
-- concurrent accepts cannot oversubscribe a service.
CREATE TABLE IF NOT EXISTS routing_capacity (
    partner_service_id  TEXT PRIMARY KEY,
    open_slots          INTEGER NOT NULL CHECK (open_slots >= 0),
    maximum_slots       INTEGER NOT NULL,
    updated_at          BIGINT NOT NULL
);

-- One offer per decision that chose a partner service. Timers are rows: an open offer
-- past its deadline is expired by whichever routing instance looks next, restarts included.
CREATE TABLE IF NOT EXISTS routing_offer (
    offer_id            TEXT PRIMARY KEY,
    decision_id         TEXT NOT NULL REFERENCES routing_decision (decision_id),
    referral_id         TEXT NOT NULL,
    attempt             INTEGER NOT NULL,
    partner_id          TEXT NOT NULL,
    partner_service_id  TEXT NOT NULL,
    -- open, accepted, declined, expired
    status              TEXT NOT NULL,
    triage_tier         TEXT NOT NULL,
    site                TEXT NOT NULL,
    offered_at          BIGINT NOT NULL,
    deadline            BIGINT NOT NULL,
    responded_at        BIGINT,
    responded_by        TEXT,
    decline_reason      TEXT,
    decline_detail      TEXT,
    practice            INTEGER NOT NULL CHECK (practice IN (0, 1))
);
CREATE INDEX IF NOT EXISTS routing_offer_status_deadline ON routing_offer (status, deadline);
CREATE INDEX IF NOT EXISTS routing_offer_referral ON routing_offer (referral_id);
CREATE INDEX IF NOT EXISTS routing_offer_partner ON routing_offer (partner_id);
