-- Identity: token signing keys, sessions, refresh tokens, local admin
-- credentials, login throttling.

CREATE TABLE signing_keys (
    kid          TEXT PRIMARY KEY,
    -- PKCS#8 PEM of the ES256 private key, sealed with SM4-GCM.
    private_key  BLOB NOT NULL,
    public_jwk   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    -- Set when a newer key takes over signing; still published for
    -- verification until every token it signed has expired.
    retired_at   TIMESTAMP
);

CREATE TABLE sessions (
    id                   TEXT PRIMARY KEY,
    user_id              TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel              TEXT NOT NULL CHECK (channel IN ('pc', 'mobile', 'admin')),
    device_id            TEXT,
    -- JSON array of authentication methods (RFC 8176): pwd, otp, sms, sso.
    amr                  TEXT NOT NULL,
    auth_time            TIMESTAMP NOT NULL,
    step_up_at           TIMESTAMP,
    created_at           TIMESTAMP NOT NULL,
    last_used_at         TIMESTAMP NOT NULL,
    idle_expires_at      TIMESTAMP NOT NULL,
    absolute_expires_at  TIMESTAMP NOT NULL,
    ended_at             TIMESTAMP,
    end_reason           TEXT,
    -- The platform's own session id (OIDC `sid`), for back-channel logout.
    platform_sid         TEXT
);
CREATE INDEX sessions_user ON sessions (user_id, ended_at);
CREATE INDEX sessions_platform_sid ON sessions (platform_sid);

CREATE TABLE refresh_tokens (
    -- SM3 of the token; the token itself is never stored.
    token_hash   TEXT PRIMARY KEY,
    session_id   TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    issued_at    TIMESTAMP NOT NULL,
    used_at      TIMESTAMP
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE local_credentials (
    user_id          TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    password_hash    TEXT NOT NULL,
    -- TOTP secret sealed with SM4-GCM; NULL until enrolment is confirmed.
    totp_secret      BLOB,
    totp_pending     BLOB,
    totp_last_step   BIGINT,
    failed_count     INTEGER NOT NULL DEFAULT 0,
    locked_until     TIMESTAMP,
    password_changed_at TIMESTAMP NOT NULL
);

-- Failed logins counted per scope in fixed windows: `ip:ADDR` for one
-- address across all accounts, `ip:ADDR|login:NAME` for one address against
-- one account.
CREATE TABLE login_throttle (
    scope         TEXT NOT NULL,
    window_start  TIMESTAMP NOT NULL,
    failures      INTEGER NOT NULL,
    PRIMARY KEY (scope, window_start)
);
