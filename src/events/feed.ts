/** An account's events in order, after a cursor (GET /v1/events): for senders that pull instead of receiving webhooks. */
import type { Sql } from "../db/raw.ts";
import { eventPayload, eventRowOf, type EventPayload } from "./payload.ts";

export async function eventsAfter(sql: Sql, accountId: string, after: number, limit: number): Promise<(EventPayload & { id: string })[]> {
  const rs = await sql.execute({
    sql: "SELECT id, type, data, created_at FROM account_events WHERE account_id = ? AND id > ? ORDER BY id LIMIT ?",
    args: [accountId, after, limit],
  });
  return rs.rows.map((r) => {
    const row = eventRowOf(r);
    return { id: `evt_${row.id}`, ...eventPayload(row) };
  });
}
