-- Accounts: institutions (tenants), the parent role, account status, invitations, password
-- resets, the mail outbox, the audit log and guardianships. Every user and room belongs to one
-- institution; rows written before this migration (and tools that name none, such as the
-- bench's bulk seed) belong to the demo institution.

CREATE TABLE institutions (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO institutions (id, name) VALUES ('demo', 'Demo institution');

ALTER TABLE users ADD COLUMN institution_id text NOT NULL DEFAULT 'demo' REFERENCES institutions (id);
CREATE INDEX users_institution_idx ON users (institution_id, id);
ALTER TABLE rooms ADD COLUMN institution_id text NOT NULL DEFAULT 'demo' REFERENCES institutions (id);
CREATE INDEX rooms_institution_idx ON rooms (institution_id, id);

ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('student', 'coach', 'admin', 'parent'));

-- 'deleted' is an anonymised account (its row stays so room logs keep their senders).
ALTER TABLE users ADD COLUMN status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deactivated', 'deleted'));
ALTER TABLE users ADD COLUMN deactivated_at timestamptz;
-- NULL: no password chosen yet (an imported or admin-created account waiting for its welcome link).
ALTER TABLE users ALTER COLUMN password_hash DROP NOT NULL;
-- NULL: removed by an anonymising deletion (UNIQUE still holds for the others).
ALTER TABLE users ALTER COLUMN email DROP NOT NULL;

-- Subjects: NULL institution = the built-in catalog every institution sees; coaches add their own.
ALTER TABLE subjects ADD COLUMN institution_id text REFERENCES institutions (id);
ALTER TABLE subjects DROP CONSTRAINT subjects_name_topic_key;
CREATE UNIQUE INDEX subjects_name_topic_idx ON subjects (coalesce(institution_id, ''), name, topic);

-- Nothing crosses an institution: a member, a direct room's student and a guardian's child are
-- always of the room's (parent's) own institution, whatever code path wrote the row.
CREATE FUNCTION same_institution(a text, b text, what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT institution_id FROM users WHERE id = a) IS DISTINCT FROM (SELECT institution_id FROM users WHERE id = b) THEN
    RAISE EXCEPTION '% crosses institutions', what USING ERRCODE = '23514';
  END IF;
END $$;

CREATE FUNCTION membership_same_institution() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT institution_id FROM rooms WHERE id = NEW.room_id) IS DISTINCT FROM (SELECT institution_id FROM users WHERE id = NEW.user_id) THEN
    RAISE EXCEPTION 'membership crosses institutions' USING ERRCODE = '23514';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER memberships_same_institution BEFORE INSERT OR UPDATE ON memberships
  FOR EACH ROW EXECUTE FUNCTION membership_same_institution();

-- Invitations: an emailed token (only its sha256 is stored) that the invitee turns into an
-- account by choosing a password. guardian_of is set for a guardian (parent) invite. A self
-- sign-up with a join code is an invite too (join_code and password_hash set): the link in the
-- confirmation mail creates the account in the code's room.
CREATE TABLE invites (
  token_hash      text PRIMARY KEY,
  institution_id  text NOT NULL REFERENCES institutions (id),
  email           text NOT NULL,
  role            text NOT NULL CHECK (role IN ('student', 'coach', 'admin', 'parent')),
  display_name    text,
  created_by      text REFERENCES users (id),
  guardian_of     text REFERENCES users (id) ON DELETE CASCADE,
  join_code       text REFERENCES join_codes (code) ON DELETE CASCADE,
  password_hash   text,
  expires_at      timestamptz NOT NULL,
  used_at         timestamptz,
  accepted_by     text REFERENCES users (id),
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invites_institution_idx ON invites (institution_id, created_at DESC);

-- Password tokens: 'reset' (asked for by email, short-lived) and 'welcome' (the first password
-- of an account an admin created or imported, or the CLI's first admin).
CREATE TABLE password_resets (
  token_hash  text PRIMARY KEY,
  user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  purpose     text NOT NULL DEFAULT 'reset' CHECK (purpose IN ('reset', 'welcome')),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_resets_user_idx ON password_resets (user_id);

-- Every mail ever queued. natural_key (e.g. 'invite:<token hash>') makes queueing and sending
-- idempotent: one row, sent once, however often a job or a request is retried.
CREATE TABLE outbox (
  id              bigserial PRIMARY KEY,
  natural_key     text NOT NULL UNIQUE,
  institution_id  text REFERENCES institutions (id),
  to_email        text NOT NULL,
  subject         text NOT NULL,
  body_text       text NOT NULL,
  -- The action link of the mail (set-password, reset…), printed to the embedded server's log.
  link            text,
  status          text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
  -- 'smtp' once handed to the SMTP server; 'outbox' when no SMTP is configured (it stays here).
  transport       text CHECK (transport IN ('smtp', 'outbox')),
  attempts        int NOT NULL DEFAULT 0,
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  sent_at         timestamptz
);
CREATE INDEX outbox_institution_idx ON outbox (institution_id, id DESC);

-- One append-only row per admin or moderation action. actor_id has no foreign key on purpose:
-- the record outlives whatever happens to the account.
CREATE TABLE audit_log (
  id              bigserial PRIMARY KEY,
  institution_id  text NOT NULL REFERENCES institutions (id),
  actor_id        text,
  action          text NOT NULL,
  target_type     text,
  target_id       text,
  ip              text,
  details         jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_institution_idx ON audit_log (institution_id, id DESC);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = '42501';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- A parent (guardian) and a child: a parent may have several children, a child two parents.
CREATE TABLE guardianships (
  parent_id   text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  student_id  text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (parent_id, student_id)
);
CREATE INDEX guardianships_student_idx ON guardianships (student_id);

CREATE FUNCTION guardianship_same_institution() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM same_institution(NEW.parent_id, NEW.student_id, 'guardianship');
  RETURN NEW;
END $$;
CREATE TRIGGER guardianships_same_institution BEFORE INSERT OR UPDATE ON guardianships
  FOR EACH ROW EXECUTE FUNCTION guardianship_same_institution();
