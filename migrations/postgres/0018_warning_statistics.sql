-- Warning statistics and reply files (GK-19).

-- The Shanghai day a warning was first raised: what the history groups by
-- month, as text so both databases group it alike.
ALTER TABLE warnings ADD COLUMN raised_on TEXT NOT NULL DEFAULT '';
UPDATE warnings SET raised_on = to_char(created_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD');
CREATE INDEX warnings_raised ON warnings (raised_on);

-- Open warnings: an agency that has not replied yet.
CREATE INDEX warning_agencies_open ON warning_agencies (replied_at, warning_id);

-- Files an agency attaches to its reply, kept in the shared file store
-- (api/src/files.rs); frozen once the agency has replied.
CREATE TABLE warning_reply_files (
    id            TEXT PRIMARY KEY,
    warning_id    TEXT NOT NULL,
    unit_id       TEXT NOT NULL,
    file_name     TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    -- SM3 of the bytes, hex: the object name, and a check on download.
    content_hash  TEXT NOT NULL,
    storage_key   TEXT NOT NULL,
    uploaded_by   TEXT NOT NULL REFERENCES users (id),
    created_at    TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (warning_id, unit_id) REFERENCES warning_agencies (warning_id, unit_id)
);
CREATE INDEX warning_reply_files_agency ON warning_reply_files (warning_id, unit_id, created_at);
