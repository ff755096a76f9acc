-- Online forms (GK-11 to GK-13): forms and their versions, the assignment
-- of a distributed form to each receiving unit (which holds that unit's
-- return), the return's history, and its attachments.

-- One row per version of a form. Versions of one form share `lineage_id`
-- (the first version's id); a distributed version is frozen and changed
-- by making the next version, a new draft.
CREATE TABLE forms (
    id              TEXT PRIMARY KEY,
    lineage_id      TEXT NOT NULL,
    version         BIGINT NOT NULL,
    -- The sender's unit: whose form fillers' returns it collects.
    unit_id         TEXT NOT NULL REFERENCES org_units (id),
    title           TEXT NOT NULL,
    description     TEXT NOT NULL,
    -- The last day to submit (Shanghai time), YYYY-MM-DD.
    deadline_on     TEXT NOT NULL,
    -- The definition document (api/src/forms/definition.rs) as JSON.
    definition      TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('draft', 'distributed')),
    created_by      TEXT NOT NULL REFERENCES users (id),
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    distributed_by  TEXT REFERENCES users (id),
    distributed_at  TIMESTAMP,
    UNIQUE (lineage_id, version)
);
CREATE INDEX forms_unit ON forms (unit_id, updated_at);

-- A distributed form's task for one receiving unit, and that unit's
-- return. `revision` grows with every save, so that a save based on an
-- older revision is refused (409) instead of overwriting a colleague's.
CREATE TABLE form_assignments (
    id             TEXT PRIMARY KEY,
    form_id        TEXT NOT NULL REFERENCES forms (id),
    unit_id        TEXT NOT NULL REFERENCES org_units (id),
    status         TEXT NOT NULL CHECK (status IN ('assigned', 'draft', 'submitted', 'returned', 'accepted', 'withdrawn')),
    -- The answers as JSON, phone and ID-card values sealed (SM4).
    answers        TEXT,
    revision       BIGINT NOT NULL DEFAULT 0,
    late           BOOLEAN NOT NULL DEFAULT FALSE,
    return_reason  TEXT,
    submitted_at   TIMESTAMP,
    -- The deadline reminders already sent: 'before', then 'overdue'.
    reminded       TEXT,
    created_at     TIMESTAMP NOT NULL,
    updated_by     TEXT REFERENCES users (id),
    updated_at     TIMESTAMP NOT NULL,
    UNIQUE (form_id, unit_id)
);
CREATE INDEX form_assignments_unit ON form_assignments (unit_id, status);
CREATE INDEX form_assignments_open ON form_assignments (status, form_id);

-- What happened to each assignment, in order: distributed, saved,
-- submitted, returned (with the reason), accepted, reminded, withdrawn.
CREATE TABLE form_events (
    id             TEXT PRIMARY KEY,
    assignment_id  TEXT NOT NULL REFERENCES form_assignments (id),
    kind           TEXT NOT NULL,
    actor_label    TEXT NOT NULL,
    occurred_at    TIMESTAMP NOT NULL,
    detail         TEXT NOT NULL
);
CREATE INDEX form_events_assignment ON form_events (assignment_id, occurred_at);

-- Files attached to a return; the bytes are in the object store under
-- `storage_key`.
CREATE TABLE form_attachments (
    id             TEXT PRIMARY KEY,
    assignment_id  TEXT NOT NULL REFERENCES form_assignments (id),
    field_key      TEXT NOT NULL,
    file_name      TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    size_bytes     BIGINT NOT NULL,
    -- SM3 of the bytes, hex: the object name, and a check on download.
    content_hash   TEXT NOT NULL,
    storage_key    TEXT NOT NULL,
    uploaded_by    TEXT NOT NULL REFERENCES users (id),
    created_at     TIMESTAMP NOT NULL
);
CREATE INDEX form_attachments_assignment ON form_attachments (assignment_id, field_key);
