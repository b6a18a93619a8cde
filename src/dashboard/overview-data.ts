/**
 * What the overview shows, each read by one SQL statement that aggregates in the database:
 * per-minute counts of accepted/delivered/deferred/bounced, the queue by state (kept by
 * triggers in queue_counts), the commonest deferral replies, and the accounts nearest their
 * limits. The time-bounded statements seek each type's range in the events_type_time index
 * (type, created_at), so their cost follows the events in the window, not the table
 * (bench/dashboard.ts, bench/dashboard.md).
 */
import type { Sql } from "../db/raw.ts";
import { PENDING_STATES } from "../admin/queue-select.ts";
import { IS_WAIT, reasonKey, waitOf, type WaitKind } from "./reason-text.ts";

const MINUTE = 60_000;
const DAY = 86_400_000;
// Our own waits are stored as deferred events (reason-text.ts) but are no deferral: not counted.
const NOT_A_WAIT = `NOT ${IS_WAIT}`;
export const SERIES_TYPES = ["accepted", "delivered", "deferred", "bounced"] as const;
export type SeriesType = (typeof SERIES_TYPES)[number];

/** uPlot's columnar shape: x in unix seconds (one per minute, gaps as 0), then one column per type. */
export interface Series {
  minutes: number[];
  counts: Record<SeriesType, number[]>;
}

/** Counts per minute (keyed by minute number) and type, of the minutes from `fromMinute` on. */
export async function minuteCounts(sql: Sql, fromMinute: number): Promise<Map<number, Record<SeriesType, number>>> {
  const rs = await sql.execute({
    sql: `SELECT created_at / ${MINUTE} AS minute, type, count(*) AS n FROM events
      WHERE created_at >= ? AND type IN (${SERIES_TYPES.map((t) => `'${t}'`).join(", ")}) AND ${NOT_A_WAIT} GROUP BY type, minute`,
    args: [fromMinute * MINUTE],
  });
  const out = new Map<number, Record<SeriesType, number>>();
  for (const r of rs.rows) {
    const m = Number(r.minute);
    let row = out.get(m);
    if (!row) out.set(m, (row = { accepted: 0, delivered: 0, deferred: 0, bounced: 0 }));
    row[r.type as SeriesType] = Number(r.n);
  }
  return out;
}

/** The columns for the `spanMinutes` minutes up to `lastMinute` (included), gaps as 0. */
export function seriesOf(counts: Map<number, Record<SeriesType, number>>, lastMinute: number, spanMinutes: number): Series {
  const first = lastMinute - spanMinutes + 1;
  const minutes = Array.from({ length: spanMinutes }, (_, i) => (first + i) * 60);
  const cols = Object.fromEntries(SERIES_TYPES.map((t) => [t, Array.from({ length: spanMinutes }, (_, i) => counts.get(first + i)?.[t] ?? 0)]));
  return { minutes, counts: cols as Record<SeriesType, number[]> };
}

/** Per-minute counts over the `spanMinutes` up to `now` (the current minute included), read whole. */
export async function eventSeries(sql: Sql, now: number, spanMinutes: number): Promise<Series> {
  const last = Math.floor(now / MINUTE);
  return seriesOf(await minuteCounts(sql, last - spanMinutes + 1), last, spanMinutes);
}

/** Recipients waiting per queue state (0 included), from the counts the triggers keep (queue/queue-counts.ts). */
export async function queueDepth(sql: Sql): Promise<{ state: string; n: number }[]> {
  const rs = await sql.execute(`SELECT state, n FROM queue_counts WHERE state IN (${PENDING_STATES.map((s) => `'${s}'`).join(", ")})`);
  const n = new Map(rs.rows.map((r) => [String(r.state), Number(r.n)]));
  return PENDING_STATES.map((state) => ({ state, n: n.get(state) ?? 0 }));
}

export interface DeferralReason {
  code: number | null;
  enhanced: string | null;
  text: string;
  n: number;
  last_at: number;
}

/**
 * The upstream replies that deferred most recipients since `since`, by code, enhanced code
 * and the text with its times, addresses and ids taken out (reason-text.ts). Grouped first
 * by the stored reply as it is (one JSON text per distinct reply: no JSON parsing per row),
 * then merged by reason here. Our own waits are not deferrals and are left out (`waits`).
 */
