-- Legal affairs (FW-03): the expert library. Phone and e-mail are personal
-- data, SM4-sealed (api/src/pii.rs) with the column bound in; `search`
-- holds the lower-cased name, unit, post and fields in one text, so a
-- fuzzy search is one LIKE over one column (docs/legal-affairs.md says why
-- and what it costs at 10 000 experts). Deleting keeps the row
-- (`deleted_at`), so the audit trail and past references still resolve.
CREATE TABLE experts (
    id          TEXT PRIMARY KEY,
    category    TEXT NOT NULL,
    name        TEXT NOT NULL,
    unit_name   TEXT NOT NULL,
    post        TEXT NOT NULL,
    fields      TEXT NOT NULL,
    phone       BLOB,
    email       BLOB,
    profile     TEXT NOT NULL,
    search      TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    deleted_at  TIMESTAMP
);
CREATE INDEX experts_category ON experts (category, name) WHERE deleted_at IS NULL;
