-- The device registry: where an official's pushes go.

CREATE TABLE devices (
    id               TEXT PRIMARY KEY,
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The app installation's own id.
    device_id        TEXT NOT NULL,
    -- The session that registered it; logout removes the device.
    session_id       TEXT,
    platform         TEXT NOT NULL CHECK (platform IN ('ios', 'android', 'harmony')),
    provider         TEXT NOT NULL CHECK (provider IN ('apns', 'fcm', 'huawei')),
    -- The provider's push token, sealed with SM4-GCM, and its blind index.
    token_cipher     BLOB NOT NULL,
    token_index      TEXT NOT NULL,
    app_version      TEXT,
    locale           TEXT,
    -- Set when the provider said the token is gone (APNs 410, FCM
    -- UNREGISTERED, Huawei 80300007); a disabled device gets no pushes.
    disabled_at      TIMESTAMP,
    disabled_reason  TEXT,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    UNIQUE (user_id, device_id)
);
CREATE INDEX devices_user ON devices (user_id, disabled_at);
CREATE INDEX devices_session ON devices (session_id);
CREATE INDEX devices_token ON devices (token_index);
