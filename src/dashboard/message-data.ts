/**
 * The dashboard's message search (every account; by recipient, sender, id, recipient state
 * and time) and one message's trace with each event's upstream reply. Read-only: actions go
 * through admin/queue-actions.ts like the CLI's.
 */
import type { Sql } from "../db/raw.ts";
import { placeholders } from "../db/raw.ts";
import { headerValues } from "../mime/headers.ts";
import { decodeTlsRecord, type TlsRecord } from "../core/tls-record.ts";
import { decodeHeaderWords } from "./header-words.ts";

export const RECIPIENT_STATES = ["queued", "deferred", "held", "delivered", "bounced", "deleted"] as const;

export interface MessageSearch {
  recipient?: string;
  sender?: string;
  id?: string;
  state?: string;
  since?: number;
  until?: number;
  limit: number;
}

export interface MessageHit {
  id: string;
  account: string | null;
  source: string;
  mail_from: string;
  subject: string;
  created_at: number;
  recipients: { address: string; state: string; last_reply: string | null }[];
}

// Enough of the message to hold its header block in all but pathological cases.
const HEAD_BYTES = 16_384;

/** `%x%` for LIKE, with the wildcards in the input taken literally. */
const contains = (s: string) => `%${s.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;

export function subjectOf(head: unknown): string {
  const bytes = head instanceof Uint8Array ? head : head instanceof ArrayBuffer ? new Uint8Array(head) : new TextEncoder().encode(String(head ?? ""));
  const raw = headerValues(bytes, "subject")[0];
  return raw === undefined ? "" : decodeHeaderWords(raw);
}

export async function searchAllMessages(sql: Sql, q: MessageSearch): Promise<MessageHit[]> {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (q.id) where.push("m.id = ?"), args.push(q.id);
  if (q.sender) where.push("m.mail_from LIKE ? ESCAPE '\\'"), args.push(contains(q.sender));
  if (q.recipient) where.push("EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.address LIKE ? ESCAPE '\\')"), args.push(contains(q.recipient));
  if (q.state) where.push("EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.state = ?)"), args.push(q.state);
  if (q.since !== undefined) where.push("m.created_at >= ?"), args.push(q.since);
  if (q.until !== undefined) where.push("m.created_at < ?"), args.push(q.until);
  const rs = await sql.execute({
    sql: `SELECT m.id, a.name AS account, m.source, m.mail_from, m.created_at, substr(m.raw, 1, ${HEAD_BYTES}) AS head
      FROM messages m LEFT JOIN accounts a ON a.id = m.account_id
      ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY m.created_at DESC, m.id DESC LIMIT ?`,
    args: [...args, q.limit],
  });
  const ids = rs.rows.map((r) => String(r.id));
  const rcpts = await recipientsOf(sql, ids);
  return rs.rows.map((r) => ({
    id: String(r.id),
    account: (r.account as string | null) ?? null,
    source: String(r.source),
    mail_from: String(r.mail_from),
    subject: subjectOf(r.head),
    created_at: Number(r.created_at),
    recipients: rcpts.get(String(r.id)) ?? [],
  }));
}

async function recipientsOf(sql: Sql, ids: string[]): Promise<Map<string, MessageHit["recipients"]>> {
  const out = new Map<string, MessageHit["recipients"]>();
  if (ids.length === 0) return out;
  const rs = await sql.execute({ sql: `SELECT message_id, address, state, last_reply FROM recipients WHERE message_id IN (${placeholders(ids.length)}) ORDER BY id`, args: ids });
  for (const r of rs.rows) {
    const list = out.get(String(r.message_id)) ?? [];
    list.push({ address: String(r.address), state: String(r.state), last_reply: (r.last_reply as string | null) ?? null });
    out.set(String(r.message_id), list);
  }
  return out;
}

export interface TraceEvent {
  type: string;
  recipient: string | null;
  detail: string | null;
  reply: { code: number; enhanced: string | null; text: string } | null;
  /** The attempt's TLS outcome (delivery attempts only). */
  tls: TlsRecord | null;
  at: number;
}

export interface Trace {
  message: MessageHit & { size: number };
  recipients: { address: string; state: string; attempts: number; next_attempt_at: number | null; last_reply: string | null; last_tls: TlsRecord | null }[];
  events: TraceEvent[];
}

/** The message, its recipients and every event in order (accepted → attempts → outcome); null when unknown. */
export async function messageTrace(sql: Sql, id: string): Promise<Trace | null> {
  const m = await sql.execute({
    sql: `SELECT m.id, a.name AS account, m.source, m.mail_from, m.size, m.created_at, substr(m.raw, 1, ${HEAD_BYTES}) AS head
      FROM messages m LEFT JOIN accounts a ON a.id = m.account_id WHERE m.id = ?`,
    args: [id],
  });
  const row = m.rows[0];
  if (!row) return null;
  const [rcpts, evs] = await Promise.all([
    sql.execute({ sql: "SELECT address, state, attempts, next_attempt_at, last_reply, last_tls FROM recipients WHERE message_id = ? ORDER BY id", args: [id] }),
    sql.execute({ sql: "SELECT type, recipient, detail, reply, tls, created_at FROM events WHERE message_id = ? ORDER BY id", args: [id] }),
  ]);
  const recipients = rcpts.rows.map((r) => ({
    address: String(r.address),
    state: String(r.state),
    attempts: Number(r.attempts),
    next_attempt_at: r.state === "queued" || r.state === "deferred" ? Number(r.next_attempt_at) : null,
    last_reply: (r.last_reply as string | null) ?? null,
    last_tls: decodeTlsRecord(r.last_tls),
  }));
  return {
    message: {
      id,
      account: (row.account as string | null) ?? null,
      source: String(row.source),
      mail_from: String(row.mail_from),
      subject: subjectOf(row.head),
      size: Number(row.size),
      created_at: Number(row.created_at),
      recipients: recipients.map((r) => ({ address: r.address, state: r.state, last_reply: r.last_reply })),
    },
    recipients,
    events: evs.rows.map((e) => ({
      type: String(e.type),
      recipient: (e.recipient as string | null) ?? null,
      detail: (e.detail as string | null) ?? null,
      reply: typeof e.reply === "string" ? (JSON.parse(e.reply) as TraceEvent["reply"]) : null,
      tls: decodeTlsRecord(e.tls),
      at: Number(e.created_at),
    })),
  };
}
