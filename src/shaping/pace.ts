/**
 * The pace of one shaped destination, shared by every delivery node in libSQL: a node that
 * paced on its own would multiply the destination's rate by the number of nodes, and a
 * "slow down" one node heard would not reach the others.
 *
 * Messages are spaced 60 s / rate apart (one UPDATE … RETURNING claims the next slot).
 * The rate follows AIMD, as TCP does: halved when the destination answers 421 or a 4.7.x
 * "try later", raised by one step per delivery back up to the shape's per_minute.
 */
import type { Plan } from "../db/raw.ts";

const MINUTE = 60_000;

// The slot: the row is created at full rate on first use.
const TAKE = `
  INSERT INTO destination_pace (destination, next_send_at, rate, updated_at) VALUES (?1, ?2 + ?4, ?3, ?2)
  ON CONFLICT (destination) DO UPDATE SET
    rate = min(rate, ?3),
    next_send_at = max(next_send_at, ?2) + ?5 / min(rate, ?3),
    updated_at = ?2
  WHERE next_send_at <= ?2
  RETURNING next_send_at`;

export type PaceOutcome = { ok: true } | { ok: false; until: number };

/**
 * Each is a plan (db/raw.ts): decided in SQL and sent in one request, so no transaction is
 * held across a round trip to a remote server.
 */

/** Claims the next send slot of `destination` paced at `perMinute` at most; refused, the slot's time. */
export function takePace(destination: string, perMinute: number, now: number): Plan<PaceOutcome> {
  const spacing = Math.ceil(MINUTE / perMinute);
  return {
    statements: [
      { sql: TAKE, args: [destination, now, perMinute, spacing, MINUTE] },
      { sql: "SELECT next_send_at FROM destination_pace WHERE destination = ?", args: [destination] },
    ],
    decode: ([taken, slot]) => {
      if (taken!.rows.length > 0) return { ok: true };
      return { ok: false, until: Math.max(now + 1, Number(slot!.rows[0]?.next_send_at ?? now + 1)) };
    },
  };
}

/** "Try later": half the rate (at least one a minute), and the next slot a full new spacing away. Returns the new rate. */
export function slowDown(destination: string, now: number): Plan<number | null> {
  return {
    statements: [
      {
        sql: `UPDATE destination_pace SET rate = max(1, rate / 2), next_send_at = max(next_send_at, ?2 + ?3 / max(1, rate / 2)), updated_at = ?2
          WHERE destination = ?1 RETURNING rate`,
        args: [destination, now, MINUTE],
      },
    ],
    decode: ([rs]) => (rs!.rows[0] ? Number(rs!.rows[0].rate) : null),
  };
}

/** A delivery: one step back toward the shape's rate (a tenth of it, at least one). */
export function speedUp(destination: string, perMinute: number, now: number): Plan<void> {
  return {
    statements: [{ sql: "UPDATE destination_pace SET rate = min(?2, rate + max(1, ?2 / 10)), updated_at = ?3 WHERE destination = ?1 AND rate < ?2", args: [destination, perMinute, now] }],
    decode: () => undefined,
  };
}
