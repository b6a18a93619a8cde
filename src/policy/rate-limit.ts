/**
 * Per-account limits: messages per minute and per UTC day, fixed windows. Checking and
 * counting is ONE UPSERT … RETURNING, so any number of processes on one database can
 * never admit more than the limit: SQLite/libSQL runs each statement atomically.
 */
import type { Sql } from "../db/raw.ts";

export interface Limits {
  perMinute: number | null;
  perDay: number | null;
}

export type RateRefusal = { ok: false; window: "minute" | "day"; retryAfterSeconds: number };
export type RateOutcome = { ok: true } | RateRefusal;

const MINUTE = 60_000;
const DAY = 86_400_000;
const UNLIMITED = Number.MAX_SAFE_INTEGER;

const windows = (now: number) => ({ minute: now - (now % MINUTE), day: now - (now % DAY) });

const CONSUME = `
  INSERT INTO rate_counters (account_id, minute_start, minute_count, day_start, day_count)
  VALUES (?1, ?2, 1, ?3, 1)
  ON CONFLICT (account_id) DO UPDATE SET
    minute_count = CASE WHEN minute_start = excluded.minute_start THEN minute_count + 1 ELSE 1 END,
    day_count = CASE WHEN day_start = excluded.day_start THEN day_count + 1 ELSE 1 END,
    minute_start = excluded.minute_start,
    day_start = excluded.day_start
  WHERE (minute_start <> excluded.minute_start OR minute_count < ?4)
    AND (day_start <> excluded.day_start OR day_count < ?5)
  RETURNING minute_count`;

/** Counts one message if both windows have room; otherwise counts nothing. */
export async function consumeRate(sql: Sql, accountId: string, limits: Limits, now: number): Promise<RateOutcome> {
  if (limits.perMinute === null && limits.perDay === null) return { ok: true };
  const w = windows(now);
  const rs = await sql.execute({ sql: CONSUME, args: [accountId, w.minute, w.day, limits.perMinute ?? UNLIMITED, limits.perDay ?? UNLIMITED] });
  if (rs.rows.length > 0) return { ok: true };
  return (await peekRate(sql, accountId, limits, now)) ?? { ok: false, window: "minute", retryAfterSeconds: 1 };
}

/** Whether the next message would be refused, without counting it (an early answer at MAIL). */
export async function peekRate(sql: Sql, accountId: string, limits: Limits, now: number): Promise<RateRefusal | null> {
  if (limits.perMinute === null && limits.perDay === null) return null;
  const w = windows(now);
  const rs = await sql.execute({ sql: "SELECT minute_start, minute_count, day_start, day_count FROM rate_counters WHERE account_id = ?", args: [accountId] });
  const row = rs.rows[0] as unknown as { minute_start: number; minute_count: number; day_start: number; day_count: number } | undefined;
  if (!row) return null;
  if (limits.perDay !== null && row.day_start === w.day && row.day_count >= limits.perDay) {
    return { ok: false, window: "day", retryAfterSeconds: Math.ceil((w.day + DAY - now) / 1000) };
  }
  if (limits.perMinute !== null && row.minute_start === w.minute && row.minute_count >= limits.perMinute) {
    return { ok: false, window: "minute", retryAfterSeconds: Math.ceil((w.minute + MINUTE - now) / 1000) };
  }
  return null;
}
