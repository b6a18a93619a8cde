/**
 * `route.degraded` / `route.recovered`: events about the relay itself, not about one
 * account. The operators' copy, with the upstream's reply in full, is kept in the feed
 * under no account (account_id NULL): the admin API and the dashboard read it (/metrics
 * shows the route's state from route_health).
 *
 * A tenant hears of a route only if it used it: an account gets a copy when one of its
 * enabled webhook endpoints asks for the type by name (an endpoint with no filter is not
 * sent the relay's own news unasked) and its own mail went by that route within the last
 * hour (among its latest outcomes). The copy names the route and the reply's codes and
 * nothing else: the reply's text names the recipient, the message or the account whose
 * mail drew it — often another tenant's.
 */
import type { Sql } from "../db/raw.ts";
import { appendEvent } from "../events/append.ts";
import type { EventData, UpstreamReply } from "../events/types.ts";

export type RouteEventType = "route.degraded" | "route.recovered";

export interface RouteEventData {
  route: string;
  reply?: UpstreamReply;
  down_until?: string;
  trips?: number;
}

/** How recently an account's mail must have gone by the route for it to hear of it. */
export const ROUTE_USE_WINDOW_MS = 3600_000;
/** The account's latest outcome events looked at (a bound on the work per route event). */
const RECENT_OUTCOMES = 1000;

const USERS = `SELECT DISTINCT w.account_id FROM webhook_endpoints w
  WHERE w.enabled = 1 AND w.events IS NOT NULL AND instr(',' || w.events || ',', ',' || ? || ',') > 0
    AND EXISTS (SELECT 1 FROM (SELECT v.type, v.data, v.created_at FROM account_events v WHERE v.account_id = w.account_id ORDER BY v.id DESC LIMIT ${RECENT_OUTCOMES}) o
      WHERE o.created_at >= ? AND o.type IN ('message.delivered', 'message.deferred', 'message.bounced') AND json_extract(o.data, '$.route') = ?)`;

/** What a tenant may see of a route event: the route, the reply's codes, the breaker's times. */
export function tenantCopy(d: RouteEventData): EventData {
  const { reply, ...rest } = d;
  return reply ? { ...rest, reply: { code: reply.code, enhanced: reply.enhanced } } : rest;
}

export async function appendRouteEvent(sql: Sql, type: RouteEventType, data: RouteEventData, now: number): Promise<void> {
  await appendEvent(sql, { accountId: null, type, data: { ...data }, now });
  const users = (await sql.execute({ sql: USERS, args: [type, now - ROUTE_USE_WINDOW_MS, data.route] })).rows.map((r) => String(r.account_id));
  for (const accountId of users) await appendEvent(sql, { accountId, type, data: tenantCopy(data), now });
}

/** The latest route events, newest first (admin API, dashboard): the operators' copies. */
export async function recentRouteEvents(sql: Sql, limit = 50): Promise<{ id: number; type: string; data: EventData; created_at: number }[]> {
  const rs = await sql.execute({
    sql: "SELECT id, type, data, created_at FROM account_events WHERE account_id IS NULL AND type LIKE 'route.%' ORDER BY id DESC LIMIT ?",
    args: [limit],
  });
  return rs.rows.map((r) => ({ id: Number(r.id), type: String(r.type), data: JSON.parse(String(r.data)) as EventData, created_at: Number(r.created_at) }));
}
