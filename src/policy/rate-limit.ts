/**
 * Per-account limits: messages per minute and per UTC day, and recipients per UTC day,
 * fixed windows. Checking and counting is ONE UPSERT … RETURNING, so any number of
 * processes on one database can never admit more than the limit: SQLite/libSQL runs each
 * statement atomically.
 */
import type { InStatement, InValue } from "@libsql/client";
import type { Sql, SqlResult } from "../db/raw.ts";

export interface Limits {
  perMinute: number | null;
  perDay: number | null;
  /** Recipients summed over the day's messages. */
  recipientsPerDay: number | null;
}

export type RateRefusal = { ok: false; window: "minute" | "day" | "recipients"; retryAfterSeconds: number };
export type RateOutcome = { ok: true } | RateRefusal;

const MINUTE = 60_000;
const DAY = 86_400_000;
const UNLIMITED = Number.MAX_SAFE_INTEGER;

const windows = (now: number) => ({ minute: now - (now % MINUTE), day: now - (now % DAY) });

export const unlimited = (l: Limits) => l.perMinute === null && l.perDay === null && l.recipientsPerDay === null;

// A new row is admitted without the WHERE: the caller refuses a message whose recipients
// alone exceed the daily recipient limit before it gets here (see consumeRate).
const COUNTERS = "INSERT INTO rate_counters (account_id, minute_start, minute_count, day_start, day_count, day_recipients)";
// One more message in the row's windows (a window that has passed starts again).
const COUNT_ONE = `ON CONFLICT (account_id) DO UPDATE SET
    minute_count = CASE WHEN minute_start = excluded.minute_start THEN minute_count + 1 ELSE 1 END,
    day_count = CASE WHEN day_start = excluded.day_start THEN day_count + 1 ELSE 1 END,
    day_recipients = CASE WHEN day_start = excluded.day_start THEN day_recipients + excluded.day_recipients ELSE excluded.day_recipients END,
    minute_start = excluded.minute_start,
    day_start = excluded.day_start`;

const CONSUME = `
  ${COUNTERS} VALUES (?1, ?2, 1, ?3, 1, ?6)
  ${COUNT_ONE}
  WHERE (minute_start <> excluded.minute_start OR minute_count < ?4)
    AND (day_start <> excluded.day_start OR day_count < ?5)
    AND (day_start <> excluded.day_start OR day_recipients + excluded.day_recipients <= ?7)
  RETURNING minute_count`;

/** Counts one message of `recipients` recipients if every window has room; otherwise counts nothing. */
export async function consumeRate(sql: Sql, accountId: string, limits: Limits, now: number, recipients = 1): Promise<RateOutcome> {
  if (unlimited(limits)) return { ok: true };
  const w = windows(now);
  if (limits.recipientsPerDay !== null && recipients > limits.recipientsPerDay) return refusal("recipients", now);
  const args = [accountId, w.minute, w.day, limits.perMinute ?? UNLIMITED, limits.perDay ?? UNLIMITED, recipients, limits.recipientsPerDay ?? UNLIMITED];
  const rs = await sql.execute({ sql: CONSUME, args });
  if (rs.rows.length > 0) return { ok: true };
  return (await peekRate(sql, accountId, limits, now, recipients)) ?? { ok: false, window: "minute", retryAfterSeconds: 1 };
}

function refusal(window: RateRefusal["window"], now: number): RateRefusal {
  const w = windows(now);
  const end = window === "minute" ? w.minute + MINUTE : w.day + DAY;
  return { ok: false, window, retryAfterSeconds: Math.ceil((end - now) / 1000) };
}

/** Whether the next message (of `recipients` recipients) would be refused, without counting it. */
export async function peekRate(sql: Sql, accountId: string, limits: Limits, now: number, recipients = 1): Promise<RateRefusal | null> {
  if (unlimited(limits)) return null;
  const rs = await sql.execute(readCounters(accountId));
  return refusalFrom(rs, limits, now, recipients);
}

/** The account's counters, for refusalFrom. */
export const readCounters = (accountId: string): InStatement => ({
  sql: "SELECT minute_start, minute_count, day_start, day_count, day_recipients FROM rate_counters WHERE account_id = ?",
  args: [accountId],
});

/** The window a message of `recipients` recipients would exceed, judged on readCounters' result. */
export function refusalFrom(rs: SqlResult, limits: Limits, now: number, recipients = 1): RateRefusal | null {
  const w = windows(now);
  const row = rs.rows[0] as unknown as { minute_start: number; minute_count: number; day_start: number; day_count: number; day_recipients: number } | undefined;
  if (limits.recipientsPerDay !== null && recipients > limits.recipientsPerDay) return refusal("recipients", now);
  if (!row) return null;
  if (limits.perDay !== null && row.day_start === w.day && row.day_count >= limits.perDay) return refusal("day", now);
  if (limits.recipientsPerDay !== null && row.day_start === w.day && row.day_recipients + recipients > limits.recipientsPerDay) return refusal("recipients", now);
  if (limits.perMinute !== null && row.minute_start === w.minute && row.minute_count >= limits.perMinute) return refusal("minute", now);
  return null;
}

/**
 * For a plan (queue/enqueue.ts): an SQL condition, true while every window has room for one
 * more message of `recipients` recipients, and the statement that counts it once `admitted`
 * (an SQL condition over the plan's own rows) holds. Both run in the plan's transaction, so
 * nodes sharing one database still never admit more than the limit.
 */
export function rateInPlan(accountId: string, limits: Limits, now: number, recipients: number) {
  const w = windows(now);
  const room: { sql: string; args: InValue[] } = {
    sql: `NOT EXISTS (SELECT 1 FROM rate_counters WHERE account_id = ? AND (
      (minute_start = ? AND minute_count >= ?) OR (day_start = ? AND day_count >= ?) OR (day_start = ? AND day_recipients + ? > ?)))`,
    args: [accountId, w.minute, limits.perMinute ?? UNLIMITED, w.day, limits.perDay ?? UNLIMITED, w.day, recipients, limits.recipientsPerDay ?? UNLIMITED],
  };
  const count = (admitted: string, admittedArgs: InValue[]): InStatement => ({
    sql: `${COUNTERS} SELECT ?, ?, 1, ?, 1, ? WHERE ${admitted} ${COUNT_ONE}`,
    args: [accountId, w.minute, w.day, recipients, ...admittedArgs],
  });
  return { room, count };
}
