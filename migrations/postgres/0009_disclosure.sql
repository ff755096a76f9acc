-- Applicant intake (GK-14, GK-15): applicant sessions, disclosure cases with
-- their timeline and attachments, and idempotent request records.

-- A signed-in applicant (a member of the public): by a phone verified with an
-- SMS code, or by a one-net login ticket. Opaque bearer tokens, stored hashed.
CREATE TABLE applicant_sessions (
    id              TEXT PRIMARY KEY,
    token_hash      TEXT NOT NULL UNIQUE,
    phone_index     TEXT,
    phone_cipher    BYTEA,
    onenet_index    TEXT,
    -- SM4-GCM sealed JSON of the verified one-net profile.
    profile_sealed  BYTEA,
    -- A session started by an SMS code may stand in for one request's
    -- phone verification, once, while the code's token would have lived.
    phone_proof_used_at  TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    ended_at        TIMESTAMPTZ
);

-- 依申请公开 cases. Dates (received_on, due_on) are Shanghai calendar days,
-- YYYY-MM-DD; instants are UTC.
CREATE TABLE disclosure_cases (
    id                TEXT PRIMARY KEY,
    case_no           TEXT NOT NULL UNIQUE,
    unit_id           TEXT NOT NULL REFERENCES org_units (id),
    status            TEXT NOT NULL,
    applicant_kind    TEXT NOT NULL CHECK (applicant_kind IN ('citizen', 'company')),
    -- 'onenet' when the identity came verified from the one-net service.
    identity_source   TEXT NOT NULL CHECK (identity_source IN ('onenet', 'typed')),
    -- SM4-GCM sealed JSON: name, ID, address, contact, phone.
    applicant_sealed  BYTEA NOT NULL,
    applicant_label   TEXT NOT NULL,
    phone_index       TEXT NOT NULL,
    onenet_index      TEXT,
    description       TEXT NOT NULL,
    purpose           TEXT NOT NULL,
    delivery_method   TEXT NOT NULL,
    postal_sealed     BYTEA,
    channel           TEXT NOT NULL,
    submitted_at      TIMESTAMPTZ NOT NULL,
    received_on       TEXT NOT NULL,
    due_on            TEXT NOT NULL,
    due_provisional   BOOLEAN NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX disclosure_cases_unit ON disclosure_cases (unit_id, id);
CREATE INDEX disclosure_cases_phone ON disclosure_cases (phone_index, id);
CREATE INDEX disclosure_cases_onenet ON disclosure_cases (onenet_index, id);

-- Case numbers run per receiving unit and year.
CREATE TABLE disclosure_case_counters (
    unit_id  TEXT NOT NULL REFERENCES org_units (id),
    year     INTEGER NOT NULL,
    last     BIGINT NOT NULL,
    PRIMARY KEY (unit_id, year)
);

CREATE TABLE disclosure_events (
    id           TEXT PRIMARY KEY,
    case_id      TEXT NOT NULL REFERENCES disclosure_cases (id),
    kind         TEXT NOT NULL,
    actor_label  TEXT NOT NULL,
    occurred_at  TIMESTAMPTZ NOT NULL,
    detail       TEXT NOT NULL
);
CREATE INDEX disclosure_events_case ON disclosure_events (case_id, id);

-- Small files sent with a request, kept with the case in one transaction.
CREATE TABLE disclosure_attachments (
    id            TEXT PRIMARY KEY,
    case_id       TEXT NOT NULL REFERENCES disclosure_cases (id),
    file_name     TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    sm3           TEXT NOT NULL,
    content       BYTEA NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX disclosure_attachments_case ON disclosure_attachments (case_id);

-- The first answer to a request sent with an Idempotency-Key, replayed to
-- retries with the same key and body.
CREATE TABLE idempotency_keys (
    scope         TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status        INTEGER NOT NULL,
    body          TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);
