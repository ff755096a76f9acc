-- Org and user sync from the unified office platform (GK-01).

-- Every change applied (or refused), by the platform's change id, so a
-- change delivered twice (pushed and pulled, or retried) acts once.
CREATE TABLE sync_changes (
    change_id   TEXT PRIMARY KEY,
    version     BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    result      TEXT NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL
);

-- How far each pulled feed has been read.
CREATE TABLE sync_cursors (
    feed        TEXT PRIMARY KEY,
    position    TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
