-- coachwire_append, now also checking a chat sender against the database: with p_check_sender[i]
-- true, a sender who is no longer a member answers 'not_member' and a muted one 'muted' (nothing
-- written). The check runs under the room's row lock, which every membership change takes too
-- (server/coaching/), so a message can never land after its sender's removal or mute committed,
-- whatever a process's membership cache still says. The five-argument form stays for callers
-- that do not ask for the check.

CREATE FUNCTION coachwire_append(
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
        FROM room_events e WHERE e.room_id = p_room[i] AND e.client_id = p_client[i];
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
