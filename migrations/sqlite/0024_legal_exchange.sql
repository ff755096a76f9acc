-- Legal affairs (FW-04): work exchange notes between units. A note is
-- addressed to units and named people (`exchange_recipients`, as written);
-- sending resolves them to the people who get it (`exchange_deliveries`,
-- with each one's read time). Replies thread by `parent_id`. Every send,
-- read, recall and reply is kept in `exchange_events`.
CREATE TABLE exchange_notes (
    id              TEXT PRIMARY KEY,
    sender_id       TEXT NOT NULL REFERENCES users (id),
    sender_unit_id  TEXT NOT NULL REFERENCES org_units (id),
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('draft', 'sent', 'recalled')),
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP,
    recalled_at     TIMESTAMP
);
CREATE INDEX exchange_notes_sender ON exchange_notes (sender_unit_id, updated_at);

CREATE TABLE exchange_recipients (
    note_id    TEXT NOT NULL REFERENCES exchange_notes (id),
    kind       TEXT NOT NULL CHECK (kind IN ('unit', 'person')),
    target_id  TEXT NOT NULL,
    PRIMARY KEY (note_id, kind, target_id)
);

CREATE TABLE exchange_deliveries (
    note_id  TEXT NOT NULL REFERENCES exchange_notes (id),
    user_id  TEXT NOT NULL REFERENCES users (id),
    read_at  TIMESTAMP,
    PRIMARY KEY (note_id, user_id)
);
CREATE INDEX exchange_deliveries_user ON exchange_deliveries (user_id, read_at);

CREATE TABLE exchange_replies (
    id          TEXT PRIMARY KEY,
    note_id     TEXT NOT NULL REFERENCES exchange_notes (id),
    parent_id   TEXT REFERENCES exchange_replies (id),
    author_id   TEXT NOT NULL REFERENCES users (id),
    author      TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX exchange_replies_note ON exchange_replies (note_id, created_at);

-- Files of a note (reply_id NULL) or of a reply, in the file store.
CREATE TABLE exchange_files (
    id            TEXT PRIMARY KEY,
    note_id       TEXT NOT NULL REFERENCES exchange_notes (id),
    reply_id      TEXT REFERENCES exchange_replies (id),
    file_name     TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    content_hash  TEXT NOT NULL,
    storage_key   TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX exchange_files_note ON exchange_files (note_id);

-- `seq` orders a note's events: two in one transaction can share a
-- timestamp's millisecond, and a ULID does not order within one.
CREATE TABLE exchange_events (
    id       TEXT PRIMARY KEY,
    note_id  TEXT NOT NULL REFERENCES exchange_notes (id),
    seq      BIGINT NOT NULL,
    at       TIMESTAMP NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    detail   TEXT
);
CREATE INDEX exchange_events_note ON exchange_events (note_id, seq);
