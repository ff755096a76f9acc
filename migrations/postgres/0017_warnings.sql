-- Application warnings (GK-16 to GK-19): categories and versioned rules,
-- the registered requests as the rules count them, warnings, and the
-- agencies each warning concerns with their replies.

CREATE TABLE warning_categories (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    -- The business type the category's rules watch, e.g. 申请频次.
    business_type  TEXT NOT NULL,
    enabled        BOOLEAN NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);

-- Every version of every rule; the live version has superseded_at NULL.
-- A warning names the version that raised it, so editing a rule never
-- rewrites what was raised under the old one.
CREATE TABLE warning_rules (
    id             TEXT NOT NULL,
    version        BIGINT NOT NULL,
    category_id    TEXT NOT NULL REFERENCES warning_categories (id),
    -- The rule as JSON (api/src/warning/rule.rs RuleSpec).
    spec           TEXT NOT NULL,
    enabled        BOOLEAN NOT NULL,
    created_by     TEXT NOT NULL REFERENCES users (id),
    created_at     TIMESTAMPTZ NOT NULL,
    superseded_at  TIMESTAMPTZ,
    -- When the scheduled job last counted existing requests against this
    -- version; NULL: not yet (a new or changed rule).
    evaluated_at   TIMESTAMPTZ,
    PRIMARY KEY (id, version)
);
CREATE INDEX warning_rules_live ON warning_rules (superseded_at, category_id);

-- Each registered request once, keyed by its applicant's blind index: what
-- every rule counts, by index on (applicant, day), so a count costs the
-- applicant's requests in the window and not the whole history.
CREATE TABLE warning_requests (
    case_id        TEXT PRIMARY KEY REFERENCES disclosure_cases (id),
    applicant_key  TEXT NOT NULL,
    unit_id        TEXT NOT NULL REFERENCES org_units (id),
    unit_path      TEXT NOT NULL,
    -- Blind index of the normalised request text.
    text_key       TEXT NOT NULL,
    -- The Shanghai day the request was received, YYYY-MM-DD.
    received_on    TEXT NOT NULL,
    -- What the registering handler is shown (never the applicant).
    hint           TEXT
);
CREATE INDEX warning_requests_applicant ON warning_requests (applicant_key, received_on);

-- One warning per rule, applicant and window; later requests in the same
-- window raise its count and add the agencies they went to.
CREATE TABLE warnings (
    id                TEXT PRIMARY KEY,
    rule_id           TEXT NOT NULL,
    rule_version      BIGINT NOT NULL,
    category_id       TEXT NOT NULL REFERENCES warning_categories (id),
    severity          TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high')),
    applicant_key     TEXT NOT NULL,
    applicant_masked  TEXT NOT NULL,
    window_from       TEXT NOT NULL,
    window_to         TEXT NOT NULL,
    count             BIGINT NOT NULL,
    -- The request that raised it, then the latest that added to it.
    case_id           TEXT NOT NULL REFERENCES disclosure_cases (id),
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    UNIQUE (rule_id, applicant_key, window_from)
);
CREATE INDEX warnings_created ON warnings (created_at);

CREATE TABLE warning_agencies (
    warning_id  TEXT NOT NULL REFERENCES warnings (id),
    unit_id     TEXT NOT NULL REFERENCES org_units (id),
    unit_path   TEXT NOT NULL,
    told_at     TIMESTAMPTZ NOT NULL,
    reply       TEXT,
    replied_by  TEXT REFERENCES users (id),
    replied_at  TIMESTAMPTZ,
    PRIMARY KEY (warning_id, unit_id)
);
CREATE INDEX warning_agencies_unit ON warning_agencies (unit_id, warning_id);
