-- The deadline watch, the "two pages" connector, and single-instance jobs.

-- Outbound connectors (the two pages, later the unified to-do) deliver
-- through the outbox too: SQLite cannot change a CHECK in place, so the table
-- is rebuilt with the new channel allowed.
CREATE TABLE outbox_new (
    id                   TEXT PRIMARY KEY,
    idempotency_key      TEXT UNIQUE,
    kind                 TEXT NOT NULL,
    channel              TEXT NOT NULL CHECK (channel IN ('sms', 'push', 'connector')),
    provider             TEXT NOT NULL,
    payload_cipher       BLOB NOT NULL,
    recipient_masked     TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'dead')),
    attempts             INTEGER NOT NULL DEFAULT 0,
    next_attempt_at      TIMESTAMP NOT NULL,
    lease_until          TIMESTAMP,
    expires_at           TIMESTAMP NOT NULL,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL,
    sent_at              TIMESTAMP,
    provider_message_id  TEXT,
    last_error           TEXT
);
INSERT INTO outbox_new SELECT id, idempotency_key, kind, channel, provider, payload_cipher, recipient_masked,
    status, attempts, next_attempt_at, lease_until, expires_at, created_at, updated_at, sent_at,
    provider_message_id, last_error FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_created ON outbox (created_at);

-- The applicant's one-net id, sealed, for the milestones pushed to their
-- page (the blind index alone cannot be reversed).
ALTER TABLE disclosure_cases ADD COLUMN onenet_uid_sealed BLOB;
-- The due date a deadline warning was sent for (a new due date warns again).
ALTER TABLE disclosure_cases ADD COLUMN deadline_warned_on TEXT;
-- Set by the deadline watch on the first day past the due date.
ALTER TABLE disclosure_cases ADD COLUMN overdue_since TEXT;

-- Jobs that must run on one instance at a time hold a lease here.
CREATE TABLE job_leases (
    name         TEXT PRIMARY KEY,
    holder       TEXT NOT NULL,
    lease_until  TIMESTAMP NOT NULL
);
