-- Note text sealed at rest (AES-256-GCM under the field key ring, the same ring as intake's vault;
-- the AAD binds note id, case, author and the privileged flag, so a sealed text copied to another
-- row, or a flag flipped in the database, fails to open). `text` keeps only the plaintext of notes
-- written before sealing, until `app::sealing::seal_plaintext_notes` seals them (then '').
ALTER TABLE case_notes ADD COLUMN sealed_text BYTEA;
ALTER TABLE case_notes ADD COLUMN key_version INTEGER;
CREATE INDEX IF NOT EXISTS case_notes_key_version_idx ON case_notes (key_version);
