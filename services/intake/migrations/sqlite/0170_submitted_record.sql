-- What the submitter of a referral is shown of what it submitted, kept as it submitted it (DESIGN.md
-- privacy rule 2: a partner sees "the status of the referrals it submitted", not what staff did with
-- them since): the coded record (no personal part), the columns its list shows and filters by, the
-- minor flag, and the youth id its submission was answered with. Staff triage, UpdateReferral,
-- screenings recorded later and a confirmed returning-youth link change `coded`, `triage_tier`,
-- `site`, `source`, `received_at`, `is_minor` and `youth_id`, never these.
ALTER TABLE referral ADD COLUMN submitted_coded BLOB NOT NULL DEFAULT x'';
ALTER TABLE referral ADD COLUMN submitted_source INTEGER NOT NULL DEFAULT 0;
ALTER TABLE referral ADD COLUMN submitted_triage_tier INTEGER NOT NULL DEFAULT 0;
ALTER TABLE referral ADD COLUMN submitted_site INTEGER NOT NULL DEFAULT 0;
ALTER TABLE referral ADD COLUMN submitted_received_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE referral ADD COLUMN submitted_is_minor INTEGER NOT NULL DEFAULT 0;
-- '' when it cannot be told without revealing a link (below).
ALTER TABLE referral ADD COLUMN submitted_youth_id TEXT NOT NULL DEFAULT '';
-- A screening that came with the referral's submission (1), rather than recorded later by staff (0).
ALTER TABLE screening ADD COLUMN submitted_with_referral INTEGER NOT NULL DEFAULT 0;

-- Rows from before: what was submitted is no longer kept apart, so the record as it is now stands in
-- for it (staff changes made before this migration stay visible to their submitter). A referral a
-- confirmed match linked to an earlier youth no longer holds the youth id its submission was
-- answered with: it answers none rather than the earlier youth's.
UPDATE referral SET submitted_coded = coded, submitted_source = source, submitted_triage_tier = triage_tier,
    submitted_site = site, submitted_received_at = received_at, submitted_is_minor = is_minor;
UPDATE referral SET submitted_youth_id = youth_id WHERE NOT EXISTS (
    SELECT 1 FROM possible_match m WHERE m.referral_id = referral.id AND m.status = 2);
-- A submission stored its screenings by its own subject in its own transaction, at the instant it
-- stored the referral.
UPDATE screening SET submitted_with_referral = 1 WHERE EXISTS (
    SELECT 1 FROM referral r
    WHERE r.id = screening.referral_id AND r.submitted_by = screening.recorded_by
      AND r.created_at = screening.created_at);
