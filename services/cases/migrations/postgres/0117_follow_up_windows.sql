-- Follow-ups at enrollment (baseline, assessment) and at exit besides the 6/12/24-month ones (#13):
-- each has a window [opens_at, overdue_at) in which it is recorded; due_at is the instant of its
-- due date (what data completeness counts from). follow_up.due is announced when the window opens.
-- Until now every window opened on the due date.
ALTER TABLE follow_ups ADD COLUMN opens_at BIGINT;
UPDATE follow_ups SET opens_at = due_at;
CREATE INDEX IF NOT EXISTS follow_ups_opens_idx ON follow_ups (status, opens_at);

-- The engagement approach a referral names (referral.received), for Case.engagement_approach
-- until a contact attempt names one.
ALTER TABLE referral_facts ADD COLUMN engagement_approach TEXT NOT NULL DEFAULT '';

-- The service an accepted offer was for (offer.accepted): which organization a service belongs to,
-- as far as cases can know, so an intervention cannot name another organization's service.
ALTER TABLE accepted_offers ADD COLUMN partner_service_id TEXT NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS accepted_offers_service_idx ON accepted_offers (partner_service_id);
