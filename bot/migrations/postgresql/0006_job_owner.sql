-- PostgreSQL's twin of ../0006_job_owner.sql: which process runs a job ("<hostname>:<pid>:<start>").
ALTER TABLE jobs ADD COLUMN owner TEXT;

CREATE INDEX jobs_unfinished ON jobs (status) WHERE status IN ('queued', 'running');
