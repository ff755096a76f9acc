-- Legal affairs (FW-05, FW-07, XT-01): filings of normative and official
-- documents, the data packages that carry them across the air gap, and
-- the catalogue of major administrative decisions.

-- A filing (备案). The id is the same on both networks: a package carries
-- it. `version` grows with every change on either side; `synced_version`
-- is the version both sides last agreed on (sent or received in a
-- package), so `version > synced_version` means "changed here since the
-- last exchange", which is what makes a change on both sides a conflict.
-- `returned_fields`: JSON array of the fields the reviewer asked to change.
CREATE TABLE filings (
    id                TEXT PRIMARY KEY,
    unit_id           TEXT NOT NULL REFERENCES org_units (id),
    title             TEXT NOT NULL,
    doc_no            TEXT NOT NULL,
    issuing_unit      TEXT NOT NULL,
    issued_on         TEXT NOT NULL,
    effective_on      TEXT,
    full_text         TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('submitted', 'under_review', 'returned', 'accepted', 'published')),
    returned_fields   TEXT NOT NULL DEFAULT '[]',
    review_opinion    TEXT,
    source            TEXT NOT NULL CHECK (source IN ('unit', 'platform')),
    platform_key      TEXT,
    platform_doc_id   TEXT,
    platform_version  BIGINT,
    version           BIGINT NOT NULL,
    synced_version    BIGINT NOT NULL DEFAULT 0,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    UNIQUE (platform_key, platform_doc_id)
);
CREATE INDEX filings_unit ON filings (unit_id, updated_at);
CREATE INDEX filings_changed ON filings (updated_at);

-- The history: immutable, so a package merges it by id.
CREATE TABLE filing_events (
    id         TEXT PRIMARY KEY,
    filing_id  TEXT NOT NULL REFERENCES filings (id),
    at         TIMESTAMP NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    note       TEXT
);
CREATE INDEX filing_events_filing ON filing_events (filing_id, at);

-- A filing's attachments, in the file store under their SM3.
CREATE TABLE filing_files (
    filing_id     TEXT NOT NULL REFERENCES filings (id),
    hash          TEXT NOT NULL,
    file_name     TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    PRIMARY KEY (filing_id, hash)
);

-- Packages made here and packages imported here. An import is keyed by
-- the package's own id, so the same disc read twice changes nothing.
CREATE TABLE filing_packages (
    id             TEXT PRIMARY KEY,
    direction      TEXT NOT NULL CHECK (direction IN ('export', 'import')),
    source_side    TEXT NOT NULL,
    signer_key_id  TEXT NOT NULL,
    records_total  BIGINT NOT NULL,
    records_done   BIGINT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('importing', 'done')),
    report         TEXT NOT NULL DEFAULT '[]',
    created_by     TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL
);

-- The catalogue of major administrative decisions (重大行政决策目录).
CREATE TABLE major_decisions (
    id           TEXT PRIMARY KEY,
    year         BIGINT NOT NULL,
    unit_id      TEXT NOT NULL REFERENCES org_units (id),
    title        TEXT NOT NULL,
    progress     TEXT NOT NULL CHECK (progress IN ('declared', 'catalogued', 'filed', 'published')),
    declared_by  TEXT NOT NULL,
    declared_at  TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX major_decisions_year ON major_decisions (year, progress);
