-- One youth has at most one open case (#13): a second referral of the same youth, or a confirmed
-- match, joins the open case instead of opening another.
--
-- Every referral of a case is a row of case_referrals now, the one that opened it too ('opened'),
-- with the episode it belongs to: 0 for the opening referral and the referrals that joined it, one
-- more for each reopening by a new referral ('return', 'transfer', 'concurrent' for one received
-- before the exit), whose later joiners share its episode. A partner serves a case while it holds
-- an accepted offer for a referral of the case's latest episode.
ALTER TABLE case_referrals ADD COLUMN episode INTEGER NOT NULL DEFAULT 0;
-- Every row so far is a reopening: one episode after the other, in the order they were linked.
UPDATE case_referrals SET episode = 1 + (
    SELECT COUNT(*) FROM case_referrals earlier
    WHERE earlier.case_id = case_referrals.case_id
      AND (earlier.linked_at < case_referrals.linked_at
           OR (earlier.linked_at = case_referrals.linked_at AND earlier.referral_id < case_referrals.referral_id)));
INSERT INTO case_referrals (referral_id, case_id, linked_at, relation, episode)
    SELECT referral_id, case_id, opened_at, 'opened', 0 FROM cases
    WHERE referral_id NOT IN (SELECT referral_id FROM case_referrals);
CREATE INDEX IF NOT EXISTS case_referrals_episode_idx ON case_referrals (case_id, episode);

-- A case whose referrals joined the youth's open case (a confirmed match while both were open) is
-- closed with CASE_CLOSURE_REASON_MERGED and names the case it joined.
ALTER TABLE cases ADD COLUMN merged_into TEXT;

-- Open cases of a youth opened before this migration beside an earlier open one are flagged, left
-- for staff to close, and kept out of the index; no new pair can arise.
ALTER TABLE cases ADD COLUMN legacy_duplicate INTEGER NOT NULL DEFAULT 0;
UPDATE cases SET legacy_duplicate = 1
WHERE youth_id IS NOT NULL AND stage NOT IN ('closed', 'post_exit_follow_up')
  AND EXISTS (
    SELECT 1 FROM cases other
    WHERE other.youth_id = cases.youth_id AND other.practice = cases.practice
      AND other.stage NOT IN ('closed', 'post_exit_follow_up')
      AND (other.opened_at < cases.opened_at OR (other.opened_at = cases.opened_at AND other.case_id < cases.case_id)));
CREATE UNIQUE INDEX IF NOT EXISTS cases_one_open_case_per_youth ON cases (youth_id, practice)
    WHERE youth_id IS NOT NULL AND legacy_duplicate = 0 AND stage NOT IN ('closed', 'post_exit_follow_up');
