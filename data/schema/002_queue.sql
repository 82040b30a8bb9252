-- 002_queue.sql — full queue semantics: jobs that need other jobs, and
-- idempotency keys. (run_at_ms, the 'skipped' status and the events table
-- are already in 001.)

-- A key the submitter chooses so that submitting the same work twice
-- (a retried request, a re-run script) queues it once: the second submit
-- gets the first job's id. NULL for most jobs, so the index is partial.
ALTER TABLE jobs ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX jobs_idempotency ON jobs (idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- job_id runs only after needs_id succeeded; when needs_id ends failed,
-- cancelled or skipped, job_id is skipped. The primary key serves
-- jobq_claim's "every need succeeded" test (by job_id); the second index
-- finds the dependents of a job that just ended (by needs_id).
CREATE TABLE job_deps (
    job_id   INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    needs_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    PRIMARY KEY (job_id, needs_id)
) WITHOUT ROWID;

CREATE INDEX job_deps_needs ON job_deps (needs_id, job_id);
