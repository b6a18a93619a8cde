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
  /** Words of the decoded Subject (RFC 2047 words decoded), in that order, any case. */
  subject?: string;
  state?: string;
  since?: number;
  until?: number;
  /** Keyset pagination: messages older than this one (newest first), or newer than it. */
  before?: Cursor;
  after?: Cursor;
  limit: number;
}

/** A place in the list (newest first: created_at, then id), carried in the page's links. */
export interface Cursor {
  at: number;
  id: string;
}

export const cursorText = (c: Cursor) => `${c.at}.${c.id}`;

export function parseCursor(v: string | undefined): Cursor | undefined {
  const m = /^(\d{1,15})\.(\S{1,100})$/.exec(v ?? "");
  return m ? { at: Number(m[1]), id: m[2]! } : undefined;
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

export interface MessagePage {
  hits: MessageHit[];
  /** Where the next (older) and previous (newer) pages start; null when there is none. */
  older: Cursor | null;
  newer: Cursor | null;
}

// Enough of the message to hold its header block in all but pathological cases.
const HEAD_BYTES = 16_384;
// A subject is matched after decoding, so rows are read in batches and checked here; this
// many at most per page, so a rare subject over a large table costs a bounded time (the page
// then links on from the last row read).
const SUBJECT_BATCH = 200;
const SUBJECT_SCAN_MAX = 5_000;

/** `%x%` for LIKE, with the wildcards in the input taken literally. */
const contains = (s: string) => `%${s.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
const folded = (s: string) => s.replace(/\s+/g, " ").trim().toLowerCase();

export function subjectOf(head: unknown): string {
  const bytes = head instanceof Uint8Array ? head : head instanceof ArrayBuffer ? new Uint8Array(head) : new TextEncoder().encode(String(head ?? ""));
  const raw = headerValues(bytes, "subject")[0];
  return raw === undefined ? "" : decodeHeaderWords(raw);
}

/** The newest messages matching `q`, every account; see searchMessages for pages. */
export async function searchAllMessages(sql: Sql, q: MessageSearch): Promise<MessageHit[]> {
  return (await searchMessages(sql, q)).hits;
}

interface Row {
  id: string;
  account: string | null;
  source: string;
  mail_from: string;
  created_at: number;
  subject: string;
}

/** One page of messages matching `q`, newest first, with the cursors of the pages around it. */
export async function searchMessages(sql: Sql, q: MessageSearch): Promise<MessagePage> {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (q.id) where.push("m.id = ?"), args.push(q.id);
  if (q.sender) where.push("m.mail_from LIKE ? ESCAPE '\\'"), args.push(contains(q.sender));
  if (q.recipient) where.push("EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.address LIKE ? ESCAPE '\\')"), args.push(contains(q.recipient));
  if (q.state) where.push("EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.state = ?)"), args.push(q.state);
  if (q.since !== undefined) where.push("m.created_at >= ?"), args.push(q.since);
  if (q.until !== undefined) where.push("m.created_at < ?"), args.push(q.until);
  const wanted = q.subject ? folded(q.subject) : "";
  if (wanted) {
    // A cheap first cut in SQL: every word in the header bytes as they are, or an encoded
    // word (=?) that may hide them; the decoded subject is then checked here.
    const words = wanted.split(" ").map(() => `CAST(substr(m.raw, 1, ${HEAD_BYTES}) AS TEXT) LIKE ? ESCAPE '\\'`);
    where.push(`((${words.join(" AND ")}) OR instr(substr(m.raw, 1, ${HEAD_BYTES}), X'3D3F') > 0)`);
    args.push(...wanted.split(" ").map(contains));
  }
  const newerFirst = q.after === undefined;
  const from = q.after ?? q.before;
  const rows: Row[] = [];
  let scanned = 0;
  let last: Cursor | undefined = from;
  let exhausted = false;
  // limit + 1 matches tell whether another page follows.
  while (rows.length <= q.limit && !exhausted && scanned < SUBJECT_SCAN_MAX) {
    const batch = wanted ? SUBJECT_BATCH : q.limit + 1;
    const page = await readRows(sql, where, args, newerFirst, last, batch);
    scanned += page.length;
    exhausted = page.length < batch;
    for (const r of page) {
      last = { at: r.created_at, id: r.id };
      if (wanted && !folded(r.subject).includes(wanted)) continue;
      rows.push(r);
      if (rows.length > q.limit) break;
    }
    if (!wanted) break;
  }
  const more = rows.length > q.limit || (!exhausted && !!wanted);
  const shown = rows.slice(0, q.limit);
  // The far end of this page: its last hit, or where a bounded subject scan stopped.
  const farEnd = rows.length > q.limit ? at(shown[shown.length - 1]) : more ? last : undefined;
  const hits = await withRecipients(sql, newerFirst ? shown : shown.reverse());
  if (newerFirst) return { hits, older: farEnd ?? null, newer: (q.before && at(hits[0])) || null };
  return { hits, newer: farEnd ?? null, older: at(hits[hits.length - 1]) ?? q.after ?? null };
}

const at = (r: { created_at: number; id: string } | undefined): Cursor | undefined => (r ? { at: r.created_at, id: r.id } : undefined);

async function readRows(sql: Sql, where: string[], args: (string | number)[], newerFirst: boolean, from: Cursor | undefined, limit: number): Promise<Row[]> {
  const all = [...where];
  const allArgs = [...args];
  if (from) {
    all.push(newerFirst ? "(m.created_at < ? OR (m.created_at = ? AND m.id < ?))" : "(m.created_at > ? OR (m.created_at = ? AND m.id > ?))");
    allArgs.push(from.at, from.at, from.id);
  }
  const dir = newerFirst ? "DESC" : "ASC";
  const rs = await sql.execute({
    sql: `SELECT m.id, a.name AS account, m.source, m.mail_from, m.created_at, substr(m.raw, 1, ${HEAD_BYTES}) AS head
      FROM messages m LEFT JOIN accounts a ON a.id = m.account_id
      ${all.length ? `WHERE ${all.join(" AND ")}` : ""} ORDER BY m.created_at ${dir}, m.id ${dir} LIMIT ?`,
    args: [...allArgs, limit],
  });
  return rs.rows.map((r) => ({
    id: String(r.id),
    account: (r.account as string | null) ?? null,
    source: String(r.source),
    mail_from: String(r.mail_from),
    created_at: Number(r.created_at),
    subject: subjectOf(r.head),
  }));
}

async function withRecipients(sql: Sql, rows: Row[]): Promise<MessageHit[]> {
  const rcpts = await recipientsOf(sql, rows.map((r) => r.id));
  return rows.map((r) => ({ ...r, recipients: rcpts.get(r.id) ?? [] }));
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
