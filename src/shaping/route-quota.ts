/**
 * Route quotas: the plan a provider sells (messages per second, per minute, per UTC day),
 * counted per upstream route before each message goes out. Checking and counting is ONE
 * UPSERT … RETURNING, as for account limits (policy/rate-limit.ts), so any number of
 * delivery nodes on one database admit exactly the quota and never more.
 *
 * A message is counted when it is handed to the route, whatever the answer: the provider
 * counts our attempts too.
 */
import type { Sql } from "../db/raw.ts";

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

const CONSUME = `
  INSERT INTO route_counters (route, second_start, second_count, minute_start, minute_count, day_start, day_count)
  VALUES (?1, ?2, 1, ?3, 1, ?4, 1)
  ON CONFLICT (route) DO UPDATE SET
    second_count = CASE WHEN second_start = excluded.second_start THEN second_count + 1 ELSE 1 END,
    minute_count = CASE WHEN minute_start = excluded.minute_start THEN minute_count + 1 ELSE 1 END,
    day_count = CASE WHEN day_start = excluded.day_start THEN day_count + 1 ELSE 1 END,
    second_start = excluded.second_start,
    minute_start = excluded.minute_start,
    day_start = excluded.day_start
  WHERE (second_start <> excluded.second_start OR second_count < ?5)
    AND (minute_start <> excluded.minute_start OR minute_count < ?6)
    AND (day_start <> excluded.day_start OR day_count < ?7)
  RETURNING second_count`;

export type QuotaOutcome = { ok: true } | { ok: false; resetAt: number };

/** Counts one message on `route` if every window has room; otherwise counts nothing and says when room comes back. */
export async function takeRouteQuota(sql: Sql, route: string, q: RouteQuota, now: number): Promise<QuotaOutcome> {
  if (noQuota(q)) return { ok: true };
  const s = start(now, SECOND);
  const m = start(now, MINUTE);
  const d = start(now, DAY);
  const rs = await sql.execute({ sql: CONSUME, args: [route, s, m, d, q.perSecond ?? UNLIMITED, q.perMinute ?? UNLIMITED, q.perDay ?? UNLIMITED] });
  if (rs.rows.length > 0) return { ok: true };
  const row = (await sql.execute({ sql: "SELECT second_start, second_count, minute_start, minute_count, day_start, day_count FROM route_counters WHERE route = ?", args: [route] })).rows[0];
  // The latest reset among the full windows: before it, the route admits nothing.
  let resetAt = s + SECOND;
  if (row) {
    if (q.perDay !== null && Number(row.day_start) === d && Number(row.day_count) >= q.perDay) resetAt = d + DAY;
    else if (q.perMinute !== null && Number(row.minute_start) === m && Number(row.minute_count) >= q.perMinute) resetAt = m + MINUTE;
  }
  return { ok: false, resetAt };
}

export interface RouteUsage {
  route: string;
  second: number;
  minute: number;
  day: number;
}

/** What each route has used in its current windows (route list, dashboard). */
export async function routeUsage(sql: Sql, now: number): Promise<RouteUsage[]> {
  const rs = await sql.execute("SELECT route, second_start, second_count, minute_start, minute_count, day_start, day_count FROM route_counters ORDER BY route");
  return rs.rows.map((r) => ({
    route: String(r.route),
    second: Number(r.second_start) === start(now, SECOND) ? Number(r.second_count) : 0,
    minute: Number(r.minute_start) === start(now, MINUTE) ? Number(r.minute_count) : 0,
    day: Number(r.day_start) === start(now, DAY) ? Number(r.day_count) : 0,
  }));
}
