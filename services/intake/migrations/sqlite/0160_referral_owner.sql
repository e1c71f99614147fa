-- Who holds a referral's case now (domain/progress Owner), for ListReferrals' owner and its filters:
-- the case manager ("cm_...") the newest of case.assigned (assignment, reassignment, joining an open
-- case), case.reopened (none while the reopened case awaits assignment) and case.closed (none: a
-- closed case is nobody's) named, and that event (UUIDv7 ids order them; a late event never replaces
-- a newer owner). NULL case_manager_id: no case manager holds the referral's case.
ALTER TABLE referral ADD COLUMN case_manager_id TEXT;
ALTER TABLE referral ADD COLUMN case_manager_event_id TEXT;
CREATE INDEX referral_case_manager ON referral (case_manager_id);

-- Rows from before: the newest history entry of an assignment, a reopening or a closure of the case
-- tells (its detail names the case manager: "case <id> case manager cm_...", "case <id> reopened case
-- manager cm_..." or "... awaiting_assignment"). A referral staff closed records no history after the
-- closure, so its owner starts unknown (none) and follows the next case event.
UPDATE referral SET case_manager_event_id = (
    SELECT c.event_id FROM referral_status_change c
    WHERE c.referral_id = referral.id AND (c.detail LIKE 'case % case manager %' OR c.detail LIKE 'case % closed %')
    ORDER BY c.event_id DESC LIMIT 1)
    WHERE staff_closed = 0;
UPDATE referral SET case_manager_id = (
    SELECT substr(c.detail, instr(c.detail, 'case manager cm_') + 13) FROM referral_status_change c
    WHERE c.referral_id = referral.id AND c.event_id = referral.case_manager_event_id
      AND instr(c.detail, 'case manager cm_') > 0
      AND length(substr(c.detail, instr(c.detail, 'case manager cm_') + 13)) = 35)
    WHERE case_manager_event_id IS NOT NULL;
