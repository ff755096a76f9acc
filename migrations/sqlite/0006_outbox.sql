-- The transactional outbox: every SMS and push the product sends is written
-- here in the same transaction as the change that caused it, then delivered
-- by the dispatcher (notify crate).

CREATE TABLE outbox (
    -- ULID; travels to the provider as its dedupe field (Aliyun OutId,
    -- APNs apns-id).
    id                   TEXT PRIMARY KEY,
    -- A repeated enqueue with the same key is a no-op.
    idempotency_key      TEXT UNIQUE,
    -- Notification kind (template), e.g. 'verification_code'.
    kind                 TEXT NOT NULL,
    channel              TEXT NOT NULL CHECK (channel IN ('sms', 'push')),
    provider             TEXT NOT NULL,
    -- Recipient and template parameters, sealed with SM4-GCM: they can hold
    -- phone numbers and verification codes.
    payload_cipher       BLOB NOT NULL,
    -- For the admin view: e.g. '138****5678'.
    recipient_masked     TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'dead')),
    attempts             INTEGER NOT NULL DEFAULT 0,
    next_attempt_at      TIMESTAMP NOT NULL,
    -- While 'sending': the claim expires then, and another dispatcher may
    -- take the message (after a crash).
    lease_until          TIMESTAMP,
    expires_at           TIMESTAMP NOT NULL,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL,
    sent_at              TIMESTAMP,
    provider_message_id  TEXT,
    last_error           TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_created ON outbox (created_at);
