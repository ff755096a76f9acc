-- PC sign-in through the unified office platform (OIDC).

-- One row per login in flight: created at /auth/pc/login, consumed once at
-- the callback. Rows older than ten minutes are refused and swept.
CREATE TABLE oidc_logins (
    state          TEXT PRIMARY KEY,
    nonce          TEXT NOT NULL,
    code_verifier  TEXT NOT NULL,
    return_to      TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL
);

-- `jti`s of back-channel logout tokens already acted on, so a replayed
-- token is refused (OIDC Back-Channel Logout 1.0 §2.6).
CREATE TABLE oidc_seen_jtis (
    jti         TEXT PRIMARY KEY,
    expires_at  TIMESTAMP NOT NULL
);
