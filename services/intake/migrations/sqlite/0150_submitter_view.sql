-- What the submitter of a referral (a hotline, a submitting partner) sees: its status and history
-- up to the hand-off, the referral leaving intake's hands (domain/submitter), in the order intake
-- recorded them; and whether the receiving partner's acceptance belongs to the case's current
-- episode (domain/progress serves_now), in the same order.
--
-- progress_seq counts what intake recorded about the referral (every history entry, every event
-- of routing and cases it followed), under the referral's row lock; each history entry keeps its
-- number (seq), so the order entries were recorded in is kept whatever instant an event announced.
ALTER TABLE referral ADD COLUMN progress_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE referral_status_change ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
-- The hand-off, recorded once when the facts first take the referral out of intake's hands: by
-- which fact ('assigned', 'first_contact', 'enrolled', 'case_closed', 'staff_closed'), the status the
-- submitter is shown from then on (ASSIGNED 6 or CLOSED 12), its instant, the seq of the history
-- entry that recorded it, and when the referral was matched if it was by then.
ALTER TABLE referral ADD COLUMN handed_off_by TEXT;
ALTER TABLE referral ADD COLUMN handed_off_status INTEGER;
ALTER TABLE referral ADD COLUMN handed_off_at INTEGER;
ALTER TABLE referral ADD COLUMN handed_off_seq INTEGER;
ALTER TABLE referral ADD COLUMN handed_off_matched_at INTEGER;
-- The progress_seq of the case.reopened that reopened the referral's closed case: acceptances
-- recorded before it belong to an earlier episode.
ALTER TABLE referral ADD COLUMN episode_seq INTEGER;
ALTER TABLE referral_accepted_offer ADD COLUMN recorded_seq INTEGER NOT NULL DEFAULT 0;

-- Rows from before: their history is numbered in the order it was shown (instant, event id).
UPDATE referral_status_change SET seq = (
    SELECT COUNT(*) FROM referral_status_change c
    WHERE c.referral_id = referral_status_change.referral_id
      AND (c.at < referral_status_change.at
           OR (c.at = referral_status_change.at AND c.event_id <= referral_status_change.event_id)));
CREATE UNIQUE INDEX referral_status_change_seq ON referral_status_change (referral_id, seq);
UPDATE referral SET progress_seq =
    COALESCE((SELECT MAX(c.seq) FROM referral_status_change c WHERE c.referral_id = referral.id), 0);
-- Their hand-off: the first entry an assignment, a first contact or a closure wrote, for a referral
-- whose facts are handed off; without one, only its first entry (RECEIVED) stays before the cut.
UPDATE referral SET handed_off_seq = COALESCE(
    (SELECT MIN(c.seq) FROM referral_status_change c WHERE c.referral_id = referral.id AND c.status IN (6, 10, 12)),
    2)
    WHERE assigned_at IS NOT NULL OR first_contact_at IS NOT NULL OR enrolled_at IS NOT NULL OR case_closed = 1
       OR staff_closed = 1;
UPDATE referral SET handed_off_by = COALESCE(
    (SELECT CASE
         WHEN c.status = 6 THEN 'assigned'
         WHEN c.status = 10 THEN 'first_contact'
         WHEN c.detail LIKE 'case % enrolled' THEN 'enrolled'
         WHEN c.detail LIKE 'case %' THEN 'case_closed'
         ELSE 'staff_closed' END
     FROM referral_status_change c
     WHERE c.referral_id = referral.id AND c.seq = referral.handed_off_seq AND c.status IN (6, 10, 12)),
    CASE WHEN assigned_at IS NOT NULL OR first_contact_at IS NOT NULL THEN 'assigned' ELSE 'case_closed' END)
    WHERE handed_off_seq IS NOT NULL;
UPDATE referral SET handed_off_status = CASE WHEN handed_off_by IN ('assigned', 'first_contact') THEN 6 ELSE 12 END
    WHERE handed_off_by IS NOT NULL;
UPDATE referral SET handed_off_at = COALESCE(
    (SELECT c.at FROM referral_status_change c WHERE c.referral_id = referral.id AND c.seq = referral.handed_off_seq),
    received_at)
    WHERE handed_off_by IS NOT NULL;
UPDATE referral SET handed_off_matched_at = matched_at
    WHERE handed_off_by IS NOT NULL AND matched_at IS NOT NULL AND matched_at <= handed_off_at;
-- Their acceptances are numbered by the entry each wrote; a case reopened after a closure starts an
-- episode at the entry that reopened it.
UPDATE referral_accepted_offer SET recorded_seq = COALESCE(
    (SELECT MIN(c.seq) FROM referral_status_change c
     WHERE c.referral_id = referral_accepted_offer.referral_id AND c.status = 5
       AND c.detail LIKE 'offer ' || referral_accepted_offer.offer_id || ' %'),
    0);
UPDATE referral SET episode_seq = COALESCE(
    (SELECT c.seq FROM referral_status_change c WHERE c.referral_id = referral.id AND c.event_id = referral.case_event_id),
    progress_seq)
    WHERE case_closed = 0 AND EXISTS (
        SELECT 1 FROM referral_status_change c WHERE c.referral_id = referral.id AND c.detail LIKE 'case % closed %');
