/**
 * The event feed and the webhook log are kept as long as finished messages
 * (SMARTHOST_RETENTION_SECONDS), then removed: an event with a delivery still pending
 * stays until that delivery is settled.
 */
import type { Sql } from "../db/raw.ts";
import type { GroupCommit } from "../db/group-commit.ts";

const OLD = `SELECT id FROM account_events v WHERE v.created_at < ?
  AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = v.id AND d.state = 'pending')
  ORDER BY id LIMIT ?`;

/** Removes up to `max` events created before `before`, with their deliveries and attempts; returns how many. */
export async function purgeOldEvents(writer: GroupCommit, before: number, max = 1000): Promise<number> {
  return writer.write(async (sql: Sql) => {
    const ids = (await sql.execute({ sql: OLD, args: [before, max] })).rows.map((r) => Number(r.id));
    if (ids.length === 0) return 0;
    const list = ids.map(() => "?").join(", ");
    await sql.execute({ sql: `DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE event_id IN (${list}))`, args: ids });
    await sql.execute({ sql: `DELETE FROM webhook_deliveries WHERE event_id IN (${list})`, args: ids });
    await sql.execute({ sql: `DELETE FROM account_events WHERE id IN (${list})`, args: ids });
    return ids.length;
  });
}
