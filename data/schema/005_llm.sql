-- 005_llm.sql — the LLM gateway's records: every model call (usage) and
-- the optional exact-match response cache (llm_cache).

-- One row per model call the gateway made or answered from the cache.
-- cost is USD from the configured prices; chain is the fallback path
-- ("big: 500; small: ok"); status ok or failed (with error).
CREATE TABLE usage (
    id          INTEGER PRIMARY KEY,
    ts_ms       INTEGER NOT NULL,
    job_id      INTEGER,
    model       TEXT    NOT NULL,
    provider    TEXT    NOT NULL,
    tokens_in   INTEGER NOT NULL DEFAULT 0,
    tokens_out  INTEGER NOT NULL DEFAULT 0,
    cost        REAL    NOT NULL DEFAULT 0,
    latency_ms  INTEGER NOT NULL DEFAULT 0,
    cache_hit   INTEGER NOT NULL DEFAULT 0,
    status      TEXT    NOT NULL CHECK (status = 'ok' OR status = 'failed'),
    chain       TEXT,
    error       TEXT
);

CREATE INDEX usage_ts ON usage (ts_ms);
CREATE INDEX usage_job ON usage (job_id);

-- key: SHA-256 of the normalised request (model id, messages, tools,
-- limits); result: the neutral answer as JSON.
CREATE TABLE llm_cache (
    key        TEXT PRIMARY KEY,
    model      TEXT    NOT NULL,
    result     TEXT    NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
) WITHOUT ROWID;
