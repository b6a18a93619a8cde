/** `queue` and `queue show`: what waits for delivery, and one message's whole trace. */
import type { Db } from "../db/client.ts";
import { PENDING_STATES, requireMessage, whereOf, type QueueFilter } from "./queue-select.ts";
import { decodeTlsRecord, type TlsRecord } from "../core/tls-record.ts";

const iso = (ms: number) => new Date(ms).toISOString();

export interface QueueRow {
  id: string;
  account: string | null;
  mail_from: string;
  recipient: string;
  state: string;
  attempts: number;
  next_attempt_at: string;
  last_reply: string | null;
}

/** Recipients still to deliver, soonest due first; at most `limit` of them when given. */
export async function listQueue(db: Db, filter: Omit<QueueFilter, "id"> = {}, limit?: number): Promise<QueueRow[]> {
  const where = await whereOf(db, filter, PENDING_STATES);
  const rs = await db.$client.execute({
    sql: `SELECT r.message_id, a.name AS account, m.mail_from, r.address, r.state, r.attempts, r.next_attempt_at, r.last_reply
          FROM recipients r JOIN messages m ON m.id = r.message_id LEFT JOIN accounts a ON a.id = m.account_id
          WHERE ${where.sql} ORDER BY r.next_attempt_at, r.id${limit === undefined ? "" : " LIMIT ?"}`,
    args: limit === undefined ? where.args : [...where.args, limit],
  });
  return rs.rows.map((r) => ({
    id: r.message_id as string,
    account: (r.account as string | null) ?? null,
    mail_from: r.mail_from as string,
    recipient: r.address as string,
    state: r.state as string,
    attempts: Number(r.attempts),
    next_attempt_at: iso(Number(r.next_attempt_at)),
    last_reply: (r.last_reply as string | null) ?? null,
  }));
}

/** Envelope, each recipient, and every event (each attempt with the upstream's reply and where it went). */
export async function showMessage(db: Db, id: string) {
  await requireMessage(db, id);
  const c = db.$client;
  const [m, rcpts, evs] = await Promise.all([
    c.execute({
      sql: `SELECT m.id, a.name AS account, m.source, m.mail_from, m.size, m.envid, m.ret, m.smtputf8, m.created_at, m.send_at
            FROM messages m LEFT JOIN accounts a ON a.id = m.account_id WHERE m.id = ?`,
      args: [id],
    }),
    c.execute({ sql: "SELECT address, domain, state, attempts, next_attempt_at, last_reply, notify, last_tls FROM recipients WHERE message_id = ? ORDER BY id", args: [id] }),
    c.execute({ sql: "SELECT type, recipient, detail, tls, created_at FROM events WHERE message_id = ? ORDER BY id", args: [id] }),
  ]);
  const row = m.rows[0]!;
  return {
    id,
    account: (row.account as string | null) ?? null,
    source: row.source as string,
    mail_from: row.mail_from as string,
    size: Number(row.size),
    envid: (row.envid as string | null) ?? null,
    ret: (row.ret as string | null) ?? null,
    smtputf8: Number(row.smtputf8) === 1,
    created_at: iso(Number(row.created_at)),
    send_at: row.send_at === null || row.send_at === undefined ? null : iso(Number(row.send_at)),
    recipients: rcpts.rows.map((r) => ({
      address: r.address as string,
      state: r.state as string,
      attempts: Number(r.attempts),
      next_attempt_at: ["queued", "deferred"].includes(r.state as string) ? iso(Number(r.next_attempt_at)) : null,
      last_reply: (r.last_reply as string | null) ?? null,
      notify: (r.notify as string | null) ?? null,
      tls: tlsOf(r.last_tls),
    })),
    events: evs.rows.map((e) => ({ type: e.type as string, recipient: (e.recipient as string | null) ?? null, detail: (e.detail as string | null) ?? null, tls: tlsOf(e.tls), at: iso(Number(e.created_at)) })),
  };
}

/** A stored TLS outcome (JSON text), or null for attempts without one (and rows from before it was kept). */
const tlsOf = decodeTlsRecord;

/** One line for an attempt's TLS: "TLS verified TLSv1.3 TLS_AES_256_GCM_SHA384", with the RFC 8460 failure and the MTA-STS mode. */
export function tlsLine(t: TlsRecord): string {
  const parts = [`TLS ${t.outcome}`, t.protocol, t.cipher, t.result_type && `failure=${t.result_type}`, t.policy && (t.policy === "tlsa" ? "dane=tlsa" : `mta-sts=${t.policy}`)];
  return parts.filter(Boolean).join(" ");
}

export type MessageTrace = Awaited<ReturnType<typeof showMessage>>;

export function formatTrace(t: MessageTrace): string {
  const out = [
    `message ${t.id}  account=${t.account ?? "-"}  source=${t.source}  size=${t.size}  accepted=${t.created_at}`,
    `  from <${t.mail_from}>${t.envid ? `  envid=${t.envid}` : ""}${t.ret ? `  ret=${t.ret}` : ""}${t.send_at ? `  send_at=${t.send_at}` : ""}`,
    "recipients:",
    ...t.recipients.map((r) => `  <${r.address}>  ${r.state}  attempts=${r.attempts}${r.next_attempt_at ? `  next=${r.next_attempt_at}` : ""}${r.last_reply ? `\n      last reply: ${r.last_reply}` : ""}${r.tls ? `\n      last ${tlsLine(r.tls)}` : ""}`),
    "events:",
    ...t.events.map((e) => `  ${e.at}  ${e.type.padEnd(10)}${e.recipient ? ` <${e.recipient}>` : ""}${e.detail ? `  ${e.detail}` : ""}${e.tls ? `\n      ${tlsLine(e.tls)}` : ""}`),
  ];
  return out.join("\n");
}
