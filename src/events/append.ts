/**
 * Appending one event to an account's feed, and in the same statement sequence (the
 * caller's transaction) one webhook delivery row per enabled endpoint that wants the
 * type: an event is never stored without its deliveries, nor a delivery without its
 * event, so a crash between the two cannot happen and the sender loop finds every row.
 */
import type { InStatement, InValue } from "@libsql/client";
import type { Sql, SqlCondition } from "../db/raw.ts";
import type { EventData, EventType } from "./types.ts";

export interface NewEvent {
  /** Null: the operators' feed (route events), which no webhook endpoint receives. */
  accountId: string | null;
  type: EventType;
  messageId?: string | null;
  data: EventData;
  now: number;
}

const INSERT_EVENT = "INSERT INTO account_events (account_id, type, message_id, data, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id";

// An endpoint's filter is a comma list; null takes every type.
const deliveries = (eventId: string, when = "") => `INSERT INTO webhook_deliveries (endpoint_id, event_id, state, attempts, next_attempt_at, lease_until, created_at, updated_at)
  SELECT id, ${eventId}, 'pending', 0, ?, 0, ?, ? FROM webhook_endpoints
  WHERE account_id = ? AND enabled = 1 AND (events IS NULL OR instr(',' || events || ',', ',' || ? || ',') > 0)${when}`;
const INSERT_DELIVERIES = deliveries("?");

/** Returns the event's id (its place in the feed). */
export async function appendEvent(sql: Sql, e: NewEvent): Promise<number> {
  const rs = await sql.execute({ sql: INSERT_EVENT, args: [e.accountId, e.type, e.messageId ?? null, JSON.stringify(e.data), e.now] });
  const id = Number(rs.rows[0]!.id);
  await sql.execute({ sql: INSERT_DELIVERIES, args: [id, e.now, e.now, e.now, e.accountId, e.type] });
  return id;
}

/**
 * appendEvent as statements for a plan (db/raw.ts): both run only where `when` holds. The
 * deliveries take the event's id as the largest one, the row just inserted in this same
 * transaction. `patch` sets one field of the data in SQL (a value only the database knows).
 */
export function appendEventStatements(e: NewEvent, when: SqlCondition, patch?: { path: string; sql: string; args: InValue[] }): InStatement[] {
  const data = patch ? `json_set(?, '${patch.path}', ${patch.sql})` : "?";
  return [
    {
      sql: `INSERT INTO account_events (account_id, type, message_id, data, created_at) SELECT ?, ?, ?, ${data}, ? WHERE ${when.sql}`,
      args: [e.accountId, e.type, e.messageId ?? null, JSON.stringify(e.data), ...(patch?.args ?? []), e.now, ...when.args],
    },
    { sql: deliveries("(SELECT max(id) FROM account_events)", ` AND ${when.sql}`), args: [e.now, e.now, e.now, e.accountId, e.type, ...when.args] },
  ];
}
