-- A plan goal belongs to the episode of its case it was set in (case_referrals.episode): a
-- partner serving the case reads only the current episode's goals, never an earlier episode's plan.
-- A goal moved by a merge takes the episode its referrals' episode moved to.
ALTER TABLE service_plan_goals ADD COLUMN episode INTEGER NOT NULL DEFAULT 0;
-- Goals so far: the latest episode of the case that had begun when the goal was set.
UPDATE service_plan_goals SET episode = COALESCE((
    SELECT MAX(cr.episode) FROM case_referrals cr
    WHERE cr.case_id = service_plan_goals.case_id AND cr.linked_at <= service_plan_goals.created_at), 0);
