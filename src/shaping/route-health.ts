/**
 * The circuit breaker of each upstream route, kept in libSQL so every delivery node sees
 * the same state. Every transition is one statement (UPDATE … WHERE … RETURNING), so when
 * many nodes report at once exactly one of them trips the breaker, claims the probe or
 * records the recovery — and only that one emits the event.
 *
 *   up ──N route-scoped failures──▶ down (backoff: base·2^trips, capped)
 *   down ──backoff over, one node claims──▶ probing ──success──▶ up
 *                                              └──failure──▶ down (longer)
 *
 * A route-scoped failure is what classify.ts calls scope "route": the connection failed,
 * or the relay refused our session, credentials, account or rate — at MAIL, or every
 * recipient of a transaction (route-verdict.ts). A refusal of one recipient is never one.
 * A failure of our credentials (at AUTH, RFC 4954 §6) trips at once: the next message
 * would get the same answer. Anything else trips only as a run of `threshold` failures
 * with no success between, so no single reply takes a route down.
 */
import type { Sql } from "../db/raw.ts";

export interface BreakerConfig {
  /** Consecutive failures that take a route down. */
  threshold: number;
  /** First backoff; doubles with each trip without a recovery. */
  baseMs: number;
  maxMs: number;
  /** How long one node's probe claim lasts (a node that dies mid-probe frees it then). */
  probeMs: number;
}

export const DEFAULT_BREAKER: BreakerConfig = { threshold: 3, baseMs: 30_000, maxMs: 15 * 60_000, probeMs: 120_000 };

export type Health = "up" | "down" | "probing";

/** Whether the route may be used now: `probe` when this caller holds the one probe. */
export type Admission = { use: true; probe: boolean } | { use: false; until: number };

const COUNT_FAILURE = `
  INSERT INTO route_health (route, state, failures, trips, down_until, probe_until, last_reply, changed_at)
  VALUES (?1, 'up', 1, 0, 0, 0, ?2, ?3)
  ON CONFLICT (route) DO UPDATE SET failures = failures + 1, last_reply = excluded.last_reply
  RETURNING failures, state`;

// Doubling with each trip, capped: 1 << min(trips, 20) keeps the shift in range.
const TRIP = `
  UPDATE route_health SET state = 'down', trips = trips + 1, probe_until = 0, changed_at = ?2,
    down_until = ?2 + min(?4, ?3 * (1 << min(trips, 20)))
  WHERE route = ?1 AND state <> 'down'
  RETURNING down_until, trips`;

const CLAIM_PROBE = `
  UPDATE route_health SET state = 'probing', probe_until = ?2 + ?3, changed_at = ?2
  WHERE route = ?1 AND ((state = 'down' AND down_until <= ?2) OR (state = 'probing' AND probe_until <= ?2))
  RETURNING route`;

const RECOVER = `
  UPDATE route_health SET state = 'up', failures = 0, trips = 0, down_until = 0, probe_until = 0, changed_at = ?2
  WHERE route = ?1 AND state <> 'up'
  RETURNING route`;

const RESET_FAILURES = "UPDATE route_health SET failures = 0 WHERE route = ? AND state = 'up' AND failures > 0";

export interface Tripped {
  downUntil: number;
  trips: number;
}

/** Counts one route-scoped failure; returns the trip when this call took the route down. */
export async function routeFailed(sql: Sql, route: string, reply: string, now: number, c: BreakerConfig, atOnce: boolean): Promise<Tripped | null> {
  const counted = (await sql.execute({ sql: COUNT_FAILURE, args: [route, reply, now] })).rows[0]!;
  const probing = counted.state === "probing";
  if (!atOnce && !probing && Number(counted.failures) < c.threshold) return null;
  const trip = (await sql.execute({ sql: TRIP, args: [route, now, c.baseMs, c.maxMs] })).rows[0];
  return trip ? { downUntil: Number(trip.down_until), trips: Number(trip.trips) } : null;
}

/** Records a success; true when this call brought the route back up. */
export async function routeSucceeded(sql: Sql, route: string, now: number): Promise<boolean> {
  const back = (await sql.execute({ sql: RECOVER, args: [route, now] })).rows.length > 0;
  if (!back) await sql.execute({ sql: RESET_FAILURES, args: [route] });
  return back;
}

export interface HealthState {
  state: Health;
  failures: number;
  downUntil: number;
  probeUntil: number;
}

/** Reads the health of a set of routes (absent: up). */
export async function healthOf(sql: Sql, routes: string[]): Promise<Map<string, HealthState>> {
  const out = new Map<string, HealthState>();
  if (routes.length === 0) return out;
  const rs = await sql.execute({
    sql: `SELECT route, state, failures, down_until, probe_until FROM route_health WHERE route IN (${routes.map(() => "?").join(", ")})`,
    args: routes,
  });
  for (const r of rs.rows) out.set(String(r.route), { state: r.state as Health, failures: Number(r.failures), downUntil: Number(r.down_until), probeUntil: Number(r.probe_until) });
  return out;
}

/**
 * Whether a route may carry mail now. A down route whose backoff is over admits exactly
 * one caller, across all nodes: the one whose UPDATE claimed the probe.
 */
export async function admit(sql: Sql, route: string, h: HealthState | undefined, now: number, c: BreakerConfig): Promise<Admission> {
  if (!h || h.state === "up") return { use: true, probe: false };
  const reopen = h.state === "down" ? h.downUntil : h.probeUntil;
  if (reopen > now) return { use: false, until: h.state === "down" ? reopen : now + 1000 };
  const claimed = (await sql.execute({ sql: CLAIM_PROBE, args: [route, now, c.probeMs] })).rows.length > 0;
  return claimed ? { use: true, probe: true } : { use: false, until: now + 1000 };
}

export interface RouteHealthRow {
  route: string;
  state: Health;
  failures: number;
  down_until: number | null;
  last_reply: string | null;
  changed_at: number;
}

/** Every route's recorded health, for `route list`, the admin API, /metrics and the dashboard. */
export async function listRouteHealth(sql: Sql): Promise<RouteHealthRow[]> {
  const rs = await sql.execute("SELECT route, state, failures, down_until, last_reply, changed_at FROM route_health ORDER BY route");
  return rs.rows.map((r) => ({
    route: String(r.route),
    state: r.state as Health,
    failures: Number(r.failures),
    down_until: r.state === "up" ? null : Number(r.down_until),
    last_reply: (r.last_reply as string | null) ?? null,
    changed_at: Number(r.changed_at),
  }));
}
