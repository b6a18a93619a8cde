/**
 * Recipients per state, kept in `queue_counts` as the work happens: triggers on
 * `recipients` count every insert, state change and delete in the writer's own transaction,
 * whichever node or code path makes it, so the count stays exact and /metrics reads four
 * rows instead of counting the table. Installed at open, idempotently: the first install
 * counts the recipients already there, in the same transaction as the triggers.
 */
import type { Client } from "@libsql/client";
import type { Db } from "../db/client.ts";
import { queueCounts as table } from "../db/schema.ts";

export const QUEUE_STATES = ["queued", "deferred", "held", "delivered", "bounced", "deleted"] as const;

const add = (state: string, delta: string) =>
  `INSERT INTO queue_counts (state, n) VALUES (${state}, ${delta}) ON CONFLICT (state) DO UPDATE SET n = n + excluded.n;`;

const TRIGGERS = [
  `CREATE TRIGGER IF NOT EXISTS queue_counts_insert AFTER INSERT ON recipients BEGIN ${add("NEW.state", "1")} END`,
  `CREATE TRIGGER IF NOT EXISTS queue_counts_update AFTER UPDATE OF state ON recipients WHEN OLD.state IS NOT NEW.state BEGIN
    ${add("OLD.state", "-1")} ${add("NEW.state", "1")} END`,
  `CREATE TRIGGER IF NOT EXISTS queue_counts_delete AFTER DELETE ON recipients BEGIN ${add("OLD.state", "-1")} END`,
];

const INSTALLED = "(SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'queue_counts_%')";

/**
 * Creates the triggers when missing and, in the same write batch (one transaction, so no
 * recipient can slip in between), counts the recipients already there — only when the
 * triggers were not all installed yet. Safe to run at every open, on every runtime.
 */
export async function installQueueCounts(client: Client): Promise<void> {
  // A database brought only part of the way (an older schema) has no table to count into yet.
  const table = await client.execute(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'queue_counts'`);
  if (table.rows.length === 0) return;
  const present = await client.execute(`SELECT ${INSTALLED} AS n`);
  if (Number(present.rows[0]!.n) === TRIGGERS.length) return;
  await client.batch(
    [
      `DELETE FROM queue_counts WHERE ${INSTALLED} < ${TRIGGERS.length}`,
      `INSERT INTO queue_counts (state, n) SELECT state, count(*) FROM recipients WHERE ${INSTALLED} < ${TRIGGERS.length} GROUP BY state`,
      ...TRIGGERS,
    ],
    "write",
  );
}

/** The current count per state (every state named, 0 when none). */
export async function queueCounts(db: Db): Promise<Record<(typeof QUEUE_STATES)[number], number>> {
  const out = { queued: 0, deferred: 0, held: 0, delivered: 0, bounced: 0, deleted: 0 };
  for (const r of await db.select().from(table)) if (r.state in out) out[r.state as keyof typeof out] = r.n;
  return out;
}
