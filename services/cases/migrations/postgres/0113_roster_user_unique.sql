-- One login is one roster entry: access to privileged notes follows the entry's user id.
-- NULL (no login) may repeat.
CREATE UNIQUE INDEX IF NOT EXISTS roster_members_user_id_key ON roster_members (user_id);
