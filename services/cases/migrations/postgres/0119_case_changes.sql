-- Who made the change cases.updated_at records (Case.updated_by): the user id of the person whose
-- request changed the case, or 'cases' for a change the service made itself on an event. Changes
-- before this column existed name nobody.
ALTER TABLE cases ADD COLUMN updated_by TEXT NOT NULL DEFAULT '';

-- An intervention its recorder withdrew right after recording it (WithdrawIntervention): the row
-- stays, with who withdrew it and when, and is no longer listed.
ALTER TABLE interventions ADD COLUMN withdrawn_at BIGINT;
ALTER TABLE interventions ADD COLUMN withdrawn_by TEXT;
