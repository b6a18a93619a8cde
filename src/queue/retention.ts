/**
 * Finished messages (every recipient delivered, bounced or deleted; a held one is not finished) are kept for the status API
 * for a while, then removed with their recipients and events — the queue does not grow
 * without end. One statement per table, in one transaction.
 */
import type { Sql } from "../db/raw.ts";
import type { GroupCommit } from "../db/group-commit.ts";
import { IDEMPOTENCY_WINDOW_MS } from "./enqueue.ts";
import { THROTTLE } from "../policy/auth-throttle.ts";

const FINISHED = `SELECT id FROM messages m WHERE m.created_at < ?
  AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.state IN ('queued', 'deferred', 'held'))
  LIMIT ?`;

/** Removes up to `max` finished messages accepted before `before`; returns how many. */
export async function purgeFinished(writer: GroupCommit, before: number, max = 1000): Promise<number> {
  return writer.write(async (sql: Sql) => {
    const ids = (await sql.execute({ sql: FINISHED, args: [before, max] })).rows.map((r) => r.id as string);
    if (ids.length === 0) return 0;
    const list = ids.map(() => "?").join(", ");
    await sql.execute({ sql: `DELETE FROM events WHERE message_id IN (${list})`, args: ids });
    await sql.execute({ sql: `DELETE FROM recipients WHERE message_id IN (${list})`, args: ids });
    await sql.execute({ sql: `DELETE FROM messages WHERE id IN (${list})`, args: ids });
    return ids.length;
  });
}

/**
 * Rows that only ever grew: idempotency keys past their 24 h window (a retry after that is
 * a new message anyway, see enqueue.ts), AUTH attempt counts whose window and block have
 * both ended, and dashboard sessions past their expiry (src/dashboard/session.ts). Up to
 * `max` of each per call; returns how many went.
 */
export async function purgeExpired(writer: GroupCommit, now: number, max = 5000): Promise<{ idempotencyKeys: number; authFailures: number; dashboardSessions: number }> {
  return writer.write(async (sql: Sql) => {
    const keys = await sql.execute({
      sql: "DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM idempotency_keys WHERE created_at < ? LIMIT ?) RETURNING key",
      args: [now - IDEMPOTENCY_WINDOW_MS, max],
    });
    const auth = await sql.execute({
      sql: "DELETE FROM auth_failures WHERE rowid IN (SELECT rowid FROM auth_failures WHERE window_start <= ? AND blocked_until <= ? LIMIT ?) RETURNING key",
      args: [now - THROTTLE.windowMs, now, max],
    });
    const sessions = await sql.execute({
      sql: "DELETE FROM dashboard_sessions WHERE rowid IN (SELECT rowid FROM dashboard_sessions WHERE expires_at <= ? LIMIT ?) RETURNING id",
      args: [now, max],
    });
    return { idempotencyKeys: keys.rows.length, authFailures: auth.rows.length, dashboardSessions: sessions.rows.length };
  });
}
