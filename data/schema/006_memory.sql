-- 006_memory.sql — the memory: entries with metadata in namespaces, a
-- full-text index kept in step by triggers, vectors (int8 with a scale for
-- the fast scan, float32 for rescoring) per embedder, and the outbox of
-- writes still to be sent to Qdrant. SQLite is the source of truth.

-- One entry. hash is SHA-256 (hex) of the text: an add of the same text in
-- the same namespace returns the existing entry (metadata merged).
CREATE TABLE memory (
    id          INTEGER PRIMARY KEY,
    namespace   TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    metadata    TEXT    NOT NULL DEFAULT '{}',
    hash        TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL,
    expires_ms  INTEGER              -- NULL: never
);

CREATE UNIQUE INDEX memory_ns_hash ON memory (namespace, hash);
CREATE INDEX memory_expiry ON memory (expires_ms) WHERE expires_ms IS NOT NULL;

-- Full text over memory.text (external content, porter stemming over
-- unicode61 tokens), kept in step by the triggers below.
CREATE VIRTUAL TABLE memory_fts USING fts5 (
    text, content = 'memory', content_rowid = 'id', tokenize = 'porter unicode61'
);

CREATE TRIGGER memory_ai AFTER INSERT ON memory BEGIN
    INSERT INTO memory_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER memory_ad AFTER DELETE ON memory BEGIN
    INSERT INTO memory_fts (memory_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER memory_au AFTER UPDATE OF text ON memory BEGIN
    INSERT INTO memory_fts (memory_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO memory_fts (rowid, text) VALUES (new.id, new.text);
END;

-- An entry's vector from one embedder: q = round(v / scale) as int8
-- (dim bytes), f32 = v as little-endian float32 (4 * dim bytes). stale is
-- set when the entry's text changed or the configured embedder differs.
CREATE TABLE memory_vec (
    entry_id  INTEGER NOT NULL REFERENCES memory (id) ON DELETE CASCADE,
    embedder  TEXT    NOT NULL,
    dim       INTEGER NOT NULL,
    scale     REAL    NOT NULL,
    q         BLOB    NOT NULL,
    f32       BLOB    NOT NULL,
    stale     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (entry_id, embedder)
) WITHOUT ROWID;

-- Writes still to reach Qdrant, in order. op 'upsert' carries the point
-- (id = UUID from the content hash, vector, payload as JSON); op 'delete'
-- the point id. attempts / next_ms / error: the sender's backoff.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    op          TEXT    NOT NULL CHECK (op = 'upsert' OR op = 'delete'),
    collection  TEXT    NOT NULL,
    point_id    TEXT    NOT NULL,
    vector      BLOB,
    payload     TEXT,
    created_ms  INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_ms     INTEGER NOT NULL DEFAULT 0,
    error       TEXT
);
