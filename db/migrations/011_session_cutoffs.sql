-- Per-user session cutoffs when there is no Redis (issue 9, defect 4, as the accounts work
-- extended revocation to whole accounts): "every access token of this user signed before
-- cut_at is void" (deactivation, a password change or reset, a role change, deletion), kept
-- until keep_until, when every token it covers has expired anyway. In the database, like the
-- denylist, so a restart of the embedded server does not forget a deactivation.
CREATE TABLE session_cutoffs (
  user_id    text PRIMARY KEY,
  cut_at     bigint NOT NULL,
  keep_until timestamptz NOT NULL
);
CREATE INDEX session_cutoffs_keep_until_idx ON session_cutoffs (keep_until);
