-- 004_registry.sql — what was changed in the registry at run time, so it
-- holds across restarts: servers added with `mcpdeck servers add` (their
-- definition, in the config's own keys, as JSON) and servers enabled or
-- disabled with `mcpdeck servers enable|disable` (or the UI).
CREATE TABLE servers_runtime (
    name       TEXT PRIMARY KEY,
    spec_json  TEXT,          -- a server added at run time; NULL for one from the config
    enabled    INTEGER,       -- 0 or 1 overrides the config; NULL = as configured
    updated_ms INTEGER NOT NULL
) WITHOUT ROWID;
