-- 001_init.sql — the first schema: the job queue (jobs, attempts, results),
-- job events, and server health history.
--
-- db.c runs each numbered file once, in order, inside its own
-- BEGIN IMMEDIATE ... COMMIT and records it in schema_version, so a file
-- must not contain BEGIN/COMMIT itself. Never edit a released file: add
-- the next number instead. Times are Unix milliseconds.
--
-- CHECK constraints spell out OR chains rather than IN (...) lists: SQLite
-- 3.40 builds a temporary b-tree for an IN list on every row written, which
-- tripled the cost of a job's lifecycle.

-- One row per task submitted. status moves queued -> running ->
-- succeeded | failed | cancelled (running -> queued again on a retry or
-- after a crash); skipped is for tasks never run because a dependency
-- failed. error holds the last error; route_json the router's choice.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    key          TEXT,
    batch        TEXT,
    kind         TEXT    NOT NULL DEFAULT 'tool',
    server       TEXT,
    tool         TEXT,
    args_json    TEXT    NOT NULL DEFAULT '{}',
    priority     INTEGER NOT NULL DEFAULT 0,
    status       TEXT    NOT NULL CHECK (status = 'queued' OR status = 'running'
                                         OR status = 'succeeded' OR status = 'failed'
                                         OR status = 'cancelled' OR status = 'skipped'),
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    timeout_ms   INTEGER NOT NULL,
    run_at_ms    INTEGER NOT NULL DEFAULT 0,
    created_ms   INTEGER NOT NULL,
    started_ms   INTEGER,
    finished_ms  INTEGER,
    error        TEXT,
    route_json   TEXT
);

-- jobq_claim walks this in order: queued, highest priority, oldest first.
CREATE INDEX jobs_claim ON jobs (status, priority DESC, id);
CREATE INDEX jobs_batch_key ON jobs (batch, key);

-- One row per attempt; n counts from 1. An attempt still 'running' when
-- mcpdeck starts was interrupted by a crash (jobq_recover).
CREATE TABLE attempts (
    job_id      INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    n           INTEGER NOT NULL,
    started_ms  INTEGER NOT NULL,
    finished_ms INTEGER,
    outcome     TEXT    NOT NULL CHECK (outcome = 'running' OR outcome = 'succeeded'
                                        OR outcome = 'failed' OR outcome = 'interrupted'
                                        OR outcome = 'cancelled'),
    error       TEXT,
    PRIMARY KEY (job_id, n)
) WITHOUT ROWID;

-- What a finished job produced. kind 'inline' keeps the bytes in body;
-- 'blob' names a content-addressed file under data_dir/blobs by sha256
-- (body then empty). sha256 is lowercase hex of the full output.
CREATE TABLE results (
    job_id   INTEGER PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    kind     TEXT    NOT NULL DEFAULT 'inline' CHECK (kind = 'inline' OR kind = 'blob'),
    mime     TEXT,
    size     INTEGER NOT NULL DEFAULT 0,
    sha256   TEXT,
    is_error INTEGER NOT NULL DEFAULT 0,
    body     BLOB
);

-- Job progress and log lines.
CREATE TABLE events (
    id     INTEGER PRIMARY KEY,
    job_id INTEGER REFERENCES jobs (id) ON DELETE CASCADE,
    ts_ms  INTEGER NOT NULL,
    kind   TEXT    NOT NULL,
    data   TEXT
);

CREATE INDEX events_job ON events (job_id, id);

-- Server health history: one row per check or state change.
CREATE TABLE servers_health (
    id         INTEGER PRIMARY KEY,
    server     TEXT    NOT NULL,
    ts_ms      INTEGER NOT NULL,
    state      TEXT    NOT NULL,
    latency_ms INTEGER,
    error      TEXT
);

CREATE INDEX servers_health_server ON servers_health (server, ts_ms);
