-- Auth hardening (issue 9).
--
-- server_secrets: secrets an installation makes for itself. With no COACHWIRE_JWT_SECRET the
-- first server to start stores a random JWT signing key here (INSERT … ON CONFLICT DO NOTHING,
-- then read back), so every process sharing this database signs and verifies with the same
-- key, a restart keeps it, and no two installations share one.
CREATE TABLE server_secrets (
  name       text PRIMARY KEY,
  value      text NOT NULL CHECK (length(value) >= 32),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- token_denylist: revoked access tokens ("token:<jti>") and revoked token families
-- ("family:<family id>") when there is no Redis, kept until the last token they cover would
-- have expired anyway, so a restart does not forget a logout.
CREATE TABLE token_denylist (
  key        text PRIMARY KEY,
  expires_at timestamptz NOT NULL
);
CREATE INDEX token_denylist_expires_idx ON token_denylist (expires_at);
