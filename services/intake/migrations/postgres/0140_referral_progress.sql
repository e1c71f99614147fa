-- A referral's progress from the events of routing and cases, as facts the status is derived from
-- (domain/progress): each fact only moves forward, so late and redelivered events never move a
-- referral backwards.
-- The partner match: the latest step routing announced ('routed', 'offered', 'declined', 'expired',
-- 'withdrawn'), the event that did (UUIDv7 ids order the steps) and the waiting offer's deadline.
ALTER TABLE referral ADD COLUMN matching_step TEXT;
ALTER TABLE referral ADD COLUMN matching_event_id TEXT;
ALTER TABLE referral ADD COLUMN offer_deadline BIGINT;
-- First instants: matched to a provider (an offer accepted), a case manager owning the case, the
-- youth first reached, the case enrolled.
ALTER TABLE referral ADD COLUMN matched_at BIGINT;
ALTER TABLE referral ADD COLUMN assigned_at BIGINT;
ALTER TABLE referral ADD COLUMN first_contact_at BIGINT;
ALTER TABLE referral ADD COLUMN enrolled_at BIGINT;
-- The case's latest closure (case_closed 1, with its CaseClosureReason) or reopening (0).
ALTER TABLE referral ADD COLUMN case_closed INTEGER;
ALTER TABLE referral ADD COLUMN case_closure_reason INTEGER;
ALTER TABLE referral ADD COLUMN case_event_id TEXT;
ALTER TABLE referral ADD COLUMN case_event_at BIGINT;
-- Staff triaged it (the status it has before routing acts); staff closed it (final, unlike a closure
-- by its case, which a reopening takes back).
ALTER TABLE referral ADD COLUMN triaged_at BIGINT;
ALTER TABLE referral ADD COLUMN staff_closed INTEGER NOT NULL DEFAULT 0;
-- Referral.referring_organization_id, for ListReferrals' filter ('' when none).
ALTER TABLE referral ADD COLUMN referring_organization_id TEXT NOT NULL DEFAULT '';
CREATE INDEX referral_referring_organization ON referral (referring_organization_id);
CREATE INDEX referral_status ON referral (status);

-- Rows from before: every closure was a staff closure; triage, routing and assignment are in the
-- history. The referring organization of a partner's (or an organization's hotline's) submission is
-- the submitter's organization; one staff entered on an organization's behalf before this migration
-- stays '' (not found by that filter).
UPDATE referral SET staff_closed = 1 WHERE status = 12;
UPDATE referral SET triaged_at =
    (SELECT MIN(c.at) FROM referral_status_change c WHERE c.referral_id = referral.id AND c.status = 2);
UPDATE referral SET assigned_at =
    (SELECT MIN(c.at) FROM referral_status_change c WHERE c.referral_id = referral.id AND c.status = 6);
UPDATE referral SET matching_event_id =
    (SELECT MAX(c.event_id) FROM referral_status_change c WHERE c.referral_id = referral.id AND c.status = 3);
UPDATE referral SET matching_step = 'routed' WHERE matching_event_id IS NOT NULL;
UPDATE referral SET referring_organization_id = submitted_by_partner WHERE submitted_by_partner IS NOT NULL;

-- Escalations of a referral (routing's referral.escalated / escalation.resolved); either may arrive first.
CREATE TABLE referral_escalation (
    escalation_id   TEXT PRIMARY KEY,
    referral_id     TEXT NOT NULL REFERENCES referral (id),
    raised_at       BIGINT,
    resolved_at     BIGINT
);
CREATE INDEX referral_escalation_referral ON referral_escalation (referral_id);

-- Offers accepted for a referral (offer.accepted): the accepting partner reads the coded referral and,
-- under an active release naming it, the released categories.
CREATE TABLE referral_accepted_offer (
    offer_id            TEXT PRIMARY KEY,
    referral_id         TEXT NOT NULL REFERENCES referral (id),
    partner_id          TEXT NOT NULL,
    partner_service_id  TEXT NOT NULL,
    accepted_at         BIGINT NOT NULL,
    accepted_by         TEXT NOT NULL
);
CREATE INDEX referral_accepted_offer_partner ON referral_accepted_offer (referral_id, partner_id);
