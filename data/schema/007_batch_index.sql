-- Only jobs of a batch are looked up by (batch, key); jobs without one
-- (the TUI, `run`, the built-in queue tools) no longer write an index
-- entry on submit. `batch = ?` implies `batch IS NOT NULL`, so every
-- query that used the full index can use this one.
DROP INDEX jobs_batch_key;
CREATE INDEX jobs_batch_key ON jobs (batch, key) WHERE batch IS NOT NULL;
