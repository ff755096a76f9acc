-- Links to the city platforms' identities, and versions for org sync.

-- The user's id at Suishenban; linked at first mobile sign-in through the
-- verified mobile number.
ALTER TABLE users ADD COLUMN suishenban_id TEXT;
-- The user's id at the unified office platform (OIDC `sub`, org-sync key).
ALTER TABLE users ADD COLUMN platform_id TEXT;
CREATE UNIQUE INDEX users_suishenban_id ON users (suishenban_id);
CREATE UNIQUE INDEX users_platform_id ON users (platform_id);

-- The platform's version of the row, so an older change never overwrites a
-- newer one when sync batches arrive out of order.
ALTER TABLE users ADD COLUMN sync_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE org_units ADD COLUMN sync_version BIGINT NOT NULL DEFAULT 0;
