-- Each referral's progress against the workflow's time limit (DESIGN.md: emergent contact within
-- 90 minutes, urgent accepted within 24 hours, routine within 48 hours, counted from receipt).
-- One row per referral, written by whichever of its events arrives first: `referral.received`
-- (received_at, tier, site, practice and the limit in force), `referral.triaged` (a new tier and
-- limit), `contact_attempt.recorded` (the earliest attempt that reached the youth) and
-- `referral.closed`. Referrals received before this table have no received_at and no limit.
CREATE TABLE IF NOT EXISTS routing_referral_limit (
    referral_id       TEXT PRIMARY KEY,
    received_at       BIGINT,
    triage_tier       TEXT,
    site              TEXT,
    practice          INTEGER CHECK (practice IN (0, 1)),
    -- "contact" or "match": what the limit in force asks for, and its last instant in time.
    limit_kind        TEXT,
    due_at            BIGINT,
    first_contact_at  BIGINT,
    closed_at         BIGINT,
    -- Set once the worker found the limit met, closed in time or missed (and escalated); a
    -- re-triage clears it, so the new tier's limit is looked at again.
    settled_at        BIGINT
);
CREATE INDEX IF NOT EXISTS routing_referral_limit_due ON routing_referral_limit (settled_at, due_at);

-- A missed time limit is escalated once per referral and reason, across restarts, redeliveries
-- and routing instances.
CREATE UNIQUE INDEX IF NOT EXISTS routing_escalation_time_limit ON routing_escalation (referral_id, reason)
    WHERE reason IN ('emergent_contact_overdue', 'match_deadline_missed');
