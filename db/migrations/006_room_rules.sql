-- Room rules (issue 9): idempotency keys scoped to their sender, and the room setting that
-- decides whether classmates see each other's progress.

-- A client-chosen id repeats an operation only for the sender who chose it: (room, sender,
-- clientId) is unique, no longer (room, clientId). Before, a member who sent with an id another
-- member had used got the other's seq back and their message was dropped, so anyone who could
-- guess a client's ids could suppress its messages. Events without a sender (the job worker's
-- notices) share one scope, the empty sender, so a re-run notice still finds its first copy.
ALTER TABLE room_events DROP CONSTRAINT room_events_room_id_client_id_key;
CREATE UNIQUE INDEX room_events_sender_client_idx ON room_events (room_id, (coalesce(sender_id, '')), client_id)
  WHERE client_id IS NOT NULL;

-- Off by default: classmates see a student's task.progress redacted (coaches and the student
-- see it in full). A room coach turns it on for a class leaderboard (server/coaching/room-service.ts).
ALTER TABLE rooms ADD COLUMN share_progress boolean NOT NULL DEFAULT false;

-- The five-argument form looked a clientId up in the room alone; nothing calls it any more.
DROP FUNCTION coachwire_append(text[], text[], text[], text[], text[]);

-- coachwire_append as in 005_append_checks_sender.sql, except that a draft repeats an earlier
-- event only when that event has the same sender as well as the same clientId.
CREATE OR REPLACE FUNCTION coachwire_append(
  p_room text[], p_client text[], p_kind text[], p_sender text[], p_body text[], p_check_sender boolean[]
) RETURNS TABLE (
  r_ord int, r_outcome text, r_seq bigint, r_kind text, r_sender text, r_body jsonb, r_created_at timestamptz
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  i int;
  v_seq bigint;
  v_muted boolean;
BEGIN
  PERFORM 1 FROM rooms WHERE id = ANY (p_room) ORDER BY id FOR UPDATE;
  FOR i IN 1 .. coalesce(array_length(p_room, 1), 0) LOOP
    r_ord := i;
    IF p_client[i] IS NOT NULL THEN
      SELECT e.seq, e.kind, e.sender_id, e.body, e.created_at
        INTO r_seq, r_kind, r_sender, r_body, r_created_at
        FROM room_events e
       WHERE e.room_id = p_room[i] AND coalesce(e.sender_id, '') = coalesce(p_sender[i], '') AND e.client_id = p_client[i];
      IF FOUND THEN
        r_outcome := 'duplicate';
        RETURN NEXT;
        CONTINUE;
      END IF;
    END IF;
    r_seq := NULL; r_kind := NULL; r_sender := NULL; r_body := NULL; r_created_at := NULL;
    IF coalesce(p_check_sender[i], false) THEN
      PERFORM 1 FROM rooms WHERE id = p_room[i];
      IF FOUND THEN
        SELECT m.muted INTO v_muted FROM memberships m WHERE m.room_id = p_room[i] AND m.user_id = p_sender[i];
        IF NOT FOUND OR v_muted THEN
          r_outcome := CASE WHEN FOUND THEN 'muted' ELSE 'not_member' END;
          RETURN NEXT;
          CONTINUE;
        END IF;
      END IF;
    END IF;
    UPDATE rooms SET last_seq = last_seq + 1 WHERE id = p_room[i] RETURNING last_seq INTO v_seq;
    IF NOT FOUND THEN
      r_outcome := 'missing';
      RETURN NEXT;
      CONTINUE;
    END IF;
    INSERT INTO room_events (room_id, seq, client_id, kind, sender_id, body)
      VALUES (p_room[i], v_seq, p_client[i], p_kind[i], p_sender[i], p_body[i]::jsonb)
      RETURNING seq, kind, sender_id, body, created_at INTO r_seq, r_kind, r_sender, r_body, r_created_at;
    r_outcome := 'stored';
    RETURN NEXT;
  END LOOP;
END
$$;
