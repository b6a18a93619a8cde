/**
 * Route quotas: the plan a provider sells (messages per second, per minute, per UTC day),
 * counted per upstream route before each message goes out. Checking and counting is ONE
 * UPSERT … RETURNING, as for account limits (policy/rate-limit.ts), so any number of
 * delivery nodes on one database admit exactly the quota and never more.
 *
 * A message is counted when it is handed to the route, whatever the answer: the provider
 * counts our attempts too.
 */
import type { Plan, Sql } from "../db/raw.ts";

export interface RouteQuota {
  perSecond: number | null;
  perMinute: number | null;
  perDay: number | null;
}

export const noQuota = (q: RouteQuota | undefined): boolean => !q || (q.perSecond === null && q.perMinute === null && q.perDay === null);

const SECOND = 1000;
const MINUTE = 60_000;
const DAY = 86_400_000;
const UNLIMITED = Number.MAX_SAFE_INTEGER;

const start = (now: number, len: number) => now - (now % len);

/**
 * Per second, messages are spaced 1/N s apart rather than counted in fixed windows: a fixed
 * window lets N go at the end of one second and N more at the start of the next — 2N in
 * one second as the provider measures it. Spaced, no second of any alignment sees more
 * than N. Per minute and per day are the provider's windows, counted as they are.
 */
const CONSUME = `
  INSERT INTO route_counters (route, next_send_at, minute_start, minute_count, day_start, day_count)
  VALUES (?1, ?2 + ?5, ?3, 1, ?4, 1)
  ON CONFLICT (route) DO UPDATE SET
    next_send_at = max(next_send_at, ?2) + ?5,
    minute_count = CASE WHEN minute_start = excluded.minute_start THEN minute_count + 1 ELSE 1 END,
    day_count = CASE WHEN day_start = excluded.day_start THEN day_count + 1 ELSE 1 END,
    minute_start = excluded.minute_start,
    day_start = excluded.day_start
  WHERE next_send_at <= ?2
    AND (minute_start <> excluded.minute_start OR minute_count < ?6)
    AND (day_start <> excluded.day_start OR day_count < ?7)
  RETURNING next_send_at`;

export type QuotaOutcome = { ok: true } | { ok: false; resetAt: number };

/**
 * Takes one send from the route's quota as one plan (db/raw.ts): the counting UPSERT, then
 * the counters read back in the same transaction — what blocks, when it refused. One
 * request to a remote server, the write lock held for no round trip.
 */
export function takeRouteQuotaPlan(route: string, q: RouteQuota, now: number): Plan<QuotaOutcome> {
  const m = start(now, MINUTE);
  const d = start(now, DAY);
  const spacing = q.perSecond === null ? 0 : Math.ceil(SECOND / q.perSecond);
  return {
    statements: [
      { sql: CONSUME, args: [route, now, m, d, spacing, q.perMinute ?? UNLIMITED, q.perDay ?? UNLIMITED] },
      { sql: "SELECT next_send_at, minute_start, minute_count, day_start, day_count FROM route_counters WHERE route = ?", args: [route] },
    ],
    decode: ([consumed, counters]) => {
      if (consumed!.rows.length > 0) return { ok: true };
      const row = counters!.rows[0];
      // The latest of what blocks: before it, the route admits nothing.
      let resetAt = now + 1;
      if (row) {
        resetAt = Math.max(resetAt, Number(row.next_send_at));
        if (q.perMinute !== null && Number(row.minute_start) === m && Number(row.minute_count) >= q.perMinute) resetAt = Math.max(resetAt, m + MINUTE);
        if (q.perDay !== null && Number(row.day_start) === d && Number(row.day_count) >= q.perDay) resetAt = Math.max(resetAt, d + DAY);
      }
      return { ok: false, resetAt };
    },
  };
}

export interface RouteUsage {
  route: string;
  /** When the next message may go (per-second spacing). */
  next_send_at: number;
  minute: number;
  day: number;
}

/** What each route has used in its current windows (route list, dashboard). */
export async function routeUsage(sql: Sql, now: number): Promise<RouteUsage[]> {
  const rs = await sql.execute("SELECT route, next_send_at, minute_start, minute_count, day_start, day_count FROM route_counters ORDER BY route");
  return rs.rows.map((r) => ({
    route: String(r.route),
    next_send_at: Number(r.next_send_at),
    minute: Number(r.minute_start) === start(now, MINUTE) ? Number(r.minute_count) : 0,
    day: Number(r.day_start) === start(now, DAY) ? Number(r.day_count) : 0,
  }));
}
