-- Parents' weekly digests, consent records and login sessions (server/parents/,
-- server/privacy/, server/accounts/session-list.ts).

-- One row per login session (refresh-token family): where it came from and when it was last used,
-- for GET /api/me/sessions. Families older than this migration have no row and are listed from
-- refresh_tokens alone.
CREATE TABLE session_families (
  family_id     text PRIMARY KEY,
  user_id       text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  user_agent    text NOT NULL DEFAULT '',
  ip            text NOT NULL DEFAULT '',
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz
);
CREATE INDEX session_families_user_idx ON session_families (user_id, last_used_at DESC);

-- Which terms version each user accepted, and when (append-only: a new version is a new row).
CREATE TABLE consents (
  user_id        text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  terms_version  text NOT NULL,
  accepted_at    timestamptz NOT NULL DEFAULT now(),
  ip             text NOT NULL DEFAULT '',
  PRIMARY KEY (user_id, terms_version)
);

-- A parent's weekly digest: one per parent and week (the natural key makes a re-run a no-op).
-- Parents are in no room, so their notices live here rather than in the room-log `notices`.
CREATE TABLE parent_digests (
  id          bigserial PRIMARY KEY,
  parent_id   text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  week        text NOT NULL,
  body        jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (parent_id, week)
);
