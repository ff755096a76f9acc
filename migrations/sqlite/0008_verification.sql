-- SMS verification codes for applicants (GK-15).

-- The live code per phone and purpose; a new request replaces it. Only a
-- keyed hash of the code is stored.
CREATE TABLE verification_codes (
    phone_index  TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    code_mac     TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    expires_at   TIMESTAMP NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (phone_index, purpose)
);

-- Every code sent, for the throttles (per phone, per address, per prefix).
CREATE TABLE verification_sends (
    id           TEXT PRIMARY KEY,
    phone_index  TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    source_ip    TEXT,
    sent_at      TIMESTAMP NOT NULL
);
CREATE INDEX verification_sends_phone ON verification_sends (phone_index, sent_at);
CREATE INDEX verification_sends_prefix ON verification_sends (prefix, sent_at);
CREATE INDEX verification_sends_ip ON verification_sends (source_ip, sent_at);

-- Proof that a phone was verified: single use, bound to phone and purpose.
CREATE TABLE verification_tokens (
    token_hash    TEXT PRIMARY KEY,
    phone_index   TEXT NOT NULL,
    phone_cipher  BLOB NOT NULL,
    purpose       TEXT NOT NULL,
    expires_at    TIMESTAMP NOT NULL,
    used_at       TIMESTAMP
);
