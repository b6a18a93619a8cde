/**
 * Recipients per state, kept in `queue_counts` as the work happens: triggers on
 * `recipients` (migrations/0014_queue_count_triggers.sql) count every insert, state change
 * and delete in the writer's own transaction, whichever node or code path makes it, so the
 * count stays exact and /metrics reads a few rows instead of counting the table.
 */
import type { Db } from "../db/client.ts";
import { queueCounts as table } from "../db/schema.ts";

export const QUEUE_STATES = ["queued", "deferred", "held", "delivered", "bounced", "deleted", "canceled"] as const;

/** The current count per state (every state named, 0 when none). */
export async function queueCounts(db: Db): Promise<Record<(typeof QUEUE_STATES)[number], number>> {
  const out = { queued: 0, deferred: 0, held: 0, delivered: 0, bounced: 0, deleted: 0, canceled: 0 };
  for (const r of await db.select().from(table)) if (r.state in out) out[r.state as keyof typeof out] = r.n;
  return out;
}
