-- The coaching domain: muted members, 1:1 rooms, join codes, the subject catalog, tasks and
-- each assignee's progress. Every change to these tables is written in the same transaction as
-- the room-log event that announces it (server/coaching/), so state and log never disagree.

ALTER TABLE memberships ADD COLUMN muted boolean NOT NULL DEFAULT false;

-- A 1:1 room belongs to one coach and one student; asking for it again returns the same room.
ALTER TABLE rooms ADD COLUMN direct_student_id text REFERENCES users (id) ON DELETE CASCADE;
CREATE UNIQUE INDEX rooms_direct_pair_idx ON rooms (created_by, direct_student_id) WHERE kind = 'direct';

CREATE TABLE join_codes (
  code        text PRIMARY KEY,
  room_id     text NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  created_by  text NOT NULL REFERENCES users (id),
  expires_at  timestamptz NOT NULL,
  max_uses    int CHECK (max_uses IS NULL OR max_uses > 0),
  uses        int NOT NULL DEFAULT 0 CHECK (uses >= 0),
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX join_codes_room_idx ON join_codes (room_id);

CREATE TABLE subjects (
  id     text PRIMARY KEY,
  name   text NOT NULL,
  topic  text NOT NULL,
  UNIQUE (name, topic)
);
INSERT INTO subjects (id, name, topic) VALUES
  ('mat-turev', 'Matematik', 'Türev'),
  ('mat-integral', 'Matematik', 'İntegral'),
  ('mat-limit', 'Matematik', 'Limit'),
  ('fiz-optik', 'Fizik', 'Optik'),
  ('fiz-elektrik', 'Fizik', 'Elektrik'),
  ('kim-mol', 'Kimya', 'Mol Kavramı'),
  ('biy-hucre', 'Biyoloji', 'Hücre'),
  ('tur-paragraf', 'Türkçe', 'Paragraf');

CREATE TABLE tasks (
  id           text PRIMARY KEY,
  room_id      text NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  created_by   text NOT NULL REFERENCES users (id),
  title        text NOT NULL,
  details      text NOT NULL DEFAULT '',
  subject_id   text REFERENCES subjects (id),
  -- The countable target (e.g. 40 questions); NULL for a task that is simply done or not.
  target       int CHECK (target IS NULL OR target > 0),
  due_at       timestamptz,
  urgent       boolean NOT NULL DEFAULT false,
  -- Whole-room tasks also go to students who join the room later.
  assign_all   boolean NOT NULL,
  status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'cancelled')),
  -- The seq of the task.created event, so "delivered" can be read off members' read marks.
  created_seq  bigint NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tasks_room_idx ON tasks (room_id, created_at DESC, id DESC);

CREATE TABLE task_assignees (
  task_id     text NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  state       text NOT NULL DEFAULT 'assigned' CHECK (state IN ('assigned', 'seen', 'started', 'done')),
  solved      int NOT NULL DEFAULT 0 CHECK (solved >= 0),
  correct     int NOT NULL DEFAULT 0 CHECK (correct >= 0),
  wrong       int NOT NULL DEFAULT 0 CHECK (wrong >= 0),
  seen_at     timestamptz,
  started_at  timestamptz,
  done_at     timestamptz,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (task_id, user_id),
  CHECK (correct + wrong <= solved)
);
CREATE INDEX task_assignees_user_idx ON task_assignees (user_id);
