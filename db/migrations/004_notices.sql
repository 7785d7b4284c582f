-- Background notices (worker/): reminders, pace nudges, overdue notices, digests.

-- Quiet hours per user, in the user's own time zone (minutes after local midnight).
ALTER TABLE users ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC';
ALTER TABLE users ADD COLUMN quiet_start_min smallint NOT NULL DEFAULT 1320 CHECK (quiet_start_min BETWEEN 0 AND 1439);
ALTER TABLE users ADD COLUMN quiet_end_min smallint NOT NULL DEFAULT 420 CHECK (quiet_end_min BETWEEN 0 AND 1439);

-- Set by a pace nudge (the coach's board shows the flag), cleared when the student is done.
ALTER TABLE task_assignees ADD COLUMN behind_pace boolean NOT NULL DEFAULT false;

-- One row per notice ever sent. The natural key makes a re-run job a no-op: (kind, what it is
-- about, recipient, window) is unique, and the notice's room event is written in the same
-- transaction as this row.
CREATE TABLE notices (
  id          bigserial PRIMARY KEY,
  kind        text NOT NULL CHECK (kind IN ('reminder', 'nudge', 'overdue', 'digest')),
  scope_id    text NOT NULL,
  user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  window_key  text NOT NULL,
  room_id     text NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  seq         bigint NOT NULL,
  body        jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (kind, scope_id, user_id, window_key)
);
CREATE INDEX notices_user_idx ON notices (user_id, kind, created_at DESC);

-- The embedded runner's durable schedule (without Redis the same jobs run in-process from here).
CREATE TABLE scheduled_jobs (
  id          text PRIMARY KEY,
  kind        text NOT NULL,
  payload     jsonb NOT NULL,
  run_at      timestamptz NOT NULL,
  attempts    int NOT NULL DEFAULT 0,
  state       text NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'failed')),
  last_error  text,
  -- Bumped by every (re)plan: a run only deletes or fails the version it claimed.
  version     int NOT NULL DEFAULT 0,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scheduled_jobs_due_idx ON scheduled_jobs (run_at) WHERE state = 'waiting';
