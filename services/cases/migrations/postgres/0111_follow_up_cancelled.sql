-- A reopened case cancels the follow-ups of the exit it undid (status 'cancelled').
ALTER TABLE follow_ups DROP CONSTRAINT follow_ups_status_check;
ALTER TABLE follow_ups ADD CONSTRAINT follow_ups_status_check
    CHECK (status IN ('scheduled', 'due', 'overdue', 'completed', 'lost_to_follow_up', 'refused', 'cancelled'));
