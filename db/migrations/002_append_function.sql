-- The one write path into room logs, as one function: a batch of events is stored by a single
-- statement (one round trip, atomic on its own), called by server/log/append.ts.
--
-- For each draft, in order: if its client_id is already stored in its room, answer the stored
-- event ('duplicate'); if the room does not exist, answer 'missing'; otherwise take the room's
-- next seq (gap-free: last_seq + 1 under the row lock) and insert ('stored'). The rooms are
-- locked first, in id order, so concurrent writers cannot deadlock; each later statement then
-- sees every commit that raced us for these rooms (READ COMMITTED, a fresh snapshot per
-- statement), and a draft repeated within the batch finds the row its first copy inserted.

CREATE FUNCTION coachwire_append(
  p_room text[], p_client text[], p_kind text[], p_sender text[], p_body text[]
) RETURNS TABLE (
  r_ord int, r_outcome text, r_seq bigint, r_kind text, r_sender text, r_body jsonb, r_created_at timestamptz
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  i int;
  v_seq bigint;
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
    UPDATE rooms SET last_seq = last_seq + 1 WHERE id = p_room[i] RETURNING last_seq INTO v_seq;
    IF NOT FOUND THEN
      r_outcome := 'missing';
      r_seq := NULL; r_kind := NULL; r_sender := NULL; r_body := NULL; r_created_at := NULL;
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
