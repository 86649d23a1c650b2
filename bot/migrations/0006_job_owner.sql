-- Which process runs a job, so that the next start can tell a job whose process died (kill -9, a
-- crash, a power cut) from one another process on this machine is still running: the former are
-- marked failed with error_kind 'interrupted' instead of showing "running" in /jobs forever.
-- Format: "<hostname>:<pid>:<process start time>" (see bot/process_identity.py); NULL for rows
-- written before this migration, which no process can still be running.
ALTER TABLE jobs ADD COLUMN owner TEXT;

CREATE INDEX jobs_unfinished ON jobs (status) WHERE status IN ('queued', 'running');
