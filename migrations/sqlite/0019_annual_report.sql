-- The annual report on government information disclosure (GK-20).

-- Who applied, as Table 3 counts applicants (natural person, or the kind
-- of organisation). Cases filed before this column: organisations as 其他.
ALTER TABLE disclosure_cases ADD COLUMN applicant_column TEXT NOT NULL DEFAULT 'natural_person';
UPDATE disclosure_cases SET applicant_column = 'other_organisation' WHERE applicant_kind = 'company';
-- A year's cases: received in it, or received before and concluded in or
-- after it, or still open; each an index range.
CREATE INDEX disclosure_cases_received ON disclosure_cases (received_on, unit_id);
CREATE INDEX disclosure_cases_concluded ON disclosure_cases (concluded_at, unit_id);

-- One report per agency and year.
CREATE TABLE annual_reports (
    id             TEXT PRIMARY KEY,
    unit_id        TEXT NOT NULL REFERENCES org_units (id),
    year           BIGINT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'returned', 'accepted')),
    -- Section 3 as computed from the cases (JSON: row key -> 7 counts),
    -- the cases it could not count (JSON array of messages), and when.
    computed       TEXT NOT NULL,
    uncounted      TEXT NOT NULL,
    computed_at    TIMESTAMP NOT NULL,
    -- Sections 2 and 4 and the free texts (JSON, annual_report/entered.rs).
    entered        TEXT NOT NULL,
    -- Raised by every change: a save must name the revision it read.
    revision       BIGINT NOT NULL,
    return_reason  TEXT,
    created_by     TEXT NOT NULL REFERENCES users (id),
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    UNIQUE (unit_id, year)
);
CREATE INDEX annual_reports_year ON annual_reports (year, status);

CREATE TABLE annual_report_events (
    id           TEXT PRIMARY KEY,
    report_id    TEXT NOT NULL REFERENCES annual_reports (id),
    -- created, refreshed, saved, submitted, returned, accepted
    kind         TEXT NOT NULL,
    actor_label  TEXT NOT NULL,
    reason       TEXT,
    occurred_at  TIMESTAMP NOT NULL
);
CREATE INDEX annual_report_events_report ON annual_report_events (report_id, occurred_at);
