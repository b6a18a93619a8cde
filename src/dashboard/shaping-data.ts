/**
 * What traffic shaping adds to the overview and the routes page: the latest route events
 * (route.degraded / route.recovered, the operators' copies) and the messages held
 * over an account's quota, by account name.
 */
import type { Sql } from "../db/raw.ts";
import { heldOverLimitCounts } from "../shaping/over-limit.ts";
import { recentRouteEvents } from "../shaping/route-events.ts";

export interface RouteEventView {
  type: string;
  route: string;
  reply: string | null;
  down_until: string | null;
  at: number;
}

const text = (v: unknown) => (typeof v === "string" ? v : null);

/** The upstream reply that took the route down, stored as { code, enhanced, text }. */
function replyLine(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (!v || typeof v !== "object") return null;
  const r = v as { code?: unknown; enhanced?: unknown; text?: unknown };
  return [r.code, r.enhanced, r.text].filter((x) => (typeof x === "string" && x !== "") || typeof x === "number").join(" ") || null;
}

export async function routeEventViews(sql: Sql, limit = 10): Promise<RouteEventView[]> {
  return (await recentRouteEvents(sql, limit)).map((e) => {
    const d = e.data as Record<string, unknown>;
    return { type: e.type, route: text(d.route) ?? "", reply: replyLine(d.reply), down_until: text(d.down_until), at: e.created_at };
  });
}

export interface HeldOverQuota {
  account: string;
  messages: number;
  recipients: number;
}

/** Held-over-quota counts by account name, most recipients first. */
export async function heldOverQuota(sql: Sql): Promise<HeldOverQuota[]> {
  const counts = await heldOverLimitCounts(sql);
  if (counts.length === 0) return [];
  const names = new Map((await sql.execute("SELECT id, name FROM accounts")).rows.map((r) => [String(r.id), String(r.name)]));
  return counts
    .map((c) => ({ account: names.get(c.account_id) ?? c.account_id, messages: c.messages, recipients: c.recipients }))
    .sort((a, b) => b.recipients - a.recipients || a.account.localeCompare(b.account));
}
