-- The deadline watch, the "two pages" connector, and single-instance jobs.

-- Outbound connectors (the two pages, later the unified to-do) deliver
-- through the outbox too.
ALTER TABLE outbox DROP CONSTRAINT outbox_channel_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_channel_check CHECK (channel IN ('sms', 'push', 'connector'));

-- The applicant's one-net id, sealed, for the milestones pushed to their
-- page (the blind index alone cannot be reversed).
ALTER TABLE disclosure_cases ADD COLUMN onenet_uid_sealed BYTEA;
-- The due date a deadline warning was sent for (a new due date warns again).
ALTER TABLE disclosure_cases ADD COLUMN deadline_warned_on TEXT;
-- Set by the deadline watch on the first day past the due date.
ALTER TABLE disclosure_cases ADD COLUMN overdue_since TEXT;

-- Jobs that must run on one instance at a time hold a lease here.
CREATE TABLE job_leases (
    name         TEXT PRIMARY KEY,
    holder       TEXT NOT NULL,
    lease_until  TIMESTAMPTZ NOT NULL
);
