-- Who submitted a referral, in full: `submitted_by` (the authenticated subject) and
-- `submitted_by_partner` (the organization its credentials named) already exist; the role it acted
-- in is kept too, so a referral staff entered on an organization's behalf is recorded as such
-- (role "case_manager", no submitting organization, the organization named in the coded record).
-- Rows from before this column answer '' (unknown).
ALTER TABLE referral ADD COLUMN submitted_by_role TEXT NOT NULL DEFAULT '';
