-- Legal affairs (FW-01): clean-up campaigns of normative documents, each
-- unit's list with its documents, and the list's history.

-- The role that did nothing before now names the legal affairs office's
-- administrator (api/src/authz.rs).
UPDATE role_assignments SET role = 'legal_admin' WHERE role = 'legal_staff';

-- A campaign of the legal affairs office (`office_unit_id`), on one report
-- line (api/src/legal/cleanup/line.rs).
CREATE TABLE cleanup_campaigns (
    id              TEXT PRIMARY KEY,
    office_unit_id  TEXT NOT NULL REFERENCES org_units (id),
    title           TEXT NOT NULL,
    scope           TEXT NOT NULL,
    line            TEXT NOT NULL CHECK (line IN ('departments', 'districts', 'city_documents')),
    -- The last day to submit (Shanghai time), YYYY-MM-DD.
    deadline_on     TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('draft', 'distributed')),
    created_by      TEXT NOT NULL REFERENCES users (id),
    created_at      TIMESTAMPTZ NOT NULL,
    distributed_at  TIMESTAMPTZ
);
CREATE INDEX cleanup_campaigns_office ON cleanup_campaigns (office_unit_id, created_at);

-- One unit's list in a campaign. `reviewer_unit_id` is the level above
-- that returns or accepts it: the legal affairs office, or on the
-- districts' line the unit's district government. A district's
-- `consolidated` list holds no documents of its own: it is the accepted
-- lists of its bureaus, towns and streets, going up to the city.
CREATE TABLE cleanup_lists (
    id                TEXT PRIMARY KEY,
    campaign_id       TEXT NOT NULL REFERENCES cleanup_campaigns (id),
    unit_id           TEXT NOT NULL REFERENCES org_units (id),
    reviewer_unit_id  TEXT NOT NULL REFERENCES org_units (id),
    kind              TEXT NOT NULL CHECK (kind IN ('own', 'consolidated')),
    status            TEXT NOT NULL CHECK (status IN ('draft', 'checking', 'submitted', 'returned', 'accepted')),
    -- The last send-back or return's reason, shown until resubmitted.
    reason            TEXT,
    -- Grows with every save and step: a save based on an older revision
    -- is refused (409) instead of overwriting a colleague's.
    revision          BIGINT NOT NULL DEFAULT 0,
    -- Deadline reminders sent: NULL, 'before', 'overdue'.
    reminded          TEXT,
    submitted_at      TIMESTAMPTZ,
    updated_at        TIMESTAMPTZ NOT NULL,
    UNIQUE (campaign_id, unit_id, kind)
);
CREATE INDEX cleanup_lists_unit ON cleanup_lists (unit_id, campaign_id);
CREATE INDEX cleanup_lists_reviewer ON cleanup_lists (reviewer_unit_id, status);

-- A document of a list. `doc_no_key` is the number compared (brackets
-- unified, no spaces): unique on a list.
CREATE TABLE cleanup_documents (
    id             TEXT PRIMARY KEY,
    list_id        TEXT NOT NULL REFERENCES cleanup_lists (id),
    position       BIGINT NOT NULL,
    doc_no         TEXT NOT NULL,
    doc_no_key     TEXT NOT NULL,
    title          TEXT NOT NULL,
    issued_on      TEXT NOT NULL,
    decision       TEXT CHECK (decision IN ('keep', 'amend', 'repeal', 'declare_invalid')),
    reason         TEXT NOT NULL,
    legal_basis    TEXT NOT NULL,
    UNIQUE (list_id, doc_no_key)
);
CREATE INDEX cleanup_documents_list ON cleanup_documents (list_id, position);

CREATE TABLE cleanup_events (
    id           TEXT PRIMARY KEY,
    list_id      TEXT NOT NULL REFERENCES cleanup_lists (id),
    kind         TEXT NOT NULL,
    actor_label  TEXT NOT NULL,
    reason       TEXT,
    occurred_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX cleanup_events_list ON cleanup_events (list_id, occurred_at);
