-- Identity: token signing keys, sessions, refresh tokens, local admin
-- credentials, login throttling.

CREATE TABLE signing_keys (
    kid          TEXT PRIMARY KEY,
    -- PKCS#8 PEM of the ES256 private key, sealed with SM4-GCM.
    private_key  BYTEA NOT NULL,
    public_jwk   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    -- Set when a newer key takes over signing; still published for
    -- verification until every token it signed has expired.
    retired_at   TIMESTAMPTZ
);

CREATE TABLE sessions (
    id                   TEXT PRIMARY KEY,
    user_id              TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel              TEXT NOT NULL CHECK (channel IN ('pc', 'mobile', 'admin')),
    device_id            TEXT,
    -- JSON array of authentication methods (RFC 8176): pwd, otp, sms, sso.
    amr                  TEXT NOT NULL,
    auth_time            TIMESTAMPTZ NOT NULL,
    step_up_at           TIMESTAMPTZ,
    created_at           TIMESTAMPTZ NOT NULL,
    last_used_at         TIMESTAMPTZ NOT NULL,
    idle_expires_at      TIMESTAMPTZ NOT NULL,
    absolute_expires_at  TIMESTAMPTZ NOT NULL,
    ended_at             TIMESTAMPTZ,
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
    issued_at    TIMESTAMPTZ NOT NULL,
    used_at      TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE local_credentials (
    user_id          TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    password_hash    TEXT NOT NULL,
    -- TOTP secret sealed with SM4-GCM; NULL until enrolment is confirmed.
    totp_secret      BYTEA,
    totp_pending     BYTEA,
    totp_last_step   BIGINT,
    failed_count     INTEGER NOT NULL DEFAULT 0,
    locked_until     TIMESTAMPTZ,
    password_changed_at TIMESTAMPTZ NOT NULL
);

-- Failed logins counted per scope in fixed windows: `ip:ADDR` for one
-- address across all accounts, `ip:ADDR|login:NAME` for one address against
-- one account.
CREATE TABLE login_throttle (
    scope         TEXT NOT NULL,
    window_start  TIMESTAMPTZ NOT NULL,
    failures      INTEGER NOT NULL,
    PRIMARY KEY (scope, window_start)
);
