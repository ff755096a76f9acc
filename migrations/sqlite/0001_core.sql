-- Core: org tree, users, role grants, audit log. Times are UTC.

CREATE TABLE org_units (
    id          TEXT PRIMARY KEY,
    parent_id   TEXT REFERENCES org_units (id),
    -- The unit's code at the unified office platform; stable across renames.
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    -- Materialised path of ids, '/root/…/self/', for subtree scoping.
    path        TEXT NOT NULL UNIQUE,
    depth       INTEGER NOT NULL,
    sort_order  BIGINT NOT NULL DEFAULT 0,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX org_units_children ON org_units (parent_id, sort_order, id);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    login_name    TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    unit_id       TEXT REFERENCES org_units (id),
    -- SM4-GCM ciphertext and HMAC-SM3 blind index of the mobile number.
    phone_cipher  BLOB,
    phone_index   TEXT,
    status        TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
CREATE INDEX users_unit ON users (unit_id);
CREATE INDEX users_phone_index ON users (phone_index);

CREATE TABLE role_assignments (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT NOT NULL,
    -- NULL only for roles outside the org tree (applicant).
    unit_id     TEXT REFERENCES org_units (id),
    granted_at  TIMESTAMP NOT NULL,
    granted_by  TEXT
);
CREATE UNIQUE INDEX role_assignments_unique ON role_assignments (user_id, role, COALESCE(unit_id, ''));
-- 三权分立 (SEC-02): at most one of the three administrator roles per user.
CREATE UNIQUE INDEX role_assignments_separated_admin ON role_assignments (user_id)
    WHERE role IN ('system_admin', 'security_admin', 'audit_admin');
CREATE INDEX role_assignments_unit ON role_assignments (unit_id);

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    mac  TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, mac) VALUES (1, 0, 'genesis');

CREATE TABLE audit_log (
    seq          BIGINT PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    occurred_at  TIMESTAMP NOT NULL,
    actor_id     TEXT,
    actor_label  TEXT NOT NULL,
    action       TEXT NOT NULL,
    target_type  TEXT,
    target_id    TEXT,
    source_ip    TEXT,
    outcome      TEXT NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
    detail       TEXT NOT NULL,
    request_id   TEXT,
    prev_mac     TEXT NOT NULL,
    mac          TEXT NOT NULL
);
CREATE INDEX audit_log_occurred ON audit_log (occurred_at);
CREATE INDEX audit_log_actor ON audit_log (actor_id, seq);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