export async function topDeferrals(sql: Sql, since: number, limit = 8): Promise<DeferralReason[]> {
  const rs = await sql.execute({
    sql: `SELECT reply, detail, count(*) AS n, max(created_at) AS last_at FROM events
      WHERE type = 'deferred' AND created_at >= ? AND ${NOT_A_WAIT} GROUP BY reply, detail ORDER BY n DESC LIMIT 500`,
    args: [since],
  });
  const merged = new Map<string, DeferralReason>();
  for (const r of rs.rows) {
    const reply = typeof r.reply === "string" ? (JSON.parse(r.reply) as { code?: number; enhanced?: string | null; text?: string }) : null;
    const reason = { code: reply?.code ?? null, enhanced: reply?.enhanced ?? null, text: reasonKey(reply?.text ?? String(r.detail ?? "")) };
    const key = JSON.stringify([reason.code, reason.enhanced, reason.text]);
    const seen = merged.get(key);
    if (seen) (seen.n += Number(r.n)), (seen.last_at = Math.max(seen.last_at, Number(r.last_at)));
    else merged.set(key, { ...reason, n: Number(r.n), last_at: Number(r.last_at) });
  }
  return [...merged.values()].sort((a, b) => b.n - a.n || b.last_at - a.last_at).slice(0, limit);
}

export interface WaitReason {
  kind: WaitKind;
  /** The route (or destination pattern) waited for. */
  on: string;
  n: number;
  last_at: number;
}

/** Recipients that waited for a route (down, at its quota) or a destination's pace since `since`, by kind and route. */
export async function topWaits(sql: Sql, since: number, limit = 8): Promise<WaitReason[]> {
  const rs = await sql.execute({
    sql: `SELECT detail, count(*) AS n, max(created_at) AS last_at FROM events WHERE type = 'deferred' AND created_at >= ? AND ${IS_WAIT} GROUP BY detail ORDER BY n DESC LIMIT 500`,
    args: [since],
  });
  const merged = new Map<string, WaitReason>();
  for (const r of rs.rows) {
    const wait = waitOf(String(r.detail));
    if (!wait) continue;
    const key = `${wait.kind} ${wait.on}`;
    const seen = merged.get(key);
    if (seen) (seen.n += Number(r.n)), (seen.last_at = Math.max(seen.last_at, Number(r.last_at)));
    else merged.set(key, { ...wait, n: Number(r.n), last_at: Number(r.last_at) });
  }
  return [...merged.values()].sort((a, b) => b.n - a.n || b.last_at - a.last_at).slice(0, limit);
}

export interface AccountUse {
  name: string;
  minute_used: number;
  per_minute: number | null;
  day_used: number;
  per_day: number | null;
  /** The larger share of a limit used, 0..1 (or more when over). */
  share: number;
}

/**
 * Accounts with a limit, by the largest share of one used in the current window. The
 * windows are fixed (policy rate limits): a counter from an older window counts as 0.
 */
export async function accountsNearLimits(sql: Sql, now: number, limit = 8): Promise<AccountUse[]> {
  const minute = now - (now % MINUTE);
  const day = now - (now % DAY);
  const rs = await sql.execute({
    sql: `SELECT name, per_minute, per_day, minute_used, day_used,
        max(coalesce(1.0 * minute_used / nullif(per_minute, 0), 0), coalesce(1.0 * day_used / nullif(per_day, 0), 0)) AS share
      FROM (SELECT a.name, a.per_minute, a.per_day,
          CASE WHEN c.minute_start = ? THEN c.minute_count ELSE 0 END AS minute_used,
          CASE WHEN c.day_start = ? THEN c.day_count ELSE 0 END AS day_used
        FROM accounts a LEFT JOIN rate_counters c ON c.account_id = a.id
        WHERE a.per_minute IS NOT NULL OR a.per_day IS NOT NULL)
      ORDER BY share DESC, name LIMIT ?`,
    args: [minute, day, limit],
  });
  return rs.rows.map((r) => ({
    name: String(r.name),
    minute_used: Number(r.minute_used),
    per_minute: r.per_minute === null ? null : Number(r.per_minute),
    day_used: Number(r.day_used),
    per_day: r.per_day === null ? null : Number(r.per_day),
    share: Number(r.share),
  }));
}

/** Events of each charted type since `since`. */
export async function windowTotals(sql: Sql, since: number): Promise<Record<string, number>> {
  const rs = await sql.execute({
    sql: `SELECT type, count(*) AS n FROM events WHERE created_at >= ? AND type IN (${SERIES_TYPES.map((t) => `'${t}'`).join(", ")}) AND ${NOT_A_WAIT} GROUP BY type`,
    args: [since],
  });
  return Object.fromEntries(rs.rows.map((r) => [String(r.type), Number(r.n)]));
}
