/**
 * `route.degraded` / `route.recovered`: events about the relay itself, not about one
 * account. They are kept once in the feed under the system account "" (for operators:
 * the admin API and the dashboard read them), and copied to every account that has a
 * webhook endpoint asking for the type by name — an endpoint with no filter is not sent
 * the relay's own news unasked.
 */
import type { Sql } from "../db/raw.ts";
import { appendEvent } from "../events/append.ts";
import type { EventData } from "../events/types.ts";

export const SYSTEM_ACCOUNT = "";

export type RouteEventType = "route.degraded" | "route.recovered";

const SUBSCRIBED = `SELECT DISTINCT account_id FROM webhook_endpoints
  WHERE enabled = 1 AND events IS NOT NULL AND instr(',' || events || ',', ',' || ? || ',') > 0`;

export async function appendRouteEvent(sql: Sql, type: RouteEventType, data: EventData, now: number): Promise<void> {
  await appendEvent(sql, { accountId: SYSTEM_ACCOUNT, type, data, now });
  const accounts = (await sql.execute({ sql: SUBSCRIBED, args: [type] })).rows.map((r) => String(r.account_id));
  for (const accountId of accounts) await appendEvent(sql, { accountId, type, data, now });
}

/** The latest route events, newest first (admin API, dashboard). */
export async function recentRouteEvents(sql: Sql, limit = 50): Promise<{ id: number; type: string; data: EventData; created_at: number }[]> {
  const rs = await sql.execute({
    sql: "SELECT id, type, data, created_at FROM account_events WHERE account_id = ? AND type LIKE 'route.%' ORDER BY id DESC LIMIT ?",
    args: [SYSTEM_ACCOUNT, limit],
  });
  return rs.rows.map((r) => ({ id: Number(r.id), type: String(r.type), data: JSON.parse(String(r.data)) as EventData, created_at: Number(r.created_at) }));
}
