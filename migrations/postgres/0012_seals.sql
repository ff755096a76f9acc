-- E-seals (GK-03, GK-04, GK-07..GK-10): seals, their grants and approvers,
-- seal-use applications with their approval steps, signed decisions, stamps.

CREATE TABLE seals (
    id          TEXT PRIMARY KEY,
    unit_id     TEXT NOT NULL REFERENCES org_units (id),
    name        TEXT NOT NULL,
    -- e.g. 政务公开专用章
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    -- The seal's certificate (or key) reference at the signing service.
    cert_ref    TEXT NOT NULL,
    image_type  TEXT,
    image       BYTEA,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX seals_unit ON seals (unit_id, id);

-- Every grant ever made; a grant is live until revoked.
CREATE TABLE seal_grants (
    id             TEXT PRIMARY KEY,
    seal_id        TEXT NOT NULL REFERENCES seals (id),
    user_id        TEXT NOT NULL REFERENCES users (id),
    reason         TEXT NOT NULL,
    granted_by     TEXT NOT NULL REFERENCES users (id),
    granted_at     TIMESTAMPTZ NOT NULL,
    revoked_by     TEXT REFERENCES users (id),
    revoked_at     TIMESTAMPTZ,
    revoke_reason  TEXT
);
CREATE UNIQUE INDEX seal_grants_live ON seal_grants (seal_id, user_id) WHERE revoked_at IS NULL;
CREATE INDEX seal_grants_user ON seal_grants (user_id, seal_id);

-- Who approves seal use in a unit, in order, and how.
CREATE TABLE seal_approvers (
    unit_id   TEXT NOT NULL REFERENCES org_units (id),
    user_id   TEXT NOT NULL REFERENCES users (id),
    position  INTEGER NOT NULL,
    PRIMARY KEY (unit_id, user_id)
);
CREATE TABLE seal_policies (
    unit_id     TEXT PRIMARY KEY REFERENCES org_units (id),
    -- 'any': one approver decides (或签); 'sequential': all, in order (依次审批).
    policy      TEXT NOT NULL CHECK (policy IN ('any', 'sequential')),
    updated_by  TEXT NOT NULL REFERENCES users (id),
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE seal_applications (
    id            TEXT PRIMARY KEY,
    seal_id       TEXT NOT NULL REFERENCES seals (id),
    notice_id     TEXT NOT NULL REFERENCES disclosure_notices (id),
    case_id       TEXT NOT NULL REFERENCES disclosure_cases (id),
    applicant_id  TEXT NOT NULL REFERENCES users (id),
    reason        TEXT NOT NULL,
    policy        TEXT NOT NULL CHECK (policy IN ('any', 'sequential')),
    status        TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),
    created_at    TIMESTAMPTZ NOT NULL,
    decided_at    TIMESTAMPTZ,
    version       BIGINT NOT NULL DEFAULT 0
);
-- One live application per notice: a notice is never stamped twice.
CREATE UNIQUE INDEX seal_applications_live ON seal_applications (notice_id)
    WHERE status IN ('pending', 'approved');
CREATE INDEX seal_applications_applicant ON seal_applications (applicant_id, id);

-- The approvers an application needs, snapshot when it was made.
CREATE TABLE seal_application_steps (
    application_id  TEXT NOT NULL REFERENCES seal_applications (id),
    position        INTEGER NOT NULL,
    approver_id     TEXT NOT NULL REFERENCES users (id),
    decision        TEXT CHECK (decision IN ('approve', 'reject')),
    decided_at      TIMESTAMPTZ,
    PRIMARY KEY (application_id, approver_id)
);
CREATE INDEX seal_application_steps_approver ON seal_application_steps (approver_id, decision);

-- Each decision, signed with SM2 over its canonical form.
CREATE TABLE seal_decisions (
    id              TEXT PRIMARY KEY,
    application_id  TEXT NOT NULL REFERENCES seal_applications (id),
    approver_id     TEXT NOT NULL REFERENCES users (id),
    decision        TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
    comment         TEXT NOT NULL,
    notice_sm3      TEXT NOT NULL,
    decided_at      TIMESTAMPTZ NOT NULL,
    key_id          TEXT NOT NULL,
    signature       TEXT NOT NULL
);
CREATE UNIQUE INDEX seal_decisions_once ON seal_decisions (application_id, approver_id);

-- The stamp applied through the signing service.
CREATE TABLE seal_stamps (
    id              TEXT PRIMARY KEY,
    application_id  TEXT NOT NULL UNIQUE REFERENCES seal_applications (id),
    notice_id       TEXT NOT NULL UNIQUE REFERENCES disclosure_notices (id),
    seal_id         TEXT NOT NULL REFERENCES seals (id),
    document_sm3    TEXT NOT NULL,
    signature       TEXT NOT NULL,
    time_stamp      TEXT NOT NULL,
    stamped_at      TIMESTAMPTZ NOT NULL
);
