-- Case handling (GK-05): the statutory flow's state on the case, the
-- assignments of 送办理 and 送分办, and the notices (告知书).

ALTER TABLE disclosure_cases ADD COLUMN handling_unit_id TEXT REFERENCES org_units (id);
ALTER TABLE disclosure_cases ADD COLUMN assignee_id TEXT REFERENCES users (id);
ALTER TABLE disclosure_cases ADD COLUMN extended_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE disclosure_cases ADD COLUMN extension_approver_id TEXT REFERENCES users (id);
ALTER TABLE disclosure_cases ADD COLUMN corrections INTEGER NOT NULL DEFAULT 0;
ALTER TABLE disclosure_cases ADD COLUMN correction_due_on TEXT;
ALTER TABLE disclosure_cases ADD COLUMN paused_on TEXT;
ALTER TABLE disclosure_cases ADD COLUMN consultation_due_on TEXT;
ALTER TABLE disclosure_cases ADD COLUMN result_category TEXT;
ALTER TABLE disclosure_cases ADD COLUMN result_reason TEXT;
ALTER TABLE disclosure_cases ADD COLUMN concluded_at TIMESTAMP;
-- Bumped by every step, so that two steps racing on one case cannot both
-- apply.
ALTER TABLE disclosure_cases ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
CREATE INDEX disclosure_cases_handling ON disclosure_cases (handling_unit_id, status);
CREATE INDEX disclosure_cases_status_due ON disclosure_cases (status, due_on);

-- Timeline steps the applicant sees (milestones), or internal ones
-- (assignments, units' parts).
ALTER TABLE disclosure_events ADD COLUMN public BOOLEAN NOT NULL DEFAULT TRUE;

-- 送办理 (kind 'handling': one open at a time) and 送分办 (kind 'part': one
-- per unit asked for its part).
CREATE TABLE disclosure_assignments (
    id           TEXT PRIMARY KEY,
    case_id      TEXT NOT NULL REFERENCES disclosure_cases (id),
    kind         TEXT NOT NULL CHECK (kind IN ('handling', 'part')),
    unit_id      TEXT NOT NULL REFERENCES org_units (id),
    assignee_id  TEXT REFERENCES users (id),
    note         TEXT NOT NULL,
    due_on       TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('open', 'answered', 'withdrawn')),
    answer       TEXT,
    answered_by  TEXT REFERENCES users (id),
    answered_at  TIMESTAMP,
    created_by   TEXT NOT NULL REFERENCES users (id),
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX disclosure_assignments_case ON disclosure_assignments (case_id, id);
CREATE INDEX disclosure_assignments_unit ON disclosure_assignments (unit_id, status);

-- 告知书: produced from templates, kept with their SM3; a notice that needs
-- the agency's seal waits for it.
CREATE TABLE disclosure_notices (
    id           TEXT PRIMARY KEY,
    case_id      TEXT NOT NULL REFERENCES disclosure_cases (id),
    kind         TEXT NOT NULL CHECK (kind IN ('correction', 'consultation', 'extension', 'conclusion')),
    title        TEXT NOT NULL,
    -- SM4-GCM sealed: a notice names the applicant.
    body_sealed  BLOB NOT NULL,
    sm3          TEXT NOT NULL,
    seal_status  TEXT NOT NULL CHECK (seal_status IN ('awaiting_seal', 'sealed')),
    created_by   TEXT REFERENCES users (id),
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX disclosure_notices_case ON disclosure_notices (case_id, id);
