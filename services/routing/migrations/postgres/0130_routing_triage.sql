-- The latest triage tier intake gave each referral (`referral.triaged`), so re-routes decide
-- under it. Decisions keep the facts they were made on; this row overrides their tier.
CREATE TABLE routing_referral_triage (
    referral_id TEXT PRIMARY KEY,
    triage_tier TEXT NOT NULL,
    triaged_at BIGINT NOT NULL,
    source_event_id TEXT NOT NULL
);
