-- Legal affairs (FW-02): the yearly work assessment, and the export
-- templates users save (which columns, in which order, by name).

-- One year's indicators for one track: municipal units, or district
-- governments. Scores are tenths of a point, as integers (2.5 is 25), so
-- totals add without rounding.
CREATE TABLE assessments (
    id                    TEXT PRIMARY KEY,
    office_unit_id        TEXT NOT NULL REFERENCES org_units (id),
    year                  BIGINT NOT NULL,
    track                 TEXT NOT NULL CHECK (track IN ('municipal', 'district')),
    -- The last day for units to send supporting material, YYYY-MM-DD.
    deadline_on           TEXT NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('draft', 'published', 'results_published')),
    created_by            TEXT NOT NULL REFERENCES users (id),
    created_at            TIMESTAMP NOT NULL,
    published_at          TIMESTAMP,
    results_published_at  TIMESTAMP,
    UNIQUE (office_unit_id, year, track)
);

-- The tree: a category (parent_id NULL, no score of its own) and its
-- indicators, each with a maximum and a scoring guide.
CREATE TABLE assessment_indicators (
    id             TEXT PRIMARY KEY,
    assessment_id  TEXT NOT NULL REFERENCES assessments (id),
    parent_id      TEXT REFERENCES assessment_indicators (id),
    position       BIGINT NOT NULL,
    name           TEXT NOT NULL,
    max_tenths     BIGINT,
    guide          TEXT NOT NULL
);
CREATE INDEX assessment_indicators_tree ON assessment_indicators (assessment_id, parent_id, position);

-- The units assessed, fixed when the indicators are published.
-- `reminded`: the deadline reminder went out (the deadline watch).
CREATE TABLE assessment_units (
    assessment_id  TEXT NOT NULL REFERENCES assessments (id),
    unit_id        TEXT NOT NULL REFERENCES org_units (id),
    reminded       BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (assessment_id, unit_id)
);

-- A unit's score on one indicator; below the maximum, with the reason.
CREATE TABLE assessment_scores (
    assessment_id     TEXT NOT NULL REFERENCES assessments (id),
    indicator_id      TEXT NOT NULL REFERENCES assessment_indicators (id),
    unit_id           TEXT NOT NULL REFERENCES org_units (id),
    score_tenths      BIGINT NOT NULL,
    deduction_reason  TEXT,
    scored_by         TEXT NOT NULL REFERENCES users (id),
    scored_at         TIMESTAMP NOT NULL,
    PRIMARY KEY (indicator_id, unit_id)
);
CREATE INDEX assessment_scores_unit ON assessment_scores (assessment_id, unit_id);

-- Material a unit sends to explain a deduction, in the file store.
CREATE TABLE assessment_materials (
    id             TEXT PRIMARY KEY,
    assessment_id  TEXT NOT NULL REFERENCES assessments (id),
    unit_id        TEXT NOT NULL REFERENCES org_units (id),
    indicator_id   TEXT NOT NULL REFERENCES assessment_indicators (id),
    file_name      TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    size_bytes     BIGINT NOT NULL,
    content_hash   TEXT NOT NULL,
    storage_key    TEXT NOT NULL,
    uploaded_by    TEXT NOT NULL REFERENCES users (id),
    created_at     TIMESTAMP NOT NULL
);
CREATE INDEX assessment_materials_unit ON assessment_materials (assessment_id, unit_id);

-- A user's saved choice of export columns for one kind of export.
CREATE TABLE export_templates (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    subject     TEXT NOT NULL,
    name        TEXT NOT NULL,
    -- The column keys, in order, as JSON.
    columns     TEXT NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    UNIQUE (user_id, subject, name)
);
