/**
 * GET /v1/messages: an account's messages, newest first, filtered by status, recipient
 * and time. Pages are positioned by (created_at, id) of the last row shown, not by an
 * offset, so mail arriving while a client pages never shifts a row into the next page
 * twice or out of it.
 */
import type { Sql } from "../db/raw.ts";
import { placeholders } from "../db/raw.ts";

export const MESSAGE_STATUSES = ["queued", "deferred", "delivered", "bounced", "canceled", "partially_delivered", "completed"] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export interface MessageQuery {
  status?: MessageStatus;
  recipient?: string;
  since?: number;
  until?: number;
  /** The last row of the previous page. */
  before?: { createdAt: number; id: string };
  limit: number;
}

export interface MessageSummary {
  id: string;
  status: string;
  source: string;
  mail_from: string;
  size: number;
  created_at: string;
  recipients: { address: string; state: string }[];
}

// The same rule as the single-message view: one state is the status, else partially_delivered while any is pending.
const STATUS = `(SELECT CASE WHEN count(DISTINCT r.state) = 1 THEN max(r.state)
  WHEN sum(r.state IN ('queued', 'deferred')) > 0 THEN 'partially_delivered' ELSE 'completed' END
  FROM recipients r WHERE r.message_id = m.id)`;

export async function searchMessages(sql: Sql, accountId: string, q: MessageQuery): Promise<MessageSummary[]> {
  // Bounces the relay made itself are not the sender's messages.
  const where = ["m.account_id = ?", "m.source != 'dsn'"];
  const args: (string | number)[] = [accountId];
  if (q.since !== undefined) where.push("m.created_at >= ?"), args.push(q.since);
  if (q.until !== undefined) where.push("m.created_at < ?"), args.push(q.until);
  if (q.status) where.push(`${STATUS} = ?`), args.push(q.status);
  if (q.recipient) where.push("EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.address = ? COLLATE NOCASE)"), args.push(q.recipient);
  if (q.before) where.push("(m.created_at < ? OR (m.created_at = ? AND m.id < ?))"), args.push(q.before.createdAt, q.before.createdAt, q.before.id);
  const rs = await sql.execute({
    sql: `SELECT m.id, m.source, m.mail_from, m.size, m.created_at, ${STATUS} AS status FROM messages m
      WHERE ${where.join(" AND ")} ORDER BY m.created_at DESC, m.id DESC LIMIT ?`,
    args: [...args, q.limit],
  });
  const ids = rs.rows.map((r) => String(r.id));
  const rcpts = new Map<string, { address: string; state: string }[]>();
  if (ids.length > 0) {
    const rr = await sql.execute({ sql: `SELECT message_id, address, state FROM recipients WHERE message_id IN (${placeholders(ids.length)}) ORDER BY id`, args: ids });
    for (const r of rr.rows) {
      const list = rcpts.get(String(r.message_id)) ?? [];
      list.push({ address: String(r.address), state: String(r.state) });
      rcpts.set(String(r.message_id), list);
    }
  }
  return rs.rows.map((r) => ({
    id: String(r.id),
    status: String(r.status),
    source: String(r.source),
    mail_from: String(r.mail_from),
    size: Number(r.size),
    created_at: new Date(Number(r.created_at)).toISOString(),
    recipients: rcpts.get(String(r.id)) ?? [],
  }));
}
